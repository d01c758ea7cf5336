using System;
using System.Collections.Generic;
using System.Linq;

namespace AgentGovernance.Suggestions;

/// <summary>
/// What this cmdlet knows about commands: the ones that change access (with their real parameters,
/// aliases and positions, per module family in the other parts of this class), the built-in aliases
/// that could hide a command, the commands that run code that cannot be read, and the read-only and
/// harmless ones that are ignored. Anything else may change access and is refused.
/// </summary>
internal static partial class CommandCatalog
{
    private static readonly Dictionary<string, CommandSpec> Recognised = new(StringComparer.OrdinalIgnoreCase);

    static CommandCatalog()
    {
        AddGraph();
        AddSharePoint();
        AddMicrosoft365();
    }

    public static CommandSpec? Find(string name) => Recognised.TryGetValue(name, out var spec) ? spec : null;

    private static CommandSpec Add(CommandSpec spec)
    {
        Recognised.Add(spec.Name, spec);
        return spec;
    }

    /// <summary>Built-in aliases of Windows PowerShell 5.1 and PowerShell 7 that stand for a command this cmdlet judges.</summary>
    public static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["%"] = "ForEach-Object", ["foreach"] = "ForEach-Object", ["?"] = "Where-Object", ["where"] = "Where-Object",
        ["select"] = "Select-Object", ["sort"] = "Sort-Object", ["group"] = "Group-Object", ["measure"] = "Measure-Object",
        ["ft"] = "Format-Table", ["fl"] = "Format-List", ["fw"] = "Format-Wide", ["fc"] = "Format-Custom", ["gm"] = "Get-Member",
        ["gcm"] = "Get-Command", ["gci"] = "Get-ChildItem", ["ls"] = "Get-ChildItem", ["dir"] = "Get-ChildItem",
        ["gc"] = "Get-Content", ["cat"] = "Get-Content", ["type"] = "Get-Content", ["echo"] = "Write-Output", ["write"] = "Write-Output",
        ["cls"] = "Clear-Host", ["clear"] = "Clear-Host", ["cd"] = "Set-Location", ["chdir"] = "Set-Location", ["sl"] = "Set-Location",
        ["pwd"] = "Get-Location", ["gl"] = "Get-Location", ["pushd"] = "Push-Location", ["popd"] = "Pop-Location", ["sleep"] = "Start-Sleep",
        ["iex"] = "Invoke-Expression", ["icm"] = "Invoke-Command", ["ipmo"] = "Import-Module", ["gmo"] = "Get-Module", ["rmo"] = "Remove-Module",
        ["irm"] = "Invoke-RestMethod", ["iwr"] = "Invoke-WebRequest", ["saps"] = "Start-Process", ["start"] = "Start-Process",
        ["sajb"] = "Start-Job", ["rcjb"] = "Receive-Job", ["gjb"] = "Get-Job", ["sal"] = "Set-Alias", ["nal"] = "New-Alias", ["gal"] = "Get-Alias",
        ["ipal"] = "Import-Alias", ["epal"] = "Export-Alias", ["sv"] = "Set-Variable", ["set"] = "Set-Variable", ["nv"] = "New-Variable",
        ["gv"] = "Get-Variable", ["rv"] = "Remove-Variable", ["clv"] = "Clear-Variable", ["ni"] = "New-Item", ["ri"] = "Remove-Item",
        ["rm"] = "Remove-Item", ["del"] = "Remove-Item", ["erase"] = "Remove-Item", ["rd"] = "Remove-Item", ["rmdir"] = "Remove-Item",
        ["cp"] = "Copy-Item", ["copy"] = "Copy-Item", ["cpi"] = "Copy-Item", ["mv"] = "Move-Item", ["move"] = "Move-Item", ["mi"] = "Move-Item",
        ["ren"] = "Rename-Item", ["rni"] = "Rename-Item", ["si"] = "Set-Item", ["sp"] = "Set-ItemProperty", ["gp"] = "Get-ItemProperty",
        ["gi"] = "Get-Item", ["ii"] = "Invoke-Item", ["ac"] = "Add-Content", ["sc"] = "Set-Content", ["tee"] = "Tee-Object",
        ["r"] = "Invoke-History", ["ihy"] = "Invoke-History", ["h"] = "Get-History", ["history"] = "Get-History", ["ghy"] = "Get-History",
        ["gps"] = "Get-Process", ["ps"] = "Get-Process", ["spps"] = "Stop-Process", ["kill"] = "Stop-Process", ["ogv"] = "Out-GridView",
        ["oh"] = "Out-Host", ["diff"] = "Compare-Object", ["compare"] = "Compare-Object", ["ipcsv"] = "Import-Csv", ["epcsv"] = "Export-Csv",
        ["ipsn"] = "Import-PSSession", ["etsn"] = "Enter-PSSession", ["nsn"] = "New-PSSession", ["trcm"] = "Trace-Command",
        ["iwmi"] = "Invoke-WmiMethod", ["swmi"] = "Set-WmiInstance", ["gwmi"] = "Get-WmiObject", ["gcim"] = "Get-CimInstance",
        ["icim"] = "Invoke-CimMethod", ["ncim"] = "New-CimInstance", ["scim"] = "Set-CimInstance", ["rcim"] = "Remove-CimInstance",
        ["Invoke-GraphRequest"] = "Invoke-MgGraphRequest",
        ["Add-PnPUnifiedGroupMember"] = "Add-PnPMicrosoft365GroupMember", ["Remove-PnPUnifiedGroupMember"] = "Remove-PnPMicrosoft365GroupMember",
        ["Select-AzSubscription"] = "Set-AzContext",
    };

    /// <summary>Commands that run code this cmdlet cannot read, and why.</summary>
    private static readonly Dictionary<string, string> CodeRunners = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Invoke-Expression"] = "runs a string as PowerShell code, which is only known when the script runs",
        ["Invoke-Command"] = "runs a script block or a script, possibly on another computer",
        ["Start-Process"] = "starts a program, whose effect this cmdlet cannot read",
        ["Start-Job"] = "runs a script block in a background job",
        ["Start-ThreadJob"] = "runs a script block in a background thread",
        ["Add-Type"] = "compiles and loads .NET code",
        ["New-Module"] = "runs a script block as a dynamic module",
        ["Invoke-Item"] = "opens a file with the program it is associated with, which may be a script",
        ["Invoke-History"] = "runs commands again from the session's history, which is not part of the suggestion",
        ["Set-Alias"] = "defines an alias, so a later command name could stand for anything",
        ["New-Alias"] = "defines an alias, so a later command name could stand for anything",
        ["Import-Alias"] = "imports aliases, so later command names could stand for anything",
        ["Set-Variable"] = "sets a variable in a way this cmdlet does not follow, so later values are not known",
        ["New-Variable"] = "sets a variable in a way this cmdlet does not follow, so later values are not known",
        ["Clear-Variable"] = "changes a variable in a way this cmdlet does not follow, so later values are not known",
        ["Remove-Variable"] = "changes a variable in a way this cmdlet does not follow, so later values are not known",
        ["Enter-PSSession"] = "opens a remote session, where the commands that follow run elsewhere",
        ["New-PSSession"] = "opens a remote session",
        ["Import-PSSession"] = "imports the commands of a remote session as local functions",
        ["Invoke-WmiMethod"] = "calls a WMI method", ["Set-WmiInstance"] = "changes a WMI object",
        ["Invoke-CimMethod"] = "calls a CIM method", ["New-CimInstance"] = "creates a CIM object", ["Set-CimInstance"] = "changes a CIM object",
        ["Register-ObjectEvent"] = "registers code to run when an event fires", ["Register-EngineEvent"] = "registers code to run when an event fires",
        ["Register-WmiEvent"] = "registers code to run when an event fires", ["Register-CimIndicationEvent"] = "registers code to run when an event fires",
        ["Register-ScheduledTask"] = "schedules a program to run later", ["Register-ScheduledJob"] = "schedules a script block to run later",
        ["Set-PSBreakpoint"] = "attaches code to run at a breakpoint",
        ["Set-PSDebug"] = "changes how the rest of the script runs",
        ["Trace-Command"] = "runs a script block",
        ["Measure-Command"] = "runs a script block",
    };

    /// <summary>Programs that run other code; an encoded command is named as such.</summary>
    private static readonly string[] Interpreters =
    {
        "powershell", "powershell.exe", "pwsh", "pwsh.exe", "powershell_ise", "powershell_ise.exe", "cmd", "cmd.exe", "bash", "sh", "zsh", "wsl", "wsl.exe",
        "python", "python3", "py", "node", "ruby", "perl", "cscript", "cscript.exe", "wscript", "wscript.exe", "mshta", "mshta.exe", "rundll32", "rundll32.exe",
        "regsvr32", "regsvr32.exe", "msiexec", "msiexec.exe",
    };

    /// <summary>Command-line tools that change access with arguments this cmdlet does not read.</summary>
    private static readonly string[] AccessTools = { "az", "az.cmd", "m365", "mgc", "gam", "azcopy", "curl", "curl.exe", "wget", "wget.exe" };

    /// <summary>Modules an answer may import without anything but the family's own commands running.</summary>
    private static readonly string[] KnownModules =
    {
        "Microsoft.Graph", "PnP.PowerShell", "MicrosoftTeams", "ExchangeOnlineManagement", "AzureAD", "AzureADPreview", "Az", "Microsoft.Online.SharePoint.PowerShell", "MSOnline",
    };

    /// <summary>Commands that change nothing in the directory, or only the local session; their arguments are still read.</summary>
    private static readonly HashSet<string> Harmless = new(StringComparer.OrdinalIgnoreCase)
    {
        "Write-Host", "Write-Output", "Write-Verbose", "Write-Warning", "Write-Error", "Write-Information", "Write-Debug", "Write-Progress",
        "Out-Host", "Out-Null", "Out-String", "Out-File", "Out-GridView", "Out-Default", "Format-Table", "Format-List", "Format-Wide", "Format-Custom",
        "Select-Object", "Sort-Object", "Group-Object", "Measure-Object", "Tee-Object", "Compare-Object", "ConvertFrom-Json", "ConvertTo-Csv",
        "ConvertFrom-Csv", "Export-Csv", "Import-Csv", "Export-Clixml", "Select-String", "Set-Location", "Push-Location", "Pop-Location",
        "Start-Sleep", "Clear-Host", "New-TimeSpan", "New-Guid", "Get-Date", "Add-Member", "Set-StrictMode", "New-Item", "Set-Content",
        "Add-Content", "Remove-Item", "Copy-Item", "Move-Item", "Rename-Item", "Set-Item", "Set-ItemProperty", "Start-Transcript", "Stop-Transcript",
        "Install-Module", "Install-PSResource", "Update-Module", "Uninstall-Module", "Save-Module", "Remove-Module", "Set-ExecutionPolicy",
        "Read-Host", "Wait-Job", "Receive-Job", "Stop-Job", "Remove-Job", "Join-Path", "Split-Path", "Resolve-Path", "Convert-Path", "Test-Path",
        "Set-PSRepository", "Register-PSRepository", "ConvertTo-SecureString", "Get-Credential", "Clear-Content", "Unblock-File",
        "Connect-MgGraph", "Disconnect-MgGraph", "Select-MgProfile", "Connect-ExchangeOnline", "Disconnect-ExchangeOnline", "Connect-IPPSSession",
        "Connect-MicrosoftTeams", "Disconnect-MicrosoftTeams", "Connect-AzureAD", "Disconnect-AzureAD", "Connect-AzAccount", "Disconnect-AzAccount",
        "Set-AzContext", "Disconnect-PnPOnline", "Connect-SPOService", "Disconnect-SPOService", "New-PnPBatch", "Invoke-PnPBatch", "Invoke-PnPQuery",
    };

    /// <summary>Verbs of commands that only read or show: an unknown command with one of these is ignored, as the issue asks (Get-*, Connect-*...).</summary>
    private static readonly HashSet<string> ReadVerbs = new(StringComparer.OrdinalIgnoreCase)
    {
        "Get", "Find", "Search", "Select", "Format", "Out", "Write", "Measure", "Compare", "Test", "Show", "Read", "Resolve", "Convert",
        "ConvertFrom", "ConvertTo", "Group", "Join", "Split", "Wait", "Connect", "Disconnect", "Trace", "Debug", "Watch", "Ping", "Export",
    };

    /// <summary>PowerShell's approved verbs (Get-Verb): an unknown Verb-Noun with one of them is a command, not a word of prose.</summary>
    private static readonly HashSet<string> ApprovedVerbs = new(StringComparer.OrdinalIgnoreCase)
    {
        "Add", "Approve", "Assert", "Backup", "Block", "Build", "Checkpoint", "Clear", "Close", "Compare", "Complete", "Compress", "Confirm",
        "Connect", "Convert", "ConvertFrom", "ConvertTo", "Copy", "Debug", "Deny", "Deploy", "Disable", "Disconnect", "Dismount", "Edit",
        "Enable", "Enter", "Exit", "Expand", "Export", "Find", "Format", "Get", "Grant", "Group", "Hide", "Import", "Initialize", "Install",
        "Invoke", "Join", "Limit", "Lock", "Measure", "Merge", "Mount", "Move", "New", "Open", "Optimize", "Out", "Ping", "Pop", "Protect",
        "Publish", "Push", "Read", "Receive", "Redo", "Register", "Remove", "Rename", "Repair", "Request", "Reset", "Resize", "Resolve",
        "Restart", "Restore", "Resume", "Revoke", "Save", "Search", "Select", "Send", "Set", "Show", "Skip", "Split", "Start", "Step", "Stop",
        "Submit", "Suspend", "Switch", "Sync", "Test", "Trace", "Unblock", "Undo", "Uninstall", "Unlock", "Unprotect", "Unpublish",
        "Unregister", "Update", "Use", "Wait", "Watch", "Write",
    };

    /// <summary>.NET types a value may be converted to, or whose static members may be read, without code of the type running.</summary>
    private static readonly HashSet<string> SafeTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "string", "int", "int32", "long", "int64", "bool", "boolean", "guid", "datetime", "datetimeoffset", "timespan", "uri", "hashtable", "ordered",
        "array", "object", "psobject", "pscustomobject", "char", "byte", "double", "decimal", "single", "float", "version", "regex", "securestring",
        "switch", "void", "psobject", "collections.arraylist", "collections.hashtable", "collections.generic.list", "collections.generic.dictionary",
        "collections.generic.hashset", "math", "environment", "text.regularexpressions.regex", "stringcomparer", "stringcomparison", "mailaddress",
        "net.mail.mailaddress", "cultureinfo", "globalization.cultureinfo", "management.automation.switchparameter", "management.automation.pscredential",
        "pscredential", "management.automation.psobject", "management.automation.pscustomobject", "validateset", "validatenotnullorempty",
        "parameter", "cmdletbinding", "alias", "outputtype",
    };

    /// <summary>Methods that only compute a value (on strings, collections and common objects).</summary>
    private static readonly HashSet<string> PureMethods = new(StringComparer.OrdinalIgnoreCase)
    {
        "ToString", "ToLower", "ToUpper", "ToLowerInvariant", "ToUpperInvariant", "Trim", "TrimStart", "TrimEnd", "Split", "Replace",
        "Substring", "Contains", "StartsWith", "EndsWith", "IndexOf", "LastIndexOf", "Equals", "CompareTo", "PadLeft", "PadRight",
        "GetType", "ContainsKey", "ContainsValue", "Join", "Format", "IsNullOrEmpty", "IsNullOrWhiteSpace", "Concat", "NewGuid", "Parse",
        "TryParse", "ToArray", "ToUniversalTime", "ToLocalTime", "AddDays", "AddHours", "AddMinutes", "Round", "Floor", "Ceiling", "Max", "Min",
        "EscapeDataString", "UnescapeDataString", "Normalize", "GetValueOrDefault",
    };

    public static bool IsCodeRunner(string name, out string reason) => CodeRunners.TryGetValue(name, out reason!);

    public static bool IsInterpreter(string name) => Interpreters.Contains(name, StringComparer.OrdinalIgnoreCase);

    public static bool IsAccessTool(string name) => AccessTools.Contains(name, StringComparer.OrdinalIgnoreCase);

    public static bool IsHarmless(string name) => Harmless.Contains(name);

    public static bool IsKnownModule(string module) => KnownModules.Any(k => module.Equals(k, StringComparison.OrdinalIgnoreCase)
        || module.StartsWith(k + ".", StringComparison.OrdinalIgnoreCase));

    public static bool IsPureMethod(string name) => PureMethods.Contains(name);

    /// <summary>Whether a type name (System. prefix, array and generic forms allowed) is safe to convert to.</summary>
    public static bool IsSafeType(string typeName)
    {
        var name = typeName.Trim();
        var generic = name.IndexOf('[');
        if (generic >= 0)
        {
            var inner = name.Substring(generic + 1).TrimEnd(']');
            name = name.Substring(0, generic);
            if (inner.Length > 0 && !inner.Split(',').All(part => IsSafeType(part)))
            {
                return false;
            }
        }

        if (name.StartsWith("System.", StringComparison.OrdinalIgnoreCase))
        {
            name = name.Substring(7);
        }

        return name.Length == 0 || SafeTypes.Contains(name);
    }

    /// <summary>Verb and noun of a Verb-Noun name, or null.</summary>
    public static (string Verb, string Noun)? VerbNoun(string name)
    {
        var dash = name.IndexOf('-');
        if (dash <= 0 || dash == name.Length - 1 || name.IndexOf('-', dash + 1) >= 0)
        {
            return null;
        }

        return (name.Substring(0, dash), name.Substring(dash + 1));
    }

    public static bool IsReadVerb(string verb) => ReadVerbs.Contains(verb);

    public static bool IsApprovedVerb(string verb) => ApprovedVerbs.Contains(verb);

    /// <summary>The module family a command's noun suggests, for the message that refuses an unknown command.</summary>
    public static string? FamilyOf(string noun)
    {
        if (noun.StartsWith("Mg", StringComparison.Ordinal))
        {
            return "Microsoft Graph PowerShell";
        }

        if (noun.StartsWith("PnP", StringComparison.Ordinal))
        {
            return "PnP.PowerShell";
        }

        if (noun.StartsWith("AzureAD", StringComparison.Ordinal))
        {
            return "AzureAD";
        }

        if (noun.StartsWith("Entra", StringComparison.Ordinal))
        {
            return "Microsoft Entra PowerShell";
        }

        if (noun.StartsWith("Az", StringComparison.Ordinal))
        {
            return "Az";
        }

        if (noun.StartsWith("Team", StringComparison.Ordinal) || noun.StartsWith("Cs", StringComparison.Ordinal))
        {
            return "Microsoft Teams";
        }

        if (noun.StartsWith("SPO", StringComparison.Ordinal))
        {
            return "SharePoint Online Management Shell";
        }

        if (noun.StartsWith("Msol", StringComparison.Ordinal))
        {
            return "MSOnline";
        }

        var exchange = new[] { "Mailbox", "Recipient", "DistributionGroup", "UnifiedGroup", "ManagementRole", "RoleGroup", "DynamicDistributionGroup", "MailUser", "MailContact", "CalendarProcessing" };
        return exchange.Any(e => noun.StartsWith(e, StringComparison.Ordinal)) ? "Exchange Online" : null;
    }
}
