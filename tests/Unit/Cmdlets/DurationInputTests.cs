using System.Management.Automation;
using AgentGovernance.Commands;

namespace AgentGovernance.Tests.Cmdlets;

/// <summary>One duration input: -Duration and the TimeSpan parameters (-ExpiresIn, -Timeout, -PollInterval) read the same forms.</summary>
public sealed class DurationInputTests
{
    public static TheoryData<object, double> Accepted => new()
    {
        { TimeSpan.FromHours(8), 8 * 60 },
        { "PT8H", 8 * 60 },
        { "P2W", 14 * 24 * 60 },
        { "P1DT12H", 36 * 60 },
        { "08:00:00", 8 * 60 },
        { "1.12:00", 36 * 60 },
        { new PSObject("PT30M"), 30 },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void EveryDurationParameterReadsTheSameForms(object input, double minutes)
    {
        var bound = (TimeSpan)new DurationTransformationAttribute().Transform(null!, input);
        var duration = GovernanceCmdlet.DurationText(input);

        Assert.Equal(TimeSpan.FromMinutes(minutes), bound);
        Assert.True(Changes.IsoDuration.TryParse(duration!, out var kept, out _));
        Assert.Equal(bound, kept);
    }

    [Theory]
    [InlineData(5)]
    [InlineData("5")]
    [InlineData("2 hours")]
    [InlineData("P1M")]
    [InlineData("banana")]
    public void EveryDurationParameterRefusesTheSameForms(object input)
    {
        Assert.Throws<ArgumentTransformationMetadataException>(() => new DurationTransformationAttribute().Transform(null!, input));
        var e = Assert.Throws<GovernanceException>(() => GovernanceCmdlet.DurationText(input));
        Assert.Equal("ChangeInvalid", e.ErrorId);
    }

    [Fact]
    public void AnIsoDurationIsKeptAsWrittenAndAnyOtherFormBecomesIso()
    {
        Assert.Equal("P2W", GovernanceCmdlet.DurationText("P2W"));
        Assert.Equal("PT8H", GovernanceCmdlet.DurationText("08:00:00"));
    }
}
