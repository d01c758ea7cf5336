# Durations are written as ISO 8601, once, wherever the policy is serialized (ConvertTo-Json, Export-Csv),
# as the policy file spells them; PowerShell still reads each as a TimeSpan through a hidden member.

BeforeAll {
    . $PSScriptRoot/common.ps1
    $path = New-TestFile -Name 'policy.psd1' -Content @'
@{
    ApprovalExpiry = 'PT8H'
    MaxDuration    = 'P7DT12H'
    Notifications  = @{ Mail = @{ From = 'governance@contoso.com' }; ReminderBefore = 'PT90M' }
}
'@
    $script:Policy = Import-GovernancePolicy -Path $path
    $script:Json = $script:Policy | ConvertTo-Json -Depth 4 -WarningAction SilentlyContinue
    $script:Object = $script:Json | ConvertFrom-Json
}

Describe 'The policy''s durations' {
    It '<Name> is written once, as <Iso>, and read by PowerShell as <Expected>' -TestCases @(
        @{ Name = 'ApprovalExpiry'; Iso = 'PT8H'; Expected = [TimeSpan]::FromHours(8); Read = { $script:Object.ApprovalExpiry }; Span = { $script:Policy.ApprovalExpiryTimeSpan } }
        @{ Name = 'MaxDuration'; Iso = 'P7DT12H'; Expected = [TimeSpan]::FromHours(180); Read = { $script:Object.MaxDuration }; Span = { $script:Policy.MaxDurationTimeSpan } }
        @{ Name = 'Notifications.ReminderBefore'; Iso = 'PT1H30M'; Expected = [TimeSpan]::FromMinutes(90); Read = { $script:Object.Notifications.ReminderBefore }; Span = { $script:Policy.Notifications.ReminderBeforeTimeSpan } }
    ) {
        & $Read | Should -BeExactly $Iso
        & $Span | Should -Be $Expected
    }

    It 'no TimeSpan is written field by field, and the TimeSpan members stay out of the JSON' {
        $script:Json | Should -Not -Match '"Ticks"|"TotalSeconds"'
        $script:Json | Should -Not -Match 'TimeSpan'
    }

    It 'the notification channel is written by name' {
        $script:Object.Notifications.Primary | Should -BeExactly 'Mail'
    }

    It 'the built-in defaults read P1D, P30D and PT2H' {
        $default = [AgentGovernance.Policy.GovernancePolicy]::Default
        $default.ApprovalExpiry | Should -BeExactly 'P1D'
        $default.MaxDuration | Should -BeExactly 'P30D'
        $default.Notifications.ReminderBefore | Should -BeExactly 'PT2H'
    }

    It 'Export-Csv writes the ISO text too' {
        $csv = $script:Policy | Select-Object ApprovalExpiry, MaxDuration | ConvertTo-Csv | ConvertFrom-Csv
        $csv.ApprovalExpiry | Should -BeExactly 'PT8H'
        $csv.MaxDuration | Should -BeExactly 'P7DT12H'
    }

    It 'the policy view shows the durations as the policy file spells them' {
        $text = $script:Policy | Out-String -Width 120
        $text | Should -Match 'ApprovalExpiry\s+: PT8H'
        $text | Should -Match 'MaxDuration\s+: P7DT12H'
    }
}
