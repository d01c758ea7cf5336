namespace AgentGovernance.Tests.Support;

/// <summary>
/// Tests that move the module's one clock (GovernanceClock) run alone: the clock is process-wide, and
/// no other test may see it moved.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClockCollection
{
    public const string Name = "Moves the clock or injects faults";
}

/// <summary>Moves the clock for the life of a test, and puts it back.</summary>
public sealed class TestClock : IDisposable
{
    private DateTimeOffset _now;

    public TestClock(DateTimeOffset start)
    {
        _now = start;
        GovernanceClock.Set(() => _now);
    }

    public DateTimeOffset Now => _now;

    public void Advance(TimeSpan by) => _now += by;

    public void Dispose() => GovernanceClock.Set(null);
}
