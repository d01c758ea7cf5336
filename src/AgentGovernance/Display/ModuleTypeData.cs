using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Xml.Linq;

namespace AgentGovernance.Display;

/// <summary>
/// Adds the members of AgentGovernance.Types.ps1xml (the hidden members the views show by name) when the
/// module is imported, in place of the manifest's TypesToProcess: PowerShell refuses a types file whose
/// members a file at another path already added ("The member Risk is already present"), so importing a
/// second copy of the module in one session (out/, then the installed one) failed. The members are
/// added as type data that replaces what is there (Update-TypeData -Force), as a second import replaces
/// the commands.
/// </summary>
public sealed class ModuleTypeData : IModuleAssemblyInitializer
{
    internal const string FileName = "AgentGovernance.Types.ps1xml";

    public void OnImport()
    {
        // The types file that goes with the code that runs: the one next to the loaded assembly (a second
        // copy's import reuses the assembly the first one loaded).
        var folder = Path.GetDirectoryName(typeof(ModuleTypeData).Assembly.Location) ?? string.Empty;
        var path = Path.Combine(folder, FileName);
        TypeData[] types;
        try
        {
            types = Read(path).ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Xml.XmlException or InvalidDataException)
        {
            throw new InvalidOperationException($"AgentGovernance could not read its type data, {path}: {ex.Message}", ex);
        }

        using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
        ps.AddCommand("Microsoft.PowerShell.Utility\\Update-TypeData").AddParameter("TypeData", types).AddParameter("Force");
        ps.Invoke();
        if (ps.HadErrors)
        {
            var first = ps.Streams.Error.FirstOrDefault();
            throw new InvalidOperationException($"AgentGovernance could not add its type data from {path}: {first?.Exception.Message}");
        }
    }

    /// <summary>The types file's members: alias, script and code properties, hidden as the file says.</summary>
    internal static IEnumerable<TypeData> Read(string path)
    {
        var document = XDocument.Load(path);
        foreach (var type in document.Root!.Elements("Type"))
        {
            var data = new TypeData(Required(type, "Name"));
            foreach (var member in type.Element("Members")?.Elements() ?? Enumerable.Empty<XElement>())
            {
                var name = Required(member, "Name");
                var hidden = string.Equals((string?)member.Attribute("IsHidden"), "true", StringComparison.OrdinalIgnoreCase);
                TypeMemberData item = member.Name.LocalName switch
                {
                    "AliasProperty" => new AliasPropertyData(name, Required(member, "ReferencedMemberName")) { IsHidden = hidden },
                    "ScriptProperty" => new ScriptPropertyData(name, ScriptBlock.Create(Required(member, "GetScriptBlock"))) { IsHidden = hidden },
                    "CodeProperty" => new CodePropertyData(name, CodeGetter(member)) { IsHidden = hidden },
                    _ => throw new InvalidDataException($"{member.Name.LocalName} '{name}' of {data.TypeName} is no member kind the module adds."),
                };
                data.Members.Add(name, item);
            }

            yield return data;
        }
    }

    private static System.Reflection.MethodInfo CodeGetter(XElement member)
    {
        var reference = member.Element("GetCodeReference") ?? throw new InvalidDataException($"CodeProperty '{(string?)member.Element("Name")}' has no GetCodeReference.");
        var typeName = Required(reference, "TypeName");
        var methodName = Required(reference, "MethodName");
        var type = typeof(ModuleTypeData).Assembly.GetType(typeName) ?? throw new InvalidDataException($"CodeProperty '{(string?)member.Element("Name")}': no type {typeName} in the module.");
        return type.GetMethod(methodName) ?? throw new InvalidDataException($"CodeProperty '{(string?)member.Element("Name")}': {typeName} has no method {methodName}.");
    }

    private static string Required(XElement element, string child) =>
        (string?)element.Element(child) ?? throw new InvalidDataException($"<{element.Name.LocalName}> has no <{child}>.");
}
