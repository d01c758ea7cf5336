using System;
using System.Threading;
using System.Threading.Tasks;

namespace AgentGovernance.Providers;

/// <summary>
/// A sign-in that gives Microsoft Entra access tokens for any resource it may reach: the Graph part's
/// credential, lent to the table part (Connect-AgentGovernance -StoreGraphSignIn). Each part has its own
/// Azure.Core in its own load context, so only this assembly's and the framework's types cross between them.
/// Failures are GovernanceException "SignInFailed".
/// </summary>
public interface IEntraTokenSource
{
    /// <summary>A token for the scopes (https://storage.azure.com/.default) and when it expires.</summary>
    EntraToken GetToken(string[] scopes, CancellationToken cancel);

    /// <inheritdoc cref="GetToken"/>
    Task<EntraToken> GetTokenAsync(string[] scopes, CancellationToken cancel);
}

/// <summary>An access token and when it expires.</summary>
public sealed class EntraToken
{
    public EntraToken(string token, DateTimeOffset expiresOn)
    {
        Token = token ?? throw new ArgumentNullException(nameof(token));
        ExpiresOn = expiresOn;
    }

    public string Token { get; }

    public DateTimeOffset ExpiresOn { get; }

    /// <summary>Never the token.</summary>
    public override string ToString() => $"access token until {ExpiresOn:u}";
}
