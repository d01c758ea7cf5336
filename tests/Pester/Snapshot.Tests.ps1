# Import-AccessSnapshot and Export-AccessSnapshot: the access graph on disk.

BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'Import-AccessSnapshot' {
    Context 'the demo tenant' {
        BeforeAll {
            $snapshot = Import-AccessSnapshot -Path $DemoSnapshotPath
            $document = Get-Content -LiteralPath $DemoSnapshotPath -Raw | ConvertFrom-Json
            $users = @($document.principals | Where-Object type -EQ 'user')
        }

        It 'reads one snapshot with the tenant it describes' {
            $snapshot | Should -HaveCount 1
            $snapshot | Should -BeOfType ([AgentGovernance.Directory.AccessSnapshot])
            $snapshot.TenantId | Should -Be $document.tenant.id
            $snapshot.TenantDisplayName | Should -Be $document.tenant.displayName
            $snapshot.Source | Should -Be (Convert-Path -LiteralPath $DemoSnapshotPath)
        }

        It 'counts what the file holds' {
            $snapshot.UserCount | Should -Be $users.Count
            $snapshot.GuestCount | Should -Be @($users | Where-Object userType -EQ 'Guest').Count
            $snapshot.DisabledUserCount | Should -Be @($users | Where-Object accountEnabled -EQ $false).Count
            $snapshot.GroupCount | Should -Be @($document.principals | Where-Object type -EQ 'group').Count
            $snapshot.ServicePrincipalCount | Should -Be @($document.principals | Where-Object type -EQ 'servicePrincipal').Count
            $snapshot.ResourceCount | Should -Be @($document.resources).Count
            $snapshot.GrantCount | Should -Be @($document.grants).Count
        }

        It 'marks the agent identities' {
            $agents = @($snapshot.Principals | Where-Object IsAgent | ForEach-Object Id)
            $agents | Should -Contain 'sp-helper'
            $agents.Count | Should -Be @($document.principals | Where-Object isAgent -EQ $true).Count
        }

        It 'finds a resource and a principal by id' {
            $snapshot.FindResource('site-userdata').Sensitivity | Should -Be 'HighlyConfidential'
            $snapshot.FindPrincipal('g-eng').DisplayName | Should -Be 'All Engineering'
            $snapshot.FindResource('site-nope') | Should -BeNullOrEmpty
        }
    }

    Context 'paths' {
        It 'takes a path from the pipeline' {
            ($DemoSnapshotPath | Import-AccessSnapshot).TenantId | Should -Be 'contoso.onmicrosoft.com'
        }

        It 'takes files from Get-ChildItem' {
            $result = Get-Item -LiteralPath $DemoSnapshotPath | Import-AccessSnapshot
            $result.TenantId | Should -Be 'contoso.onmicrosoft.com'
        }

        It 'takes an object with a Path property' {
            $result = [pscustomobject]@{ Path = $DemoSnapshotPath } | Import-AccessSnapshot
            $result.TenantId | Should -Be 'contoso.onmicrosoft.com'
        }

        It 'expands wildcards in -Path and reads every match' {
            $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'wildcards')
            Copy-Item -LiteralPath $DemoSnapshotPath -Destination (Join-Path $folder.FullName 'a.snapshot.json')
            Copy-Item -LiteralPath $DemoSnapshotPath -Destination (Join-Path $folder.FullName 'b.snapshot.json')
            $result = Import-AccessSnapshot -Path (Join-Path $folder.FullName '*.snapshot.json')
            $result | Should -HaveCount 2
        }

        It 'reads a file whose name holds wildcard characters with -LiteralPath' {
            $path = Join-Path $TestDrive 'contoso[2026].snapshot.json'
            Copy-Item -LiteralPath $DemoSnapshotPath -Destination $path
            (Import-AccessSnapshot -LiteralPath $path).TenantId | Should -Be 'contoso.onmicrosoft.com'
        }

        It 'reports a missing file as <ErrorId> with -<Parameter>' -TestCases @(
            @{ Parameter = 'Path'; ErrorId = 'SnapshotNotFound' }
            @{ Parameter = 'LiteralPath'; ErrorId = 'SnapshotNotFound' }
        ) {
            $arguments = @{ $Parameter = (Join-Path $TestDrive 'missing.snapshot.json') }
            $result = Import-AccessSnapshot @arguments -ErrorVariable problems -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $problems | Should -HaveCount 1
            $problems[0] | Get-ErrorId | Should -Be $ErrorId
            $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
    }

    Context 'documents that are not valid snapshots' {
        It 'rejects <Case> with SnapshotInvalid naming the file and <Field>' -TestCases @(
            @{ Case = 'text that is not JSON'; Field = 'not valid JSON'; Content = '{ "schema": ' }
            @{ Case = 'an unknown schema'; Field = 'schema'; Content = '{ "schema": "agentgovernance/snapshot@9", "tenant": { "id": "t" }, "principals": [], "resources": [], "grants": [] }' }
            @{ Case = 'a member that names nothing'; Field = 'principals[0].members[0]'; Content = '{ "schema": "agentgovernance/snapshot@1", "tenant": { "id": "t" }, "principals": [ { "id": "g-a", "type": "group", "members": ["u-ghost"] } ], "resources": [], "grants": [] }' }
            @{ Case = 'a duplicate id'; Field = 'principals[1].id'; Content = '{ "schema": "agentgovernance/snapshot@1", "tenant": { "id": "t" }, "principals": [ { "id": "u-a", "type": "user" }, { "id": "u-a", "type": "user" } ], "resources": [], "grants": [] }' }
            @{ Case = 'a grant on a resource that does not exist'; Field = 'grants[0].resource'; Content = '{ "schema": "agentgovernance/snapshot@1", "tenant": { "id": "t" }, "principals": [ { "id": "u-a", "type": "user" } ], "resources": [], "grants": [ { "resource": "site-x", "principal": "u-a", "role": "read" } ] }' }
            @{ Case = 'an unknown field'; Field = 'principals[0].colour'; Content = '{ "schema": "agentgovernance/snapshot@1", "tenant": { "id": "t" }, "principals": [ { "id": "u-a", "type": "user", "colour": "blue" } ], "resources": [], "grants": [] }' }
            @{ Case = 'an unknown principal type'; Field = 'principals[0].type'; Content = '{ "schema": "agentgovernance/snapshot@1", "tenant": { "id": "t" }, "principals": [ { "id": "u-a", "type": "robot" } ], "resources": [], "grants": [] }' }
            @{ Case = 'an unknown sensitivity'; Field = 'resources[0].sensitivity'; Content = '{ "schema": "agentgovernance/snapshot@1", "tenant": { "id": "t" }, "principals": [], "resources": [ { "id": "r", "type": "site", "sensitivity": "Secret" } ], "grants": [] }' }
        ) {
            $path = New-TestFile -Name 'invalid.snapshot.json' -Content $Content
            $result = Import-AccessSnapshot -LiteralPath $path -ErrorVariable problems -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $problems | Should -HaveCount 1
            $problems[0] | Get-ErrorId | Should -Be 'SnapshotInvalid'
            $problems[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $problems[0].Exception.Message | Should -BeLike "*invalid.snapshot.json:*"
            $problems[0].Exception.Message | Should -BeLike "*$([WildcardPattern]::Escape($Field))*"
            $problems[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        }

        It 'reports a bad file and goes on with the next' {
            $bad = New-TestFile -Name 'first.snapshot.json' -Content '{ "schema": "agentgovernance/snapshot@9" }'
            $result = Import-AccessSnapshot -LiteralPath $bad, $DemoSnapshotPath -ErrorVariable problems -ErrorAction SilentlyContinue
            $result | Should -HaveCount 1
            $result.TenantId | Should -Be 'contoso.onmicrosoft.com'
            $problems | Should -HaveCount 1
            $problems[0].TargetObject | Should -BeLike '*first.snapshot.json'
        }
    }
}

Describe 'Export-AccessSnapshot' {
    BeforeAll {
        $snapshot = Import-AccessSnapshot -Path $DemoSnapshotPath
    }

    It 'writes a snapshot that reads back the same' {
        $path = Join-Path $TestDrive 'copy.snapshot.json'
        $file = $snapshot | Export-AccessSnapshot -Path $path -PassThru
        $file | Should -BeOfType ([System.IO.FileInfo])
        $file.FullName | Should -Be $path
        $file.PSProvider.Name | Should -Be 'FileSystem'
        ($file | Import-AccessSnapshot).TenantId | Should -Be $snapshot.TenantId
        $copy = Import-AccessSnapshot -LiteralPath $path
        $copy.TenantId | Should -Be $snapshot.TenantId
        $copy.PrincipalCount | Should -Be $snapshot.PrincipalCount
        $copy.MembershipCount | Should -Be $snapshot.MembershipCount
        $copy.ResourceCount | Should -Be $snapshot.ResourceCount
        $copy.GrantCount | Should -Be $snapshot.GrantCount
    }

    It 'writes the same bytes every time' {
        $first = Join-Path $TestDrive 'first.snapshot.json'
        $second = Join-Path $TestDrive 'second.snapshot.json'
        $third = Join-Path $TestDrive 'third.snapshot.json'
        Export-AccessSnapshot -Path $first -Snapshot $snapshot
        Export-AccessSnapshot -Path $second -Snapshot $snapshot
        Import-AccessSnapshot -LiteralPath $first | Export-AccessSnapshot -Path $third
        (Get-FileHash -LiteralPath $second).Hash | Should -Be (Get-FileHash -LiteralPath $first).Hash
        (Get-FileHash -LiteralPath $third).Hash | Should -Be (Get-FileHash -LiteralPath $first).Hash
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $TestDrive 'whatif.snapshot.json'
        $snapshot | Export-AccessSnapshot -Path $path -WhatIf
        $path | Should -Not -Exist
    }

    It 'keeps an existing file with -NoClobber' {
        $path = New-TestFile -Name 'existing.snapshot.json' -Content 'keep me'
        $snapshot | Export-AccessSnapshot -Path $path -NoClobber -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems | Should -HaveCount 1
        $problems[0] | Get-ErrorId | Should -Be 'FileExists'
        Get-Content -LiteralPath $path -Raw | Should -Be 'keep me'
    }

    It 'replaces an existing file without -NoClobber' {
        $path = New-TestFile -Name 'replaced.snapshot.json' -Content 'old'
        $snapshot | Export-AccessSnapshot -Path $path
        (Import-AccessSnapshot -LiteralPath $path).TenantId | Should -Be 'contoso.onmicrosoft.com'
    }

    It 'reports a folder that does not exist' {
        $path = Join-Path $TestDrive 'no-such-folder/contoso.snapshot.json'
        $snapshot | Export-AccessSnapshot -Path $path -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems | Should -HaveCount 1
        $problems[0] | Get-ErrorId | Should -Be 'FolderNotFound'
    }

    It "writes the session's snapshot when none is given" {
        Connect-AgentGovernance -Snapshot $snapshot
        $path = Join-Path $TestDrive 'session.snapshot.json'
        Export-AccessSnapshot -Path $path
        (Import-AccessSnapshot -LiteralPath $path).TenantId | Should -Be 'contoso.onmicrosoft.com'
    }

    It 'stops with NotConnected when there is no snapshot at all' {
        $path = Join-Path $TestDrive 'never.snapshot.json'
        $result = Invoke-InNewRunspace -Script "Export-AccessSnapshot -Path '$path'"
        $result.Errors | Should -HaveCount 1
        $result.Errors[0] | Get-ErrorId | Should -Be 'NotConnected'
        $path | Should -Not -Exist
    }
}
