namespace TenantGen;

/// <summary>
/// SplitMix64: a tiny, fast, seeded generator whose output depends only on the seed, never on the
/// runtime, OS or time. Only integer arithmetic and exact IEEE operations (+, *, /) are used on top of
/// it, so every platform draws the same sequence (no Math.Log/Math.Pow, whose last bits may differ
/// between C runtimes).
/// </summary>
internal sealed class Prng
{
    private ulong _state;

    public Prng(ulong seed) => _state = seed;

    /// <summary>An independent stream for (seed, stream): used so that each part of a tenant draws
    /// from its own sequence and changing one part does not reshuffle the others.</summary>
    public static Prng Derive(ulong seed, ulong stream) => new(Mix(seed ^ Mix(stream + 0x632BE59BD9B4E019UL)));

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong Next()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, n) (Lemire's multiply-high; the bias for n &lt; 2^32 is negligible).</summary>
    public int NextInt(int n)
    {
        if (n <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(n));
        }

        return (int)Math.BigMul(Next(), (ulong)n, out _);
    }

    /// <summary>Uniform in [lo, hi] inclusive.</summary>
    public int Range(int lo, int hi) => lo + NextInt(hi - lo + 1);

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / 9007199254740992.0);

    public bool Chance(double p) => NextDouble() < p;

    public T Pick<T>(IReadOnlyList<T> items) => items[NextInt(items.Count)];

    public void Shuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    public void Shuffle(Span<int> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
