# Connect-AgentGovernance: the directory and policy of a PowerShell session.

BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'Connect-AgentGovernance' {
    BeforeAll {
        $snapshot = Import-AccessSnapshot -Path $DemoSnapshotPath
        $strictPolicyPath = New-TestFile -Name 'strict.psd1' -Content @'
# Stricter than the defaults
@{
    SensitiveFrom     = 'General'
    HardDeny          = @{ AG002 = 'High' }
    RequiredApprovals = @{ Critical = 3 }
}
'@
    }

    It 'connects a snapshot file and a policy file' {
        $session = Connect-AgentGovernance -SnapshotPath $DemoSnapshotPath -PolicyPath $SamplePolicyPath -PassThru
        $session | Should -BeOfType ([AgentGovernance.Commands.GovernanceSession])
        $session.TenantId | Should -Be 'contoso.onmicrosoft.com'
        $session.Directory | Should -Be (Convert-Path -LiteralPath $DemoSnapshotPath)
        $session.PolicySource | Should -Be (Convert-Path -LiteralPath $SamplePolicyPath)
        $session.Policy.AgentIdentities | Should -Contain 'sp-helper'
    }

    It 'writes nothing without -PassThru' {
        Connect-AgentGovernance -SnapshotPath $DemoSnapshotPath | Should -BeNullOrEmpty
    }

    It 'takes a snapshot from the pipeline' {
        $session = $snapshot | Connect-AgentGovernance -Policy ([AgentGovernance.Policy.GovernancePolicy]::Default) -PassThru
        $session.Snapshot | Should -Be $snapshot
        $session.PolicySource | Should -Be '(built-in defaults)'
    }

    It 'lets the other cmdlets leave out -Snapshot' {
        Connect-AgentGovernance -Snapshot $snapshot -Policy ([AgentGovernance.Policy.GovernancePolicy]::Default)
        $report = Get-ExampleChange -Name 'forum-4411.json' | Test-ExposureRisk
        $report.RiskLevel | Should -Be 'Critical'
        @(Get-EffectiveAccess -ResourceId site-userdata).Count | Should -BeGreaterThan 0
    }

    It 'keeps the snapshot when only the policy changes' {
        Connect-AgentGovernance -Snapshot $snapshot -Policy ([AgentGovernance.Policy.GovernancePolicy]::Default)
        $session = Connect-AgentGovernance -PolicyPath $strictPolicyPath -PassThru
        $session.Snapshot | Should -Be $snapshot
        $session.PolicySource | Should -Be $strictPolicyPath
        $session.Policy.SensitiveFrom | Should -Be 'General'

        $report = Get-ExampleChange -Name 'public-switch.json' | Test-ExposureRisk -WarningAction SilentlyContinue
        $report.Blocked | Should -BeTrue
        $report.BlockingRules | Should -Be @('AG002')
    }

    It 'keeps the policy when only the snapshot changes' {
        Connect-AgentGovernance -Snapshot $snapshot -PolicyPath $strictPolicyPath
        $session = Connect-AgentGovernance -SnapshotPath $DemoSnapshotPath -PassThru
        $session.PolicySource | Should -Be $strictPolicyPath
    }

    It 'stops with <ErrorId> for <Case>, and keeps the session' -TestCases @(
        @{ Case = 'a policy that computes a value'; ErrorId = 'PolicyInvalid'; Policy = "@{ Rules = @{ AG003 = @{ Threshold = 25 * 2 } } }"; Parameters = @{} }
        @{ Case = 'a policy with an unknown key'; ErrorId = 'PolicyInvalid'; Policy = "@{ SensitiveAbove = 'General' }"; Parameters = @{} }
        @{ Case = 'a policy file that does not exist'; ErrorId = 'PolicyNotFound'; Policy = $null; Parameters = @{ PolicyPath = 'no-such-policy.psd1' } }
        @{ Case = 'a snapshot file that does not exist'; ErrorId = 'SnapshotNotFound'; Policy = $null; Parameters = @{ SnapshotPath = 'no-such-snapshot.json' } }
        @{ Case = 'both -Policy and -PolicyPath'; ErrorId = 'PolicyAmbiguous'; Policy = '@{}'; Parameters = @{ Policy = 'Default' } }
    ) {
        # The module's types exist only once BeforeAll has imported it, so test cases name them.
        $default = [AgentGovernance.Policy.GovernancePolicy]::Default
        Connect-AgentGovernance -Snapshot $snapshot -Policy $default
        $arguments = @{} + $Parameters
        if ($arguments['Policy'] -eq 'Default') {
            $arguments['Policy'] = $default
        }

        foreach ($key in @('PolicyPath', 'SnapshotPath')) {
            if ($arguments.ContainsKey($key)) {
                $arguments[$key] = Join-Path $TestDrive $arguments[$key]
            }
        }

        if ($null -ne $Policy) {
            $arguments['PolicyPath'] = New-TestFile -Name 'case.psd1' -Content $Policy
        }

        { Connect-AgentGovernance @arguments } | Should -Throw -ErrorId "$ErrorId,*"

        $session = Connect-AgentGovernance -PassThru
        $session.Snapshot | Should -Be $snapshot
        $session.PolicySource | Should -Be '(built-in defaults)'
    }

    It 'names the file, the line and the key of a bad policy' {
        $path = New-TestFile -Name 'draft.psd1' -Content "@{`n    Rules = @{`n        AG003 = @{ Threshold = 25 * 2 }`n    }`n}"
        $thrown = { Connect-AgentGovernance -PolicyPath $path } | Should -Throw -ErrorId 'PolicyInvalid,*' -PassThru
        $thrown.Exception.Message | Should -BeLike "*draft.psd1:3:*Rules.AG003.Threshold*"
    }

    It 'never runs a policy file (S8)' {
        $marker = Join-Path $TestDrive 'policy-ran.txt'
        $path = New-TestFile -Name 'hostile.psd1' -Content "@{ SensitiveFrom = `$(Set-Content -Path '$marker' -Value ran; 'General') }"
        { Connect-AgentGovernance -PolicyPath $path } | Should -Throw -ErrorId 'PolicyInvalid,*'
        $marker | Should -Not -Exist
    }

    It 'belongs to one runspace' {
        Connect-AgentGovernance -Snapshot $snapshot
        $result = Invoke-InNewRunspace -Script 'Get-EffectiveAccess -ResourceId site-userdata'
        $result.Output | Should -BeNullOrEmpty
        $result.Errors | Should -HaveCount 1
        $result.Errors[0] | Get-ErrorId | Should -Be 'NotConnected'
    }
}
