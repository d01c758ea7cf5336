using System;
using System.IO;
using System.Text;

namespace AgentGovernance.Approval;

/// <summary>
/// UTS #39 skeletons: two strings are confusable when their skeletons are equal ("cаrol" with a
/// Cyrillic а, "caroI" with a capital I, "rn" for "m"). The mapping is the Unicode confusables data
/// (confusables.txt, Unicode security data 10.0.0) as ICU 60.1 compiles it (confusables.cfu, ICU spoof
/// data format 2), taken at build time from the ICU4N.Resources package and embedded in this assembly;
/// nothing here is a hand-made table. skeleton(X) = NFD(concatenated prototypes of NFD(X)); the newer
/// step that first drops default-ignorable code points is done by <see cref="IdentityText"/>, which
/// refuses identities holding any.
/// </summary>
internal static class Confusables
{
    private const string ResourceName = "AgentGovernance.confusables.cfu";
    private static readonly Lazy<Table> Data = new(Load);

    /// <summary>The confusables data version, as the embedded data names it.</summary>
    public static string DataVersion => "Unicode security data 10.0.0 (ICU 60.1 confusables.cfu)";

    /// <summary>Number of code points the data maps (a few thousand; zero would mean the data is missing).</summary>
    public static int Count => Data.Value.Keys.Length;

    public static string Skeleton(string text)
    {
        var table = Data.Value;
        var nfd = text.Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(nfd.Length);
        for (var i = 0; i < nfd.Length; i++)
        {
            int cp = nfd[i];
            if (char.IsHighSurrogate(nfd[i]) && i + 1 < nfd.Length && char.IsLowSurrogate(nfd[i + 1]))
            {
                cp = char.ConvertToUtf32(nfd[i], nfd[i + 1]);
                i++;
            }

            table.Append(cp, sb);
        }

        return sb.ToString().Normalize(NormalizationForm.FormD);
    }

    private static Table Load()
    {
        using var stream = typeof(Confusables).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The module was built without its confusables data ({ResourceName}).");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return new Table(copy.ToArray());
    }

    /// <summary>The spoof data's confusable table: sorted keys (code point, prototype length) and their prototypes.</summary>
    private sealed class Table
    {
        private readonly ushort[] _values;
        private readonly char[] _strings;

        public Table(byte[] d)
        {
            // ICU data header: its size first; then UDataInfo says big-endian, "Cfu ", format 2.
            var header = (d[0] << 8) | d[1];
            if (d[2] != 0xDA || d[3] != 0x27 || d[8] != 1 || Encoding.ASCII.GetString(d, 12, 4) != "Cfu " || d[16] != 2)
            {
                throw new InvalidDataException("The embedded confusables data is not ICU spoof data format 2.");
            }

            int Int(int at) => (d[header + at] << 24) | (d[header + at + 1] << 16) | (d[header + at + 2] << 8) | d[header + at + 3];
            ushort UShort(int at) => (ushort)((d[header + at] << 8) | d[header + at + 1]);
            if (unchecked((uint)Int(0)) != 0x3845FDEF)
            {
                throw new InvalidDataException("The embedded confusables data has no spoof data magic.");
            }

            int keysAt = Int(12), keyCount = Int(16), indexAt = Int(20), indexCount = Int(24), stringsAt = Int(28), stringLength = Int(32);
            if (keyCount != indexCount || keyCount <= 0)
            {
                throw new InvalidDataException("The embedded confusables data's tables do not agree.");
            }

            Keys = new int[keyCount];
            _values = new ushort[keyCount];
            for (var i = 0; i < keyCount; i++)
            {
                Keys[i] = Int(keysAt + 4 * i);
                _values[i] = UShort(indexAt + 2 * i);
            }

            _strings = new char[stringLength];
            for (var i = 0; i < stringLength; i++)
            {
                _strings[i] = (char)UShort(stringsAt + 2 * i);
            }
        }

        /// <summary>Low 24 bits the code point, high 8 bits the prototype's length in UTF-16 units, less one.</summary>
        public int[] Keys { get; }

        public void Append(int cp, StringBuilder into)
        {
            int lo = 0, hi = Keys.Length - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >> 1;
                var at = Keys[mid] & 0x00FFFFFF;
                if (at < cp)
                {
                    lo = mid + 1;
                }
                else if (at > cp)
                {
                    hi = mid - 1;
                }
                else
                {
                    var length = (int)((uint)Keys[mid] >> 24) + 1;
                    if (length == 1)
                    {
                        into.Append((char)_values[mid]);
                    }
                    else
                    {
                        into.Append(_strings, _values[mid], length);
                    }

                    return;
                }
            }

            if (cp > 0xFFFF)
            {
                into.Append(char.ConvertFromUtf32(cp));
            }
            else
            {
                into.Append((char)cp);
            }
        }
    }
}
