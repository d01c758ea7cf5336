using System;
using System.Globalization;
using System.Text;

namespace AgentGovernance.Json;

/// <summary>
/// String and number spelling shared by every JSON writer in the module, so that pretty documents and
/// the RFC 8785 canonical form agree on escaping.
/// </summary>
internal static class JsonText
{
    private const string Hex = "0123456789abcdef";

    /// <summary>Appends <paramref name="value"/> as a JSON string literal, escaped as RFC 8785 §3.2.2.2 prescribes.</summary>
    public static void AppendString(StringBuilder sb, string value)
    {
        sb.Append('"');
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c >= 0x20 && c != '"' && c != '\\')
            {
                continue;
            }

            sb.Append(value, start, i - start);
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    sb.Append("\\u00").Append(Hex[c >> 4]).Append(Hex[c & 0xF]);
                    break;
            }

            start = i + 1;
        }

        sb.Append(value, start, value.Length - start);
        sb.Append('"');
    }

    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        AppendString(sb, value);
        return sb.ToString();
    }

    /// <summary>
    /// Formats a double the way ECMAScript's Number.prototype.toString does (RFC 8785 §3.2.2.3):
    /// shortest round-trip digits, plain notation for 1e-7 &lt;= |x| &lt; 1e21, else d.ddde±x.
    /// </summary>
    public static string FormatNumber(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new ArgumentException("NaN and Infinity have no JSON form.", nameof(value));
        }

        if (value == 0)
        {
            return "0"; // also -0
        }

        var r = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = r[0] == '-';
        if (negative)
        {
            r = r.Substring(1);
        }

        // Split "d.dddE+xx" / "ddd.ddd" into significant digits and a decimal exponent n, value = 0.digits * 10^n.
        var exp = 0;
        var e = r.IndexOfAny(new[] { 'E', 'e' });
        if (e >= 0)
        {
            exp = int.Parse(r.Substring(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r.Substring(0, e);
        }

        var dot = r.IndexOf('.');
        var intPart = dot >= 0 ? r.Substring(0, dot) : r;
        var fracPart = dot >= 0 ? r.Substring(dot + 1) : string.Empty;
        var digits = (intPart + fracPart).TrimStart('0');
        var leadingZeros = (intPart + fracPart).Length - digits.Length;
        var n = intPart.Length + exp - leadingZeros;
        digits = digits.TrimEnd('0');
        var k = digits.Length;

        var sb = new StringBuilder();
        if (negative)
        {
            sb.Append('-');
        }

        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            var e1 = n - 1;
            sb.Append(digits[0]);
            if (k > 1)
            {
                sb.Append('.').Append(digits, 1, k - 1);
            }

            sb.Append('e').Append(e1 < 0 ? '-' : '+').Append(Math.Abs(e1).ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }
}
