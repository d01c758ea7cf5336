<#
.SYNOPSIS
    The incident on the demo tenant, start to finish: preview, approval, apply, audit, expiry.
.DESCRIPTION
    An AI agent answered forum thread 4411 on its own: "grant All Engineering read on User Data Exports".
    This script walks what AgentGovernance does with that suggestion, as an administrator types it:

      1. the approvers make their keys, and the policy lists them;
      2. the preview shows the suggestion is Critical (96% of the company would read personal data);
      3. it goes for approval anyway; the requester cannot approve it, and an approver denies it;
      4. the change that was really needed (Data Platform only, time-boxed) is requested, approved
         by two people, and applied;
      5. when its time is up, Invoke-AccessExpiry takes the access away again;
      6. the ledger shows every step, and verifies.

    It works on a copy of the demo tenant in -WorkFolder (applying a change writes to the directory),
    uses only the module and PowerShell's engine cmdlets (so it also runs where only the engine is hosted),
    and leaves the folder for you to look at.
    Run it from anywhere: ./examples/quickstart.ps1 (after dotnet build -c Release), or, from an
    installed module: & (Join-Path (Get-Module -ListAvailable AgentGovernance)[0].ModuleBase examples/quickstart.ps1)
.PARAMETER WorkFolder
    Where the copy of the tenant, the keys, the policy and the store go (a new temporary folder by default).
.PARAMETER ModulePath
    The module to import: by default the module this script ships in (examples/ inside an installed
    module), else the one built in out/.
#>
param(
    [string] $WorkFolder = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'agentgovernance-quickstart-' + [guid]::NewGuid().ToString('N').Substring(0, 8)),
    [string] $ModulePath = $(
        $shipped = [System.IO.Path]::Combine($PSScriptRoot, '..', 'AgentGovernance.psd1')
        if ([System.IO.File]::Exists($shipped)) { $shipped } else { [System.IO.Path]::Combine($PSScriptRoot, '..', 'out', 'AgentGovernance', 'AgentGovernance.psd1') })
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$null = [System.IO.Directory]::CreateDirectory($WorkFolder)
# Each display goes through Out-Default, so every object gets its own default view.
# Only PowerShell's engine cmdlets are used (no Write-Host, Join-Path, ...), so this also runs where just the engine is hosted.
function Step([string] $Text) { "`n== $Text" }

# A working copy of the demo tenant: it is the directory the changes are applied to.
$tenant = ([System.IO.Path]::Combine($WorkFolder, 'contoso.snapshot.json'))
[System.IO.File]::Copy([System.IO.Path]::Combine($PSScriptRoot, 'contoso.snapshot.json'), $tenant, $true)

Step '1. The approvers make their keys (in real life each on their own machine), and the policy lists them'
# A demo passphrase; interactively you would type it: -Passphrase (Read-Host -AsSecureString).
$passphrase = [System.Net.NetworkCredential]::new('', 'demo passphrase, not a secret').SecurePassword
$carol = New-ApproverKey -Identity 'carol@contoso.com' -Path ([System.IO.Path]::Combine($WorkFolder, 'carol.key')) -Passphrase $passphrase
$dana = New-ApproverKey -Identity 'dana@contoso.com' -Path ([System.IO.Path]::Combine($WorkFolder, 'dana.key')) -Passphrase $passphrase
$bob = New-ApproverKey -Identity 'bob@contoso.com' -Path ([System.IO.Path]::Combine($WorkFolder, 'bob.key')) -Passphrase $passphrase
$carol | Out-Default
$policy = ([System.IO.Path]::Combine($WorkFolder, 'policy.psd1'))
[System.IO.File]::WriteAllText($policy, @"
@{
    AgentIdentities = @('sp-helper')
    Approvers = @(
        $($carol.PolicyEntry)
        $($dana.PolicyEntry)
        $($bob.PolicyEntry)
    )
}
"@)
Connect-AgentGovernance -SnapshotPath $tenant -PolicyPath $policy -StorePath ([System.IO.Path]::Combine($WorkFolder, 'store')) `
    -LedgerSignerPath ([System.IO.Path]::Combine($WorkFolder, 'keys/ledger-signer.json')) -PassThru | Out-Default

Step '2. What the agent suggested, previewed before anything changes'
$suggestion = Import-AccessChange -Path ([System.IO.Path]::Combine($PSScriptRoot, 'changes/forum-4411.json'))
$report = $suggestion | Test-ExposureRisk
$report | Out-Default
$report.Explain('u-bob', 'site-userdata') | Out-Default

Step '3. It goes for approval: the requester cannot approve it, and Carol (the site owner) denies it'
$request = $report | Request-HumanApproval
$request | Out-Default
$request | Approve-AccessChange -KeyPath ([System.IO.Path]::Combine($WorkFolder, 'bob.key')) -Passphrase $passphrase -Force -ErrorAction SilentlyContinue -ErrorVariable refused
"Bob approving his own request: $($refused[0].FullyQualifiedErrorId)"
$request | Deny-AccessChange -KeyPath ([System.IO.Path]::Combine($WorkFolder, 'carol.key')) -Passphrase $passphrase -Force `
    -Comment 'All Engineering is 96% of the company; only Data Platform needs this, and only for the debugging session.'
Invoke-ApprovedChange -RequestId $request.RequestId -Force -ErrorAction SilentlyContinue -ErrorVariable blocked
"Applying the denied request: $($blocked[0].FullyQualifiedErrorId)"
$Error.Clear()   # the two refusals above were the point; nothing else went wrong

Step '4. The change that was needed: Data Platform, read, time-boxed; approved by two people and applied'
# In real life two hours (PT2H); the demo boxes it to five seconds so that you can watch it expire.
$needed = New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-dataplatform -Role read -Duration PT5S `
    -Title 'Data Platform reads the pipeline exports for the debugging session' -Justification 'Forum thread 4411' `
    -RequestedBy 'bob@contoso.com'
$needed | Test-ExposureRisk | Out-Default
$request2 = $needed | Request-HumanApproval
$null = $request2 | Approve-AccessChange -KeyPath ([System.IO.Path]::Combine($WorkFolder, 'carol.key')) -Passphrase $passphrase -Force -Comment 'Data Platform only, two hours: fine.'
$null = $request2 | Approve-AccessChange -KeyPath ([System.IO.Path]::Combine($WorkFolder, 'dana.key')) -Passphrase $passphrase -Force
Get-ApprovalRequest | Out-Default
$applied = $request2 | Invoke-ApprovedChange -Force
$applied | Out-Default
Get-EffectiveAccess -ResourceId site-userdata -PrincipalId 'bob@contoso.com' | Out-Default

Step '5. When its time is up, Invoke-AccessExpiry (run every few minutes by a scheduler) takes the access away'
Invoke-AccessExpiry | Out-Default     # too early: nothing is due yet
[System.Threading.Thread]::Sleep([TimeSpan]::FromSeconds(6))
$expired = Invoke-AccessExpiry
$expired | Out-Default
if ($expired.RequestId -ne $request2.RequestId) { throw 'The access did not expire.' }
Get-EffectiveAccess -ResourceId site-userdata -PrincipalId 'bob@contoso.com' | Out-Default

Step '6. The ledger: every step, chained and signed; and it verifies'
Get-GovernanceAuditLog | Out-Default
$export = Export-GovernanceAuditLog -Path ([System.IO.Path]::Combine($WorkFolder, 'audit.cef')) -Format Cef -PassThru
"Exported for the SIEM: $($export.FullName)"
$verdict = Test-GovernanceAuditLog -WarningAction SilentlyContinue
$verdict | Out-Default
"Everything is in $WorkFolder"
if (-not $verdict.IsValid) { exit 1 }
