# New-AccessChange, Import-AccessChange and Export-AccessChange: proposed changes, built or on disk.

BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'New-AccessChange' {
    It 'builds <Case>' -TestCases @(
        @{ Case = 'a grant, read by default'; Parameters = @{ Grant = $true; ResourceId = 'site-finance'; PrincipalId = 'g-sales' }; Expected = 'grant read on site-finance to g-sales'; Op = 'grant' }
        @{ Case = 'a grant of another role'; Parameters = @{ Grant = $true; ResourceId = 'item-oncall'; PrincipalId = 'sp-opsagent'; Role = 'write' }; Expected = 'grant write on item-oncall to sp-opsagent'; Op = 'grant' }
        @{ Case = 'a revocation'; Parameters = @{ Revoke = $true; ResourceId = 'site-userdata'; PrincipalId = 'g-dataops' }; Expected = 'revoke read on site-userdata from g-dataops'; Op = 'revoke' }
        @{ Case = 'a new member'; Parameters = @{ AddMember = $true; GroupId = 'g-dataops'; MemberId = 'u-joe' }; Expected = 'add u-joe to group g-dataops'; Op = 'addMember' }
        @{ Case = 'a removed member'; Parameters = @{ RemoveMember = $true; GroupId = 'g-dataplatform'; MemberId = 'u-joe' }; Expected = 'remove u-joe from group g-dataplatform'; Op = 'removeMember' }
        @{ Case = 'a visibility switch'; Parameters = @{ SetVisibility = 'Public'; GroupId = 'g-launch' }; Expected = 'make group g-launch Public'; Op = 'setVisibility' }
        @{ Case = 'an anonymous link'; Parameters = @{ CreateLink = 'Anonymous'; ResourceId = 'item-pricing' }; Expected = 'create anonymous read link to item-pricing'; Op = 'createLink' }
        @{ Case = 'an organization link'; Parameters = @{ CreateLink = 'Organization'; ResourceId = 'item-roadmap'; Role = 'write' }; Expected = 'create organization write link to item-roadmap'; Op = 'createLink' }
    ) {
        $change = New-AccessChange @Parameters
        $change | Should -BeOfType ([AgentGovernance.Changes.AccessChange])
        $change.Operations | Should -HaveCount 1
        $change.Operations[0].OpName | Should -Be $Op
        $change.Operations[0].ToString() | Should -Be $Expected
        $change.Id | Should -Match '^sha256:[0-9a-f]{64}$'
    }

    It 'takes several operations as hashtables' {
        $change = New-AccessChange -Operation @(
            @{ op = 'addMember'; group = 'g-launch'; member = 'u-alice' }
            @{ op = 'grant'; resource = 'item-launch-plan'; principal = 'g-marketing'; role = 'write' }
        ) -Title 'Launch prep'
        $change.Operations | Should -HaveCount 2
        $change.Operations[0].ToString() | Should -Be 'add u-alice to group g-launch'
        $change.Operations[1].ToString() | Should -Be 'grant write on item-launch-plan to g-marketing'
    }

    It "takes another change's operations" {
        $first = New-AccessChange -Grant -ResourceId site-finance -PrincipalId g-sales
        $second = New-AccessChange -Operation $first.Operations -Title 'Same operations, new title'
        $second.Operations[0].ToString() | Should -Be 'grant read on site-finance to g-sales'
        $second.Id | Should -Not -Be $first.Id
    }

    It 'records who suggested it, who asks for it, why, and for how long' {
        $change = New-AccessChange -Grant -ResourceId site-finance -PrincipalId g-sales -Title 'Sales reads the finance site' `
            -Justification 'Quarter-end review' -SuggestedBy sp-salesbot -SuggestedByName 'Sales Assistant' `
            -SuggestionSource 'https://crm.contoso.com/cases/7781' -RequestedBy ethan.cole@contoso.com -Duration PT8H
        $change.Title | Should -Be 'Sales reads the finance site'
        $change.Justification | Should -Be 'Quarter-end review'
        $change.SuggestedBy.Type | Should -Be 'agent'
        $change.SuggestedBy.Id | Should -Be 'sp-salesbot'
        $change.SuggestedBy.DisplayName | Should -Be 'Sales Assistant'
        $change.SuggestedBy.Source | Should -Be 'https://crm.contoso.com/cases/7781'
        $change.RequestedBy | Should -Be 'ethan.cole@contoso.com'
        $change.Duration | Should -Be 'PT8H'
        $change.DurationTimeSpan | Should -Be ([TimeSpan]::FromHours(8))
    }

    It 'takes a duration as <Case>' -TestCases @(
        @{ Case = 'a TimeSpan'; Duration = [TimeSpan]::FromHours(2); Expected = 'PT2H' }
        @{ Case = 'an ISO 8601 string'; Duration = 'P1D'; Expected = 'P1D' }
    ) {
        (New-AccessChange -Grant -ResourceId site-finance -PrincipalId g-sales -Duration $Duration).Duration | Should -Be $Expected
    }

    It 'gives the same change the same id, and any edit a new one' {
        $a = New-AccessChange -Grant -ResourceId site-finance -PrincipalId g-sales -Title 'Finance'
        $b = New-AccessChange -Grant -ResourceId site-finance -PrincipalId g-sales -Title 'Finance'
        $c = New-AccessChange -Grant -ResourceId site-finance -PrincipalId g-sales -Title 'Finance.'
        $d = New-AccessChange -Grant -ResourceId site-finance -PrincipalId g-sales -Title 'Finance' -Role write
        $b.Id | Should -Be $a.Id
        $c.Id | Should -Not -Be $a.Id
        $d.Id | Should -Not -Be $a.Id
    }

    It 'stops with ChangeInvalid for <Case>' -TestCases @(
        @{ Case = 'a duration that is not ISO 8601'; Parameters = @{ Grant = $true; ResourceId = 'site-finance'; PrincipalId = 'g-sales'; Duration = '2 hours' } }
        @{ Case = 'a zero duration'; Parameters = @{ Grant = $true; ResourceId = 'site-finance'; PrincipalId = 'g-sales'; Duration = [TimeSpan]::Zero } }
        @{ Case = 'a duration that is a number'; Parameters = @{ Grant = $true; ResourceId = 'site-finance'; PrincipalId = 'g-sales'; Duration = 5 } }
        @{ Case = 'an operation without its principal'; Parameters = @{ Operation = @(@{ op = 'grant'; resource = 'site-finance' }) } }
        @{ Case = 'an unknown operation'; Parameters = @{ Operation = @(@{ op = 'delete'; resource = 'site-finance' }) } }
        @{ Case = 'an operation with an unknown field'; Parameters = @{ Operation = @(@{ op = 'grant'; resource = 'site-finance'; principal = 'g-sales'; role = 'read'; expires = 'tomorrow' }) } }
        @{ Case = 'an operation that is a string'; Parameters = @{ Operation = @('grant read on site-finance to g-sales') } }
    ) {
        { New-AccessChange @Parameters } | Should -Throw -ErrorId 'ChangeInvalid,*'
    }

    It 'refuses a value outside <Parameter>''s accepted values' -TestCases @(
        @{ Parameter = 'SetVisibility'; Parameters = @{ SetVisibility = 'Hidden'; GroupId = 'g-launch' } }
        @{ Parameter = 'CreateLink'; Parameters = @{ CreateLink = 'Everyone'; ResourceId = 'item-roadmap' } }
        @{ Parameter = 'SuggestedByType'; Parameters = @{ Grant = $true; ResourceId = 'site-finance'; PrincipalId = 'g-sales'; SuggestedByType = 'robot' } }
    ) {
        { New-AccessChange @Parameters } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }
}

Describe 'Import-AccessChange' {
    It 'reads every example change' {
        $files = @(Get-ChildItem -LiteralPath $ChangesFolder -Filter '*.json')
        $changes = @(Import-AccessChange -Path (Join-Path $ChangesFolder '*.json'))
        $changes.Count | Should -Be $files.Count
        $changes | ForEach-Object { $_.Id | Should -Match '^sha256:[0-9a-f]{64}$' }
        @($changes.Id | Select-Object -Unique).Count | Should -Be $files.Count
    }

    It 'reads the change from the incident' {
        $change = Get-ExampleChange -Name 'forum-4411.json'
        $change.Title | Should -Be 'Let Data Platform read the pipeline exports'
        $change.SuggestedBy.Id | Should -Be 'sp-helper'
        $change.SuggestedBy.IsAgent | Should -BeTrue
        $change.RequestedBy | Should -Be 'bob@contoso.com'
        $change.Duration | Should -BeNullOrEmpty
        $change.Operations | Should -HaveCount 1
        $change.Operations[0].ToString() | Should -Be 'grant read on site-userdata to g-eng'
        $change.Source | Should -Be (Join-Path $ChangesFolder 'forum-4411.json')
    }

    It 'takes files from Get-ChildItem' {
        $files = @(Get-ChildItem -LiteralPath $ChangesFolder -Filter '*.json')
        @($files | Import-AccessChange).Count | Should -Be $files.Count
    }

    It 'takes paths from the pipeline' {
        $paths = @('forum-4411.json', 'grant-small.json') | ForEach-Object { Join-Path $ChangesFolder $_ }
        @($paths | Import-AccessChange).Title | Should -Be @('Let Data Platform read the pipeline exports', "Read access to the Support Knowledge Base for tonight's on-call")
    }

    It 'rejects <Case> with ChangeInvalid naming the file and <Field>' -TestCases @(
        @{ Case = 'text that is not JSON'; Field = 'not valid JSON'; Content = '{ "schema": ' }
        @{ Case = 'an unknown schema'; Field = 'schema'; Content = '{ "schema": "agentgovernance/change@2", "operations": [ { "op": "grant", "resource": "r", "principal": "p", "role": "read" } ] }' }
        @{ Case = 'an unknown field in an operation'; Field = 'operations[0].extra'; Content = '{ "schema": "agentgovernance/change@1", "operations": [ { "op": "grant", "resource": "r", "principal": "p", "role": "read", "extra": 1 } ] }' }
        @{ Case = 'an unknown top-level field'; Field = 'colour'; Content = '{ "schema": "agentgovernance/change@1", "colour": "blue", "operations": [ { "op": "grant", "resource": "r", "principal": "p", "role": "read" } ] }' }
        @{ Case = 'no operations'; Field = 'operations'; Content = '{ "schema": "agentgovernance/change@1", "operations": [] }' }
        @{ Case = 'a missing operations field'; Field = 'operations'; Content = '{ "schema": "agentgovernance/change@1", "title": "x" }' }
        @{ Case = 'a duration that is not ISO 8601'; Field = 'duration'; Content = '{ "schema": "agentgovernance/change@1", "duration": "2 hours", "operations": [ { "op": "grant", "resource": "r", "principal": "p", "role": "read" } ] }' }
        @{ Case = 'an unknown operation'; Field = 'operations[0].op'; Content = '{ "schema": "agentgovernance/change@1", "operations": [ { "op": "delete", "resource": "r" } ] }' }
        @{ Case = 'a grant without its principal'; Field = 'operations[0]'; Content = '{ "schema": "agentgovernance/change@1", "operations": [ { "op": "grant", "resource": "r" } ] }' }
        @{ Case = 'a title that is not a string'; Field = 'title'; Content = '{ "schema": "agentgovernance/change@1", "title": 5, "operations": [ { "op": "grant", "resource": "r", "principal": "p", "role": "read" } ] }' }
    ) {
        $path = New-TestFile -Name 'invalid.change.json' -Content $Content
        $result = Import-AccessChange -LiteralPath $path -ErrorVariable problems -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $problems | Should -HaveCount 1
        $problems[0] | Get-ErrorId | Should -Be 'ChangeInvalid'
        $problems[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $problems[0].Exception.Message | Should -BeLike '*invalid.change.json:*'
        $problems[0].Exception.Message | Should -BeLike "*: $([WildcardPattern]::Escape($Field))*"
    }

    It 'reports a bad document and goes on with the next' {
        $bad = New-TestFile -Name 'bad.change.json' -Content '{ "schema": "agentgovernance/change@1", "operations": [] }'
        $good = Join-Path $ChangesFolder 'grant-small.json'
        $result = Import-AccessChange -LiteralPath $bad, $good -ErrorVariable problems -ErrorAction SilentlyContinue
        $result | Should -HaveCount 1
        $result.Title | Should -Be "Read access to the Support Knowledge Base for tonight's on-call"
        $problems | Should -HaveCount 1
        $problems[0].TargetObject | Should -BeLike '*bad.change.json'
    }

    It 'reports a missing file as <ErrorId> with -<Parameter>' -TestCases @(
        @{ Parameter = 'Path'; ErrorId = 'ChangeNotFound' }
        @{ Parameter = 'LiteralPath'; ErrorId = 'ChangeNotFound' }
    ) {
        $arguments = @{ $Parameter = (Join-Path $TestDrive 'missing.change.json') }
        Import-AccessChange @arguments -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems | Should -HaveCount 1
        $problems[0] | Get-ErrorId | Should -Be $ErrorId
    }

    It 'never runs what a document contains (S8)' {
        $marker = Join-Path $TestDrive 'ran.txt'
        $title = '$(Set-Content -Path ''' + $marker + ''' -Value ran)'
        $document = @{ schema = 'agentgovernance/change@1'; title = $title; operations = @(@{ op = 'grant'; resource = 'r'; principal = 'p'; role = 'read' }) } |
            ConvertTo-Json -Depth 5
        $path = New-TestFile -Name 'hostile.change.json' -Content $document
        $change = Import-AccessChange -LiteralPath $path
        $change.Title | Should -Be $title
        $marker | Should -Not -Exist
    }
}

Describe 'Export-AccessChange' {
    It 'writes a document that reads back with the same id' {
        $change = Get-ExampleChange -Name 'forum-4411.json'
        $path = Join-Path $TestDrive 'forum-4411.json'
        $file = $change | Export-AccessChange -Path $path -PassThru
        $file | Should -BeOfType ([System.IO.FileInfo])
        (Import-AccessChange -LiteralPath $file.FullName).Id | Should -Be $change.Id
        ($file | Import-AccessChange).Id | Should -Be $change.Id
    }

    It 'writes the same bytes for the same change' {
        $change = New-AccessChange -Grant -ResourceId site-finance -PrincipalId g-sales -Title 'Sales reads the finance site' -Duration PT8H
        $first = Join-Path $TestDrive 'same-1.json'
        $second = Join-Path $TestDrive 'same-2.json'
        $change | Export-AccessChange -Path $first
        Import-AccessChange -LiteralPath $first | Export-AccessChange -Path $second
        (Get-FileHash -LiteralPath $second).Hash | Should -Be (Get-FileHash -LiteralPath $first).Hash
    }

    It 'writes each change into a folder named by the first 16 hex digits of its id, then .json' {
        $folder = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'proposals')).FullName
        $changes = @(Import-AccessChange -Path (Join-Path $ChangesFolder '*.json'))
        $files = @($changes | Export-AccessChange -Path $folder -PassThru)
        $files.Count | Should -Be $changes.Count
        $expected = $changes | ForEach-Object { $_.Id.Substring('sha256:'.Length, 16) + '.json' }
        ($files.Name | Sort-Object) | Should -Be ($expected | Sort-Object)
    }

    It 'refuses a second change to the same file' {
        $path = Join-Path $TestDrive 'one.json'
        $changes = @((Get-ExampleChange -Name 'grant-small.json'), (Get-ExampleChange -Name 'revoke-guest.json'))
        $changes | Export-AccessChange -Path $path -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems | Should -HaveCount 1
        $problems[0] | Get-ErrorId | Should -Be 'SeveralChangesOneFile'
        $problems[0].TargetObject.Id | Should -Be $changes[1].Id
        (Import-AccessChange -LiteralPath $path).Id | Should -Be $changes[0].Id
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $TestDrive 'whatif.json'
        Get-ExampleChange -Name 'forum-4411.json' | Export-AccessChange -Path $path -WhatIf
        $path | Should -Not -Exist
    }

    It 'keeps an existing file with -NoClobber' {
        $path = New-TestFile -Name 'existing.change.json' -Content 'keep me'
        Get-ExampleChange -Name 'forum-4411.json' | Export-AccessChange -Path $path -NoClobber -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems | Should -HaveCount 1
        $problems[0] | Get-ErrorId | Should -Be 'FileExists'
        Get-Content -LiteralPath $path -Raw | Should -Be 'keep me'
    }
}
