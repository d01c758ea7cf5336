# Invoke-ApprovedChange, Undo-ApprovedChange, Invoke-AccessExpiry and Export-GovernanceAuditLog: the
# guarded apply on a copy of the demo tenant, as an administrator and a runbook drive it.

BeforeAll {
    . $PSScriptRoot/common.ps1

    $script:Passphrase = [System.Net.NetworkCredential]::new('', 'pester passphrase, not a secret').SecurePassword

    function New-ApplySession {
        # A copy of the demo tenant, two approvers (carol, dana) and a store, all under $TestDrive.
        param([string] $Name = [guid]::NewGuid().ToString('N').Substring(0, 8), [string] $ExtraPolicy = '')
        $folder = Join-Path $TestDrive $Name
        $null = New-Item -ItemType Directory -Path $folder
        $tenant = Join-Path $folder 'tenant.json'
        Copy-Item -LiteralPath $DemoSnapshotPath -Destination $tenant
        $carol = New-ApproverKey -Identity 'carol@contoso.com' -Path (Join-Path $folder 'carol.key') -Passphrase $script:Passphrase
        $dana = New-ApproverKey -Identity 'dana@contoso.com' -Path (Join-Path $folder 'dana.key') -Passphrase $script:Passphrase
        $policy = New-TestFile -Name "$Name-policy.psd1" -Content "@{ AgentIdentities = 'sp-helper'; Approvers = @( $($carol.PolicyEntry); $($dana.PolicyEntry) )`n$ExtraPolicy }"
        Connect-AgentGovernance -SnapshotPath $tenant -PolicyPath $policy -StorePath (Join-Path $folder 'store') -LedgerSignerPath (Join-Path $folder 'signer.json')
        [pscustomobject]@{ Folder = $folder; Tenant = $tenant; Carol = Join-Path $folder 'carol.key'; Dana = Join-Path $folder 'dana.key' }
    }

    function New-ApprovedRequest {
        param($Session, [AgentGovernance.Changes.AccessChange] $Change)
        $request = $Change | Request-HumanApproval
        $null = $request | Approve-AccessChange -KeyPath $Session.Carol -Passphrase $script:Passphrase -Force
        $request | Approve-AccessChange -KeyPath $Session.Dana -Passphrase $script:Passphrase -Force
    }

    function New-DataPlatformChange {
        param([string] $Duration)
        $parameters = @{ Grant = $true; ResourceId = 'site-userdata'; PrincipalId = 'g-dataplatform'; RequestedBy = 'bob@contoso.com'; Title = 'Data Platform reads the exports' }
        if ($Duration) { $parameters.Duration = $Duration }
        New-AccessChange @parameters
    }
}

Describe 'Invoke-ApprovedChange' {
    It 'applies an approved change and writes its intent, operations and outcome to the ledger' {
        $session = New-ApplySession
        $request = New-ApprovedRequest -Session $session -Change (New-DataPlatformChange)

        $result = $request | Invoke-ApprovedChange -Force

        $result.Outcome | Should -Be 'Applied'
        $result.Operations[0].Inverse.ToString() | Should -Be 'revoke read on site-userdata from g-dataplatform'
        (Get-EffectiveAccess -ResourceId site-userdata -PrincipalId bob@contoso.com).Role | Should -Be 'Read'
        (Get-GovernanceAuditLog -RequestId $request.RequestId -Event Apply*).Event | Should -Be @('ApplyStarted', 'ApplyCompleted')
        Test-GovernanceAuditLog -Quiet | Should -BeTrue
    }

    It 'refuses <Case> with <ErrorId>, and changes nothing' -TestCases @(
        @{ Case = 'a request without its quorum'; ErrorId = 'QuorumNotMet'; Approvals = 1 }
        @{ Case = 'a request applied before'; ErrorId = 'AlreadyApplied'; Approvals = 2 }
    ) {
        $session = New-ApplySession
        $request = New-DataPlatformChange | Request-HumanApproval
        $null = $request | Approve-AccessChange -KeyPath $session.Carol -Passphrase $script:Passphrase -Force
        if ($Approvals -eq 2) {
            $null = $request | Approve-AccessChange -KeyPath $session.Dana -Passphrase $script:Passphrase -Force
            $null = $request | Invoke-ApprovedChange -Force
        }
        $before = [System.IO.File]::ReadAllBytes($session.Tenant)

        $request | Invoke-ApprovedChange -Force -ErrorAction SilentlyContinue -ErrorVariable refused

        $refused | Should -HaveCount 1
        $refused[0] | Get-ErrorId | Should -Be $ErrorId
        [System.IO.File]::ReadAllBytes($session.Tenant) | Should -Be $before
    }

    It 'refuses an approval gone stale because the directory changed' {
        $session = New-ApplySession
        $request = New-ApprovedRequest -Session $session -Change (New-DataPlatformChange)
        # Someone adds All Engineering to Data Platform behind the pipeline's back, in the directory itself.
        $text = [System.IO.File]::ReadAllText($session.Tenant)
        [System.IO.File]::WriteAllText($session.Tenant, $text.Replace('"mailNickname": "dataplatform", "members": [', '"mailNickname": "dataplatform", "members": ["g-all-staff", '))
        Connect-AgentGovernance -SnapshotPath $session.Tenant

        $request | Invoke-ApprovedChange -Force -ErrorAction SilentlyContinue -ErrorVariable stale

        $stale[0] | Get-ErrorId | Should -Be 'ApprovalStale'
        $stale[0].Exception.Message | Should -Match 'principal\(s\) would gain access'
    }

    It 'shows with -WhatIf what it would apply, and applies nothing' {
        $session = New-ApplySession
        $request = New-ApprovedRequest -Session $session -Change (New-DataPlatformChange)
        $before = [System.IO.File]::ReadAllBytes($session.Tenant)

        $request | Invoke-ApprovedChange -WhatIf | Should -BeNullOrEmpty

        [System.IO.File]::ReadAllBytes($session.Tenant) | Should -Be $before
        (Get-ApprovalRequest $request.RequestId).Status | Should -Be 'Approved'
    }

    It 'revokes access without approval in an emergency, and says so in the ledger' {
        $session = New-ApplySession

        $result = New-AccessChange -Revoke -ResourceId site-userdata -PrincipalId g-dataops -RequestedBy carol@contoso.com |
            Invoke-ApprovedChange -EmergencyRevocation

        $result.RequestId | Should -Match '^rev-'
        (Get-GovernanceAuditLog -Event EmergencyRevocation).Summary | Should -Match '^EMERGENCY REVOCATION'
    }
}

Describe 'Undo-ApprovedChange' {
    It 'reverts exactly what the apply changed' {
        $session = New-ApplySession
        $before = [System.IO.File]::ReadAllBytes($session.Tenant)
        $request = New-ApprovedRequest -Session $session -Change (New-DataPlatformChange)
        $null = $request | Invoke-ApprovedChange -Force

        $result = Undo-ApprovedChange -RequestId $request.RequestId

        $result.Outcome | Should -Be 'Undone'
        (Get-ApprovalRequest $request.RequestId).Status | Should -Be 'Undone'
        (Get-EffectiveAccess -ResourceId site-userdata -PrincipalId bob@contoso.com) | Should -BeNullOrEmpty
    }
}

Describe 'Invoke-AccessExpiry' {
    It 'reverts a time-boxed change once its time is up, and only once' {
        $session = New-ApplySession
        $request = New-ApprovedRequest -Session $session -Change (New-DataPlatformChange -Duration PT2S)
        $null = $request | Invoke-ApprovedChange -Force
        Invoke-AccessExpiry | Should -BeNullOrEmpty
        Start-Sleep -Seconds 3

        (Invoke-AccessExpiry).RequestId | Should -Be $request.RequestId
        Invoke-AccessExpiry | Should -BeNullOrEmpty
        (Get-GovernanceAuditLog -Event UndoStarted).Details.trigger | Should -Be 'expiry'
    }
}

Describe 'Export-GovernanceAuditLog' {
    It 'writes the ledger as <Format>' -TestCases @(
        @{ Format = 'Json'; Pattern = '^\{"actor":' }
        @{ Format = 'Csv'; Pattern = '^seq,time,event,actor' }
        @{ Format = 'Cef'; Pattern = '^CEF:0\|AgentGovernance\|AgentGovernance\|' }
    ) {
        $session = New-ApplySession
        $null = New-DataPlatformChange | Request-HumanApproval
        $path = Join-Path $session.Folder "audit.$Format"

        $file = Export-GovernanceAuditLog -Path $path -Format $Format -PassThru

        $file.FullName | Should -Be $path
        [System.IO.File]::ReadAllLines($path)[0] | Should -Match $Pattern
    }
}

Describe 'What drift and an undo cannot widen (S5, S9)' {
    It 'refuses a change whose group had its members swapped for as many others' {
        $session = New-ApplySession
        $request = New-ApprovedRequest -Session $session -Change (New-DataPlatformChange)
        # Behind the pipeline's back, Elena leaves Data Platform and Alexis joins it: the same counts.
        $text = [System.IO.File]::ReadAllText($session.Tenant)
        $line = ($text -split "`n") | Where-Object { $_ -match '"id": "g-dataplatform"' }
        [System.IO.File]::WriteAllText($session.Tenant, $text.Replace($line, $line.Replace('"u-elena.petrova"', '"u-alexis.nakamura"')))

        $request | Invoke-ApprovedChange -Force -ErrorAction SilentlyContinue -ErrorVariable stale

        $stale[0] | Get-ErrorId | Should -Be 'ApprovalStale'
        $stale[0].Exception.Message | Should -Match 'u-alexis\.nakamura \(read\)'
        $stale[0].Exception.Message | Should -Not -Match 'principal\(s\) would gain access, '
    }

    It 'refuses a change whose resource was relabelled after approval' {
        $session = New-ApplySession
        $change = New-AccessChange -Grant -ResourceId site-finance -PrincipalId u-alice -Role write -RequestedBy bob@contoso.com
        $request = New-ApprovedRequest -Session $session -Change $change
        $text = [System.IO.File]::ReadAllText($session.Tenant)
        $line = ($text -split "`n") | Where-Object { $_ -match '"id": "site-finance"' }
        $line | Should -Match '"sensitivity": "Confidential"'
        [System.IO.File]::WriteAllText($session.Tenant, $text.Replace($line, $line.Replace('"sensitivity": "Confidential"', '"sensitivity": "HighlyConfidential"')))

        $request | Invoke-ApprovedChange -Force -ErrorAction SilentlyContinue -ErrorVariable stale

        $stale[0] | Get-ErrorId | Should -Be 'ApprovalStale'
        $stale[0].Exception.Message | Should -Match 'labelled HighlyConfidential now, Confidential when approved'
    }

    It 'undoes a grant at once but hands back putting a removed member in again as a change to approve' {
        $session = New-ApplySession
        $path = New-TestFile -Name 'mixed.json' -Content @'
{
  "schema": "agentgovernance/change@1",
  "title": "Move the exports to Data Ops only",
  "requestedBy": "bob@contoso.com",
  "operations": [
    { "op": "grant", "resource": "site-userdata", "principal": "u-alice", "role": "read" },
    { "op": "removeMember", "group": "g-dataops", "member": "u-mika.laine" }
  ]
}
'@
        $request = New-ApprovedRequest -Session $session -Change (Import-AccessChange -LiteralPath $path)
        $null = $request | Invoke-ApprovedChange -Force

        $result = $request | Undo-ApprovedChange -WarningVariable warned

        $result.Outcome | Should -Be 'Undone'
        (Import-AccessSnapshot -LiteralPath $session.Tenant).GetMembers('g-dataops') | Should -Not -Contain 'u-mika.laine'
        (Get-EffectiveAccess -ResourceId site-userdata -PrincipalId u-alice).Role | Should -BeNullOrEmpty
        $result.Withheld | Should -HaveCount 1
        $result.Withheld[0].ToString() | Should -Be 'add u-mika.laine to group g-dataops'
        $warned | Should -Match 'would widen access without approval'
        $followUp = $result.FollowUpChange | Request-HumanApproval -RequestedBy bob@contoso.com
        $followUp.Status | Should -Be 'Pending'
        (Get-GovernanceAuditLog -RequestId $request.RequestId -Event UndoCompleted).Details.withheld | Should -HaveCount 1
    }
}
