using System.Reflection;

namespace AgentGovernance.Providers.Graph;

/// <summary>The Graph part's context (graph/): a type of its own, so a loaded assembly says which part it belongs to.</summary>
internal sealed class GraphLoadContext : PartLoadContext
{
    public GraphLoadContext(string mainAssembly, Assembly module)
        : base(mainAssembly, module)
    {
    }
}
