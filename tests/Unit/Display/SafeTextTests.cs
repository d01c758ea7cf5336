using AgentGovernance.Display;
using Xunit;

namespace AgentGovernance.Tests.Display;

public sealed class SafeTextTests
{
    [Theory]
    [InlineData("Read the exports\n  - grant read on x to y", "Read the exports<U+000A>  - grant read on x to y")]
    [InlineData("a\r\nb", "a<U+000D><U+000A>b")]
    [InlineData("ok\u001b[8mhidden\u001b[0m", "ok<U+001B>[8mhidden<U+001B>[0m")]
    [InlineData("Help\u202EreganaM", "Help<U+202E>reganaM")]
    [InlineData("a\u2066b\u2069", "a<U+2066>b<U+2069>")]
    [InlineData("zero\u200Bwidth\uFEFF", "zero<U+200B>width<U+FEFF>")]
    [InlineData("tab\there", "tab<U+0009>here")]
    [InlineData("line\u2028sep", "line<U+2028>sep")]
    [InlineData("nel\u0085", "nel<U+0085>")]
    public void Controls_and_invisible_characters_are_shown_as_code_points(string text, string shown)
    {
        Assert.Equal(shown, SafeText.Show(text));
    }

    [Fact]
    public void A_lone_surrogate_is_shown_as_its_code_point()
    {
        Assert.Equal("lone <U+D800> surrogate", SafeText.Show("lone " + (char)0xD800 + " surrogate"));
    }

    [Theory]
    [InlineData("Let Data Platform read the pipeline exports")]
    [InlineData("Zoë Ångström — 数据 🔒")]
    [InlineData("")]
    public void Visible_text_is_left_as_it_is(string text)
    {
        Assert.Equal(text, SafeText.Show(text));
    }

    [Fact]
    public void A_view_value_keeps_numbers_and_joins_a_list_one_item_per_line()
    {
        Assert.Equal(42, SafeText.View(42));
        Assert.Equal(true, SafeText.View(true));
        Assert.Null(SafeText.View(null));
        Assert.Equal("a<U+000A>b" + System.Environment.NewLine + "c", SafeText.View(new[] { "a\nb", "c" }));
    }
}
