using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

// AgentGovernance.Worker [--crash-at <point>[+<microseconds>]] <script.ps1> [args...]
// Runs the script with the built module imported; prints each output object on a line; exit 0, or 1
// when an error record was written. --crash-at kills this process (SIGKILL, no clean-up) when the
// pipeline reaches that fault-injection point; with +<microseconds>, that long after it, while the
// pipeline goes on (in the middle of the request the point is before, for instance).
var argList = args.ToList();
if (argList.Count >= 2 && argList[0] == "--crash-at")
{
    var spec = argList[1].Split('+');
    var point = spec[0];
    var after = spec.Length > 1 ? TimeSpan.FromMicroseconds(double.Parse(spec[1], System.Globalization.CultureInfo.InvariantCulture)) : (TimeSpan?)null;
    argList.RemoveRange(0, 2);
    AgentGovernance.FaultInjection.Hook = name =>
    {
        if (name != point)
        {
            return;
        }

        if (after is null)
        {
            Console.Out.Flush();
            System.Diagnostics.Process.GetCurrentProcess().Kill();
            Thread.Sleep(Timeout.Infinite);
            return;
        }

        var wait = after.Value;
        new Thread(() =>
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (watch.Elapsed < wait)
            {
                Thread.SpinWait(20);
            }

            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }) { IsBackground = true, Priority = ThreadPriority.Highest }.Start();
    };
}

var moduleOut = typeof(Program).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "ModuleOut").Value!;
var iss = InitialSessionState.CreateDefault2();
iss.ImportPSModule(new[] { Path.Combine(moduleOut, "AgentGovernance.psd1") });
using var runspace = RunspaceFactory.CreateRunspace(iss);
runspace.Open();
using var ps = PowerShell.Create();
ps.Runspace = runspace;
ps.AddScript(File.ReadAllText(argList[0]));
foreach (var a in argList.Skip(1))
{
    ps.AddArgument(a);
}

var failed = false;
var output = new PSDataCollection<PSObject>();
output.DataAdded += (_, e) =>
{
    // Streamed as it comes, so a test can wait for a line while the script goes on.
    Console.WriteLine(output[e.Index]?.ToString());
    Console.Out.Flush();
};
try
{
    ps.Invoke(null, output);
}
catch (RuntimeException e)
{
    Console.Error.WriteLine(e.ErrorRecord.FullyQualifiedErrorId + ": " + e.Message);
    failed = true;
}

foreach (var e in ps.Streams.Error)
{
    Console.Error.WriteLine(e.FullyQualifiedErrorId + ": " + e);
    failed = true;
}

return failed ? 1 : 0;

internal partial class Program
{
}
