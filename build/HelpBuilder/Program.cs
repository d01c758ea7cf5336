using HelpBuilder;

// HelpBuilder <docs/cmdlets> <out/AgentGovernance/en-US>
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: HelpBuilder <docs folder> <output folder>");
    return 2;
}

try
{
    var docs = Path.GetFullPath(args[0]);
    var output = Path.GetFullPath(args[1]);
    Directory.CreateDirectory(output);
    var files = Directory.GetFiles(docs, "*.md").OrderBy(f => f, StringComparer.Ordinal).ToList();
    var cmdlets = new List<Page>();
    foreach (var file in files)
    {
        var page = Page.Read(file);
        if (Path.GetFileName(file).StartsWith("about_", StringComparison.Ordinal))
        {
            About.Write(page, Path.Combine(output, Path.GetFileNameWithoutExtension(file) + ".help.txt"));
        }
        else
        {
            cmdlets.Add(page);
        }
    }

    Maml.Write(cmdlets, Path.Combine(output, "AgentGovernance.dll-Help.xml"));
    Console.WriteLine($"HelpBuilder: {cmdlets.Count} cmdlets and {files.Count - cmdlets.Count} about topic(s) -> {output}");
    return 0;
}
catch (InvalidDataException e)
{
    // MSBuild shows "error HB0001: ..." as a build error naming the page.
    Console.Error.WriteLine($"error HB0001: {e.Message}");
    return 1;
}
