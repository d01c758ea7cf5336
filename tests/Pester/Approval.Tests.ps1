# Request-HumanApproval, Approve-AccessChange, Deny-AccessChange, Get-ApprovalRequest and
# New-ApproverKey, driven as an administrator and a runbook drive them on the demo tenant: who may
# never approve (S2), signatures (S3), expiry (S4), break-glass (S6), and what a store writer cannot fake.

BeforeAll {
    . $PSScriptRoot/common.ps1

    function New-ApprovalPolicy {
        # A policy file under $TestDrive that lists these approvers (short names of $ApproverKeys).
        # u-dana.gupta is an agent by its principal id, so that its user principal name can be tried as an approver.
        param(
            [Parameter(Mandatory)] [string[]] $Approver,
            [string[]] $BreakGlass = @(),
            [string] $Extra = '',
            [string] $Name = 'approval-policy.psd1'
        )
        $entries = foreach ($name in $Approver) {
            $key = $ApproverKeys[$name]
            $glass = if ($BreakGlass -contains $name) { '; BreakGlass = $true' } else { '' }
            "        @{ Id = '$($key.Identity)'; PublicKey = '$($key.PublicKey)'$glass }"
        }
        New-TestFile -Name $Name -Content ("@{`n    AgentIdentities = @('u-dana.gupta')`n    Approvers = @(`n" + ($entries -join "`n") + "`n    )`n$Extra}`n")
    }

    function Connect-TestStore {
        # Connects the demo tenant with a policy, a store of its own and a ledger signer of its own
        # (never the user's profile), and returns the store's folder.
        param([string] $PolicyPath = $DefaultPolicyPath)
        $folder = Join-Path $TestDrive ('run-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
        $store = Join-Path $folder 'store'
        Connect-AgentGovernance -SnapshotPath $DemoSnapshotPath -PolicyPath $PolicyPath -StorePath $store -LedgerSignerPath (Join-Path (Join-Path $folder 'signer') 'ledger-signer.json')
        $store
    }

    function Get-StoredFile {
        # The files in a folder of the store (requests, decisions/<request id>), or nothing.
        param([Parameter(Mandatory)] [string] $Folder)
        if (Test-Path -LiteralPath $Folder) { Get-ChildItem -LiteralPath $Folder -File -Recurse }
    }

    $Passphrase = [System.Net.NetworkCredential]::new('', 'correct horse battery staple').SecurePassword
    $KeyFolder = Join-Path $TestDrive 'keys'
    $null = New-Item -ItemType Directory -Path $KeyFolder
    # Made once for the file (each key costs a full PBKDF2 run): carol, grace and hannah may approve; bob
    # requested the incident change; sp-helper suggested it; sp-opsagent is an agent by the directory;
    # dana is an agent by the policy; mallory's key is in no policy.
    $ApproverKeys = @{}
    foreach ($pair in @(
            @('carol', 'carol@contoso.com'), @('grace', 'grace.kim@contoso.com'), @('hannah', 'hannah.weber@contoso.com'),
            @('bob', 'bob@contoso.com'), @('helper', 'sp-helper'), @('opsagent', 'sp-opsagent'),
            @('dana', 'dana.gupta@contoso.com'), @('mallory', 'mallory@fabrikam.com'))) {
        $ApproverKeys[$pair[0]] = New-ApproverKey -Identity $pair[1] -Path (Join-Path $KeyFolder "$($pair[0]).key") -Passphrase $Passphrase -ErrorAction Stop
    }

    $DefaultPolicyPath = New-ApprovalPolicy -Approver carol, grace, hannah, bob, helper, opsagent, dana -BreakGlass carol, grace, hannah
}

Describe 'Request-HumanApproval' {
    It 'opens a request bound to the change id and its report, with the approvals its risk needs' {
        $store = Connect-TestStore
        $change = Get-ExampleChange -Name 'forum-4411.json'

        $request = $change | Request-HumanApproval

        $request | Should -BeOfType ([AgentGovernance.Approval.ApprovalRequest])
        $request.RequestId | Should -Match '^req-\d{8}-[0-9a-f]{8}$'
        $request.Status | Should -Be 'Pending'
        $request.ChangeId | Should -Be $change.Id
        $request.RiskLevel | Should -Be 'Critical'
        $request.RequiredApprovals | Should -Be 2
        $request.RequestedBy | Should -Be 'bob@contoso.com'
        $request.ReportHash | Should -Be $request.Exposure.Hash
        # Not bob (asked), sp-helper (suggested, an agent), sp-opsagent and dana (agents).
        $request.EligibleApprovers | Should -Be @('carol@contoso.com', 'grace.kim@contoso.com', 'hannah.weber@contoso.com')
        Get-StoredFile -Folder (Join-Path $store 'requests') | Should -HaveCount 1

        $log = Get-GovernanceAuditLog -RequestId $request.RequestId
        $log.Event | Should -Be @('ChangeProposed', 'RiskAssessed', 'ApprovalRequested')
        $log[2].Details.requestHash | Should -Be $request.RequestHash
        $log[1].Details.reportHash | Should -Be $request.ReportHash
    }

    It 'takes a report from Test-ExposureRisk, and an expiry no longer than the policy allows' {
        $null = Connect-TestStore
        $before = [DateTimeOffset]::UtcNow

        $request = Get-ExampleChange -Name 'grant-small.json' | Test-ExposureRisk | Request-HumanApproval -ExpiresIn PT4H

        $request.RiskLevel | Should -Be 'High'
        $request.RequestedBy | Should -Be 'alice@contoso.com'
        ($request.ExpiresAt - $before).TotalHours | Should -BeGreaterOrEqual 4
        ($request.ExpiresAt - $before).TotalHours | Should -BeLessThan 4.1
    }

    It 'names the requester from -RequestedBy when the change does not' {
        $null = Connect-TestStore
        $change = New-AccessChange -Grant -ResourceId site-finance -PrincipalId u-alice -Duration PT8H -Title 'Month-end close'

        $request = $change | Request-HumanApproval -RequestedBy dana.gupta@contoso.com

        $request.RequestedBy | Should -Be 'dana.gupta@contoso.com'
    }

    It 'refuses <Case> and writes nothing' -TestCases @(
        @{ Case = '-BreakGlass without a reason'; Options = @{ BreakGlass = $true }; ErrorId = 'BreakGlassReasonRequired'; Category = 'InvalidArgument' }
        @{ Case = 'a reason without -BreakGlass'; Options = @{ Reason = 'because it is urgent, twice' }; ErrorId = 'ReasonWithoutBreakGlass'; Category = 'InvalidArgument' }
        @{ Case = 'break-glass for a change policy does not block'; Options = @{ BreakGlass = $true; Reason = 'Auditors need it before 09:00' }; ErrorId = 'BreakGlassNotNeeded'; Category = 'InvalidArgument' }
        @{ Case = 'an expiry beyond the policy''s ApprovalExpiry'; Options = @{ ExpiresIn = 'P2D' }; ErrorId = 'ExpiryTooLong'; Category = 'InvalidArgument' }
        @{ Case = 'a requester other than the change names'; Options = @{ RequestedBy = 'carol@contoso.com' }; ErrorId = 'RequesterMismatch'; Category = 'InvalidArgument' }
    ) {
        param($Case, $Options, $ErrorId, $Category)
        $store = Connect-TestStore

        $output = Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval @Options -ErrorVariable problems -ErrorAction SilentlyContinue

        $output | Should -BeNullOrEmpty
        $problems | Get-ErrorId | Should -Be $ErrorId
        $problems[0].CategoryInfo.Category | Should -Be $Category
        Get-StoredFile -Folder (Join-Path $store 'requests') | Should -BeNullOrEmpty
        Get-GovernanceAuditLog | Should -BeNullOrEmpty
    }

    It 'refuses a change no set of the policy''s approvers could ever approve' {
        $null = Connect-TestStore -PolicyPath (New-ApprovalPolicy -Approver carol, bob -Name 'two-approvers.psd1')

        Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'NotEnoughApprovers'
        $problems[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $problems[0].Exception.Message | Should -Match 'needs 2 approval\(s\), but only 1 of the policy''s 2 approver\(s\)'
    }

    It 'refuses a change that lasts longer than the policy''s MaxDuration' {
        $null = Connect-TestStore -PolicyPath (New-ApprovalPolicy -Approver carol, grace -Extra "    MaxDuration = 'PT4H'`n" -Name 'short.psd1')

        Get-ExampleChange -Name 'grant-small.json' | Request-HumanApproval -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'DurationTooLong'
    }

    It 'opens nothing with -WhatIf' {
        $store = Connect-TestStore

        Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval -WhatIf | Should -BeNullOrEmpty

        Get-StoredFile -Folder (Join-Path $store 'requests') | Should -BeNullOrEmpty
    }

    It 'stops with NotConnected when there is no snapshot' {
        $result = Invoke-InNewRunspace -Script "Import-AccessChange -LiteralPath '$(Join-Path $ChangesFolder 'forum-4411.json')' | Request-HumanApproval"

        $result.Errors | Get-ErrorId | Should -Be 'NotConnected'
    }

    Context 'a change policy blocks (S6)' {
        It 'cannot be requested the ordinary way' {
            $store = Connect-TestStore

            Get-ExampleChange -Name 'anonymous-link.json' | Request-HumanApproval -ErrorVariable problems -ErrorAction SilentlyContinue

            $problems | Get-ErrorId | Should -Be 'ChangeBlocked'
            $problems[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
            Get-StoredFile -Folder (Join-Path $store 'requests') | Should -BeNullOrEmpty
        }

        It 'takes break-glass: more approvals, break-glass approvers only, loud in the ledger' {
            $null = Connect-TestStore
            $reason = 'Signing deadline 17:00 today; the CFO approved the exception (INC-7781)'

            $request = Get-ExampleChange -Name 'anonymous-link.json' | Request-HumanApproval -BreakGlass -Reason $reason -WarningVariable warnings -WarningAction SilentlyContinue

            $request.BreakGlass | Should -BeTrue
            $request.BreakGlassReason | Should -Be $reason
            $request.RequiredApprovals | Should -Be 3
            $request.EligibleApprovers | Should -Not -Contain 'bob@contoso.com'
            ($warnings -join "`n") | Should -Match 'BREAK-GLASS'
            $loud = Get-GovernanceAuditLog -RequestId $request.RequestId -Event BreakGlassRequested
            $loud.Details.reason | Should -Be $reason
            $loud.Summary | Should -Match '^BREAK-GLASS'

            Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.bob.Path -Passphrase $Passphrase -Force -ErrorVariable refused -ErrorAction SilentlyContinue
            $refused | Get-ErrorId | Should -Be 'ApproverNotEligible'
            foreach ($name in 'carol', 'grace') {
                $null = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys[$name].Path -Passphrase $Passphrase -Force
            }
            (Get-ApprovalRequest -RequestId $request.RequestId).Status | Should -Be 'Pending'
            $null = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.hannah.Path -Passphrase $Passphrase -Force
            (Get-ApprovalRequest -RequestId $request.RequestId).Status | Should -Be 'Approved'
        }

        It 'refuses a break-glass reason nobody could act on' {
            $null = Connect-TestStore

            Get-ExampleChange -Name 'anonymous-link.json' | Request-HumanApproval -BreakGlass -Reason 'urgent' -ErrorVariable problems -ErrorAction SilentlyContinue

            $problems | Get-ErrorId | Should -Be 'BreakGlassReasonRequired'
        }
    }

    Context '-Wait' {
        It 'gives up at -Timeout with ApprovalTimeout and still returns the request' {
            $null = Connect-TestStore

            $request = Get-ExampleChange -Name 'forum-4411.json' |
                Request-HumanApproval -Wait -Timeout 00:00:01 -PollInterval 00:00:00.2 -ErrorVariable problems -ErrorAction SilentlyContinue

            $request.Status | Should -Be 'Pending'
            $problems | Get-ErrorId | Should -Be 'ApprovalTimeout'
            $problems[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        }

        It 'returns at the request''s expiry without an error, and records the expiry' {
            $null = Connect-TestStore

            $request = Get-ExampleChange -Name 'forum-4411.json' |
                Request-HumanApproval -ExpiresIn 00:00:02 -Wait -PollInterval 00:00:00.2 -ErrorVariable problems

            $request.Status | Should -Be 'Expired'
            $problems | Should -BeNullOrEmpty
            Get-GovernanceAuditLog -RequestId $request.RequestId -Event Expired | Should -HaveCount 1
        }

        It 'refuses a poll interval under 100 ms' {
            $null = Connect-TestStore

            { Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval -Wait -PollInterval 00:00:00.01 } |
                Should -Throw -ErrorId 'PollIntervalTooShort,*'
        }
    }
}

Describe 'Approve-AccessChange and Deny-AccessChange' {
    BeforeEach {
        $store = Connect-TestStore
        $request = Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval
    }

    It 'counts two distinct eligible approvals as the quorum' {
        $first = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force
        $first.Status | Should -Be 'Pending'
        $first.Quorum | Should -Be '1/2'

        $second = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.grace.Path -Passphrase $Passphrase -Force -Comment 'Data Platform only'

        $second.Status | Should -Be 'Approved'
        $second.QuorumMet | Should -BeTrue
        $second.ApprovedBy | Should -Be @('carol@contoso.com', 'grace.kim@contoso.com')
        $second.Decisions[1].Comment | Should -Be 'Data Platform only'
        (Get-GovernanceAuditLog -RequestId $request.RequestId -Event Approved).Actor | Should -Be @('carol@contoso.com', 'grace.kim@contoso.com')
        Test-GovernanceAuditLog -Quiet | Should -BeTrue
    }

    It 'refuses <Who> (<ErrorId>) and records the attempt' -TestCases @(
        @{ Who = 'the requester'; Key = 'bob'; ErrorId = 'ApproverIsRequester' }
        @{ Who = 'the agent that suggested the change'; Key = 'helper'; ErrorId = 'ApproverIsAgent' }
        @{ Who = 'an identity the directory marks as an agent'; Key = 'opsagent'; ErrorId = 'ApproverIsAgent' }
        @{ Who = 'an agent the policy lists under another of its names'; Key = 'dana'; ErrorId = 'ApproverIsAgent' }
        @{ Who = 'a key the policy does not list'; Key = 'mallory'; ErrorId = 'ApproverNotEligible' }
    ) {
        param($Who, $Key, $ErrorId)

        $output = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys[$Key].Path -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $output | Should -BeNullOrEmpty
        $problems | Get-ErrorId | Should -Be $ErrorId
        $problems[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $problems[0].Exception.Message | Should -Match ([regex]::Escape($request.RequestId))
        Get-StoredFile -Folder (Join-Path $store "decisions/$($request.RequestId)") | Should -BeNullOrEmpty
        (Get-ApprovalRequest -RequestId $request.RequestId).Approvals | Should -Be 0
        (Get-GovernanceAuditLog -RequestId $request.RequestId -Event ApprovalRefused).Details.reason | Should -Be $ErrorId
    }

    It 'knows the requester under any of the names the directory gives them' {
        $change = New-AccessChange -Grant -ResourceId site-finance -PrincipalId u-alice -RequestedBy u-carol -Title 'Alice reads Finance'
        $own = $change | Request-HumanApproval
        $own.EligibleApprovers | Should -Not -Contain 'carol@contoso.com'

        Approve-AccessChange -RequestId $own.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'ApproverIsRequester'
    }

    It 'refuses the person who suggested the change' {
        $change = New-AccessChange -Grant -ResourceId site-finance -PrincipalId u-alice -RequestedBy dana.gupta@contoso.com -SuggestedBy u-grace.kim -SuggestedByType user
        $suggested = $change | Request-HumanApproval

        Approve-AccessChange -RequestId $suggested.RequestId -KeyPath $ApproverKeys.grace.Path -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'ApproverIsSuggester'
    }

    It 'counts one approver once' {
        $null = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force

        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'AlreadyDecided'
        $problems[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        (Get-ApprovalRequest -RequestId $request.RequestId).Approvals | Should -Be 1
    }

    It 'signs nothing with a wrong passphrase' {
        $wrong = [System.Net.NetworkCredential]::new('', 'not the passphrase at all').SecurePassword

        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $wrong -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'PassphraseIncorrect'
        $problems[0].CategoryInfo.Category | Should -Be 'SecurityError'
        Get-GovernanceAuditLog -RequestId $request.RequestId -Event Approved | Should -BeNullOrEmpty
    }

    It 'names a key file that does not exist' {
        Approve-AccessChange -RequestId $request.RequestId -KeyPath (Join-Path $TestDrive 'nobody.key') -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'KeyFileNotFound'
    }

    It 'tells what it would sign with -WhatIf, and signs nothing, -Force or not' {
        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -WhatIf | Should -BeNullOrEmpty
        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force -WhatIf | Should -BeNullOrEmpty

        Get-StoredFile -Folder (Join-Path $store "decisions/$($request.RequestId)") | Should -BeNullOrEmpty
        Get-GovernanceAuditLog -RequestId $request.RequestId -Event Approved | Should -BeNullOrEmpty
    }

    It 'shows the stored request before signing' {
        $verbose = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        $text = $verbose -join "`n"

        $text | Should -Match ([regex]::Escape("Request $($request.RequestId): Let Data Platform read the pipeline exports"))
        $text | Should -Match 'grant read on site-userdata to g-eng'
        $text | Should -Match 'Risk Critical: 315 principal'
        $text | Should -Match ([regex]::Escape($request.ReportHash))
        $text | Should -Match 'you sign as carol@contoso.com'
    }

    It 'takes requests from the pipeline' {
        $approved = Get-ApprovalRequest -Status Pending | Approve-AccessChange -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force

        $approved.RequestId | Should -Be $request.RequestId
        $approved.Approvals | Should -Be 1
    }

    It 'ends a request with one denial, after which nobody can approve it' {
        $null = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force

        $denied = Deny-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.grace.Path -Passphrase $Passphrase -Force -Comment 'Grant Data Platform on the export folder instead'

        $denied.Status | Should -Be 'Denied'
        $denied.DeniedBy | Should -Be @('grace.kim@contoso.com')
        (Get-GovernanceAuditLog -RequestId $request.RequestId -Event Denied).Summary | Should -Be 'denied by grace.kim@contoso.com: Grant Data Platform on the export folder instead'
        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.hannah.Path -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems | Get-ErrorId | Should -Be 'RequestDenied'
        (Get-ApprovalRequest -RequestId $request.RequestId).Status | Should -Be 'Denied'
    }

    It 'lets an eligible approver deny a request that already has its quorum' {
        foreach ($name in 'carol', 'grace') {
            $null = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys[$name].Path -Passphrase $Passphrase -Force
        }

        $after = Deny-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.hannah.Path -Passphrase $Passphrase -Force

        $after.Status | Should -Be 'Denied'
        $after.Approvals | Should -Be 2
    }

    It 'refuses the requester''s denial too' {
        Deny-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.bob.Path -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'ApproverIsRequester'
        (Get-ApprovalRequest -RequestId $request.RequestId).Status | Should -Be 'Pending'
    }

    It 'says RequestNotFound for a request the store does not hold' {
        Approve-AccessChange -RequestId req-19990101-00000000 -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'RequestNotFound'
        $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

Describe 'Approvals expire (S4)' {
    It 'refuses a decision after the request expired and records the expiry once' {
        $null = Connect-TestStore
        $request = Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval -ExpiresIn 00:00:08
        $null = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force
        $left = ($request.ExpiresAt - [DateTimeOffset]::UtcNow).TotalMilliseconds
        if ($left -gt 0) { Start-Sleep -Milliseconds ([int]$left + 500) }

        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.grace.Path -Passphrase $Passphrase -Force -ErrorVariable late -ErrorAction SilentlyContinue
        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.hannah.Path -Passphrase $Passphrase -Force -ErrorAction SilentlyContinue

        $late | Get-ErrorId | Should -Be 'ApprovalExpired'
        $late[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $after = Get-ApprovalRequest -RequestId $request.RequestId
        $after.Status | Should -Be 'Expired'
        $after.Approvals | Should -Be 1
        Get-GovernanceAuditLog -RequestId $request.RequestId -Event Expired | Should -HaveCount 1
        Get-GovernanceAuditLog -RequestId $request.RequestId -Event ApprovalRefused | Should -HaveCount 2
    }
}

Describe 'What someone who can write the store cannot fake (S1, S3)' {
    BeforeEach {
        $store = Connect-TestStore
        $request = Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval
        $null = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force
        $decisionFile = Get-StoredFile -Folder (Join-Path $store "decisions/$($request.RequestId)") | Select-Object -First 1
    }

    It 'counts nothing for a request edited after it was opened, and refuses to decide it' {
        $requestFile = Join-Path $store "requests/$($request.RequestId).json"
        $text = Get-Content -LiteralPath $requestFile -Raw
        # The request's own count is its last "requiredApprovals" (the exposure summary holds another).
        $at = $text.LastIndexOf('"requiredApprovals":2')
        $edited = $text.Substring(0, $at) + '"requiredApprovals":1' + $text.Substring($at + '"requiredApprovals":2'.Length)
        [System.IO.File]::WriteAllText($requestFile, $edited)

        $tampered = Get-ApprovalRequest -RequestId $request.RequestId -WarningVariable warnings -WarningAction SilentlyContinue

        $tampered.Status | Should -Be 'Invalid'
        $tampered.Approvals | Should -Be 0
        $tampered.Decisions[0].ProblemId | Should -Be 'DecisionReplayed'
        ($warnings -join "`n") | Should -Match 'RequestTampered'
        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.grace.Path -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems | Get-ErrorId | Should -Be 'RequestTampered'
        $problems[0].CategoryInfo.Category | Should -Be 'SecurityError'
    }

    It 'does not count a decision copied onto another request' {
        $other = New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-dataplatform -RequestedBy bob@contoso.com -Title 'Data Platform reads the exports' |
            Request-HumanApproval
        $folder = Join-Path $store "decisions/$($other.RequestId)"
        $null = New-Item -ItemType Directory -Path $folder
        Copy-Item -LiteralPath $decisionFile.FullName -Destination $folder

        $replayed = Get-ApprovalRequest -RequestId $other.RequestId

        $replayed.Approvals | Should -Be 0
        $replayed.Decisions[0].ProblemId | Should -Be 'DecisionReplayed'
        (Get-ApprovalRequest -RequestId $request.RequestId).Approvals | Should -Be 1
    }

    It 'does not count a decision whose approver was renamed' {
        $genuine = Get-Content -LiteralPath $decisionFile.FullName -Raw
        $renamed = $genuine.Replace('"approver":"carol@contoso.com"', '"approver":"grace.kim@contoso.com"')
        [System.IO.File]::WriteAllText((Join-Path $decisionFile.DirectoryName 'dec-renamed.json'), $renamed)

        $after = Get-ApprovalRequest -RequestId $request.RequestId

        $after.Approvals | Should -Be 1
        $after.ApprovedBy | Should -Be @('carol@contoso.com')
        ($after.Decisions | Where-Object { -not $_.Valid }).ProblemId | Should -Be 'SignatureInvalid'
    }
}

Describe 'Get-ApprovalRequest' {
    BeforeAll {
        $null = Connect-TestStore
        $incident = Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval
        $removal = Get-ExampleChange -Name 'revoke-guest.json' | Request-HumanApproval
        $null = Approve-AccessChange -RequestId $removal.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force
    }

    It 'lists every request of the store' {
        (Get-ApprovalRequest).RequestId | Sort-Object | Should -Be (@($incident.RequestId, $removal.RequestId) | Sort-Object)
    }

    It 'filters by <Filter>' -TestCases @(
        @{ Filter = 'status Pending'; Parameters = @{ Status = 'Pending' }; Expected = 'incident' }
        @{ Filter = 'status Approved'; Parameters = @{ Status = 'Approved' }; Expected = 'removal' }
        @{ Filter = 'two statuses'; Parameters = @{ Status = 'Pending', 'Approved' }; Expected = 'incident', 'removal' }
        @{ Filter = 'a wildcard id'; Parameters = @{ RequestId = 'req-*' }; Expected = 'incident', 'removal' }
    ) {
        param($Filter, $Parameters, $Expected)
        $ids = foreach ($name in $Expected) { (Get-Variable -Name $name -ValueOnly).RequestId }

        (Get-ApprovalRequest @Parameters).RequestId | Sort-Object | Should -Be ($ids | Sort-Object)
    }

    It 'finds the requests of a change, also from a report in the pipeline' {
        $change = Get-ExampleChange -Name 'forum-4411.json'

        (Get-ApprovalRequest -ChangeId $change.Id).RequestId | Should -Be $incident.RequestId
        ($change | Test-ExposureRisk | Get-ApprovalRequest).RequestId | Should -Be $incident.RequestId
    }

    It 'shows each decision and whether it counts' {
        $request = $removal | Get-ApprovalRequest

        $request.Status | Should -Be 'Approved'
        $request.QuorumMet | Should -BeTrue
        $request.Decisions | Should -HaveCount 1
        $request.Decisions[0].Approver | Should -Be 'carol@contoso.com'
        $request.Decisions[0].Valid | Should -BeTrue
    }

    It 'says RequestNotFound for an id without wildcards that does not exist, and InvalidId for one that cannot be' -TestCases @(
        @{ Id = 'req-19990101-00000000'; ErrorId = 'RequestNotFound' }
        @{ Id = '../requests/x'; ErrorId = 'InvalidId' }
    ) {
        param($Id, $ErrorId)

        Get-ApprovalRequest -RequestId $Id -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $problems | Get-ErrorId | Should -Be $ErrorId
    }

    It 'finds nothing, quietly, for a wildcard that matches nothing' {
        Get-ApprovalRequest -RequestId 'req-1999*' -ErrorVariable problems | Should -BeNullOrEmpty
        $problems | Should -BeNullOrEmpty
    }
}

Describe 'New-ApproverKey' {
    It 'makes a key file whose policy entry lets its owner approve' {
        $info = New-ApproverKey -Identity carol@contoso.com -Path (Join-Path $TestDrive 'carol-2.key') -Passphrase $Passphrase

        $info | Should -BeOfType ([AgentGovernance.Approval.ApproverKeyInfo])
        $info.Algorithm | Should -Be 'ES256'
        $info.KeySize | Should -Be 256
        $info.KeyId | Should -Match '^sha256:[0-9a-f]{64}$'
        $info.Path | Should -Be (Join-Path $TestDrive 'carol-2.key')
        $info.PolicyEntry | Should -Be "@{ Id = 'carol@contoso.com'; PublicKey = '$($info.PublicKey)' }"
        $info.Pem | Should -Match '^-----BEGIN PUBLIC KEY-----'

        $policy = New-TestFile -Name 'carol-2.psd1' -Content "@{ Approvers = @( $($info.PolicyEntry) ) }"
        (Import-GovernancePolicy -Path $policy).Approvers[0].Keys[0].KeyId | Should -Be $info.KeyId
    }

    It 'makes an RSA key' {
        $info = New-ApproverKey -Identity grace.kim@contoso.com -Path (Join-Path $TestDrive 'grace-rsa.key') -Passphrase $Passphrase -Algorithm RSA -KeySize 2048

        $info.Algorithm | Should -Be 'RS256'
        $info.KeySize | Should -Be 2048
    }

    It 'refuses <Case> and writes nothing' -TestCases @(
        @{ Case = 'a passphrase under 12 characters'; File = 'short.key'; Secret = 'too short'; ErrorId = 'PassphraseTooShort' }
        @{ Case = 'a file that exists'; File = 'taken.key'; Secret = 'correct horse battery staple'; ErrorId = 'KeyFileExists' }
        @{ Case = 'a folder that does not exist'; File = 'no-such-folder/x.key'; Secret = 'correct horse battery staple'; ErrorId = 'FolderNotFound' }
    ) {
        param($Case, $File, $Secret, $ErrorId)
        $taken = New-TestFile -Name 'taken.key' -Content 'mine'
        $path = Join-Path $TestDrive $File
        $secure = [System.Net.NetworkCredential]::new('', $Secret).SecurePassword

        New-ApproverKey -Identity erin@contoso.com -Path $path -Passphrase $secure -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $problems | Get-ErrorId | Should -Be $ErrorId
        Get-Content -LiteralPath $taken -Raw | Should -Be 'mine'
        if ($File -ne 'taken.key') { $path | Should -Not -Exist }
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $TestDrive 'whatif.key'

        New-ApproverKey -Identity erin@contoso.com -Path $path -Passphrase $Passphrase -WhatIf | Should -BeNullOrEmpty

        $path | Should -Not -Exist
    }

    It 'reads the public key of a certificate file and signs decisions with it' {
        $ecdsa = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        $certificateRequest = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=Hannah Weber (approver)', $ecdsa, [System.Security.Cryptography.HashAlgorithmName]::SHA256)
        $certificate = $certificateRequest.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddYears(1))
        $pfx = Join-Path $TestDrive 'hannah.pfx'
        $cer = Join-Path $TestDrive 'hannah.cer'
        [System.IO.File]::WriteAllBytes($pfx, $certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, 'correct horse battery staple'))
        [System.IO.File]::WriteAllBytes($cer, $certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Cert))

        $info = New-ApproverKey -Identity hannah.weber@contoso.com -CertificatePath $pfx -CertificatePassword $Passphrase
        $publicOnly = New-ApproverKey -Identity hannah.weber@contoso.com -CertificatePath $cer -WarningVariable warnings -WarningAction SilentlyContinue

        $info.Certificate | Should -Match $certificate.Thumbprint
        $info.Path | Should -BeNullOrEmpty
        $publicOnly.KeyId | Should -Be $info.KeyId
        ($warnings -join "`n") | Should -Match 'no private key'

        $policy = New-TestFile -Name 'certificate.psd1' -Content "@{ Approvers = @( $($info.PolicyEntry); @{ Id = 'carol@contoso.com'; PublicKey = '$($ApproverKeys.carol.PublicKey)' } ) }"
        $null = Connect-TestStore -PolicyPath $policy
        $request = Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval
        $signed = Approve-AccessChange -RequestId $request.RequestId -CertificatePath $pfx -CertificatePassword $Passphrase -Force
        $signed.ApprovedBy | Should -Be @('hannah.weber@contoso.com')
        Deny-AccessChange -RequestId $request.RequestId -CertificatePath $cer -Force -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems | Get-ErrorId | Should -Be 'CertificateHasNoPrivateKey'
    }
}

Describe 'The requester as an attacker' {
    It 'knows bob as the requester when the change names him <Case>' -TestCases @(
        @{ Case = 'by an upper-case id'; Name = 'U-BOB' }
        @{ Case = 'with spaces around'; Name = ' bob@contoso.com ' }
        @{ Case = 'in capitals'; Name = 'BOB@CONTOSO.COM' }
        @{ Case = 'in fullwidth letters'; Name = "$([char]0xFF42)$([char]0xFF4F)$([char]0xFF42)@contoso.com" }
    ) {
        param($Case, $Name)
        $null = Connect-TestStore
        $request = New-AccessChange -Grant -ResourceId site-finance -PrincipalId u-alice -RequestedBy $Name -Title 'Alice reads Finance' | Request-HumanApproval
        $request.EligibleApprovers | Should -Not -Contain 'bob@contoso.com'

        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.bob.Path -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'ApproverIsRequester'
        (Get-ApprovalRequest -RequestId $request.RequestId).Approvals | Should -Be 0
    }

    It 'refuses a requester the directory does not know, and offline the one it imitates still cannot approve' {
        $lookAlike = "b$([char]0x043E)b@contoso.com"   # a Cyrillic o
        $null = Connect-TestStore
        $change = New-AccessChange -Grant -ResourceId site-finance -PrincipalId u-alice -RequestedBy $lookAlike

        $change | Request-HumanApproval -ErrorVariable refused -ErrorAction SilentlyContinue

        $refused | Get-ErrorId | Should -Be 'RequesterUnresolved'
        $null = Connect-TestStore -PolicyPath (New-ApprovalPolicy -Approver carol, grace, bob -Extra "    AllowUnresolvedRequester = `$true`n" -Name 'offline.psd1')
        $request = $change | Request-HumanApproval
        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.bob.Path -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems | Get-ErrorId | Should -Be 'ApproverConfusable'
    }

    It 'never lets an agent listed as an approver under a variant of its id approve its own suggestion' {
        $policy = New-TestFile -Name 'variant.psd1' -Content ("@{ Approvers = @(" +
            "@{ Id = 'carol@contoso.com'; PublicKey = '$($ApproverKeys.carol.PublicKey)' }; " +
            "@{ Id = 'grace.kim@contoso.com'; PublicKey = '$($ApproverKeys.grace.PublicKey)' }; " +
            "@{ Id = 'SP-Helper'; PublicKey = '$($ApproverKeys.helper.PublicKey)' }) }")
        $null = Connect-TestStore -PolicyPath $policy
        $request = Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval
        $request.EligibleApprovers | Should -Not -Contain 'SP-Helper'

        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.helper.Path -Passphrase $Passphrase -Force -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Get-ErrorId | Should -Be 'ApproverIsAgent'
    }

    It 'refuses a break-glass reason made of <Case>' -TestCases @(
        @{ Case = 'zero-width spaces'; Reason = [string]::new([char]0x200B, 40) }
        @{ Case = 'punctuation'; Reason = '!!!! ---- ???? ....' }
        @{ Case = 'three letters hidden among invisible ones'; Reason = "a$([char]0x200B)b$([char]0x2060)c$([char]0x200D)" * 1 }
    ) {
        param($Case, $Reason)
        $null = Connect-TestStore
        $change = New-AccessChange -CreateLink anonymous -ResourceId site-userdata -RequestedBy bob@contoso.com

        $change | Request-HumanApproval -BreakGlass -Reason $Reason -ErrorVariable refused -ErrorAction SilentlyContinue

        $refused | Get-ErrorId | Should -Be 'BreakGlassReasonRequired'
    }

    It 'refuses every decision once the policy changed after the request, with the right keys too' {
        $null = Connect-TestStore
        $request = Get-ExampleChange -Name 'forum-4411.json' | Request-HumanApproval
        $null = Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.carol.Path -Passphrase $Passphrase -Force
        # carol's entry now carries mallory's key.
        $swapped = [System.IO.File]::ReadAllText($DefaultPolicyPath).Replace($ApproverKeys.carol.PublicKey, $ApproverKeys.mallory.PublicKey)
        Connect-AgentGovernance -PolicyPath (New-TestFile -Name 'swapped.psd1' -Content $swapped)

        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.mallory.Path -Passphrase $Passphrase -Force -ErrorVariable asMallory -ErrorAction SilentlyContinue
        Approve-AccessChange -RequestId $request.RequestId -KeyPath $ApproverKeys.grace.Path -Passphrase $Passphrase -Force -ErrorVariable asGrace -ErrorAction SilentlyContinue

        $asMallory | Get-ErrorId | Should -Be 'PolicyChanged'
        $asGrace | Get-ErrorId | Should -Be 'PolicyChanged'
        $now = Get-ApprovalRequest -RequestId $request.RequestId
        $now.PolicyChanged | Should -BeTrue
        $now.Status | Should -Be 'Pending'
        Get-GovernanceAuditLog -RequestId $request.RequestId | ForEach-Object { $_.Details.policyFingerprint | Should -Not -BeNullOrEmpty }
    }
}
