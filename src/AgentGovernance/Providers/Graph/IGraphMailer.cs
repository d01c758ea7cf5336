using System;

namespace AgentGovernance.Providers.Graph;

/// <summary>
/// What mail notifications need from a Graph connection: where Graph is, and the Authorization header
/// for a request to it (the connection's own sign-in, so the token never leaves the module). Implemented
/// by the live Graph directory; only framework types cross the load-context boundary.
/// </summary>
public interface IGraphMailer
{
    /// <summary>The Graph base URL including the version (https://graph.microsoft.com/v1.0).</summary>
    Uri Endpoint { get; }

    /// <summary>"Bearer ..." for <paramref name="url"/>, which must be on the Graph host; null when the sign-in gives none for it.</summary>
    string? Authorization(Uri url);
}
