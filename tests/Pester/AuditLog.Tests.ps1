# The store and the audit ledger: Connect-AgentGovernance -StorePath / -LedgerSignerPath,
# Get-GovernanceAuditLog and Test-GovernanceAuditLog, with the tampering a store writer could try (S7).

BeforeAll {
    . $PSScriptRoot/common.ps1

    function Connect-TestStore {
        # Connects the demo tenant, the approval policy, a store of its own and a ledger signer of its own.
        # Returns the store folder and the signer path.
        param([string] $PolicyPath = $ApprovalPolicyPath, [string] $SignerPath)
        $folder = Join-Path $TestDrive ('run-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
        if (-not $SignerPath) { $SignerPath = Join-Path (Join-Path $folder 'signer') 'ledger-signer.json' }
        $store = Join-Path $folder 'store'
        Connect-AgentGovernance -SnapshotPath $DemoSnapshotPath -PolicyPath $PolicyPath -StorePath $store -LedgerSignerPath $SignerPath
        [pscustomobject]@{ Store = $store; Signer = $SignerPath; Ledger = Join-Path $store 'ledger.jsonl'; Checkpoints = Join-Path $store 'checkpoints.jsonl' }
    }

    function Connect-Elsewhere {
        # The same store and policy from "another machine": a ledger signer (and so a witness) of its own.
        param([Parameter(Mandatory)] $Run, [string] $PolicyPath = $ApprovalPolicyPath)
        $elsewhere = Join-Path $TestDrive ('elsewhere-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        Connect-AgentGovernance -PolicyPath $PolicyPath -StorePath $Run.Store -LedgerSignerPath (Join-Path $elsewhere 'ledger-signer.json')
    }

    function New-ApprovedRequest {
        # The incident change, requested by bob and approved by carol and grace: six ledger entries with the refused attempt by bob.
        $request = Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval
        $null = Approve-AccessChange -RequestId $request.RequestId -KeyPath $KeyPaths.carol -Passphrase $Passphrase -Force
        $null = Approve-AccessChange -RequestId $request.RequestId -KeyPath $KeyPaths.bob -Passphrase $Passphrase -Force -ErrorAction SilentlyContinue
        $null = Approve-AccessChange -RequestId $request.RequestId -KeyPath $KeyPaths.grace -Passphrase $Passphrase -Force -Comment 'Data Platform only'
        $request
    }

    function Set-LedgerLine {
        # Rewrites the ledger from line $From (1-based) on the way someone who can write the store could:
        # changes the text of that line, then re-hashes it and re-chains every line after it (no key needed).
        param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [int] $From, [string] $Find, [string] $Replace)
        $lines = [System.IO.File]::ReadAllLines($Path)
        $previous = $null
        for ($i = $From - 1; $i -lt $lines.Count; $i++) {
            $line = $lines[$i]
            if ($i -eq $From - 1 -and $Find) { $line = $line.Replace($Find, $Replace) }
            if ($previous) { $line = $line -replace '"prev":"sha256:[0-9a-f]{64}"', ('"prev":"' + $previous + '"') }
            # The hash is SHA-256 over the canonical line without its "hash" and "sig" members (ledger@2);
            # the old signature stays, since nobody without the signer key can make a new one.
            $body = $line -replace ',"hash":"sha256:[0-9a-f]{64}"', '' -replace ',"sig":"[A-Za-z0-9+/=]*"', ''
            $digest = [System.Security.Cryptography.SHA256]::Create().ComputeHash([System.Text.Encoding]::UTF8.GetBytes($body))
            $hash = 'sha256:' + -join ($digest | ForEach-Object { $_.ToString('x2') })
            $lines[$i] = $line -replace '"hash":"sha256:[0-9a-f]{64}"', ('"hash":"' + $hash + '"')
            $previous = $hash
        }
        [System.IO.File]::WriteAllLines($Path, $lines)
    }

    function Remove-Checkpoint {
        # Drops the checkpoints that vouch for entries after $Keep.
        param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [int] $Keep)
        $kept = [System.IO.File]::ReadAllLines($Path) | Where-Object { ($_ | ConvertFrom-Json).seq -le $Keep }
        [System.IO.File]::WriteAllLines($Path, [string[]] @($kept))
    }

    $Passphrase = [System.Net.NetworkCredential]::new('', 'correct horse battery staple').SecurePassword
    $keyFolder = Join-Path $TestDrive 'keys'
    $null = New-Item -ItemType Directory -Path $keyFolder
    $KeyPaths = @{}
    $entries = foreach ($pair in @(@('carol', 'carol@contoso.com'), @('grace', 'grace.kim@contoso.com'), @('bob', 'bob@contoso.com'))) {
        $KeyPaths[$pair[0]] = Join-Path $keyFolder "$($pair[0]).key"
        (New-ApproverKey -Identity $pair[1] -Path $KeyPaths[$pair[0]] -Passphrase $Passphrase -ErrorAction Stop).PolicyEntry
    }
    $approvers = "@{`n    AgentIdentities = 'sp-helper'`n    Approvers = @(`n        " + ($entries -join "`n        ") + "`n    )`n"
    $ApprovalPolicyPath = New-TestFile -Name 'approval-policy.psd1' -Content ($approvers + "}`n")
    $ApproversText = $approvers
}

Describe 'Connect-AgentGovernance -StorePath and -LedgerSignerPath' {
    It 'opens (and creates) the store at once, and names it and the signer in the session' {
        $folder = Join-Path $TestDrive 'connect-store'
        $store = Join-Path $folder 'store'
        $signer = Join-Path (Join-Path $folder 'keys') 'ledger-signer.json'
        $session = Connect-AgentGovernance -SnapshotPath $DemoSnapshotPath -StorePath $store -LedgerSignerPath $signer -PassThru

        $session.StorePath | Should -Be $store
        $session.LedgerSignerPath | Should -Be $signer
        Join-Path $store 'store.json' | Should -Exist
        # The checkpoint signer is made on the first write, not at connect.
        $signer | Should -Not -Exist
    }

    It 'keeps the store when a later call changes only the policy' {
        $run = Connect-TestStore

        $session = Connect-AgentGovernance -PolicyPath $SamplePolicyPath -PassThru

        $session.StorePath | Should -Be $run.Store
        $session.LedgerSignerPath | Should -Be $run.Signer
    }

    It 'refuses a -StorePath that is a file and keeps the session' {
        $run = Connect-TestStore
        $file = New-TestFile -Name 'not-a-folder.txt' -Content 'x'

        Connect-AgentGovernance -StorePath $file -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'PathIsFile'
        (Connect-AgentGovernance -PassThru).StorePath | Should -Be $run.Store
    }

    It 'makes the checkpoint signer owner-only on first use' -Skip:($PSVersionTable.PSEdition -eq 'Desktop' -or $IsWindows) {
        $run = Connect-TestStore
        $null = Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval

        (Get-Item -LiteralPath $run.Signer).UnixMode | Should -Be '-rw-------'
        (Get-Item -LiteralPath $KeyPaths.carol).UnixMode | Should -Be '-rw-------'
    }
}

Describe 'Get-GovernanceAuditLog' {
    BeforeAll {
        $run = Connect-TestStore
        $incident = New-ApprovedRequest
        $small = Get-ExampleChange -Name 'grant-small.json' | Request-HumanApproval
        $null = Deny-AccessChange -RequestId $small.RequestId -KeyPath $KeyPaths.carol -Passphrase $Passphrase -Force -Comment 'Use the on-call copy'
    }

    It 'reads every entry, oldest first, each chained to the one before' {
        $log = Get-GovernanceAuditLog

        $log | Should -HaveCount 10
        $log.Sequence | Should -Be (1..10)
        for ($i = 1; $i -lt $log.Count; $i++) { $log[$i].PreviousHash | Should -Be $log[$i - 1].Hash }
        $log[0] | Should -BeOfType ([AgentGovernance.Ledger.LedgerEntry])
    }

    It 'filters by <Filter>' -TestCases @(
        @{ Filter = 'event type'; Parameters = @{ Event = 'Approved' }; Expected = 4, 6 }
        @{ Filter = 'event types with a wildcard'; Parameters = @{ Event = 'Approv*', 'Denied' }; Expected = 3, 4, 5, 6, 9, 10 }
        @{ Filter = 'actor with a wildcard'; Parameters = @{ Actor = 'alice*' }; Expected = 7, 8, 9 }
        @{ Filter = 'the last entries'; Parameters = @{ Last = 2 }; Expected = 9, 10 }
        @{ Filter = 'the last entries of an event type'; Parameters = @{ Event = 'ApprovalRequested'; Last = 1 }; Expected = 9 }
    ) {
        param($Filter, $Parameters, $Expected)

        (Get-GovernanceAuditLog @Parameters).Sequence | Should -Be $Expected
    }

    It 'filters by request and by change, also from the pipeline' {
        (Get-GovernanceAuditLog -RequestId $incident.RequestId).Sequence | Should -Be (1..6)
        (Get-GovernanceAuditLog -ChangeId $small.ChangeId).Sequence | Should -Be (7..10)
        ($incident | Get-GovernanceAuditLog -Event Approved).Actor | Should -Be 'carol@contoso.com', 'grace.kim@contoso.com'
    }

    It 'filters by time' {
        Get-GovernanceAuditLog -After ([DateTimeOffset]::UtcNow.AddMinutes(5)) | Should -BeNullOrEmpty
        Get-GovernanceAuditLog -Before ([DateTimeOffset]::UtcNow.AddMinutes(5)) | Should -HaveCount 10
        $third = (Get-GovernanceAuditLog)[2]
        (Get-GovernanceAuditLog -Before $third.Time).Sequence | Should -Not -Contain 3
    }

    It 'records who decided, with what key, and the refused attempt' {
        $approved = Get-GovernanceAuditLog -RequestId $incident.RequestId -Event Approved -Last 1
        $refused = Get-GovernanceAuditLog -RequestId $incident.RequestId -Event ApprovalRefused

        $approved.Details.quorumMet | Should -BeTrue
        $approved.Details.comment | Should -Be 'Data Platform only'
        $approved.Details.keyId | Should -Match '^sha256:'
        $refused.Actor | Should -Be 'bob@contoso.com'
        $refused.Details.reason | Should -Be 'ApproverIsRequester'
        (Get-GovernanceAuditLog -Event Denied).Summary | Should -Be 'denied by carol@contoso.com: Use the on-call copy'
    }
}

Describe 'Test-GovernanceAuditLog' {
    BeforeEach {
        $run = Connect-TestStore
        $request = New-ApprovedRequest
    }

    It 'verifies a whole ledger: chain, checkpoints and this machine''s witness' {
        $result = Test-GovernanceAuditLog -WarningVariable warnings -WarningAction SilentlyContinue -ErrorVariable problems

        $problems | Should -BeNullOrEmpty
        $result.IsValid | Should -BeTrue
        $result.Entries | Should -Be 6
        $result.LastSealedSequence | Should -Be 6
        $result.UnsealedEntries | Should -Be 0
        $result.WitnessChecked | Should -BeTrue
        $result.SignersPinned | Should -BeFalse
        ($warnings -join "`n") | Should -Match 'not pinned'
        Test-GovernanceAuditLog -Quiet -WarningAction SilentlyContinue | Should -BeTrue
    }

    It 'trusts only the signers the policy pins in LedgerSigners' {
        $signer = (Get-Content -LiteralPath (Get-ChildItem -LiteralPath (Join-Path $run.Store 'signers') -Filter *.pub).FullName -Raw).Trim()
        $pinned = New-TestFile -Name 'pinned.psd1' -Content ($ApproversText + "    LedgerSigners = '$signer'`n}`n")
        Connect-AgentGovernance -PolicyPath $pinned

        $result = Test-GovernanceAuditLog -WarningVariable warnings

        $result.IsValid | Should -BeTrue
        $result.SignersPinned | Should -BeTrue
        ($warnings -join "`n") | Should -Not -Match 'not pinned'

        $stranger = New-ApproverKey -Identity stranger -Path (Join-Path $TestDrive "stranger-$([guid]::NewGuid().ToString('N')).key") -Passphrase $Passphrase
        $other = New-TestFile -Name 'other-signer.psd1' -Content ($ApproversText + "    LedgerSigners = '$($stranger.PublicKey)'`n}`n")
        Connect-AgentGovernance -PolicyPath $other
        $untrusted = Test-GovernanceAuditLog -ErrorAction SilentlyContinue
        $untrusted.Problem | Should -Be 'EntrySignerUntrusted'
        $untrusted.Problems.Code | Should -Contain 'CheckpointSignerUntrusted'
    }

    It 'finds <Case> (<Code>) and says so in a way a runbook can stop on' -TestCases @(
        @{ Case = 'an edited entry'; Code = 'EntryEdited'; First = 2; Tamper = { param($Run) $l = [System.IO.File]::ReadAllLines($Run.Ledger); $l[1] = $l[1].Replace('"riskLevel":"Critical"', '"riskLevel":"Low"'); [System.IO.File]::WriteAllLines($Run.Ledger, $l) } }
        @{ Case = 'a deleted entry'; Code = 'EntriesMissing'; First = 5; Tamper = { param($Run) $l = [System.Collections.Generic.List[string]]::new([System.IO.File]::ReadAllLines($Run.Ledger)); $l.RemoveAt(4); [System.IO.File]::WriteAllLines($Run.Ledger, $l) } }
        @{ Case = 'an entry copied in again'; Code = 'EntriesReordered'; First = 5; Tamper = { param($Run) $l = [System.IO.File]::ReadAllLines($Run.Ledger); $l[4] = $l[3]; [System.IO.File]::WriteAllLines($Run.Ledger, $l) } }
        @{ Case = 'two entries swapped'; Code = 'EntriesMissing'; First = 4; Tamper = { param($Run) $l = [System.IO.File]::ReadAllLines($Run.Ledger); $l[3], $l[4] = $l[4], $l[3]; [System.IO.File]::WriteAllLines($Run.Ledger, $l) } }
        @{ Case = 'a cut-off tail'; Code = 'LedgerTruncated'; First = 5; Tamper = { param($Run) [System.IO.File]::WriteAllLines($Run.Ledger, [System.IO.File]::ReadAllLines($Run.Ledger)[0..3]) } }
        @{ Case = 'a re-hashed tail under a signed checkpoint'; Code = 'EntrySignatureInvalid'; First = 5; Tamper = { param($Run) Set-LedgerLine -Path $Run.Ledger -From 5 -Find 'ApproverIsRequester' -Replace 'ApproverNotEligible' } }
    ) {
        param($Case, $Code, $First, $Tamper)
        & $Tamper $run

        $result = Test-GovernanceAuditLog -ErrorVariable problems -ErrorAction SilentlyContinue -WarningAction SilentlyContinue

        $result.IsValid | Should -BeFalse
        $result.Problem | Should -Be $Code
        $result.FirstBadSequence | Should -Be $First
        $problems | Get-ErrorId | Should -Be 'LedgerInvalid'
        $problems[0].CategoryInfo.Category | Should -Be 'SecurityError'
        Test-GovernanceAuditLog -Quiet -ErrorVariable quiet -WarningAction SilentlyContinue | Should -BeFalse
        $quiet | Should -BeNullOrEmpty
        { Test-GovernanceAuditLog -ErrorAction Stop -WarningAction SilentlyContinue } | Should -Throw -ErrorId 'LedgerInvalid,*'
    }

    It 'catches a tail cut off with its checkpoints only through the witness of the machine that signed' {
        [System.IO.File]::WriteAllLines($run.Ledger, [System.IO.File]::ReadAllLines($run.Ledger)[0..3])
        Remove-Checkpoint -Path $run.Checkpoints -Keep 4

        $here = Test-GovernanceAuditLog -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        Connect-Elsewhere -Run $run
        $elsewhere = Test-GovernanceAuditLog -WarningAction SilentlyContinue

        $here.Problem | Should -Be 'LedgerTruncated'
        $here.WitnessChecked | Should -BeTrue
        # Without that witness the shorter ledger is whole as far as anyone can tell: every entry left is sealed.
        $elsewhere.IsValid | Should -BeTrue
        $elsewhere.WitnessChecked | Should -BeFalse
        $elsewhere.Entries | Should -Be 4
    }

    It 'finds a re-hashed tail whose checkpoints were dropped here and elsewhere: its entries are not signed by a ledger signer' {
        Set-LedgerLine -Path $run.Ledger -From 5 -Find 'ApproverIsRequester' -Replace 'ApproverNotEligible'
        Remove-Checkpoint -Path $run.Checkpoints -Keep 4

        $here = Test-GovernanceAuditLog -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        Connect-Elsewhere -Run $run
        $elsewhere = Test-GovernanceAuditLog -ErrorAction SilentlyContinue -WarningAction SilentlyContinue

        $here.Problem | Should -Be 'EntrySignatureInvalid'
        # Before ledger@2 this showed only as unsealed entries elsewhere.
        $elsewhere.IsValid | Should -BeFalse
        $elsewhere.Problem | Should -Be 'EntrySignatureInvalid'
        $elsewhere.FirstBadSequence | Should -Be 5
    }

    It 'refuses to chain a new entry onto a last entry that does not verify' {
        $lines = [System.IO.File]::ReadAllLines($run.Ledger)
        $lines[-1] = $lines[-1].Replace('Data Platform only', 'Everyone, forever')
        [System.IO.File]::WriteAllLines($run.Ledger, $lines)
        $decisions = @(Get-ChildItem -LiteralPath (Join-Path $run.Store "decisions/$($request.RequestId)") -File)

        Deny-AccessChange -RequestId $request.RequestId -KeyPath $KeyPaths.grace -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue
        $next = Get-ExampleChange -Name 'grant-small.json' | Request-HumanApproval -ErrorVariable opened -ErrorAction SilentlyContinue

        # grace already decided: the refusal itself cannot be recorded on a ledger whose head is broken.
        $problems | Get-ErrorId | Should -Be 'LedgerTampered'
        $opened | Get-ErrorId | Should -Be 'LedgerTampered'
        $next | Should -BeNullOrEmpty
        @(Get-ChildItem -LiteralPath (Join-Path $run.Store "decisions/$($request.RequestId)") -File) | Should -HaveCount $decisions.Count
        [System.IO.File]::ReadAllLines($run.Ledger) | Should -HaveCount 6
    }

    It 'reports an empty store as whole' {
        $null = Connect-TestStore

        $result = Test-GovernanceAuditLog -WarningAction SilentlyContinue

        $result.IsValid | Should -BeTrue
        $result.Entries | Should -Be 0
        $result.WitnessChecked | Should -BeFalse
    }
}
