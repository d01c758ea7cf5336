# Import-GovernancePolicy: a policy file read as data, never run.

BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'Import-GovernancePolicy' {
    It 'reads the sample policy' {
        $policy = Import-GovernancePolicy -Path $SamplePolicyPath
        $policy | Should -BeOfType ([AgentGovernance.Policy.GovernancePolicy])
        $policy.Source | Should -Be (Convert-Path -LiteralPath $SamplePolicyPath)
        $policy.AgentIdentities | Should -Contain 'sp-helper'
        $policy.RequiredApprovals([AgentGovernance.Exposure.RiskLevel]::Critical) | Should -Be 2
    }

    It 'gives Test-ExposureRisk a stricter verdict' {
        $strict = Import-GovernancePolicy -Path (New-TestFile -Name 'strict.psd1' -Content "@{ RequiredApprovals = @{ High = 3; Critical = 4 } }")
        $snapshot = Import-AccessSnapshot -Path $DemoSnapshotPath
        $report = Get-ExampleChange -Name 'forum-4411.json' | Test-ExposureRisk -Snapshot $snapshot -Policy $strict
        $report.RiskLevel | Should -Be 'Critical'
        $report.RequiredApprovals | Should -Be 4
    }

    It 'refuses <Name> without running it' -TestCases @(
        @{ Name = 'a sub-expression'; Content = '@{ SensitiveFrom = "$(New-Item -Path marker.txt)" }' }
        @{ Name = 'a command'; Content = '@{ SensitiveFrom = (Get-Date) }' }
        @{ Name = 'an unknown key'; Content = '@{ SensitiveForm = ''Confidential'' }' }
        @{ Name = 'a using statement'; Content = "using module ./evil.psm1`n@{}" }
    ) {
        param($Name, $Content)
        $path = New-TestFile -Name 'bad.psd1' -Content $Content
        Import-GovernancePolicy -Path $path -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems | Get-ErrorId | Should -Be 'PolicyInvalid'
        Join-Path $TestDrive 'marker.txt' | Should -Not -Exist
    }

    It 'says PolicyNotFound for a missing file' {
        Import-GovernancePolicy -Path (Join-Path $TestDrive 'nothere.psd1') -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems | Get-ErrorId | Should -Be 'PolicyNotFound'
    }
}
