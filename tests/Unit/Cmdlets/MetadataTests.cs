using System.Management.Automation;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>What PowerShell itself sees of the cmdlets once the built module is imported.</summary>
public sealed class MetadataTests : CmdletTestBase
{
    public MetadataTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private CmdletInfo Command(string name) => Ps.RunClean("Get-Command -Name $args[0] -CommandType Cmdlet", name).Single<CmdletInfo>();

    private static ParameterSetMetadata InSet(CmdletInfo command, string parameter, string set) =>
        command.Parameters[parameter].ParameterSets[set];

    [Fact]
    public void TheModuleExportsExactlyItsCmdletClassesAsTheManifestListsThem()
    {
        var exported = Ps.RunClean("(Get-Module AgentGovernance).ExportedCmdlets.Keys").Objects<string>().OrderBy(n => n, StringComparer.Ordinal).ToList();
        var manifest = System.Management.Automation.Language.Parser.ParseFile(Repo.ModuleManifest, out _, out _);
        var table = (System.Management.Automation.Language.HashtableAst)manifest.Find(a => a is System.Management.Automation.Language.HashtableAst, false);
        var entry = table.KeyValuePairs.Single(p => p.Item1.Extent.Text == "CmdletsToExport").Item2;
        var listed = entry.FindAll(a => a is System.Management.Automation.Language.StringConstantExpressionAst, true)
            .Select(a => ((System.Management.Automation.Language.StringConstantExpressionAst)a).Value).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var classes = typeof(AgentGovernance.Commands.GovernanceCmdlet).Assembly.GetTypes()
            .Select(t => t.GetCustomAttributes(typeof(CmdletAttribute), false).OfType<CmdletAttribute>().SingleOrDefault())
            .Where(a => a is not null).Select(a => a!.VerbName + "-" + a.NounName).OrderBy(n => n, StringComparer.Ordinal).ToList();

        Assert.Equal(classes, listed);
        Assert.Equal(classes, exported);
        Assert.Contains("Test-ExposureRisk", exported);
    }

    [Theory]
    [InlineData("Connect-AgentGovernance", "AgentGovernance.Commands.GovernanceSession")]
    [InlineData("Import-AccessSnapshot", "AgentGovernance.Directory.AccessSnapshot")]
    [InlineData("Export-AccessSnapshot", "System.IO.FileInfo")]
    [InlineData("Import-AccessChange", "AgentGovernance.Changes.AccessChange")]
    [InlineData("Export-AccessChange", "System.IO.FileInfo")]
    [InlineData("New-AccessChange", "AgentGovernance.Changes.AccessChange")]
    [InlineData("Test-ExposureRisk", "AgentGovernance.Exposure.ExposureReport")]
    [InlineData("Get-EffectiveAccess", "AgentGovernance.Exposure.EffectiveAccessEntry")]
    public void EachCmdletDeclaresItsOutputType(string name, string type)
    {
        Assert.Equal(type, Assert.Single(Command(name).OutputType).Name);
    }

    [Theory]
    [InlineData("Export-AccessSnapshot", true)]
    [InlineData("Export-AccessChange", true)]
    [InlineData("Import-AccessSnapshot", false)]
    [InlineData("Import-AccessChange", false)]
    [InlineData("New-AccessChange", false)]
    [InlineData("Test-ExposureRisk", false)]
    [InlineData("Get-EffectiveAccess", false)]
    public void OnlyTheCmdletsThatWriteFilesTakeWhatIfAndConfirm(string name, bool writes)
    {
        var command = Command(name);

        Assert.Equal(writes, command.Parameters.ContainsKey("WhatIf"));
        Assert.Equal(writes, command.Parameters.ContainsKey("Confirm"));
    }

    [Theory]
    [InlineData("Import-AccessSnapshot")]
    [InlineData("Import-AccessChange")]
    public void ImportsTakePathsFromThePipelineAndLiteralPathsByPropertyName(string name)
    {
        var command = Command(name);

        Assert.Equal("Path", command.DefaultParameterSet);
        var path = InSet(command, "Path", "Path");
        Assert.True(path.IsMandatory && path.ValueFromPipeline && path.ValueFromPipelineByPropertyName);
        Assert.Equal(0, path.Position);
        var literal = InSet(command, "LiteralPath", "LiteralPath");
        Assert.True(literal.IsMandatory && literal.ValueFromPipelineByPropertyName && !literal.ValueFromPipeline);
        Assert.Contains("PSPath", command.Parameters["LiteralPath"].Aliases);
        Assert.Contains("LP", command.Parameters["LiteralPath"].Aliases);
    }

    [Theory]
    [InlineData("Test-ExposureRisk", "Change")]
    [InlineData("Export-AccessChange", "Change")]
    [InlineData("Export-AccessSnapshot", "Snapshot")]
    [InlineData("Connect-AgentGovernance", "Snapshot")]
    public void TheMainObjectComesFromThePipeline(string name, string parameter)
    {
        Assert.True(Command(name).Parameters[parameter].ParameterSets.Values.All(s => s.ValueFromPipeline));
    }

    [Fact]
    public void GetEffectiveAccessTakesIdsByPropertyName()
    {
        var command = Command("Get-EffectiveAccess");

        // One set: piped objects carry a ResourceId, a PrincipalId or both, and each binds as it is.
        Assert.Single(command.ParameterSets);
        var resource = InSet(command, "ResourceId", "__AllParameterSets");
        var principal = InSet(command, "PrincipalId", "__AllParameterSets");
        Assert.False(resource.IsMandatory);
        Assert.False(principal.IsMandatory);
        Assert.Equal(0, resource.Position);
        Assert.True(resource.ValueFromPipelineByPropertyName);
        Assert.True(principal.ValueFromPipelineByPropertyName);
    }

    [Fact]
    public void NewAccessChangeHasOneParameterSetPerKindOfOperation()
    {
        var command = Command("New-AccessChange");

        Assert.Equal("Grant", command.DefaultParameterSet);
        Assert.Equal(
            new[] { "AddMember", "CreateLink", "Grant", "Operation", "RemoveMember", "Revoke", "SetVisibility" },
            command.ParameterSets.Select(s => s.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(new[] { "Private", "Public" }, command.Parameters["SetVisibility"].Attributes.OfType<ValidateSetAttribute>().Single().ValidValues);
        Assert.Equal(new[] { "Anonymous", "Organization" }, command.Parameters["CreateLink"].Attributes.OfType<ValidateSetAttribute>().Single().ValidValues);
    }

    [Fact]
    public void ConnectTakesASnapshotAPathOrAGraphSignIn()
    {
        var command = Command("Connect-AgentGovernance");

        Assert.Equal(
            new[] { "AccessToken", "CertificatePath", "CertificateThumbprint", "ClientSecret", "DeviceCode", "Interactive", "ManagedIdentity", "Snapshot", "SnapshotPath" },
            command.ParameterSets.Select(s => s.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal("Snapshot", command.DefaultParameterSet);
        Assert.True(InSet(command, "SnapshotPath", "SnapshotPath").IsMandatory);
        Assert.True(command.Parameters.ContainsKey("PassThru"));
        foreach (var set in command.ParameterSets.Where(s => !s.Name.StartsWith("Snapshot", StringComparison.Ordinal)))
        {
            Assert.True(InSet(command, "TenantId", set.Name).IsMandatory, set.Name);
            Assert.Contains(set.Parameters, p => p.Name == "GraphEndpoint");
            Assert.Contains(set.Parameters, p => p.Name == "Environment");
        }

        // Secrets are SecureStrings, never plain strings in the history.
        Assert.Equal(typeof(System.Security.SecureString), command.Parameters["AccessToken"].ParameterType);
        Assert.Equal(typeof(System.Security.SecureString), command.Parameters["ClientSecret"].ParameterType);
    }

    [Theory]
    [InlineData("Get-EffectiveAccess", "ResourceId")]
    [InlineData("Get-EffectiveAccess", "PrincipalId")]
    [InlineData("New-AccessChange", "ResourceId")]
    [InlineData("New-AccessChange", "PrincipalId")]
    [InlineData("New-AccessChange", "GroupId")]
    [InlineData("New-AccessChange", "MemberId")]
    public void IdsHaveArgumentCompleters(string name, string parameter)
    {
        Assert.Single(Command(name).Parameters[parameter].Attributes.OfType<ArgumentCompleterAttribute>());
    }
}
