# While the runbook waits, Carol and Dana decide: a thread of their own, connected to the same store.
$approvers = Start-ThreadJob -ArgumentList (Get-Location).Path, (Get-Module AgentGovernance).Path, 'demo passphrase, not a secret' -ScriptBlock {
    param($Work, $Module, $Passphrase)
    Set-Location $Work
    Import-Module $Module
    Connect-AgentGovernance -SnapshotPath ./tenant.json -PolicyPath ./policy.psd1 -StorePath ./store -LedgerSignerPath ./keys/ledger-signer.json
    $pass = [System.Net.NetworkCredential]::new('', $Passphrase).SecurePassword
    $deadline = [DateTime]::UtcNow.AddMinutes(2)
    while ([DateTime]::UtcNow -lt $deadline) {
        $pending = @(Get-ApprovalRequest -Status Pending)
        if ($pending) {
            foreach ($who in 'carol', 'dana') { $null = $pending[0] | Approve-AccessChange -KeyPath "./$who.key" -Passphrase $pass -Force }
            return
        }
        Start-Sleep -Milliseconds 200
    }
}
