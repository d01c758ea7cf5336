# The approval state most approval, apply and audit examples take for granted, dot-sourced by their
# setups: a copy of the demo tenant as the directory (applying writes to it), a policy that names the
# approvers carol, dana and bob (their keys are in the working folder) and the agent sp-helper, the
# session connected to a store in ./store, $pass, and $change: the change that was really needed in
# the incident (Data Platform reads the exports for two hours), requested by bob.
Copy-Item -LiteralPath ./examples/contoso.snapshot.json -Destination ./tenant.json
$pass = Read-Host -AsSecureString -Prompt 'Passphrase'
function Write-ExamplePolicy([switch] $BreakGlass) {
    $entries = Get-Content -LiteralPath ./approvers.txt
    if ($BreakGlass) { $entries = $entries | ForEach-Object { $_ -replace '\}\s*$', '; BreakGlass = $true }' } }
    Set-Content -LiteralPath ./policy.psd1 -Value "@{`n    AgentIdentities = @('sp-helper')`n    Approvers = @(`n        $($entries -join "`n        ")`n    )`n}"
}
Write-ExamplePolicy
Connect-AgentGovernance -SnapshotPath ./tenant.json -PolicyPath ./policy.psd1 -StorePath ./store -LedgerSignerPath ./keys/ledger-signer.json
$change = New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-dataplatform -Role read -Duration PT2H `
    -Title 'Data Platform reads the pipeline exports for two hours' -Justification 'Forum thread 4411' -RequestedBy bob@contoso.com

function New-ExampleRequest([object] $Change = $change) { $Change | Request-HumanApproval }
function Approve-Example([object] $Request, [string[]] $By = @('carol', 'dana')) {
    foreach ($who in $By) { $null = $Request | Approve-AccessChange -KeyPath "./$who.key" -Passphrase $pass -Force }
    Get-ApprovalRequest -RequestId $Request.RequestId
}
