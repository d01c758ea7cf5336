using System;
using System.Text;

namespace AgentGovernance.Directory;

/// <summary>
/// Interns UTF-8 ids: each new id gets the next ordinal (0, 1, 2, ...), and looking an id up needs
/// no string. A slot is 16 bytes (hash, ordinal, the id's first eight bytes), kept under 70% full,
/// so the table stays small: on a large tenant every reference is a random probe, and the cost of
/// a probe is the cache and TLB misses of the table's size. Ids longer than eight bytes are
/// compared in full only when hash and prefix already match.
/// </summary>
internal sealed class Utf8Map
{
    private struct Slot
    {
        public uint Hash;
        public int Entry;    // (ordinal + 1) | (min(key length, 255) << 24); 0 = empty
        public ulong Prefix; // the key's first eight bytes

        public int Ordinal => (Entry & 0xFFFFFF) - 1;

        public int LengthTag => (int)((uint)Entry >> 24);
    }

    private const int MaxCount = 0xFFFFFE;

    private Slot[] _slots;
    private byte[] _keys;
    private int[] _keyStart;
    private int _keysUsed;

    /// <summary>A map sized for about <paramref name="capacity"/> ids without growing.</summary>
    public Utf8Map(int capacity = 512)
    {
        _slots = new Slot[SlotsFor(Math.Max(capacity, 16))];
        _keyStart = new int[Math.Max(capacity, 16) + 1];
        _keys = new byte[Math.Max(1 << 12, capacity * 12)];
    }

    public int Count { get; private set; }

    /// <summary>Adds an id and returns its ordinal, or -1 when the id is already there.</summary>
    public int Add(ReadOnlySpan<byte> key) => Add(key, Hash(key));

    private int Add(ReadOnlySpan<byte> key, uint h)
    {
        if (Count >= MaxCount)
        {
            throw new GovernanceException("SnapshotTooLarge", GovernanceErrorKind.InvalidData, $"A snapshot can hold at most {MaxCount} principals and {MaxCount} resources.");
        }

        if ((Count + 1) * 10 > _slots.Length * 7)
        {
            Grow();
        }

        var prefix = Prefix(key);
        var i = Probe(key, h, prefix);
        if (_slots[i].Entry != 0)
        {
            return -1;
        }

        if (_keysUsed + key.Length > _keys.Length)
        {
            Array.Resize(ref _keys, Math.Max(_keys.Length * 2, _keysUsed + key.Length));
        }

        if (Count + 2 > _keyStart.Length)
        {
            Array.Resize(ref _keyStart, _keyStart.Length * 2);
        }

        key.CopyTo(new Span<byte>(_keys, _keysUsed, key.Length));
        var ordinal = Count++;
        _keyStart[ordinal] = _keysUsed;
        _keysUsed += key.Length;
        _keyStart[ordinal + 1] = _keysUsed;
        _slots[i] = new Slot { Hash = h, Entry = (ordinal + 1) | (Math.Min(key.Length, 255) << 24), Prefix = prefix };
        return ordinal;
    }

    /// <summary>The ordinal of a string id, or -1.</summary>
    public int Find(string key) => Find(Encoding.UTF8.GetBytes(key));

    /// <summary>The ordinal of an id, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        var i = Probe(key, Hash(key), Prefix(key));
        return _slots[i].Entry == 0 ? -1 : _slots[i].Ordinal;
    }

    /// <summary>The slot holding the key, or the empty slot where it would go (linear probing).</summary>
    private int Probe(ReadOnlySpan<byte> key, uint h, ulong prefix)
    {
        var mask = _slots.Length - 1;
        var i = (int)(h & mask);
        while (_slots[i].Entry != 0 && !Matches(ref _slots[i], key, h, prefix))
        {
            i = (i + 1) & mask;
        }

        return i;
    }

    /// <summary>
    /// Looks up many ids at once: the hashes of all of them are computed first, then the table's slots
    /// for all of them are read in a loop of nothing but independent loads (so the processor has as many
    /// cache and TLB misses in flight as it can), and only then probed, reusing the hashes. A batch of
    /// references costs about one memory round trip rather than one each.
    /// </summary>
    public void FindMany(byte[] data, ReadOnlySpan<int> offsets, ReadOnlySpan<int> lengths, Span<int> results)
    {
        var hashes = Touch(data, offsets, lengths);
        for (var k = 0; k < offsets.Length; k++)
        {
            var key = new ReadOnlySpan<byte>(data, offsets[k], lengths[k]);
            var i = Probe(key, hashes[k], Prefix(key));
            results[k] = _slots[i].Entry == 0 ? -1 : _slots[i].Ordinal;
        }
    }

    /// <summary>
    /// Adds many ids in order, as <see cref="Add"/> would one by one (each result an ordinal, or -1 for
    /// an id already there, also one earlier in the same batch); the slots are read first, as in
    /// <see cref="FindMany"/>, so that the batch pays about one memory round trip.
    /// </summary>
    public void AddMany(byte[] data, ReadOnlySpan<int> offsets, ReadOnlySpan<int> lengths, Span<int> results)
    {
        var hashes = Touch(data, offsets, lengths);
        for (var k = 0; k < offsets.Length; k++)
        {
            results[k] = Add(new ReadOnlySpan<byte>(data, offsets[k], lengths[k]), hashes[k]);
        }
    }

    private uint[] _hashes = new uint[64];

    /// <summary>
    /// Hashes every key (kept for the probes), then reads the home slot of each in a loop of
    /// independent loads, which the processor overlaps.
    /// </summary>
    private uint[] Touch(byte[] data, ReadOnlySpan<int> offsets, ReadOnlySpan<int> lengths)
    {
        var n = offsets.Length;
        if (_hashes.Length < n)
        {
            _hashes = new uint[n];
        }

        var hashes = _hashes;
        for (var k = 0; k < n; k++)
        {
            hashes[k] = Hash(new ReadOnlySpan<byte>(data, offsets[k], lengths[k]));
        }

        var slots = _slots;
        var mask = (uint)(slots.Length - 1);
        var touched = 0;
        for (var k = 0; k < n; k++)
        {
            touched += slots[(int)(hashes[k] & mask)].Entry;
        }

        _sink = touched;
        return hashes;
    }

    private int _sink;

    private bool Matches(ref Slot slot, ReadOnlySpan<byte> key, uint h, ulong prefix)
    {
        if (slot.Hash != h || slot.Prefix != prefix || slot.LengthTag != Math.Min(key.Length, 255))
        {
            return false;
        }

        if (key.Length <= 8)
        {
            return true;
        }

        var e = slot.Ordinal;
        var start = _keyStart[e];
        var length = _keyStart[e + 1] - start;
        return length == key.Length && (length <= 8 || key.Slice(8).SequenceEqual(new ReadOnlySpan<byte>(_keys, start + 8, length - 8)));
    }

    private static int SlotsFor(int count)
    {
        var n = 1024;
        while (n * 7 < count * 10)
        {
            n *= 2;
        }

        return n;
    }

    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[old.Length * 2];
        var mask = _slots.Length - 1;
        foreach (var s in old)
        {
            if (s.Entry == 0)
            {
                continue;
            }

            var i = (int)(s.Hash & mask);
            while (_slots[i].Entry != 0)
            {
                i = (i + 1) & mask;
            }

            _slots[i] = s;
        }
    }

    private static ulong Prefix(ReadOnlySpan<byte> key)
    {
        if (key.Length >= 8)
        {
            return System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(key);
        }

        ulong p = 0;
        for (var i = 0; i < key.Length; i++)
        {
            p |= (ulong)key[i] << (8 * i);
        }

        return p;
    }

    /// <summary>
    /// A random seed per process: a snapshot is untrusted input, and with a fixed hash a file of ids
    /// crafted to collide would make loading quadratic. The seed changes no output (ordinals are
    /// insertion order).
    /// </summary>
    private static readonly ulong Seed = NewSeed();

    private static ulong NewSeed()
    {
        var bytes = new byte[8];
        using (var rng = System.Security.Cryptography.RandomNumberGenerator.Create())
        {
            rng.GetBytes(bytes);
        }

        return BitConverter.ToUInt64(bytes, 0);
    }

    private static uint Hash(ReadOnlySpan<byte> key)
    {
        // Eight bytes at a time, multiplied and rotated, then a 64-bit finalizer (MurmurHash3's fmix64):
        // ids differ in their last few characters, so every input bit must reach the slot bits.
        const ulong k = 0x9E3779B97F4A7C15UL;
        var h = Seed ^ ((ulong)key.Length * k);
        var i = 0;
        for (; i + 8 <= key.Length; i += 8)
        {
            var x = (h ^ System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(key.Slice(i))) * k;
            h = (x << 23) | (x >> 41);
        }

        ulong tail = 0;
        for (var shift = 0; i < key.Length; i++, shift += 8)
        {
            tail |= (ulong)key[i] << shift;
        }

        h ^= tail * k;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return (uint)h;
    }
}
