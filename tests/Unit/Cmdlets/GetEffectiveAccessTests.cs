using System.Management.Automation;
using AgentGovernance.Directory;
using AgentGovernance.Exposure;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>Get-EffectiveAccess with -Snapshot (the session's defaults are in SessionTests).</summary>
public sealed class GetEffectiveAccessTests : CmdletTestBase
{
    private const string Cmd = "GetEffectiveAccessCommand";

    /// <summary>
    /// Audiences and a Public group: 'everyone' reads site-all, every member writes site-members,
    /// g-open (Public, its only member a guest, no grant) is connected to site-open, 'anyone' reads site-link.
    /// </summary>
    private const string AudienceSnapshot = """
        {
          "schema": "agentgovernance/snapshot@1",
          "tenant": { "id": "audiences.example" },
          "principals": [
            { "id": "u-mem", "type": "user", "userPrincipalName": "mem@audiences.example" },
            { "id": "u-guest", "type": "user", "userType": "Guest" },
            { "id": "u-off", "type": "user", "accountEnabled": false },
            { "id": "sp-x", "type": "servicePrincipal" },
            { "id": "g-open", "type": "group", "visibility": "Public", "members": ["u-guest"] }
          ],
          "resources": [
            { "id": "site-all", "type": "site" },
            { "id": "site-members", "type": "site" },
            { "id": "site-open", "type": "site", "group": "g-open" },
            { "id": "site-link", "type": "site" }
          ],
          "grants": [
            { "resource": "site-all", "principal": "everyone", "role": "read" },
            { "resource": "site-members", "principal": "everyoneExceptExternal", "role": "write" },
            { "resource": "site-link", "principal": "anyone", "role": "read" },
            { "resource": "site-link", "principal": "sp-x", "role": "owner" }
          ]
        }
        """;

    public GetEffectiveAccessTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private RunResult WithTiny(string script) =>
        Ps.Run("$s = Import-AccessSnapshot -LiteralPath $args[0]\n" + script, TinyPath);

    private List<EffectiveAccessEntry> Entries(string script)
    {
        var result = WithTiny(script);
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
        return result.Objects<EffectiveAccessEntry>().ToList();
    }

    private static string Row(EffectiveAccessEntry e) => $"{e.PrincipalId} {e.ResourceId} {e.Role} {e.Path}";

    [Fact]
    public void WhoReachesAResourceWithTheShortestPath()
    {
        var entries = Entries("Get-EffectiveAccess site-general -Snapshot $s");

        Assert.Equal(
            new[]
            {
                "u-alice site-general Read u-alice -> g-eng : read",
                "u-bob site-general Read u-bob -> g-platform -> g-eng : read",
                "u-carol site-general Owner u-carol : owner",
                "sp-app site-general Read sp-app -> g-platform -> g-eng : read",
            },
            entries.Select(Row));
        Assert.Equal(new[] { "u-bob", "g-platform", "g-eng" }, entries[1].Path.Steps);
        Assert.Equal(AccessVia.Grant, entries[1].Path.Via);
        Assert.Equal("g-eng", entries[1].Path.GrantedTo);
        Assert.Equal("Bob", entries[1].DisplayName);
        Assert.Equal("Member", entries[1].UserType);
        Assert.Equal(PrincipalType.ServicePrincipal, entries[3].PrincipalType);
        Assert.Equal("General Site", entries[0].ResourceName);
    }

    [Fact]
    public void DisabledUsersAndGroupsAreNotListed()
    {
        var entries = Entries("Get-EffectiveAccess -ResourceId site-general -Snapshot $s");

        Assert.DoesNotContain(entries, e => e.PrincipalId == "u-dave");
        Assert.DoesNotContain(entries, e => e.PrincipalType == PrincipalType.Group);
        Assert.Empty(Entries("Get-EffectiveAccess -PrincipalId u-dave -Snapshot $s"));
    }

    [Fact]
    public void WhatAPrincipalReachesByIdOrByUserPrincipalName()
    {
        var byId = Entries("Get-EffectiveAccess -PrincipalId u-carol -Snapshot $s").Select(Row).ToList();
        var byUpn = Entries("Get-EffectiveAccess -PrincipalId CAROL@tiny.example -Snapshot $s").Select(Row).ToList();

        Assert.Equal(
            new[]
            {
                "u-carol site-secret Read u-carol -> g-data : read",
                "u-carol site-general Owner u-carol : owner",
                "u-carol role-admin Read u-carol : member",
            },
            byId);
        Assert.Equal(byId, byUpn);
    }

    [Fact]
    public void APrincipalAndAResourceGiveThatOneEntry()
    {
        var entries = Entries("Get-EffectiveAccess -PrincipalId u-carol -ResourceId role-admin -Snapshot $s");

        var entry = Assert.Single(entries);
        Assert.Equal(AccessRole.Read, entry.Role);
        Assert.Equal("member", entry.Path.Role);
        Assert.Empty(Entries("Get-EffectiveAccess -PrincipalId u-joe -ResourceId site-secret -Snapshot $s"));
    }

    [Fact]
    public void AGroupCanBeAskedAbout()
    {
        Assert.Equal(
            new[] { "g-platform site-general Read g-platform -> g-eng : read" },
            Entries("Get-EffectiveAccess -PrincipalId g-platform -Snapshot $s").Select(Row));
    }

    [Fact]
    public void AudiencesAndPublicGroupsShowInThePath()
    {
        Temp.Write("aud.json", AudienceSnapshot);

        var result = Ps.RunClean(@"
            $a = Import-AccessSnapshot aud.json
            'site-all', 'site-members', 'site-open', 'site-link' | ForEach-Object { Get-EffectiveAccess -ResourceId $_ -Snapshot $a }");

        var rows = result.Objects<EffectiveAccessEntry>().Select(e => $"{e.ResourceId} {e.PrincipalId} {e.Role} {e.Path.Via} {e.Path.GrantedTo}").ToList();
        Assert.Equal(
            new[]
            {
                "site-all u-mem Read Audience everyone",
                "site-all u-guest Read Audience everyone",
                "site-members u-mem Write Audience everyoneExceptExternal",
                "site-open u-mem Read PublicGroup g-open",
                "site-link anyone Read Grant anyone",
                "site-link sp-x Owner Grant sp-x",
            }.OrderBy(r => r, StringComparer.Ordinal),
            rows.OrderBy(r => r, StringComparer.Ordinal));
    }

    [Fact]
    public void AnUnknownResourceIsUnknownResourceInBothSets()
    {
        var result = WithTiny("Get-EffectiveAccess site-nowhere -Snapshot $s; Get-EffectiveAccess -PrincipalId u-carol -ResourceId site-nowhere -Snapshot $s");

        Assert.Equal(2, result.Errors.Count);
        Assert.All(result.Errors, e =>
        {
            AssertError(e, "UnknownResource", Cmd, ErrorCategory.ObjectNotFound);
            Assert.Equal("site-nowhere", e.TargetObject);
        });
        Assert.Empty(result.Output);
    }

    [Fact]
    public void AnUnknownPrincipalIsUnknownPrincipal()
    {
        var result = WithTiny("Get-EffectiveAccess -PrincipalId nobody@tiny.example -Snapshot $s");

        var error = SingleError(result, "UnknownPrincipal", Cmd, ErrorCategory.ObjectNotFound);
        Assert.Equal("nobody@tiny.example", error.TargetObject);
    }

    [Fact]
    public void AnAudienceIsNotAPrincipalToListAccessFor()
    {
        var result = WithTiny("Get-EffectiveAccess -PrincipalId everyone -Snapshot $s");

        var error = Assert.Single(result.Errors);
        Assert.NotEqual("ChangeInvalid", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.DoesNotContain("group member", error.Exception.Message);
        Assert.Equal("everyone", error.TargetObject);
    }

    [Fact]
    public void TheResourcesOfAReportPipeByPropertyName()
    {
        var result = WithTiny(@"
            $r = New-AccessChange -Operation @{ op = 'grant'; resource = 'site-secret'; principal = 'g-eng'; role = 'read' }, @{ op = 'grant'; resource = 'site-general'; principal = 'u-joe'; role = 'read' } | Test-ExposureRisk -Snapshot $s
            $r.Resources | Get-EffectiveAccess -Snapshot $s");

        Assert.Empty(result.Errors);
        var rows = result.Objects<EffectiveAccessEntry>().Select(e => e.ResourceId + " " + e.PrincipalId).ToList();
        Assert.Equal(new[] { "site-secret u-carol", "site-general u-alice", "site-general u-bob", "site-general u-carol", "site-general sp-app" }, rows);
    }

    [Fact]
    public void ObjectsWithAResourceIdPipeAndABadOneDoesNotStopTheRest()
    {
        var result = WithTiny(@"
            [pscustomobject]@{ ResourceId = 'site-secret' }, [pscustomobject]@{ ResourceId = 'site-nowhere' }, [pscustomobject]@{ ResourceId = 'role-admin' } |
                Get-EffectiveAccess -Snapshot $s");

        SingleError(result, "UnknownResource", Cmd, ErrorCategory.ObjectNotFound);
        Assert.Equal(new[] { "site-secret", "role-admin" }, result.Objects<EffectiveAccessEntry>().Select(e => e.ResourceId));
    }

    [Fact]
    public void ObjectsWithAPrincipalIdPipeToThePrincipalSet()
    {
        var entries = Entries("[pscustomobject]@{ PrincipalId = 'u-bob' }, [pscustomobject]@{ PrincipalId = 'u-carol' } | Get-EffectiveAccess -Snapshot $s");

        Assert.Equal(new[] { "u-bob", "u-carol", "u-carol", "u-carol" }, entries.Select(e => e.PrincipalId));
    }

    [Fact]
    public void ObjectsWithAPrincipalIdAndAResourceIdGiveThatPrincipalsAccess()
    {
        var entries = Entries("Get-EffectiveAccess -PrincipalId u-bob -Snapshot $s | Get-EffectiveAccess -Snapshot $s");

        Assert.Equal(new[] { "u-bob site-general" }, entries.Select(e => e.PrincipalId + " " + e.ResourceId));
    }

    [Fact]
    public void AResourceOrAPrincipalIsRequired()
    {
        var result = WithTiny("Get-EffectiveAccess -Snapshot $s");

        AssertError(Assert.Single(result.Errors), "ResourceOrPrincipalRequired", Cmd, ErrorCategory.InvalidArgument);
    }

    [Theory]
    [InlineData("Get-EffectiveAccess -ResourceId '' -Snapshot $s")]
    [InlineData("Get-EffectiveAccess -PrincipalId '' -Snapshot $s")]
    public void EmptyIdsAreRejectedByBinding(string script)
    {
        var result = WithTiny(script);

        Assert.StartsWith("ParameterArgumentValidationError", Assert.Single(result.Errors).FullyQualifiedErrorId);
    }
}
