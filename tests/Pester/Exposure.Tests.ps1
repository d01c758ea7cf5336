# Test-ExposureRisk and Get-EffectiveAccess: the preview of a change, and access as it is.

BeforeAll {
    . $PSScriptRoot/common.ps1
    $snapshot = Import-AccessSnapshot -Path $DemoSnapshotPath
    $defaultPolicy = [AgentGovernance.Policy.GovernancePolicy]::Default
}

Describe 'Test-ExposureRisk' {
    Context 'the incident: an agent suggests a read grant to All Engineering on User Data Exports' {
        BeforeAll {
            $report = Get-ExampleChange -Name 'forum-4411.json' | Test-ExposureRisk -Snapshot $snapshot -Policy $defaultPolicy
        }

        It 'is Critical, not blocked, and needs two approvals' {
            $report | Should -BeOfType ([AgentGovernance.Exposure.ExposureReport])
            $report.RiskLevel | Should -Be 'Critical'
            $report.Blocked | Should -BeFalse
            $report.RequiredApprovals | Should -Be 2
            $report.ChangeId | Should -Be (Get-ExampleChange -Name 'forum-4411.json').Id
        }

        It 'says in numbers who would newly reach the data' {
            $report.PrincipalsGained | Should -Be 315
            $report.GainedMembers | Should -Be 305
            $report.GainedGuests | Should -Be 8
            $report.GainedServicePrincipals | Should -Be 1
            $report.GainedAgents | Should -Be 1
            $report.GainedAnonymous | Should -BeFalse
            $report.PrincipalsLost | Should -Be 0
        }

        It 'lists the one resource that changes, and everyone who gains it' {
            $report.Resources | Should -HaveCount 1
            $resource = $report.Resources[0]
            $resource.ResourceId | Should -Be 'site-userdata'
            $resource.Sensitivity | Should -Be 'HighlyConfidential'
            $resource.PersonalData | Should -BeTrue
            $resource.GainedCount | Should -Be 315
            $resource.Gained | Should -HaveCount 315
            $resource.Gained | ForEach-Object {
                $_.ResourceId | Should -Be 'site-userdata'
                $_.Before | Should -Be 'None'
                $_.After | Should -Be 'Read'
            }
            $resource.Gained.PrincipalId | Should -Contain 'u-joe'
            $resource.Gained.PrincipalId | Should -Contain 'sp-helper'
        }

        It 'reports <RuleId> at <Severity>' -TestCases @(
            @{ RuleId = 'AG002'; Severity = 'Critical' }
            @{ RuleId = 'AG003'; Severity = 'High' }
            @{ RuleId = 'AG004'; Severity = 'High' }
            @{ RuleId = 'AG005'; Severity = 'Critical' }
            @{ RuleId = 'AG006'; Severity = 'High' }
            @{ RuleId = 'AG007'; Severity = 'High' }
            @{ RuleId = 'AG010'; Severity = 'Low' }
        ) {
            $findings = @($report.Findings | Where-Object RuleId -EQ $RuleId)
            $findings.Count | Should -BeGreaterThan 0
            $findings | ForEach-Object {
                $_.Severity | Should -Be $Severity
                $_.ResourceId | Should -Be 'site-userdata'
                $_.Message | Should -Not -BeNullOrEmpty
            }
        }

        It 'sorts the findings worst first' {
            $severities = @($report.Findings | ForEach-Object { [int]$_.Severity })
            $severities | Should -Be @($severities | Sort-Object -Descending)
        }

        It 'explains how a guest would get in' {
            $report.Explain('u-joe', 'site-userdata').ToString() | Should -Be 'u-joe -> g-dataplatform -> g-eng : read'
        }

        It 'changes nothing in the snapshot' {
            $before = @(Get-EffectiveAccess -Snapshot $snapshot -ResourceId site-userdata).Count
            $null = Get-ExampleChange -Name 'forum-4411.json' | Test-ExposureRisk -Snapshot $snapshot -Policy $defaultPolicy
            @(Get-EffectiveAccess -Snapshot $snapshot -ResourceId site-userdata).Count | Should -Be $before
            $before | Should -BeLessThan 315
        }
    }

    Context 'the example changes' {
        It '<File> is <RiskLevel>, blocked: <Blocked>' -TestCases @(
            @{ File = 'anonymous-link.json'; RiskLevel = 'Critical'; Blocked = $true; BlockingRules = @('AG001'); Approvals = 2 }
            @{ File = 'forum-4411.json'; RiskLevel = 'Critical'; Blocked = $false; BlockingRules = @(); Approvals = 2 }
            @{ File = 'grant-small.json'; RiskLevel = 'High'; Blocked = $false; BlockingRules = @(); Approvals = 2 }
            @{ File = 'public-switch.json'; RiskLevel = 'High'; Blocked = $false; BlockingRules = @(); Approvals = 2 }
            @{ File = 'revoke-guest.json'; RiskLevel = 'None'; Blocked = $false; BlockingRules = @(); Approvals = 1 }
        ) {
            $report = Get-ExampleChange -Name $File | Test-ExposureRisk -Snapshot $snapshot -Policy $defaultPolicy -WarningAction SilentlyContinue
            $report.RiskLevel | Should -Be $RiskLevel
            $report.Blocked | Should -Be $Blocked
            @($report.BlockingRules) | Should -Be $BlockingRules
            $report.RequiredApprovals | Should -Be $Approvals
        }

        It 'warns when policy blocks a change outright' {
            $report = Get-ExampleChange -Name 'anonymous-link.json' | Test-ExposureRisk -Snapshot $snapshot -Policy $defaultPolicy -WarningVariable warnings -WarningAction SilentlyContinue
            $report.GainedAnonymous | Should -BeTrue
            $report.PrincipalsGained | Should -Be 0
            ($report.Findings | Where-Object RuleId -EQ 'AG001').HardDeny | Should -BeTrue
            $warnings | Should -HaveCount 1
            "$($warnings[0])" | Should -BeLike '*AG001*'
        }

        It 'counts who loses access when a guest is removed' {
            $report = Get-ExampleChange -Name 'revoke-guest.json' | Test-ExposureRisk -Snapshot $snapshot -Policy $defaultPolicy
            $report.PrincipalsGained | Should -Be 0
            $report.PrincipalsLost | Should -Be 1
            $report.Findings | Should -BeNullOrEmpty
            $report.Resources | ForEach-Object { $_.Lost.PrincipalId | Should -Be 'u-joe' }
        }

        It 'gives a report for each piped change' {
            $changes = @(Import-AccessChange -Path (Join-Path $ChangesFolder '*.json'))
            $reports = @($changes | Test-ExposureRisk -Snapshot $snapshot -Policy $defaultPolicy -WarningAction SilentlyContinue)
            $reports.Count | Should -Be $changes.Count
            $reports.ChangeId | Should -Be $changes.Id
        }

        It 'notes an operation that changes nothing' {
            $change = New-AccessChange -AddMember -GroupId g-dataplatform -MemberId u-joe
            $report = $change | Test-ExposureRisk -Snapshot $snapshot -Policy $defaultPolicy -WarningVariable warnings -WarningAction SilentlyContinue
            $report.RiskLevel | Should -Be 'None'
            $report.Resources | Should -BeNullOrEmpty
            $report.Notes | Should -HaveCount 1
            $warnings | Should -HaveCount 1
        }
    }

    Context 'rules' {
        It 'reports <RuleId> for <Case>' -TestCases @(
            @{ Case = 'an anonymous link to a sensitive file'; RuleId = 'AG001'; Severity = 'Critical'; Parameters = @{ CreateLink = 'Anonymous'; ResourceId = 'item-roadmap'; Duration = 'PT8H' } }
            @{ Case = 'an organization link to a sensitive file'; RuleId = 'AG002'; Severity = 'High'; Parameters = @{ CreateLink = 'Organization'; ResourceId = 'item-roadmap'; Duration = 'PT8H' } }
            @{ Case = 'a guest added to Data Ops'; RuleId = 'AG004'; Severity = 'High'; Parameters = @{ AddMember = $true; GroupId = 'g-dataops'; MemberId = 'u-joe'; Duration = 'PT2H' } }
            @{ Case = 'an agent granted the payroll site'; RuleId = 'AG006'; Severity = 'High'; Parameters = @{ Grant = $true; ResourceId = 'site-payroll'; PrincipalId = 'sp-opsagent'; Duration = 'PT2H' } }
            @{ Case = 'a requester granting herself access'; RuleId = 'AG007'; Severity = 'High'; Parameters = @{ Grant = $true; ResourceId = 'site-support-kb'; PrincipalId = 'u-alice'; RequestedBy = 'alice@contoso.com'; Duration = 'PT8H' } }
            @{ Case = 'a user made User Administrator'; RuleId = 'AG008'; Severity = 'Critical'; Parameters = @{ Grant = $true; ResourceId = 'role-user-admin'; PrincipalId = 'u-alice'; Duration = 'PT1H' } }
            @{ Case = 'owner granted on a sensitive site'; RuleId = 'AG009'; Severity = 'Medium'; Parameters = @{ Grant = $true; ResourceId = 'site-legal'; PrincipalId = 'u-alice'; Role = 'owner'; Duration = 'P1D' } }
            @{ Case = 'a sensitive grant with no duration'; RuleId = 'AG010'; Severity = 'Low'; Parameters = @{ Grant = $true; ResourceId = 'site-legal'; PrincipalId = 'u-alice' } }
        ) {
            $report = New-AccessChange @Parameters | Test-ExposureRisk -Snapshot $snapshot -Policy $defaultPolicy -WarningAction SilentlyContinue
            $finding = @($report.Findings | Where-Object RuleId -EQ $RuleId)
            $finding.Count | Should -BeGreaterThan 0
            $finding[0].Severity | Should -Be $Severity
            $report.RiskLevel -ge $finding[0].Severity | Should -BeTrue
        }
    }

    Context 'the session and the policy' {
        BeforeAll {
            $strictPolicyPath = New-TestFile -Name 'strict.psd1' -Content "@{ SensitiveFrom = 'General'; HardDeny = @{ AG002 = 'High' }; RequiredApprovals = @{ Critical = 3 } }"
        }

        AfterAll {
            Connect-AgentGovernance -Snapshot $snapshot -Policy $defaultPolicy
        }

        It "uses the session's snapshot and policy when they are left out" {
            Connect-AgentGovernance -Snapshot $snapshot -PolicyPath $strictPolicyPath
            $report = Get-ExampleChange -Name 'public-switch.json' | Test-ExposureRisk -WarningAction SilentlyContinue
            $report.Blocked | Should -BeTrue
            @($report.BlockingRules) | Should -Be @('AG002')

            $incident = Get-ExampleChange -Name 'forum-4411.json' | Test-ExposureRisk -WarningAction SilentlyContinue
            $incident.RequiredApprovals | Should -Be 3
        }

        It 'lets -Policy override the session policy' {
            Connect-AgentGovernance -Snapshot $snapshot -PolicyPath $strictPolicyPath
            $report = Get-ExampleChange -Name 'public-switch.json' | Test-ExposureRisk -Policy $defaultPolicy
            $report.Blocked | Should -BeFalse
        }

        It 'stops with NotConnected when there is no snapshot' {
            $result = Invoke-InNewRunspace -Script "Import-AccessChange -LiteralPath '$(Join-Path $ChangesFolder 'forum-4411.json')' | Test-ExposureRisk"
            $result.Output | Should -BeNullOrEmpty
            $result.Errors | Should -HaveCount 1
            $result.Errors[0] | Get-ErrorId | Should -Be 'NotConnected'
        }
    }

    Context 'changes that do not fit the directory' {
        It 'reports <ErrorId> for <Case>, and goes on with the next change' -TestCases @(
            @{ Case = 'a principal that does not exist'; ErrorId = 'UnknownPrincipal'; Parameters = @{ Grant = $true; ResourceId = 'site-finance'; PrincipalId = 'g-finance-readers' } }
            @{ Case = 'a resource that does not exist'; ErrorId = 'UnknownResource'; Parameters = @{ Grant = $true; ResourceId = 'site-nope'; PrincipalId = 'g-sales' } }
            @{ Case = 'a member added to a user'; ErrorId = 'NotAGroup'; Parameters = @{ AddMember = $true; GroupId = 'u-alice'; MemberId = 'u-joe' } }
            @{ Case = 'a grant that is not there to revoke'; ErrorId = 'GrantNotFound'; Parameters = @{ Revoke = $true; ResourceId = 'site-userdata'; PrincipalId = 'g-eng' } }
            @{ Case = 'a member that is not there to remove'; ErrorId = 'MemberNotFound'; Parameters = @{ RemoveMember = $true; GroupId = 'g-sales'; MemberId = 'u-joe' } }
            @{ Case = 'a group added to itself'; ErrorId = 'ChangeInvalid'; Parameters = @{ AddMember = $true; GroupId = 'g-eng'; MemberId = 'g-eng' } }
        ) {
            $changes = @((New-AccessChange @Parameters), (Get-ExampleChange -Name 'grant-small.json'))
            $reports = @($changes | Test-ExposureRisk -Snapshot $snapshot -Policy $defaultPolicy -ErrorVariable problems -ErrorAction SilentlyContinue)
            $reports.Count | Should -Be 1
            $reports[0].ChangeId | Should -Be $changes[1].Id
            $problems | Should -HaveCount 1
            $problems[0] | Get-ErrorId | Should -Be $ErrorId
            $problems[0].Exception.Message | Should -Not -BeNullOrEmpty
        }
    }
}

Describe 'Get-EffectiveAccess' {
    BeforeAll {
        Connect-AgentGovernance -Snapshot $snapshot -Policy $defaultPolicy
    }

    It 'lists who can read User Data Exports, and why' {
        $access = @(Get-EffectiveAccess -ResourceId site-userdata)
        $access.Count | Should -BeGreaterThan 0
        $access | ForEach-Object {
            $_ | Should -BeOfType ([AgentGovernance.Exposure.EffectiveAccessEntry])
            $_.ResourceId | Should -Be 'site-userdata'
            $_.Role | Should -Be 'Read'
            $_.Path.ToString() | Should -BeLike '* -> g-dataops : read'
        }
        $access.PrincipalId | Should -Contain 'u-carol'
    }

    It 'takes -ResourceId by position and -Snapshot by name' {
        @(Get-EffectiveAccess site-userdata -Snapshot $snapshot).Count | Should -Be @(Get-EffectiveAccess -ResourceId site-userdata).Count
    }

    It 'finds a principal by user principal name' {
        $access = @(Get-EffectiveAccess -PrincipalId bob@contoso.com)
        $access.Count | Should -BeGreaterThan 0
        $access | ForEach-Object { $_.PrincipalId | Should -Be 'u-bob' }
    }

    It 'narrows a principal to one resource, with the path through nested groups' {
        $entry = Get-EffectiveAccess -PrincipalId u-joe -ResourceId site-mobile
        $entry | Should -HaveCount 1
        $entry.Role | Should -Be 'Write'
        $entry.Path.Via | Should -Be 'Grant'
        $entry.Path.Steps[0] | Should -Be 'u-joe'
        $entry.Path.Steps[-1] | Should -Be 'g-mobile'
    }

    It 'reaches tenant-wide audiences' {
        $entry = Get-EffectiveAccess -PrincipalId u-joe -ResourceId item-brand
        $entry.Path.Via | Should -Be 'Audience'
        $entry.Path.GrantedTo | Should -Be 'everyone'
    }

    It "gives every enabled member read access to a Public group's resources, and guests none that way" {
        $access = @(Get-EffectiveAccess -ResourceId site-social)
        $public = @($access | Where-Object { $_.Path.Via -eq 'PublicGroup' })
        $public.Count | Should -BeGreaterThan 0
        $public | ForEach-Object { $_.UserType | Should -Be 'Member' }
    }

    It 'gives disabled users nothing' {
        $disabled = @($snapshot.Principals | Where-Object { $_.Type -eq 'User' -and -not $_.AccountEnabled })
        $disabled.Count | Should -BeGreaterThan 0
        $disabled | ForEach-Object { Get-EffectiveAccess -PrincipalId $_.Id | Should -BeNullOrEmpty }
    }

    It 'takes ResourceId from piped findings' {
        $report = Get-ExampleChange -Name 'public-switch.json' | Test-ExposureRisk -Snapshot $snapshot -Policy $defaultPolicy
        $flagged = @($report.Findings.ResourceId | Select-Object -Unique)
        $access = @($report.Findings | Where-Object RuleId -EQ 'AG003' | Get-EffectiveAccess)
        $access.Count | Should -BeGreaterThan 0
        $access.ResourceId | Select-Object -Unique | ForEach-Object { $flagged | Should -Contain $_ }
    }

    It 'reports <ErrorId> for <Case>' -TestCases @(
        @{ Case = 'a resource that does not exist'; ErrorId = 'UnknownResource'; Parameters = @{ ResourceId = 'site-userdata2' } }
        @{ Case = 'a principal that does not exist'; ErrorId = 'UnknownPrincipal'; Parameters = @{ PrincipalId = 'dave@contoso.com' } }
        @{ Case = 'a principal and a resource that does not exist'; ErrorId = 'UnknownResource'; Parameters = @{ PrincipalId = 'u-alice'; ResourceId = 'site-nope' } }
    ) {
        Get-EffectiveAccess @Parameters -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems | Should -HaveCount 1
        $problems[0] | Get-ErrorId | Should -Be $ErrorId
        $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'reports <ErrorId> for <Case>, an invalid argument' -TestCases @(
        @{ Case = 'neither a resource nor a principal'; ErrorId = 'ResourceOrPrincipalRequired'; Parameters = @{} }
        @{ Case = 'an audience as the principal'; ErrorId = 'AudienceNotAPrincipal'; Parameters = @{ PrincipalId = 'everyone' } }
    ) {
        Get-EffectiveAccess @Parameters -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems | Should -HaveCount 1
        $problems[0] | Get-ErrorId | Should -Be $ErrorId
        $problems[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'explains how a piped entry reaches its resource when it has both ids' {
        $report = Get-ExampleChange -Name 'revoke-guest.json' | Test-ExposureRisk -Snapshot $snapshot -Policy $defaultPolicy
        $lost = @($report.Resources.Lost)
        $access = @($lost | Get-EffectiveAccess)
        $access.Count | Should -Be $lost.Count
        $access.PrincipalId | Select-Object -Unique | Should -Be 'u-joe'
        $access.ResourceId | Should -Be $lost.ResourceId
    }

    It 'stops with NotConnected when there is no snapshot' {
        $result = Invoke-InNewRunspace -Script 'Get-EffectiveAccess -PrincipalId u-joe'
        $result.Errors | Should -HaveCount 1
        $result.Errors[0] | Get-ErrorId | Should -Be 'NotConnected'
    }
}
