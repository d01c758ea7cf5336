using System.Diagnostics;
using AgentGovernance.Directory;
using AgentGovernance.Suggestions;
using AgentGovernance.Tests.Support;
using Xunit.Abstractions;

namespace AgentGovernance.Tests.Suggestions;

/// <summary>
/// Issue 11, item 5, as a property: for every generated script with aliasing, either intake refuses it
/// (a finding with a documented ErrorId, so ConvertFrom-AgentSuggestion gives no change), or the
/// operations it reports are exactly those the recording stubs saw when the script really ran.
/// </summary>
public sealed class IntakePropertyTests : IClassFixture<IntakePropertyTests.Stubs>
{
    private const int Scripts = 3000;
    private const int FirstSeed = 1100;

    /// <summary>The tiny tenant, its team and general sites given the URLs the PnP stubs connect to.</summary>
    private static readonly AccessSnapshot Tiny = SnapshotReader.ParseText(CmdletTestData.Snapshot
        .Replace("\"displayName\": \"General Site\"", "\"displayName\": \"General Site\", \"webUrl\": \"https://tiny.sharepoint.com/sites/general\"", StringComparison.Ordinal)
        .Replace("\"displayName\": \"Team Site\"", "\"displayName\": \"Team Site\", \"webUrl\": \"https://tiny.sharepoint.com/sites/team\"", StringComparison.Ordinal));

    private static readonly string[] DocumentedErrorIds = { "SuggestionUnresolvedValue", "SuggestionRefused", "SuggestionUnresolvedName", "SuggestionAmbiguousName" };

    private readonly RecordingRunspace _run;
    private readonly ITestOutputHelper _out;

    public IntakePropertyTests(Stubs stubs, ITestOutputHelper output)
    {
        _run = stubs.Runspace;
        _out = output;
    }

    public sealed class Stubs : IDisposable
    {
        public RecordingRunspace Runspace { get; } = new();

        public void Dispose() => Runspace.Dispose();
    }

    private sealed record Outcome(GeneratedScript Script, bool Refused, IReadOnlyList<string> Reported, IReadOnlyList<string> Recorded, IReadOnlyList<string> Errors, string Why, string Cause = "");

    /// <summary>Reads the script as ConvertFrom-AgentSuggestion does and runs it against the stubs.</summary>
    private static Outcome Check(GeneratedScript script, IReadOnlyList<string> recorded, IReadOnlyList<string> errors)
    {
        var truth = recorded.Distinct().ToList();
        try
        {
            var result = SuggestionConverter.Convert(script.Text, SuggestionConverter.HashText(script.Text), null, new SuggestionOptions(), Tiny);
            if (result.Change is null)
            {
                var undocumented = result.Analysis.Findings.Where(f => !DocumentedErrorIds.Contains(f.ErrorId)).Select(f => f.ErrorId).ToList();
                return new Outcome(script, true, Array.Empty<string>(), truth, errors,
                    undocumented.Count > 0 ? "refused with undocumented ErrorIds " + string.Join(", ", undocumented)
                    : result.Analysis.Findings.Count == 0 ? "no change and no finding" : string.Empty,
                    result.Analysis.Findings.Count == 0 ? string.Empty : Cause(result.Analysis.Findings[0].Reason));
            }

            var reported = result.Change.Operations.Select(o => o.ToString()).ToList();
            return new Outcome(script, false, reported, truth, errors, reported.SequenceEqual(truth) ? string.Empty : "reported operations differ from what ran");
        }
        catch (GovernanceException e) when (e.ErrorId == "SuggestionEmpty")
        {
            return new Outcome(script, false, Array.Empty<string>(), truth, errors, truth.Count == 0 ? string.Empty : "SuggestionEmpty although commands ran");
        }
    }

    /// <summary>A refusal's reason without its lines, names and quoted text, so that refusals of one cause count together.</summary>
    private static string Cause(string reason)
    {
        var r = System.Text.RegularExpressions.Regex.Replace(reason, @"\(.*?\)|'.*?'|\$\w+|line \d+|\d+", "_");
        return r.Length > 90 ? r.Substring(0, 90) : r;
    }

    private static string Describe(Outcome o) =>
        $"seed {o.Script.Seed}: {o.Why}\n--- script ({string.Join(", ", o.Script.Kinds)}) ---\n{o.Script.Text}--- intake reported: {string.Join("; ", o.Reported)}\n"
        + $"--- the stubs recorded: {string.Join("; ", o.Recorded)}\n" + (o.Errors.Count > 0 ? "--- errors while it ran: " + string.Join(" | ", o.Errors) + "\n" : string.Empty)
        + $"(rerun one: AliasingScriptGenerator.Make({o.Script.Seed}))";

    [Fact]
    public void IntakeRefusesOrReportsExactlyWhatTheScriptDoes()
    {
        var watch = Stopwatch.StartNew();
        var scripts = Enumerable.Range(FirstSeed, Scripts).Select(AliasingScriptGenerator.Make).ToList();
        var outcomes = new List<Outcome>();
        foreach (var chunk in scripts.Chunk(250))
        {
            var runs = _run.RunMany(chunk.Select(s => s.Runs).ToList());
            outcomes.AddRange(chunk.Zip(runs, (s, run) => Check(s, run.Calls, run.Errors)));
        }

        watch.Stop();

        var benign = outcomes.Where(o => !o.Script.Writes).ToList();
        var refusedBenign = benign.Count(o => o.Refused);
        _out.WriteLine($"{Scripts} scripts in {watch.Elapsed.TotalSeconds:F1} s; refused {outcomes.Count(o => o.Refused)} in all; "
            + $"of {benign.Count} benign ones (no write of any kind) {refusedBenign} refused ({100.0 * refusedBenign / benign.Count:F1} %); "
            + $"{outcomes.Count(o => o.Script.Markdown)} were markdown answers; {outcomes.Count(o => o.Errors.Count > 0)} raised errors when run.");

        foreach (var cause in benign.Where(o => o.Refused).GroupBy(o => o.Cause).OrderByDescending(g => g.Count()).Take(8))
        {
            _out.WriteLine($"  {cause.Count(),4} benign refused: {cause.Key} (seed {cause.First().Script.Seed})");
        }

        if (outcomes.FirstOrDefault(o => o.Errors.Count > 0) is { } erring)
        {
            _out.WriteLine("The first script that raised errors when run (compared all the same):\n" + Describe(erring));
        }

        var failures = outcomes.Where(o => o.Why.Length > 0).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of {Scripts} scripts broke the property. First ones:\n\n" + string.Join("\n\n", failures.Take(3).Select(Describe)));
    }

    /// <summary>The generator makes the known attacks, and makes them work: for each kind, a script whose only writes are of that kind ran with another id than it started with.</summary>
    [Fact]
    public void TheGeneratorMakesEachKnownAttackAndItTakesEffectWhenRun()
    {
        var initial = new[] { "g-eng", "u-joe", "u-carol" };
        var effective = new Dictionary<string, int>(StringComparer.Ordinal);
        var scripts = Enumerable.Range(FirstSeed, Scripts).Select(AliasingScriptGenerator.Make).ToList();
        var runs = _run.RunMany(scripts.Select(s => s.Runs).ToList());
        foreach (var (script, (recorded, _)) in scripts.Zip(runs))
        {
            var kinds = script.Kinds.Where(k => k is not ("sink" or "alias only" or "read" or "comment" or "by name read" or "copy" or "own table" or "flow")).Distinct().ToList();
            if (kinds.Count != 1)
            {
                continue;
            }

            if (recorded.Any(op => op.Split(' ').Where(w => w.StartsWith("g-", StringComparison.Ordinal) || w.StartsWith("u-", StringComparison.Ordinal)).Any(id => !initial.Contains(id))))
            {
                effective[kinds[0]] = effective.GetValueOrDefault(kinds[0]) + 1;
            }
        }

        _out.WriteLine(string.Join("; ", effective.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}: {k.Value}")));
        Assert.All(AliasingScriptGenerator.KnownAttacks, kind => Assert.True(effective.GetValueOrDefault(kind) > 0, $"no generated '{kind}' attack changed what ran"));
    }

    /// <summary>The stubs record what PowerShell bound, including a change through another reference: the truth the property compares with.</summary>
    [Fact]
    public void TheStubsRecordWhatReallyRuns()
    {
        var (calls, errors) = _run.Run("$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }\n$h2 = $h\n$h2.GroupId = 'g-data'\nNew-MgGroupMember @h\nRemove-MgGroupMemberByRef -GroupId g-eng -DirectoryObjectId u-bob");

        Assert.Empty(errors);
        Assert.Equal(new[] { "add u-joe to group g-data", "remove u-bob from group g-eng" }, calls);
    }

    /// <summary>A batch runs each script as a run of its own would: the same calls, scripts changing variables or defining functions included.</summary>
    [Fact]
    public void ABatchRecordsWhatRunningEachScriptAloneRecords()
    {
        var scripts = Enumerable.Range(FirstSeed, 300).Select(seed => AliasingScriptGenerator.Make(seed).Runs).ToList();

        var batch = _run.RunMany(scripts);

        for (var i = 0; i < scripts.Count; i++)
        {
            var alone = _run.Run(scripts[i]);
            Assert.True(alone.Calls.SequenceEqual(batch[i].Calls), $"seed {FirstSeed + i}: alone {string.Join("; ", alone.Calls)}, in a batch {string.Join("; ", batch[i].Calls)}\n{scripts[i]}");
        }
    }

    [Fact]
    public void TheSameSeedGivesTheSameScript()
    {
        Assert.Equal(AliasingScriptGenerator.Make(42), AliasingScriptGenerator.Make(42), new ScriptComparer());
    }

    private sealed class ScriptComparer : IEqualityComparer<GeneratedScript>
    {
        public bool Equals(GeneratedScript? x, GeneratedScript? y) => x!.Text == y!.Text && x.Kinds.SequenceEqual(y.Kinds);

        public int GetHashCode(GeneratedScript obj) => obj.Text.GetHashCode(StringComparison.Ordinal);
    }
}
