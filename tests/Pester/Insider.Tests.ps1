# The insider of issue 11: someone who can read and write the store folder (requests, decisions, the
# ledger, its checkpoints, the signers folder) but holds no approver key and no ledger-signer key.
# Each attack is done on the files, as such a person would, and then the pipeline is run as usual.

BeforeAll {
    . $PSScriptRoot/common.ps1

    $script:Passphrase = [System.Net.NetworkCredential]::new('', 'pester passphrase, not a secret').SecurePassword

    function New-PinnedSession {
        # A copy of the demo tenant, three approvers (carol, dana, erin), a store, and this machine's ledger
        # signer pinned in the policy (LedgerSigners), as about_AgentGovernance says to run.
        param([string] $Name = [guid]::NewGuid().ToString('N').Substring(0, 8))
        $folder = Join-Path $TestDrive $Name
        $null = New-Item -ItemType Directory -Path $folder
        $tenant = Join-Path $folder 'tenant.json'
        Copy-Item -LiteralPath $DemoSnapshotPath -Destination $tenant
        $keys = @{}
        $entries = foreach ($who in 'carol', 'dana', 'erin') {
            $keys[$who] = Join-Path $folder "$who.key"
            (New-ApproverKey -Identity "$who@contoso.com" -Path $keys[$who] -Passphrase $script:Passphrase).PolicyEntry
        }
        $signer = Join-Path $folder 'signer.json'
        # The signer key is made on its first write: write once to a scratch store, and read its public key there.
        $scratchPolicy = New-TestFile -Name "$Name-scratch.psd1" -Content "@{ AgentIdentities = 'sp-helper'; Approvers = @( $($entries -join '; ') ) }"
        Connect-AgentGovernance -SnapshotPath $tenant -PolicyPath $scratchPolicy -StorePath (Join-Path $folder 'scratch') -LedgerSignerPath $signer
        $null = New-DataPlatformChange | Request-HumanApproval
        $public = (Get-Content -LiteralPath (Get-ChildItem -LiteralPath (Join-Path $folder 'scratch/signers') -Filter *.pub).FullName -Raw).Trim()
        $policy = New-TestFile -Name "$Name-policy.psd1" -Content "@{ AgentIdentities = 'sp-helper'; Approvers = @( $($entries -join '; ') ); LedgerSigners = '$public' }"
        $store = Join-Path $folder 'store'
        Connect-AgentGovernance -SnapshotPath $tenant -PolicyPath $policy -StorePath $store -LedgerSignerPath $signer
        [pscustomobject]@{
            Folder = $folder; Tenant = $tenant; Keys = $keys; Store = $store; Policy = $policy
            Ledger = Join-Path $store 'ledger.jsonl'; Checkpoints = Join-Path $store 'checkpoints.jsonl'
        }
    }

    function New-DataPlatformChange {
        New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-dataplatform -RequestedBy bob@contoso.com -Title 'Data Platform reads the exports'
    }

    function New-ApprovedThenDenied {
        param($Session)
        $request = New-DataPlatformChange | Request-HumanApproval
        $null = $request | Approve-AccessChange -KeyPath $Session.Keys.carol -Passphrase $script:Passphrase -Force
        $null = $request | Approve-AccessChange -KeyPath $Session.Keys.dana -Passphrase $script:Passphrase -Force
        $null = $request | Deny-AccessChange -KeyPath $Session.Keys.erin -Passphrase $script:Passphrase -Force -Comment 'not the exports'
        (Get-ApprovalRequest -RequestId $request.RequestId).Status | Should -Be 'Denied'
        $request
    }

    function Get-Sha256Id([string] $Text) {
        $digest = [System.Security.Cryptography.SHA256]::Create().ComputeHash([System.Text.Encoding]::UTF8.GetBytes($Text))
        'sha256:' + -join ($digest | ForEach-Object { $_.ToString('x2') })
    }

    function Get-Genesis([string] $Store) {
        # The first entry's prev: SHA-256 of "agentgovernance/ledger@1\n" and the store's id (store.json).
        $id = (Get-Content -LiteralPath (Join-Path $Store 'store.json') -Raw | ConvertFrom-Json).id
        Get-Sha256Id ("agentgovernance/ledger@1`n" + $id)
    }

    function Write-RewrittenLedger {
        # Writes these ledger lines again as plain, unsigned lines, renumbered, re-chained and re-hashed
        # (SHA-256 over the line without its hash: no key needed).
        param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $Store, [Parameter(Mandatory)] [string[]] $Lines)
        $previous = Get-Genesis $Store
        $seq = 0
        $out = foreach ($line in $Lines) {
            $seq++
            $l = $line -replace ',"sig":"[A-Za-z0-9+/=]*"', '' -replace ',"signer":"[^"]*"', ''
            $l = $l -replace '"prev":"sha256:[0-9a-f]{64}"', ('"prev":"' + $previous + '"') -replace '"seq":\d+', ('"seq":' + $seq)
            $hash = Get-Sha256Id ($l -replace ',"hash":"sha256:[0-9a-f]{64}"', '')
            $previous = $hash
            $l -replace '"hash":"sha256:[0-9a-f]{64}"', ('"hash":"' + $hash + '"')
        }
        [System.IO.File]::WriteAllLines($Path, [string[]] @($out))
    }

    function Add-ForgedEntry {
        # Appends an entry made up by hand, chained onto the last line and hashed as the codec does, unsigned.
        param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $Event, [Parameter(Mandatory)] [string] $RequestId, [string] $Details = '{"summary":"forged"}')
        $last = [System.IO.File]::ReadAllLines($Path)[-1] | ConvertFrom-Json
        $time = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [cultureinfo]::InvariantCulture)
        $head = '{"actor":"runbook@contoso.com","details":' + $Details + ',"event":"' + $Event + '"'
        $tail = ',"prev":"' + $last.hash + '","requestId":"' + $RequestId + '","seq":' + ($last.seq + 1) + ',"time":"' + $time + '"}'
        $hash = Get-Sha256Id ($head + $tail)
        [System.IO.File]::AppendAllText($Path, $head + ',"hash":"' + $hash + '"' + $tail + "`n")
    }

    function Remove-DecisionOf {
        # Deletes the decision file a ledger entry of this event records.
        param($Session, [string] $RequestId, [string] $Event)
        $entry = Get-GovernanceAuditLog -RequestId $RequestId -Event $Event | Select-Object -Last 1
        Remove-Item -LiteralPath (Join-Path $Session.Store "decisions/$RequestId/$($entry.Details.decisionId).json")
    }
}

Describe 'The insider: a store writer without approver or ledger-signer keys' {
    It 'cannot make a denied change apply by rewriting the ledger without the denial and deleting its checkpoints and decision' {
        $session = New-PinnedSession
        $request = New-ApprovedThenDenied -Session $session
        Remove-DecisionOf -Session $session -RequestId $request.RequestId -Event Denied
        $kept = [System.IO.File]::ReadAllLines($session.Ledger) | Where-Object { $_ -notmatch '"event":"Denied"' }
        Write-RewrittenLedger -Path $session.Ledger -Store $session.Store -Lines $kept
        Remove-Item -LiteralPath $session.Checkpoints
        $before = Get-FileHash -LiteralPath $session.Tenant

        $result = $request | Invoke-ApprovedChange -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $result | Should -BeNullOrEmpty
        $problems | Get-ErrorId | Should -Be 'LedgerTampered'
        $problems[0].CategoryInfo.Category | Should -Be 'SecurityError'
        (Get-FileHash -LiteralPath $session.Tenant).Hash | Should -Be $before.Hash
        $verdict = Test-GovernanceAuditLog -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $verdict.IsValid | Should -BeFalse
        $verdict.Problems.Code | Should -Contain 'EntryUnsigned'
    }

    It 'cannot lift a recorded denial by deleting its decision file: that is tampering, not absence' {
        $session = New-PinnedSession
        $request = New-ApprovedThenDenied -Session $session
        Remove-DecisionOf -Session $session -RequestId $request.RequestId -Event Denied

        $shown = Get-ApprovalRequest -RequestId $request.RequestId -WarningVariable warnings -WarningAction SilentlyContinue
        $result = $request | Invoke-ApprovedChange -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $shown.Status | Should -Be 'Invalid'
        ($warnings -join "`n") | Should -Match 'DecisionMissing'
        $result | Should -BeNullOrEmpty
        $problems | Get-ErrorId | Should -Be 'RequestTampered'
        Test-GovernanceAuditLog -Quiet -WarningAction SilentlyContinue | Should -BeTrue
    }

    It 'cannot make a used approval applicable again with a forged ApplyStarted and ApplyRolledBack' {
        $session = New-PinnedSession
        $request = New-DataPlatformChange | Request-HumanApproval
        $null = $request | Approve-AccessChange -KeyPath $session.Keys.carol -Passphrase $script:Passphrase -Force
        $null = $request | Approve-AccessChange -KeyPath $session.Keys.dana -Passphrase $script:Passphrase -Force
        $null = $request | Invoke-ApprovedChange -Force
        Add-ForgedEntry -Path $session.Ledger -Event ApplyStarted -RequestId $request.RequestId -Details '{"operations":[],"summary":"apply"}'
        Add-ForgedEntry -Path $session.Ledger -Event ApplyRolledBack -RequestId $request.RequestId

        $shown = Get-ApprovalRequest -RequestId $request.RequestId -WarningAction SilentlyContinue
        $again = $request | Invoke-ApprovedChange -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        # Readers keep working, read-only, and say what they found.
        $shown.Status | Should -Be 'Invalid'
        $again | Should -BeNullOrEmpty
        $problems | Get-ErrorId | Should -Be 'LedgerTampered'
        $problems[0].Exception.Message | Should -Match 'EntryUnsigned'
    }

    It 'cannot have a forged tail sealed by the next legitimate append' {
        $session = New-PinnedSession
        $request = New-DataPlatformChange | Request-HumanApproval
        Add-ForgedEntry -Path $session.Ledger -Event Expired -RequestId $request.RequestId
        $ledger = Get-FileHash -LiteralPath $session.Ledger
        $checkpoints = Get-FileHash -LiteralPath $session.Checkpoints

        $null = $request | Approve-AccessChange -KeyPath $session.Keys.carol -Passphrase $script:Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'LedgerTampered'
        (Get-FileHash -LiteralPath $session.Ledger).Hash | Should -Be $ledger.Hash
        (Get-FileHash -LiteralPath $session.Checkpoints).Hash | Should -Be $checkpoints.Hash
    }
}

Describe 'A rollback of the whole store, and anchors kept outside it' {
    It 'reports a store put back from an older copy as LedgerRolledBack against an anchor, which the store alone cannot show' {
        $session = New-PinnedSession
        $request = New-DataPlatformChange | Request-HumanApproval
        $null = $request | Approve-AccessChange -KeyPath $session.Keys.carol -Passphrase $script:Passphrase -Force
        $copy = Join-Path $session.Folder 'store-copy'
        Copy-Item -LiteralPath $session.Store -Destination $copy -Recurse
        $null = $request | Approve-AccessChange -KeyPath $session.Keys.dana -Passphrase $script:Passphrase -Force
        $anchor = Join-Path $session.Folder 'anchor.jsonl'
        Export-GovernanceAuditLog -Path $anchor -Format Anchor
        $policy = $session.Policy

        # The insider puts the older copy back, ledger, checkpoints and decisions alike.
        Remove-Item -LiteralPath $session.Store -Recurse -Force
        Copy-Item -LiteralPath $copy -Destination $session.Store -Recurse
        # Looked at from a machine that never signed for the store (no witness of the later entries):
        Connect-AgentGovernance -PolicyPath $policy -StorePath $session.Store -LedgerSignerPath (Join-Path $session.Folder 'elsewhere/signer.json')
        $inside = Test-GovernanceAuditLog -WarningAction SilentlyContinue
        $anchored = Test-GovernanceAuditLog -Anchor $anchor -ErrorVariable problems -ErrorAction SilentlyContinue -WarningAction SilentlyContinue

        $inside.IsValid | Should -BeTrue
        $anchored.IsValid | Should -BeFalse
        $anchored.Problem | Should -Be 'LedgerRolledBack'
        $anchored.AnchorsChecked | Should -Be 1
        $problems | Get-ErrorId | Should -Be 'LedgerInvalid'
        (Get-Content -LiteralPath $anchor -Raw | ConvertFrom-Json).schema | Should -Be 'agentgovernance/checkpoint@1'
    }
}

Describe 'A ledger line that is not an entry' {
    It 'is tampering with its position; readers keep working read-only; emergency revocation stays possible in a new store' {
        $session = New-PinnedSession
        $request = New-DataPlatformChange | Request-HumanApproval
        $null = $request | Approve-AccessChange -KeyPath $session.Keys.carol -Passphrase $script:Passphrase -Force
        $null = $request | Approve-AccessChange -KeyPath $session.Keys.dana -Passphrase $script:Passphrase -Force
        $null = $request | Invoke-ApprovedChange -Force
        (Get-EffectiveAccess -ResourceId site-userdata -PrincipalId bob@contoso.com).Role | Should -Be 'Read'
        # Line 3 gets a byte that is not UTF-8 inside a string.
        $bytes = [System.IO.File]::ReadAllBytes($session.Ledger)
        $starts = @(0) + @(for ($i = 0; $i -lt $bytes.Length - 1; $i++) { if ($bytes[$i] -eq 10) { $i + 1 } })
        $at = [System.Text.Encoding]::ASCII.GetString($bytes, $starts[2], $starts[3] - $starts[2]).IndexOf('"actor":"') + 10
        $bytes[$starts[2] + $at] = 0xFF
        [System.IO.File]::WriteAllBytes($session.Ledger, $bytes)

        $verdict = Test-GovernanceAuditLog -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $shown = Get-ApprovalRequest -WarningAction SilentlyContinue
        $log = Get-GovernanceAuditLog -WarningVariable logWarnings -WarningAction SilentlyContinue
        $revoke = New-AccessChange -Revoke -ResourceId site-userdata -PrincipalId g-dataplatform -Role read -Title 'Cut Data Platform off'
        $refused = $revoke | Invoke-ApprovedChange -EmergencyRevocation -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $verdict.Problem | Should -Be 'EntryUnreadable'
        $verdict.FirstBadSequence | Should -Be 3
        $verdict.Message | Should -Match 'Line 3'
        $shown.RequestId | Should -Contain $request.RequestId
        ($shown | Where-Object RequestId -eq $request.RequestId).Status | Should -Be 'Invalid'
        $log.Count | Should -BeGreaterThan 3
        ($logWarnings -join "`n") | Should -Match 'Line 3 of the ledger'
        $refused | Should -BeNullOrEmpty
        $problems | Get-ErrorId | Should -Be 'LedgerTampered'

        # The documented recovery: keep the damaged store, connect a new one, revoke there.
        $policy = $session.Policy
        Connect-AgentGovernance -SnapshotPath $session.Tenant -PolicyPath $policy -StorePath (Join-Path $session.Folder 'recovery-store') -LedgerSignerPath (Join-Path $session.Folder 'signer.json')
        $result = $revoke | Invoke-ApprovedChange -EmergencyRevocation -Force

        $result.Outcome | Should -Be 'Applied'
        (Get-EffectiveAccess -ResourceId site-userdata -PrincipalId bob@contoso.com) | Should -BeNullOrEmpty
        (Get-GovernanceAuditLog -Event EmergencyRevocation).Count | Should -Be 1
        Test-GovernanceAuditLog -Quiet -WarningAction SilentlyContinue | Should -BeTrue
    }
}
