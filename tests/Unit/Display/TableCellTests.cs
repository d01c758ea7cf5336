using System;
using System.Linq;
using AgentGovernance.Display;
using Xunit;

namespace AgentGovernance.Tests.Display;

/// <summary>SafeText.Cell: a value fitted to a table column at word boundaries, never split inside a word.</summary>
public sealed class TableCellTests
{
    private static string[] Lines(object? cell) => ((string)cell!).Split(Environment.NewLine);

    [Fact]
    public void Text_wraps_at_spaces_and_no_line_is_wider_than_the_column()
    {
        var lines = Lines(SafeText.Cell("it splats @h, which is not known before the script runs", 20));
        Assert.Equal(new[] { "it splats @h, which", "is not known before", "the script runs" }, lines);
    }

    [Fact]
    public void A_word_wider_than_the_column_is_cut_short_with_an_ellipsis_on_a_line_of_its_own()
    {
        var lines = Lines(SafeText.Cell("SuggestionUnresolvedValue at line 6", 24));
        Assert.Equal(new[] { "SuggestionUnresolvedVal\u2026", "at line 6" }, lines);
        Assert.All(lines, l => Assert.True(SafeText.Cells(l) <= 24));
    }

    [Fact]
    public void Whole_wraps_at_spaces_but_keeps_a_word_wider_than_the_column()
    {
        var lines = Lines(SafeText.Whole("PublicKey = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE' }", 20));
        Assert.Equal(new[] { "PublicKey =", "'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE'", "}" }, lines);
    }

    [Fact]
    public void List_items_stay_one_per_line_and_each_is_wrapped()
    {
        var lines = Lines(SafeText.Cell(new[] { "grant read on site-userdata to g-eng", "add u-bob to g-x" }, 20));
        Assert.Equal(new[] { "grant read on", "site-userdata to", "g-eng", "add u-bob to g-x" }, lines);
    }

    [Fact]
    public void Control_characters_are_still_shown_as_code_points_and_make_no_line_of_their_own()
    {
        var lines = Lines(SafeText.Cell("title\n  - grant read on x to y", 60));
        Assert.Equal(new[] { "title<U+000A> - grant read on x to y" }, lines);
    }

    [Fact]
    public void Numbers_flags_and_enums_that_fit_stay_values_so_they_keep_their_alignment()
    {
        Assert.Equal(315, SafeText.Cell(315, 11));
        Assert.Equal(true, SafeText.Cell(true, 7));
        Assert.Equal(DayOfWeek.Monday, SafeText.Cell(DayOfWeek.Monday, 9));
        Assert.Equal("Mond\u2026", SafeText.Cell(DayOfWeek.Monday, 5));
        Assert.Null(SafeText.Cell(null, 5));
    }

    [Fact]
    public void Wide_characters_count_two_cells()
    {
        Assert.Equal(4, SafeText.Cells("数据"));
        Assert.Equal(2, SafeText.Cells("\U0001F512"));
        var lines = Lines(SafeText.Cell("数据数据数据 ab", 8));
        Assert.Equal(new[] { "数据数\u2026", "ab" }, lines);
        Assert.All(lines, l => Assert.True(SafeText.Cells(l) <= 8));
        Assert.Equal("a\u2026", SafeText.Cell("a\U0001F512\U0001F512", 3));
    }

    [Fact]
    public void Every_line_of_long_text_fits_for_every_width()
    {
        const string text = "Maximiliana Alexandrovna Konstantinopoulou-Wetherspoon (Contractor, Fabrikam Research Division) 数据 \U0001F512";
        for (var width = 1; width < 60; width++)
        {
            var lines = Lines(SafeText.Cell(text, width));
            Assert.All(lines, l => Assert.True(SafeText.Cells(l) <= width, $"'{l}' is wider than {width}"));
            var words = text.Split(' ');
            Assert.All(lines.SelectMany(l => l.Split(' ')), w => Assert.True(words.Contains(w) || w.EndsWith('\u2026'), $"'{w}' at {width}"));
        }
    }
}
