using System.Management.Automation;
using System.Management.Automation.Language;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests;

/// <summary>
/// CI has no pwsh and no Pester, so the Pester files in tests/Pester are checked here instead: each
/// must parse without errors, and every command it calls must exist in the module, in the
/// PowerShell engine, in Pester 5, in the standard Management and Utility modules of every pwsh, or
/// be a function defined in the Pester files themselves (common.ps1).
/// </summary>
public sealed class PesterScriptTests
{
    private static readonly string PesterFolder = Path.Combine(Repo.Root, "tests", "Pester");

    /// <summary>Pester 5's exported commands (Pester.psd1 FunctionsToExport and AliasesToExport).</summary>
    private static readonly HashSet<string> PesterCommands = new(StringComparer.OrdinalIgnoreCase)
    {
        "Invoke-Pester", "Describe", "Context", "It", "Mock", "InModuleScope",
        "BeforeDiscovery", "BeforeAll", "BeforeEach", "AfterEach", "AfterAll",
        "Should", "Add-ShouldOperator", "Get-ShouldOperator", "Add-AssertionOperator", "Get-AssertionOperator",
        "Export-NUnitReport", "ConvertTo-NUnitReport", "Export-JUnitReport", "ConvertTo-JUnitReport", "ConvertTo-Pester4Result",
        "New-PesterContainer", "New-PesterConfiguration",
        "Assert-VerifiableMock", "Assert-MockCalled", "Set-ItResult", "New-MockObject", "New-Fixture",
    };

    /// <summary>
    /// Cmdlets of Microsoft.PowerShell.Management and Microsoft.PowerShell.Utility that every pwsh 7
    /// has on Windows, Linux and macOS. The test host runs the bare engine (only
    /// Microsoft.PowerShell.Core), so these are named here; keep the list to real cmdlet names, and
    /// out of it anything Windows-only (services, WMI, the registry, computers).
    /// </summary>
    private static readonly HashSet<string> StandardCmdlets = new(StringComparer.OrdinalIgnoreCase)
    {
        // Microsoft.PowerShell.Management
        "Add-Content", "Clear-Content", "Clear-Item", "Clear-ItemProperty", "Convert-Path", "Copy-Item", "Copy-ItemProperty",
        "Debug-Process", "Get-ChildItem", "Get-Content", "Get-Item", "Get-ItemProperty", "Get-ItemPropertyValue",
        "Get-Location", "Get-Process", "Get-PSDrive", "Get-PSProvider", "Get-TimeZone", "Invoke-Item", "Join-Path",
        "Move-Item", "Move-ItemProperty", "New-Item", "New-ItemProperty", "New-PSDrive", "Pop-Location", "Push-Location",
        "Remove-Item", "Remove-ItemProperty", "Remove-PSDrive", "Rename-Item", "Rename-ItemProperty", "Resolve-Path",
        "Set-Content", "Set-Item", "Set-ItemProperty", "Set-Location", "Split-Path", "Start-Process", "Stop-Process",
        "Test-Connection", "Test-Path", "Wait-Process",

        // Microsoft.PowerShell.Utility
        "Add-Member", "Add-Type", "Clear-Variable", "Compare-Object", "ConvertFrom-Csv", "ConvertFrom-Json",
        "ConvertFrom-Markdown", "ConvertFrom-StringData", "ConvertTo-Csv", "ConvertTo-Html", "ConvertTo-Json", "ConvertTo-Xml",
        "Debug-Runspace", "Disable-PSBreakpoint", "Disable-RunspaceDebug", "Enable-PSBreakpoint", "Enable-RunspaceDebug",
        "Export-Alias", "Export-Clixml", "Export-Csv", "Export-FormatData", "Export-PSSession", "Format-Custom", "Format-Hex",
        "Format-List", "Format-Table", "Format-Wide", "Get-Alias", "Get-Culture", "Get-Date", "Get-Error", "Get-Event",
        "Get-EventSubscriber", "Get-FileHash", "Get-FormatData", "Get-Host", "Get-MarkdownOption", "Get-Member",
        "Get-PSBreakpoint", "Get-PSCallStack", "Get-Random", "Get-Runspace", "Get-RunspaceDebug", "Get-TraceSource",
        "Get-TypeData", "Get-UICulture", "Get-Unique", "Get-Uptime", "Get-Variable", "Get-Verb", "Group-Object",
        "Import-Alias", "Import-Clixml", "Import-Csv", "Import-LocalizedData", "Import-PowerShellDataFile", "Import-PSSession",
        "Invoke-Expression", "Invoke-RestMethod", "Invoke-WebRequest", "Join-String", "Measure-Command", "Measure-Object",
        "New-Alias", "New-Event", "New-Guid", "New-Object", "New-TemporaryFile", "New-TimeSpan", "New-Variable", "Out-File",
        "Out-String", "Read-Host", "Register-EngineEvent", "Register-ObjectEvent", "Remove-Alias", "Remove-Event",
        "Remove-PSBreakpoint", "Remove-TypeData", "Remove-Variable", "Select-Object", "Select-String", "Select-Xml",
        "Send-MailMessage", "Set-Alias", "Set-Date", "Set-MarkdownOption", "Set-PSBreakpoint", "Set-TraceSource",
        "Set-Variable", "Show-Markdown", "Sort-Object", "Start-Sleep", "Tee-Object", "Test-Json", "Trace-Command",
        "Unblock-File", "Unregister-Event", "Update-FormatData", "Update-TypeData", "Wait-Debugger", "Wait-Event",
        "Write-Debug", "Write-Error", "Write-Host", "Write-Information", "Write-Output", "Write-Progress",
        "Write-Verbose", "Write-Warning",
    };

    private static readonly Lazy<Commands> Known = new(ReadCommands);

    public static TheoryData<string> PesterFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in System.IO.Directory.GetFiles(PesterFolder, "*.ps1").OrderBy(f => f, StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Fact]
    public void ThereAreCommonScriptAndTestFiles()
    {
        Assert.True(File.Exists(Path.Combine(PesterFolder, "common.ps1")), "tests/Pester/common.ps1 is missing.");
        Assert.NotEmpty(System.IO.Directory.GetFiles(PesterFolder, "*.Tests.ps1"));
        var common = File.ReadAllText(Path.Combine(PesterFolder, "common.ps1"));
        Assert.Contains("out/AgentGovernance/AgentGovernance.psd1", common.Replace('\\', '/'), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(PesterFiles))]
    public void ParsesWithoutErrors(string file)
    {
        var ast = Parser.ParseFile(Path.Combine(PesterFolder, file), out _, out var errors);
        Assert.NotNull(ast);
        Assert.True(errors.Length == 0, $"{file} does not parse:{Environment.NewLine}" +
            string.Join(Environment.NewLine, errors.Select(e => $"  {e.Extent.StartLineNumber}:{e.Extent.StartColumnNumber}: {e.Message}")));
    }

    [Theory]
    [MemberData(nameof(PesterFiles))]
    public void CallsOnlyCommandsThatExist(string file)
    {
        var ast = Parser.ParseFile(Path.Combine(PesterFolder, file), out _, out _);
        var unknown = UnknownCommands(ast, DefinedFunctions());
        Assert.True(unknown.Count == 0, $"{file} calls commands that exist nowhere (not in the module, the engine, Pester 5, the standard modules, or tests/Pester):{Environment.NewLine}" +
            string.Join(Environment.NewLine, unknown.Select(u => "  " + u)));
    }

    [Theory]
    [MemberData(nameof(PesterFiles))]
    public void TestFilesDotSourceCommon(string file)
    {
        if (!file.EndsWith(".Tests.ps1", StringComparison.Ordinal))
        {
            return;
        }

        var ast = Parser.ParseFile(Path.Combine(PesterFolder, file), out _, out _);
        var dotSourcesCommon = ast.FindAll(a => a is CommandAst c && c.InvocationOperator == TokenKind.Dot
            && c.CommandElements.Count > 0 && c.CommandElements[0].Extent.Text.Contains("common.ps1", StringComparison.Ordinal), true).Any();
        Assert.True(dotSourcesCommon, $"{file} does not dot-source common.ps1 (`. $PSScriptRoot/common.ps1` in BeforeAll).");
    }

    /// <summary>The check must be able to fail: a call to a command that exists nowhere is reported.</summary>
    [Fact]
    public void AnUnknownCommandIsReported()
    {
        var ast = Parser.ParseInput("Describe 'x' { It 'y' { Get-NoSuchThing -Path a | Should -Be 1; Test-ExposureRisk; Join-Path a b; & $sb } }", out _, out _);
        var unknown = UnknownCommands(ast, new HashSet<string>(StringComparer.OrdinalIgnoreCase));
        Assert.Equal("Get-NoSuchThing", Assert.Single(unknown).Split(':').Last().Trim());
    }

    private static List<string> UnknownCommands(Ast ast, HashSet<string> definedFunctions)
    {
        var unknown = new List<string>();
        foreach (var command in ast.FindAll(a => a is CommandAst, true).Cast<CommandAst>())
        {
            var name = command.GetCommandName();
            if (name is null || command.InvocationOperator == TokenKind.Dot && name.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase))
            {
                continue; // a dynamic name (& $block, . $PSScriptRoot/common.ps1)
            }

            if (!Exists(name, definedFunctions, 0))
            {
                unknown.Add($"line {command.Extent.StartLineNumber}: {name}");
            }
        }

        return unknown;
    }

    private static bool Exists(string name, HashSet<string> definedFunctions, int depth)
    {
        var known = Known.Value;
        if (known.Module.Contains(name) || known.Engine.Contains(name) || PesterCommands.Contains(name)
            || name.StartsWith("Should-", StringComparison.OrdinalIgnoreCase) // Pester's Should-* assertions
            || StandardCmdlets.Contains(name) || definedFunctions.Contains(name))
        {
            return true;
        }

        // An alias exists only if what it stands for does (the bare engine has aliases for Utility cmdlets it lacks).
        return depth < 5 && known.Aliases.TryGetValue(name, out var target) && Exists(target, definedFunctions, depth + 1);
    }

    /// <summary>Functions defined anywhere in tests/Pester (common.ps1's helpers).</summary>
    private static HashSet<string> DefinedFunctions()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in System.IO.Directory.GetFiles(PesterFolder, "*.ps1"))
        {
            var ast = Parser.ParseFile(file, out _, out _);
            foreach (var f in ast.FindAll(a => a is FunctionDefinitionAst, true).Cast<FunctionDefinitionAst>())
            {
                names.Add(f.Name);
            }
        }

        return names;
    }

    private static Commands ReadCommands()
    {
        using var ps = new PowerShellHost();
        var module = ps.RunClean("Get-Command -Module AgentGovernance").Objects<CommandInfo>().Select(c => c.Name);
        var all = ps.RunClean("Get-Command -CommandType Cmdlet, Function, Alias").Objects<CommandInfo>().ToList();
        var aliases = all.OfType<AliasInfo>().ToDictionary(a => a.Name, a => a.Definition, StringComparer.OrdinalIgnoreCase);
        var engine = all.Where(c => c is not AliasInfo).Select(c => c.Name);
        return new Commands(
            new HashSet<string>(module, StringComparer.OrdinalIgnoreCase),
            new HashSet<string>(engine, StringComparer.OrdinalIgnoreCase),
            aliases);
    }

    private sealed record Commands(HashSet<string> Module, HashSet<string> Engine, Dictionary<string, string> Aliases);
}
