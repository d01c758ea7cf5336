using System.Globalization;

namespace TenantGen;

/// <summary>
/// TenantGen: deterministic access snapshots (agentgovernance/snapshot@1) for the examples and the
/// benchmarks. Same arguments, same bytes, on every OS.
/// <code>
/// dotnet run -c Release --project bench/TenantGen -- demo examples
/// dotnet run -c Release --project bench/TenantGen -- large bench/data/large.snapshot.json [--users 300000] [--groups 50000] [--resources 100000] [--seed 42]
/// </code>
/// </summary>
internal static class Program
{
    private const string Usage =
        """
        usage:
          TenantGen demo <out-dir>
              writes <out-dir>/contoso.snapshot.json and <out-dir>/changes/*.json
          TenantGen large <path> [--users 300000] [--groups 50000] [--resources 100000] [--seed 42]
              writes a large synthetic snapshot and prints its counts
        """;

    public static int Main(string[] args)
    {
        try
        {
            return Run(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("TenantGen: " + e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static int Run(string[] args)
    {
        if (args.Length == 0)
        {
            throw new ArgumentException("missing command.");
        }

        switch (args[0])
        {
            case "demo" when args.Length == 2:
                return Demo.Run(args[1]);
            case "large" when args.Length >= 2 && !args[1].StartsWith("--", StringComparison.Ordinal):
            {
                int users = 300_000, groups = 50_000, resources = 100_000;
                ulong seed = 42;
                for (var i = 2; i < args.Length; i += 2)
                {
                    if (i + 1 >= args.Length)
                    {
                        throw new ArgumentException($"option {args[i]} needs a value.");
                    }

                    var v = args[i + 1];
                    switch (args[i])
                    {
                        case "--users": users = ParseCount(args[i], v); break;
                        case "--groups": groups = ParseCount(args[i], v); break;
                        case "--resources": resources = ParseCount(args[i], v); break;
                        case "--seed":
                            if (!ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out seed))
                            {
                                throw new ArgumentException($"--seed: '{v}' is not a non-negative integer.");
                            }

                            break;
                        default: throw new ArgumentException($"unknown option '{args[i]}'.");
                    }
                }

                return Large.Run(args[1], users, groups, resources, seed);
            }

            case "-h" or "--help" or "help":
                Console.WriteLine(Usage);
                return 0;
            default:
                throw new ArgumentException($"bad arguments: {string.Join(' ', args)}");
        }
    }

    private static int ParseCount(string option, string value) =>
        int.TryParse(value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var n) && n > 0 && n <= 50_000_000
            ? n
            : throw new ArgumentException($"{option}: '{value}' is not a count between 1 and 50,000,000.");
}
