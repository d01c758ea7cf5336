# A Teams Workflows webhook for the notification examples: a loopback HTTP server on 127.0.0.1 (a thread
# job with an HttpListener that answers 202 Accepted, as Workflows does, for 30 seconds: the runspace waits for it when it ends), its URL in
# ./teams-webhook.url readable by its owner only, and the approval policy with a Notifications section
# that names that file. Dot-sourced after approval.ps1.
$probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
$probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
$webhook = Start-ThreadJob -ArgumentList $port -ScriptBlock {
    param($Port)
    $listener = [System.Net.HttpListener]::new()
    $listener.Prefixes.Add("http://127.0.0.1:$Port/")
    $listener.Start()
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    try {
        while ([DateTime]::UtcNow -lt $deadline) {
            $next = $listener.GetContextAsync()
            if (-not $next.Wait(500)) { continue }
            $context = $next.Result
            $context.Response.StatusCode = 202
            $context.Response.Close()
        }
    }
    finally { $listener.Stop() }
}
for ($i = 0; $i -lt 100; $i++) {
    $client = [System.Net.Sockets.TcpClient]::new()
    try { $client.Connect('127.0.0.1', $port); break } catch { Start-Sleep -Milliseconds 100 } finally { $client.Dispose() }
}
Set-Content -LiteralPath ./teams-webhook.url -Value "http://127.0.0.1:$port/workflows/demo/triggers/manual/paths/invoke?api-version=1&sig=demo-signature"
if (-not $IsWindows) { [System.IO.File]::SetUnixFileMode((Resolve-Path ./teams-webhook.url).Path, [System.IO.UnixFileMode]'UserRead, UserWrite') }
$policyText = (Get-Content -LiteralPath ./policy.psd1 -Raw).TrimEnd().TrimEnd('}')
Set-Content -LiteralPath ./policy.psd1 -Value ($policyText + "    Notifications = @{ Teams = @{ WebhookUrlFile = './teams-webhook.url' }; ReminderBefore = 'PT1H' }`n}")
Connect-AgentGovernance -SnapshotPath ./tenant.json -PolicyPath ./policy.psd1 -StorePath ./store -LedgerSignerPath ./keys/ledger-signer.json
