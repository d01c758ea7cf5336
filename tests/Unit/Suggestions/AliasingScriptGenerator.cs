using System.Text;

namespace AgentGovernance.Tests.Suggestions;

/// <summary>One generated script: its text (as given to intake), the script that really runs, and what its steps do.</summary>
public sealed record GeneratedScript(int Seed, string Text, string Runs, IReadOnlyList<string> Kinds, bool Writes, bool Markdown);

/// <summary>
/// Generates small PowerShell scripts (Microsoft Graph and PnP.PowerShell commands, with control flow:
/// return, exit, throw, break, continue, branches) that bind group and user ids to variables, pass them around
/// through aliases (another reference, $_, foreach variables, function parameters, list elements,
/// aliased arrays, Get-Variable, Set-Variable, the variable: drive, [ref], script blocks in the
/// script's own scope or a child one...), maybe change them through one of those aliases, and use
/// them with the stubbed Graph commands. Every variable starts as g-eng / u-joe; a write puts another
/// id in, so a recorded g-data, g-platform, g-team, u-bob or u-alice shows that a write took effect.
/// Each step is tagged with its kind, so a test can check that the known attacks (issue 11, item 5)
/// are among what it makes. Seeded: the same seed gives the same script.
/// </summary>
public static class AliasingScriptGenerator
{
    private static readonly string[] OtherGroups = { "g-data", "g-platform", "g-team" };
    private static readonly string[] OtherUsers = { "u-bob", "u-alice" };

    /// <summary>The attack kinds issue 11, item 5 names, as the generator tags them.</summary>
    public static readonly string[] KnownAttacks =
    {
        "another reference", "$_", "foreach variable", "function parameter", "list element", "aliased array", "Get-Variable",
        "Set-Variable", "by name", "scriptblock",
    };

    private delegate (string Text, string Kind) Step(Random r);

    public static GeneratedScript Make(int seed)
    {
        var r = new Random(seed);
        var setup = new List<string>
        {
            "$g = 'g-eng'",
            "$u = 'u-joe'",
            "$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-joe' }",
            "$a = @('g-eng', 'u-joe')",
        };
        if (r.Next(3) > 0)
        {
            setup.Add("$e = Get-MgGroup -GroupId g-eng");
        }

        // A third use PnP.PowerShell on the team site too, some with a connection object (which a write can change through another reference).
        var pnp = r.Next(3) == 0;
        if (pnp)
        {
            setup.Add("Connect-PnPOnline -Url " + TeamSite + " -Interactive");
            if (r.Next(2) == 0)
            {
                setup.Add("$conn = Connect-PnPOnline -Url " + TeamSite + " -ReturnConnection");
            }
        }

        Shuffle(r, setup);
        var entity = setup.Any(s => s.StartsWith("$e ", StringComparison.Ordinal));
        var conn = setup.Any(s => s.StartsWith("$conn ", StringComparison.Ordinal));
        var benignOnly = r.Next(10) < 4;
        var steps = new List<(string Text, string Kind, bool Write)>();
        void AddSink()
        {
            var sink = Pick(r, Sinks(entity, pnp, conn));
            if (sink.Item1 == "addg" && !steps.Any(s => s.Text.StartsWith("function addg", StringComparison.Ordinal)))
            {
                // Called before it is defined, addg would only fail: define it here, and let later steps change what it reads.
                sink.Item1 = "function addg { New-MgGroupMember -GroupId $g -DirectoryObjectId $u }\naddg";
            }

            steps.Add(sink);
        }

        var count = 1 + r.Next(6);
        for (var i = 0; i < count; i++)
        {
            var roll = r.Next(100);
            if (roll < 35)
            {
                AddSink();
            }
            else if (roll < 45)
            {
                steps.Add((Flow(r, pnp), "flow", false));
            }
            else if (roll < 80 && !benignOnly)
            {
                steps.Add(Pick(r, Writes(entity, conn)));
            }
            else
            {
                steps.Add(Pick(r, Benign(entity)));
            }
        }

        if (!steps.Any(s => s.Kind == "sink"))
        {
            AddSink();
        }

        var blocks = setup.Select(s => s).Concat(steps.Select(s => s.Text)).ToList();
        var runs = string.Join("\n", blocks) + "\n";
        var markdown = r.Next(100) < 15;
        var text = markdown ? Markdown(r, blocks) : runs;
        return new GeneratedScript(seed, text, runs, steps.Select(s => s.Kind).ToList(), steps.Any(s => s.Write), markdown);
    }

    /// <summary>The statements as a markdown answer: one or more fenced blocks (they run in one session), with prose between.</summary>
    private static string Markdown(Random r, List<string> statements)
    {
        var sb = new StringBuilder("Here is what to run:\n\n");
        var fence = r.Next(2) == 0 ? "powershell" : "pwsh";
        sb.Append("```").Append(fence).Append('\n');
        foreach (var s in statements)
        {
            if (r.Next(5) == 0)
            {
                sb.Append("```\n\nThen:\n\n```").Append(fence).Append('\n');
            }

            sb.Append(s).Append('\n');
        }

        return sb.Append("```\n\nThat is all.\n").ToString();
    }

    private static (string, string, bool) Pick(Random r, IReadOnlyList<(Step Step, bool Write)> from)
    {
        var (step, write) = from[r.Next(from.Count)];
        var (text, kind) = step(r);
        return (text, kind, write);
    }

    private static void Shuffle<T>(Random r, List<T> list)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = r.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    private static string OneOf(Random r, params string[] forms) => forms[r.Next(forms.Length)];

    private static string Group(Random r) => OtherGroups[r.Next(OtherGroups.Length)];

    private static string User(Random r) => OtherUsers[r.Next(OtherUsers.Length)];

    /// <summary>A write to one key of the hashtable that <paramref name="table"/> evaluates to, in one of the forms PowerShell has.</summary>
    private static string TableWrite(Random r, string table)
    {
        var (key, value) = r.Next(3) == 0 ? ("DirectoryObjectId", User(r)) : ("GroupId", Group(r));
        return r.Next(5) switch
        {
            0 => $"{table}.{key} = '{value}'",
            1 => $"{table}['{key}'] = '{value}'",
            2 => $"{table}[\"{key}\"] = \"{value}\"",
            3 => $"{table}.Set_Item('{key}', '{value}')",
            _ => $"{table}.Remove('{key}'); {table}.Add('{key}', '{value}')",
        };
    }

    /// <summary>A variable holding a string id, and a value another write would put in it.</summary>
    private static (string Name, string Value) StringTarget(Random r) => r.Next(3) == 0 ? ("u", User(r)) : ("g", Group(r));

    private const string TeamSite = "https://tiny.sharepoint.com/sites/team";

    /// <summary>A command that changes access and reads the script's variables, without a function around it.</summary>
    private static string SimpleSink(Random r, bool pnp) => pnp && r.Next(2) == 0
        ? OneOf(r, "Add-PnPGroupMember -LoginName $u -Group 'Team Members'", "Set-PnPWebPermission -User $u -AddRole 'Read'", "Add-PnPMicrosoft365GroupMember -Identity $g -Users $u")
        : OneOf(r, "New-MgGroupMember -GroupId $g -DirectoryObjectId $u", "Remove-MgGroupMemberByRef @h", "New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-carol");

    /// <summary>
    /// Control flow: return, exit and throw (after which nothing runs), break and continue in loops, branches
    /// whose condition is known (false or true) or not, try and catch. None writes a variable; what runs
    /// after them is what the stubs see.
    /// </summary>
    private static string Flow(Random r, bool pnp)
    {
        var sink = SimpleSink(r, pnp);
        return r.Next(16) switch
        {
            0 => r.Next(4) == 0 ? "exit" : "return",
            1 => "if ($false) { return }",
            2 => "if ($true) { return }",
            3 => "if ($u) { return }",
            4 => "throw 'stop here'",
            5 => "try { throw 'no' } catch { }",
            6 => "try { " + sink + " } catch { }",
            7 => "foreach ($i in 1, 2) { " + sink + "; break }",
            8 => "foreach ($i in 1, 2) { continue; " + sink + " }",
            9 => "if ($false) { " + sink + " }",
            10 => "if ($null) { " + sink + " } elseif ('x') { $null = 1 } else { " + sink + " }",
            11 => "if ($zz) { " + sink + " }",
            12 => "function early { return; " + sink + " }\nearly",
            13 => "1 | ForEach-Object { return; " + sink + " }",
            14 => "while ($false) { " + sink + " }",
            _ => "if ($u -eq 'u-nobody') { return }",
        };
    }

    private static IReadOnlyList<(Step, bool)> Writes(bool entity, bool conn)
    {
        var list = new List<(Step, bool)>
        {
            (r => ($"$h2 = $h\n{TableWrite(r, "$h2")}", "another reference"), true),
            (r => ($"$h2 = $h\n$h3 = $h2\n{TableWrite(r, "$h3")}", "another reference"), true),
            (r => (OneOf(r, "$h | ForEach-Object { " + TableWrite(r, "$_") + " }", "@($h) | % { " + TableWrite(r, "$_") + " }",
                "$h | Where-Object { " + TableWrite(r, "$_") + "; $true } | Out-Null", "$h, 1 | ForEach-Object { if ($_ -is [hashtable]) { " + TableWrite(r, "$_") + " } }"), "$_"), true),
            (r => (OneOf(r, "foreach ($x in @($h)) { " + TableWrite(r, "$x") + " }", "foreach ($x in $h, $h) { " + TableWrite(r, "$x") + " }"), "foreach variable"), true),
            (r => (OneOf(r, "function f($p) { " + TableWrite(r, "$p") + " }\nf $h", "function f { param($p) " + TableWrite(r, "$p") + " }\nf -p $h",
                "function f { " + TableWrite(r, "$args[0]") + " }\nf $h", "filter f { " + TableWrite(r, "$_") + " }\n$h | f"), "function parameter"), true),
            (r => (OneOf(r, "$l = @($h)\n" + TableWrite(r, "$l[0]"), "$l = @(1, $h)\n" + TableWrite(r, "$l[1]"), "$l = ,$h\n" + TableWrite(r, "$l[-1]"),
                "$l = @{ Inner = $h }\n" + TableWrite(r, "$l.Inner"), "$l = @($h, 2)\n$m = $l[0]\n" + TableWrite(r, "$m")), "list element"), true),
            (r => (OneOf(r, TableWrite(r, "(Get-Variable h).Value"), TableWrite(r, "(Get-Variable -Name h -ValueOnly)"), TableWrite(r, "(gv h).Value")), "Get-Variable"), true),
            (r => (OneOf(r, "$sb = { " + TableWrite(r, "$h") + " }\n& $sb", "& { " + TableWrite(r, "$h") + " }", "$sb = { param($p) " + TableWrite(r, "$p") + " }\n& $sb $h",
                ". { " + TableWrite(r, "$h") + " }"), "scriptblock"), true),
            (r => (TableWrite(r, "$h"), "in place"), true),
            (r => ("$h2 = $h.Clone()\n" + TableWrite(r, "$h2"), "clone"), true),
            (r => ($"$b = $a\n$b[{r.Next(2)}] = '{Group(r)}'", "aliased array"), true),
            (r => ($"$b = $a\n$c = $b\n$c[0] = '{Group(r)}'", "aliased array"), true),
            (r => ($"$a[0] = '{Group(r)}'", "in place"), true),
            (r => ($"function f($p) {{ $p[0] = '{Group(r)}' }}\nf $a", "function parameter"), true),
            (r => ($",$a | ForEach-Object {{ $_[0] = '{Group(r)}' }}", "$_"), true),
            (r => ($"(Get-Variable a).Value[0] = '{Group(r)}'", "Get-Variable"), true),
            (r =>
            {
                var (n, v) = StringTarget(r);
                return ($"(Get-Variable {n}).Value = '{v}'", "Get-Variable");
            }, true),
            (r =>
            {
                var (n, v) = StringTarget(r);
                return (OneOf(r, $"Set-Variable {n} '{v}'", $"Set-Variable -Name {n} -Value '{v}'", $"sv {n} {v}", $"Set-Variable -Value '{v}' -Name {n}"), "Set-Variable");
            }, true),
            (r =>
            {
                var (n, v) = StringTarget(r);
                return (OneOf(r, $"$n = '{n}'\nSet-Variable -Name $n -Value '{v}'", $"(Get-Item variable:{n}).Value = '{v}'", $"Set-Item variable:{n} '{v}'",
                    $"Set-Item -Path variable:\\{n} -Value '{v}'", $"New-Variable -Name {n} -Value '{v}' -Force",
                    $"$ExecutionContext.SessionState.PSVariable.Set('{n}', '{v}')", $"$n = 'vari' + 'able:{n}'\nSet-Item -Path $n -Value '{v}'"), "by name");
            }, true),
            (r =>
            {
                var (n, v) = StringTarget(r);
                return ($"$r = [ref]${n}\n$r.Value = '{v}'", "[ref]");
            }, true),
            (r =>
            {
                var (n, v) = StringTarget(r);
                return (OneOf(r, $". {{ ${n} = '{v}' }}", $"$sb = {{ ${n} = '{v}' }}\n. $sb", $"1 | ForEach-Object {{ ${n} = '{v}' }}",
                    $"1 | Where-Object {{ ${n} = '{v}'; $true }} | Out-Null", $"& {{ ${n} = '{v}' }}", $"function f {{ ${n} = '{v}' }}\nf",
                    $"& {{ Set-Variable -Name {n} -Value '{v}' -Scope 1 }}", $"$sb = {{ ${n} = '{v}' }}\n1..2 | ForEach-Object -Process $sb",
                    $"function f {{ ${n} = '{v}' }}\n. f"), "scriptblock");
            }, true),
            (r =>
            {
                var (n, v) = StringTarget(r);
                return (OneOf(r, $"${n} = '{v}'", $"${{{n}}} = '{v}'", $"[string]${n} = '{v}'", $"if ($true) {{ ${n} = '{v}' }}", $"if ($false) {{ ${n} = '{v}' }}",
                    $"foreach ($i in 1, 2) {{ ${n} = '{v}' }}", $"switch ('x') {{ 'x' {{ ${n} = '{v}' }} }}", $"${n}, $z = '{v}', 'z'", $"${n} = \"{v}\""), "plain");
            }, true),
        };
        if (entity)
        {
            list.Add((r => ($"$e2 = $e\n$e2.Id = '{Group(r)}'", "another reference"), true));
            list.Add((r => ($"$e | ForEach-Object {{ $_.Id = '{Group(r)}' }}", "$_"), true));
            list.Add((r => ($"$e.Id = '{Group(r)}'", "in place"), true));
            list.Add((r => ($"$e = Get-MgGroup -GroupId {Group(r)}", "plain"), true));
        }

        if (conn)
        {
            list.Add((r => ("$c2 = $conn\n$c2.Url = 'https://tiny.sharepoint.com/sites/general'", "another reference"), true));
            list.Add((r => ("$conn.Url = 'https://tiny.sharepoint.com/sites/general'", "in place"), true));
        }

        return list;
    }

    private static IReadOnlyList<(Step, bool)> Benign(bool entity)
    {
        var list = new List<(Step, bool)>
        {
            (r => ("$h2 = $h", "alias only"), false),
            (r => ("$b = $a", "alias only"), false),
            (r => ("$l = @($h)", "alias only"), false),
            (r => ("$h | Out-Null", "read"), false),
            (r => ("$x = $h.GroupId", "read"), false),
            (r => ("$null = $h.Count", "read"), false),
            (r => ("$s = \"$g and $u\"", "read"), false),
            (r => ("$null = $h.ContainsKey('GroupId')", "read"), false),
            (r => ("function f($p) { $p }\nf $h | Out-Null", "read"), false),
            (r => ("foreach ($x in @($h)) { $null = $x.GroupId }", "read"), false),
            (r => ("$h | ForEach-Object { $null = $_.GroupId }", "read"), false),
            (r => ("Write-Verbose \"$g\"", "read"), false),
            (r => ("# $g = 'g-data'", "comment"), false),
            (r => ("Get-MgGroup -GroupId g-data | Out-Null", "read"), false),
            (r => ("$v = Get-Variable g -ValueOnly", "by name read"), false),
            (r => ("$copy = $g\n$copy = 'g-data'", "copy"), false),
            (r => ("$t = @{ GroupId = $g; DirectoryObjectId = $u }\n$t.GroupId = 'g-data'", "own table"), false),
        };
        if (entity)
        {
            list.Add((r => ("$e2 = $e", "alias only"), false));
            list.Add((r => ("$x = $e.DisplayName", "read"), false));
        }

        return list;
    }

    private static IReadOnlyList<(Step, bool)> Sinks(bool entity, bool pnp, bool conn)
    {
        var list = new List<(Step, bool)>
        {
            (r => ("New-MgGroupMember @h", "sink"), false),
            (r => ("New-MgGroupMember -GroupId $g -DirectoryObjectId $u", "sink"), false),
            (r => ("New-MgGroupMember -GroupId $h.GroupId -DirectoryObjectId $h.DirectoryObjectId", "sink"), false),
            (r => ("New-MgGroupMember -GroupId $h['GroupId'] -DirectoryObjectId $u", "sink"), false),
            (r => ("New-MgGroupMember -GroupId $a[0] -DirectoryObjectId $a[1]", "sink"), false),
            (r => ("Remove-MgGroupMemberByRef @h", "sink"), false),
            (r => ("Remove-MgGroupMemberByRef -GroupId $g -DirectoryObjectId $u", "sink"), false),
            (r => ("foreach ($y in $u, 'u-carol') { New-MgGroupMember -GroupId $g -DirectoryObjectId $y }", "sink"), false),
            (r => ("$u | ForEach-Object { New-MgGroupMember -GroupId $g -DirectoryObjectId $_ }", "sink"), false),
            (r => ("function add($grp, $usr) { New-MgGroupMember -GroupId $grp -DirectoryObjectId $usr }\nadd $g $u", "sink"), false),
            (r => ("New-MgGroupMember -GroupId \"$g\" -DirectoryObjectId $u", "sink"), false),
            (r => ("New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-carol", "sink"), false),
            (r => ("$p = @{ GroupId = $g; DirectoryObjectId = $u }\nNew-MgGroupMember @p", "sink"), false),
            (r => (OneOf(r, "function addcarol { New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-carol }", "function addcarol { New-MgGroupMember -GroupId $g -DirectoryObjectId u-carol }\naddcarol\naddcarol",
                "function addcarol { New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-carol }\naddcarol"), "sink"), false),
            (r => ("function addg { New-MgGroupMember -GroupId $g -DirectoryObjectId $u }", "sink"), false),
            (r => ("addg", "sink"), false),
        };
        if (entity)
        {
            list.Add((r => ("New-MgGroupMember -GroupId $e.Id -DirectoryObjectId $u", "sink"), false));
        }

        if (pnp)
        {
            list.Add((r => (OneOf(r, "Add-PnPGroupMember -LoginName $u -Group 'Team Members'", "Add-PnPGroupMember -LoginName $a[1] -Group 'Team Owners'"), "sink"), false));
            list.Add((r => ("Remove-PnPGroupMember -LoginName $u -Group 'Team Visitors'", "sink"), false));
            list.Add((r => (OneOf(r, "Set-PnPWebPermission -User $u -AddRole 'Edit'", "Set-PnPWebPermission -User $h.DirectoryObjectId -RemoveRole 'Read'"), "sink"), false));
            list.Add((r => (OneOf(r, "Add-PnPSiteCollectionAdmin -Owners $u", "Remove-PnPSiteCollectionAdmin -Owners $u, 'u-alice'"), "sink"), false));
            list.Add((r => (OneOf(r, "Add-PnPMicrosoft365GroupMember -Identity $g -Users $u", "Remove-PnPMicrosoft365GroupMember -Identity $h.GroupId -Users $h.DirectoryObjectId"), "sink"), false));
        }

        if (conn)
        {
            list.Add((r => (OneOf(r, "Add-PnPGroupMember -LoginName $u -Group 'Team Members' -Connection $conn", "Set-PnPWebPermission -User $u -AddRole 'Read' -Connection $conn"), "sink"), false));
        }

        return list;
    }
}
