using System.Collections;
using System.Management.Automation;
using AgentGovernance.Changes;
using AgentGovernance.Directory;
using AgentGovernance.Tests.Support;

namespace AgentGovernance.Tests.Cmdlets;

public sealed class NewAccessChangeTests : CmdletTestBase
{
    private const string Cmd = "NewAccessChangeCommand";

    public NewAccessChangeTests(HostFixture fixture)
        : base(fixture)
    {
    }

    private AccessChange New(string arguments) => Ps.RunClean("New-AccessChange " + arguments).Single<AccessChange>();

    [Fact]
    public void GrantTakesReadByDefault()
    {
        var op = Assert.Single(New("-Grant -ResourceId site-secret -PrincipalId g-eng").Operations);

        Assert.Equal(OperationKind.Grant, op.Op);
        Assert.Equal("site-secret", op.Resource);
        Assert.Equal("g-eng", op.Principal);
        Assert.Equal("read", op.Role);
        Assert.Equal("grant read on site-secret to g-eng", op.ToString());
    }

    [Fact]
    public void EachParameterSetMakesItsOperation()
    {
        var result = Ps.RunClean(@"
            New-AccessChange -Grant -ResourceId r -PrincipalId p -Role owner
            New-AccessChange -Revoke -ResourceId r -PrincipalId p -Role write
            New-AccessChange -AddMember -GroupId g -MemberId m
            New-AccessChange -RemoveMember -GroupId g -MemberId m
            New-AccessChange -SetVisibility Public -GroupId g
            New-AccessChange -SetVisibility Private -GroupId g
            New-AccessChange -CreateLink Anonymous -ResourceId r
            New-AccessChange -CreateLink Organization -ResourceId r -Role write");

        var ops = result.Objects<AccessChange>().Select(c => Assert.Single(c.Operations)).ToList();
        Assert.Equal(
            new[]
            {
                "grant owner on r to p", "revoke write on r from p", "add m to group g", "remove m from group g",
                "make group g Public", "make group g Private", "create anonymous read link to r", "create organization write link to r",
            },
            ops.Select(o => o.ToString()));
        Assert.Equal(GroupVisibility.Public, ops[4].Visibility);
        Assert.Equal(LinkScope.Anonymous, ops[6].Scope);
        Assert.Equal(LinkScope.Organization, ops[7].Scope);
    }

    [Fact]
    public void TheOperationSetTakesHashtablesAndOperationObjects()
    {
        var change = New(@"-Operation @(
                @{ op = 'grant'; resource = 'r'; principal = 'p'; role = 'read' }
                [ordered]@{ OP = 'addMember'; Group = 'g'; MEMBER = 'm' }
                [AgentGovernance.Changes.AccessOperation]::Revoke('r', 'q', 'write')
                @{ op = 'setVisibility'; group = 'g'; visibility = 'Public' }
                @{ op = 'createLink'; resource = 'r'; scope = 'organization'; role = 'read' }
                @{ op = 'removeMember'; group = 'g'; member = 'm' })");

        Assert.Equal(
            new[] { OperationKind.Grant, OperationKind.AddMember, OperationKind.Revoke, OperationKind.SetVisibility, OperationKind.CreateLink, OperationKind.RemoveMember },
            change.Operations.Select(o => o.Op));
        Assert.Equal("m", change.Operations[1].Member);
    }

    [Fact]
    public void OperationIsPositional()
    {
        var change = New("@{ op = 'grant'; resource = 'r'; principal = 'p'; role = 'read' }");

        Assert.Equal("grant read on r to p", Assert.Single(change.Operations).ToString());
    }

    [Fact]
    public void OperationsOfAChangeCanBeReused()
    {
        Temp.Write("c.json", CmdletTestData.GrantChange);

        var result = Ps.RunClean("$c = Import-AccessChange c.json; New-AccessChange -Operation $c.Operations -Title $c.Title -Justification $c.Justification -SuggestedBy $c.SuggestedBy.Id -SuggestedByName $c.SuggestedBy.DisplayName -SuggestionSource $c.SuggestedBy.Source -RequestedBy $c.RequestedBy; $c");

        var both = result.Objects<AccessChange>().ToList();
        Assert.Equal(both[1].Id, both[0].Id);
    }

    [Fact]
    public void DescriptionParametersFillTheChange()
    {
        var change = New("-Grant -ResourceId r -PrincipalId p -Title 'A title' -Justification 'Because' -SuggestedBy sp-bot -SuggestedByName 'Helper Bot' -SuggestionSource 'https://forum.example/t/9' -RequestedBy bob@tiny.example");

        Assert.Equal("A title", change.Title);
        Assert.Equal("Because", change.Justification);
        Assert.Equal("bob@tiny.example", change.RequestedBy);
        Assert.Equal("agent", change.SuggestedBy!.Type);
        Assert.Equal("sp-bot", change.SuggestedBy.Id);
        Assert.Equal("Helper Bot", change.SuggestedBy.DisplayName);
        Assert.Equal("https://forum.example/t/9", change.SuggestedBy.Source);
        Assert.Null(change.Source);
    }

    [Fact]
    public void WithoutASuggesterThereIsNoSuggestedBy()
    {
        var change = New("-Grant -ResourceId r -PrincipalId p");

        Assert.Null(change.SuggestedBy);
        Assert.Null(change.Title);
        Assert.Null(change.RequestedBy);
        Assert.Null(change.Duration);
    }

    [Fact]
    public void ASuggesterCanBeAUser()
    {
        var change = New("-Grant -ResourceId r -PrincipalId p -SuggestedBy u-carol -SuggestedByType user");

        Assert.Equal("user", change.SuggestedBy!.Type);
        Assert.False(change.SuggestedBy.IsAgent);
    }

    [Fact]
    public void TheSameParametersGiveTheSameIdAndAnyDifferenceAnother()
    {
        var result = Ps.RunClean(@"
            (New-AccessChange -Grant -ResourceId r -PrincipalId p -Title t).Id
            (New-AccessChange -Grant -ResourceId r -PrincipalId p -Title t).Id
            (New-AccessChange -Grant -ResourceId r -PrincipalId p -Title u).Id
            (New-AccessChange -Grant -ResourceId r -PrincipalId p -Title t -Duration PT1H).Id");

        var ids = result.Output.Select(o => (string)o.BaseObject).ToList();
        Assert.Equal(ids[0], ids[1]);
        Assert.Equal(3, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches("^sha256:[0-9a-f]{64}$", id));
    }

    [Theory]
    [InlineData("([TimeSpan]::FromHours(2))", "PT2H", 120)]
    [InlineData("([TimeSpan]::FromMinutes(90))", "PT1H30M", 90)]
    [InlineData("([TimeSpan]::FromDays(1.5))", "P1DT12H", 36 * 60)]
    [InlineData("([TimeSpan]::new(7, 0, 0, 0))", "P7D", 7 * 24 * 60)]
    [InlineData("'PT8H'", "PT8H", 8 * 60)]
    [InlineData("P2W", "P2W", 14 * 24 * 60)]
    [InlineData("'P1DT12H'", "P1DT12H", 36 * 60)]
    public void DurationTakesATimeSpanOrAnIsoString(string argument, string iso, int minutes)
    {
        var change = New("-Grant -ResourceId r -PrincipalId p -Duration " + argument);

        Assert.Equal(iso, change.Duration);
        Assert.Equal(TimeSpan.FromMinutes(minutes), change.DurationTimeSpan);
    }

    [Theory]
    [InlineData("P1M")]
    [InlineData("P1Y")]
    [InlineData("PT0S")]
    [InlineData("banana")]
    [InlineData("'2 hours'")]
    [InlineData("'-PT1H'")]
    [InlineData("[TimeSpan]::Zero")]
    [InlineData("([TimeSpan]::FromHours(-1))")]
    [InlineData("5")]
    [InlineData("([datetime]::UtcNow)")]
    public void ABadDurationIsChangeInvalidAndNoChangeIsMade(string argument)
    {
        var result = Ps.Run("New-AccessChange -Grant -ResourceId r -PrincipalId p -Duration " + argument);

        Assert.Empty(result.Output);
        var error = SingleError(result, "ChangeInvalid", Cmd, ErrorCategory.InvalidArgument);
        Assert.NotNull(error.TargetObject);
        Assert.Contains("Duration", error.Exception.Message);
    }

    [Fact]
    public void ANullDurationIsRejectedByBinding()
    {
        var result = Ps.Run("New-AccessChange -Grant -ResourceId r -PrincipalId p -Duration $null");

        Assert.StartsWith("ParameterArgumentValidationError", Assert.Single(result.Errors).FullyQualifiedErrorId);
    }

    public static TheoryData<string, string, ErrorCategory, string> InvalidOperations => new()
    {
        { "@{ op = 'grant'; resource = 'r'; principal = 'p'; role = 'read'; extra = 'x' }", "ChangeInvalid", ErrorCategory.InvalidData, "Operation[0].extra" },
        { "@{ op = 'frob' }", "ChangeInvalid", ErrorCategory.InvalidData, "Operation[0].op" },
        { "@{ resource = 'r' }", "ChangeInvalid", ErrorCategory.InvalidData, "Operation[0]" },
        { "@{ op = 'grant'; resource = 'r'; principal = 'p' }", "ChangeInvalid", ErrorCategory.InvalidData, "Operation[0]" },
        { "@{ op = 'grant'; resource = 'r'; principal = 'p'; role = 5 }", "ChangeInvalid", ErrorCategory.InvalidData, "Operation[0].role" },
        { "@{ op = 'grant'; resource = 'r'; principal = 'p'; role = 'read' }, @{ op = 'addMember'; group = 'g'; member = 'everyone' }", "ChangeInvalid", ErrorCategory.InvalidData, "Operation[1].member" },
        { "@{ op = 'setVisibility'; group = 'g'; visibility = 'HiddenMembership' }", "ChangeInvalid", ErrorCategory.InvalidData, "Operation[0].visibility" },
        { "'grant r p'", "ChangeInvalid", ErrorCategory.InvalidArgument, "grant r p" },
    };

    [Theory]
    [MemberData(nameof(InvalidOperations))]
    public void AnInvalidOperationIsChangeInvalidNamingIt(string operations, string errorId, ErrorCategory category, string target)
    {
        var result = Ps.Run("New-AccessChange -Operation " + operations);

        Assert.Empty(result.Output);
        var error = SingleError(result, errorId, Cmd, category);
        Assert.Equal(target, error.TargetObject);
        Assert.Contains("Operation[", error.Exception.Message);
    }

    [Fact]
    public void ALinkCannotGiveOwner()
    {
        var result = Ps.Run("New-AccessChange -CreateLink Anonymous -ResourceId r -Role owner");

        var error = SingleError(result, "ChangeInvalid", Cmd, ErrorCategory.InvalidData);
        Assert.Contains("owner", error.Exception.Message);
    }

    [Theory]
    [InlineData("-SetVisibility HiddenMembership -GroupId g", "SetVisibility")]
    [InlineData("-CreateLink Everyone -ResourceId r", "CreateLink")]
    [InlineData("-Grant -ResourceId r -PrincipalId p -SuggestedByType robot", "SuggestedByType")]
    [InlineData("-Grant -ResourceId '' -PrincipalId p", "ResourceId")]
    [InlineData("-Grant -ResourceId r -PrincipalId p -RequestedBy ''", "RequestedBy")]
    [InlineData("-Grant -ResourceId r -PrincipalId p -Role ''", "Role")]
    [InlineData("-Operation @()", "Operation")]
    public void BindingRejectsBadValues(string arguments, string parameter)
    {
        var result = Ps.Run("New-AccessChange " + arguments);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("ParameterArgumentValidationError", error.FullyQualifiedErrorId);
        Assert.Contains(parameter, error.Exception.Message);
        Assert.Empty(result.Output);
    }

    [Theory]
    [InlineData("-Grant -Revoke -ResourceId r -PrincipalId p", "AmbiguousParameterSet")]
    [InlineData("-Grant -GroupId g -ResourceId r -PrincipalId p", "AmbiguousParameterSet")]
    [InlineData("-AddMember -GroupId g -MemberId m -ResourceId r", "AmbiguousParameterSet")]
    [InlineData("-Grant -ResourceId r", "MissingMandatoryParameter")]
    [InlineData("-AddMember -GroupId g", "MissingMandatoryParameter")]
    public void ParameterSetsDoNotMix(string arguments, string errorId)
    {
        var result = Ps.Run("New-AccessChange " + arguments);

        AssertError(Assert.Single(result.Errors), errorId, Cmd, ErrorCategory.InvalidArgument);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void IdsAreNotCheckedAgainstADirectoryUntilThePreview()
    {
        var result = Ps.Run(@"
            $c = New-AccessChange -Grant -ResourceId site-nowhere -PrincipalId nobody
            $c.Operations[0].Resource
            $c | Test-ExposureRisk -Snapshot (Import-AccessSnapshot -LiteralPath $args[0])", TinyPath);

        Assert.Equal("site-nowhere", result.Output[0].BaseObject);
        SingleError(result, "UnknownResource", "TestExposureRiskCommand", ErrorCategory.ObjectNotFound);
    }

    [Fact]
    public void AnOperationObjectMadeInCSharpCanBePassed()
    {
        var result = Ps.RunClean("New-AccessChange -Operation $op", new Hashtable { ["op"] = AccessOperation.CreateLink("r", LinkScope.Anonymous, "read") });

        Assert.Equal("create anonymous read link to r", Assert.Single(result.Single<AccessChange>().Operations).ToString());
    }
}
