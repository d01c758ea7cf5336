# ConvertFrom-AgentSuggestion: what an agent wrote, read without running it, into a change or a refusal.

BeforeDiscovery {
    # One test case per file of the corpus (its expectation sits beside it as name.expected.json).
    function Get-CorpusCase([string] $Folder) {
        Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot "../corpus/suggestions/$Folder") -File |
            Where-Object { $_.Name -notlike '*.expected.json' } |
            ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } }
    }

    $Answers = @(Get-CorpusCase 'answers')
    $Adversarial = @(Get-CorpusCase 'adversarial')
}

BeforeAll {
    . $PSScriptRoot/common.ps1
    $CorpusFolder = Join-Path $RepoRoot 'tests/corpus/suggestions'
    Connect-AgentGovernance -SnapshotPath $DemoSnapshotPath
}

Describe 'ConvertFrom-AgentSuggestion' {
    It 'reads the answer behind the incident as a read grant to All Engineering' {
        $path = Join-Path $CorpusFolder 'answers/incident-pnp.md'
        $change = ConvertFrom-AgentSuggestion -Path $path -SuggestedBy 'Helpdesk Copilot' -Source 'https://forum.contoso.com/t/4411' `
            -RequestedBy bob@contoso.com -WarningVariable approximate -WarningAction SilentlyContinue
        $change | Should -BeOfType ([AgentGovernance.Changes.AccessChange])
        $change.Operations | Should -HaveCount 1
        $change.Operations[0].ToString() | Should -Be 'grant read on site-userdata to g-eng'
        $change.SuggestedBy.Id | Should -Be 'sp-helper'
        $change.SuggestedBy.TextHash | Should -Be ('sha256:' + (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant())
        $approximate | Should -HaveCount 1
        ($change | Test-ExposureRisk -WarningAction SilentlyContinue).RiskLevel | Should -Be 'Critical'
    }

    It 'maps <Name> onto its expected operations' -TestCases $Answers {
        $expected = Get-Content -LiteralPath ($Path -replace '\.[^.]+$', '.expected.json') -Raw | ConvertFrom-Json
        $change = ConvertFrom-AgentSuggestion -LiteralPath $Path -WarningAction SilentlyContinue -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems | Should -BeNullOrEmpty
        $wanted = New-AccessChange -Operation @($expected.operations | ForEach-Object {
                $op = @{}
                $_.PSObject.Properties | ForEach-Object { $op[$_.Name] = $_.Value }
                $op
            })
        @($change.Operations | ForEach-Object ToString) | Should -Be @($wanted.Operations | ForEach-Object ToString)
        $change.Suggestion.Format.ToString() | Should -Be $expected.format
    }

    It 'refuses <Name> with its findings and writes no change' -TestCases $Adversarial {
        $expected = Get-Content -LiteralPath ($Path -replace '\.[^.]+$', '.expected.json') -Raw | ConvertFrom-Json
        $change = ConvertFrom-AgentSuggestion -LiteralPath $Path -ErrorVariable refused -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $change | Should -BeNullOrEmpty
        $refused | Should -HaveCount @($expected.refused).Count
        for ($i = 0; $i -lt $refused.Count; $i++) {
            $refused[$i] | Get-ErrorId | Should -Be $expected.refused[$i].errorId
            $refused[$i].TargetObject.Kind.ToString() | Should -Be $expected.refused[$i].kind
            $refused[$i].TargetObject.Line | Should -Be $expected.refused[$i].line
            $refused[$i].TargetObject.Column | Should -Be $expected.refused[$i].column
        }
    }

    It 'joins the lines Get-Content sends into one suggestion' {
        $path = Join-Path $CorpusFolder 'answers/graph-remove-member.md'
        $change = Get-Content -LiteralPath $path | ConvertFrom-AgentSuggestion
        $change | Should -HaveCount 1
        $change.Operations[0].ToString() | Should -Be 'remove u-joe from group g-dataplatform'
    }

    It 'takes files from Get-ChildItem' {
        $changes = Get-ChildItem -LiteralPath (Join-Path $CorpusFolder 'answers') -Filter 'graph-*.md' |
            ConvertFrom-AgentSuggestion -WarningAction SilentlyContinue
        @($changes).Count | Should -Be @(Get-ChildItem -LiteralPath (Join-Path $CorpusFolder 'answers') -Filter 'graph-*.md').Count
    }

    It 'keeps what maps with -AllowPartial and warns of the rest' {
        $script = "New-MgGroupMember -GroupId g-dataplatform -DirectoryObjectId u-joe`niex `$payload"
        $change = ConvertFrom-AgentSuggestion -InputObject $script -AllowPartial -WarningVariable leftOut -WarningAction SilentlyContinue
        $change.Operations[0].ToString() | Should -Be 'add u-joe to group g-dataplatform'
        $leftOut | Should -HaveCount 1
        $change.Suggestion.Findings[0].Kind.ToString() | Should -Be 'ExecutesCode'
    }

    It 'leaves no trace of a suggestion that would write a file' {
        $marker = Join-Path $TestDrive 'marker.txt'
        $script = "Set-Content -LiteralPath '$marker' -Value x`n[System.IO.File]::WriteAllText('$marker', 'x')`niex `"New-Item '$marker'`""
        ConvertFrom-AgentSuggestion -InputObject $script -ErrorAction SilentlyContinue | Out-Null
        $marker | Should -Not -Exist
    }

    It 'reports <Case> as <ErrorId>' -TestCases @(
        @{ Case = 'an answer with nothing to change'; ErrorId = 'SuggestionEmpty'; Text = 'Get-MgGroup -GroupId g-eng' }
        @{ Case = 'text that is not a suggestion'; ErrorId = 'SuggestionUnparsable'; Text = 'this is not (PowerShell' }
        @{ Case = 'an unknown name'; ErrorId = 'SuggestionUnresolvedName'; Text = 'New-MgGroupMember -GroupId Nobody -DirectoryObjectId u-joe' }
        @{ Case = 'an invalid change document'; ErrorId = 'ChangeInvalid'; Text = '{ "schema": "agentgovernance/change@1", "operations": [] }' }
    ) {
        $change = ConvertFrom-AgentSuggestion -InputObject $Text -ErrorVariable problems -ErrorAction SilentlyContinue
        $change | Should -BeNullOrEmpty
        $problems[0] | Get-ErrorId | Should -Be $ErrorId
    }
}
