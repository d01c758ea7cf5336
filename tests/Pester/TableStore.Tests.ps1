# A store on Azure Table Storage, as an administrator drives it in pwsh: Connect-AgentGovernance with a
# connection string and with a SAS, the whole pipeline (request, approve, apply, Test-GovernanceAuditLog) on
# the table, Copy-GovernanceStore folder -> table -> folder verifying both sides, and -StoreLeaseDuration.
# The tests start Azurite themselves (tests/Azurite, npm ci --prefix tests/Azurite) on 127.0.0.1 on a free
# port, in memory, and stop it afterwards. Without node they are skipped, saying so; with node but without
# Azurite installed they fail, saying how to install it.

BeforeDiscovery {
    $script:NoNode = -not (Get-Command -Name node -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    . $PSScriptRoot/common.ps1

    $script:NoNode = -not (Get-Command -Name node -CommandType Application -ErrorAction SilentlyContinue)
    $script:SkipReason = 'node is not installed: the table store tests need Azurite (npm azurite, run by node); CI has node'
    $script:Passphrase = [System.Net.NetworkCredential]::new('', 'pester passphrase, not a secret').SecurePassword
    $script:Account = 'devstoreaccount1'
    # Azurite's well-known development key (public, the same for everyone).
    $script:AccountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

    function ConvertTo-Secret([string] $Text) { [System.Net.NetworkCredential]::new('', $Text).SecurePassword }

    function New-TableSas {
        # A service SAS for one table (what the portal or New-AzStorageTableSASToken makes), signed with the account key.
        param([string] $Table, [string] $Permissions)
        $version = '2019-07-07'
        $expiry = [DateTime]::UtcNow.AddHours(1).ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
        $resource = "/table/$($script:Account)/$($Table.ToLowerInvariant())"
        $toSign = ($Permissions, '', $expiry, $resource, '', '', '', $version, '', '', '', '') -join "`n"
        $hmac = [System.Security.Cryptography.HMACSHA256]::new([Convert]::FromBase64String($script:AccountKey))
        try { $sig = [Convert]::ToBase64String($hmac.ComputeHash([Text.Encoding]::UTF8.GetBytes($toSign))) } finally { $hmac.Dispose() }
        "tn=$Table&sv=$version&se=$([Uri]::EscapeDataString($expiry))&sp=$Permissions&sig=$([Uri]::EscapeDataString($sig))"
    }

    if (-not $script:NoNode) {
        $main = Join-Path $RepoRoot 'tests/Azurite/node_modules/azurite/dist/src/table/main.js'
        if (-not (Test-Path -LiteralPath $main)) {
            throw "Azurite is not installed ($main is missing): run 'npm ci --prefix tests/Azurite' (build.ps1 -Task Test and .ci/run do)."
        }

        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $script:Port = $listener.LocalEndpoint.Port
        $listener.Stop()
        $info = [System.Diagnostics.ProcessStartInfo]::new('node')
        foreach ($a in @($main, '--tableHost', '127.0.0.1', '--tablePort', "$script:Port", '--inMemoryPersistence', '--skipApiVersionCheck', '--disableProductStyleUrl', '--loose')) {
            $info.ArgumentList.Add($a)
        }
        $info.UseShellExecute = $false
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $script:Azurite = [System.Diagnostics.Process]::Start($info)
        $script:Azurite.BeginOutputReadLine()
        $script:Azurite.BeginErrorReadLine()
        $until = [DateTime]::UtcNow.AddSeconds(60)
        while ($true) {
            $client = [System.Net.Sockets.TcpClient]::new()
            try { $client.Connect([System.Net.IPAddress]::Loopback, $script:Port); break }
            catch { if ([DateTime]::UtcNow -gt $until -or $script:Azurite.HasExited) { throw "Azurite did not start on 127.0.0.1:$($script:Port)." }; Start-Sleep -Milliseconds 100 }
            finally { $client.Dispose() }
        }

        $script:Endpoint = "http://127.0.0.1:$($script:Port)/$($script:Account)"
        $script:ConnectionString = ConvertTo-Secret "DefaultEndpointsProtocol=http;AccountName=$($script:Account);AccountKey=$($script:AccountKey);TableEndpoint=$($script:Endpoint);"
    }

    # The demo tenant, two approvers (carol, dana) and a policy that needs both.
    $folder = Join-Path $TestDrive 'table'
    $null = New-Item -ItemType Directory -Path $folder
    $script:Tenant = Join-Path $folder 'tenant.json'
    Copy-Item -LiteralPath $DemoSnapshotPath -Destination $script:Tenant
    $carol = New-ApproverKey -Identity 'carol@contoso.com' -Path (Join-Path $folder 'carol.key') -Passphrase $script:Passphrase
    $dana = New-ApproverKey -Identity 'dana@contoso.com' -Path (Join-Path $folder 'dana.key') -Passphrase $script:Passphrase
    $script:Carol = Join-Path $folder 'carol.key'
    $script:Dana = Join-Path $folder 'dana.key'
    $script:Policy = New-TestFile -Name 'table-policy.psd1' -Content "@{ AgentIdentities = 'sp-helper'; Approvers = @( $($carol.PolicyEntry); $($dana.PolicyEntry) ) }"
    $script:Signer = Join-Path $folder 'signer.json'

    function Invoke-Pipeline {
        # Request, approve twice, apply: what a change goes through, on whatever store the session has.
        param([string] $PrincipalId = 'g-dataplatform')
        $change = New-AccessChange -Grant -ResourceId site-userdata -PrincipalId $PrincipalId -RequestedBy 'bob@contoso.com' -Title "Let $PrincipalId read the exports"
        $request = $change | Request-HumanApproval
        $null = $request | Approve-AccessChange -KeyPath $script:Carol -Passphrase $script:Passphrase -Force
        $approved = $request | Approve-AccessChange -KeyPath $script:Dana -Passphrase $script:Passphrase -Force
        [pscustomobject]@{ Request = $request; Approved = $approved; Result = ($approved | Invoke-ApprovedChange -Force) }
    }
}

AfterAll {
    if ($script:Azurite -and -not $script:Azurite.HasExited) {
        $script:Azurite.Kill($true)
        $script:Azurite.WaitForExit()
    }
}

Describe 'A store on Azure Table Storage (Azurite)' {
    BeforeEach {
        if ($script:NoNode) { Set-ItResult -Skipped -Because $script:SkipReason }
    }

    It 'runs the whole pipeline on a table reached with a connection string, and the ledger verifies' {
        if ($script:NoNode) { return }
        $table = 'pipe' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $session = Connect-AgentGovernance -SnapshotPath $script:Tenant -PolicyPath $script:Policy -StoreConnectionString $script:ConnectionString -StoreTable $table -LedgerSignerPath $script:Signer -PassThru
        $session.StorePath | Should -Be "$($script:Endpoint)/$table"
        $session.StorePath | Should -Not -Match 'AccountKey|Eby8'

        $run = Invoke-Pipeline
        $run.Result.Outcome | Should -Be 'Applied'
        (Get-ApprovalRequest -RequestId $run.Request.RequestId).RequestId | Should -Be $run.Request.RequestId
        (Get-GovernanceAuditLog -RequestId $run.Request.RequestId).Event | Should -Contain 'ApplyCompleted'
        $verification = Test-GovernanceAuditLog
        $verification.IsValid | Should -BeTrue
        $verification.Entries | Should -BeGreaterThan 5
        # Every append's checkpoint is written with it: nothing is left unsealed.
        $verification.LastSealedSequence | Should -Be $verification.Entries
    }

    It 'records decisions and their ledger entries with a SAS that allows only Add and Read, and refuses a read-only one' {
        if ($script:NoNode) { return }
        $table = 'sas' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        # The table and a request are made by someone who may (the account key); a SAS cannot create a table.
        Connect-AgentGovernance -SnapshotPath $script:Tenant -PolicyPath $script:Policy -StoreConnectionString $script:ConnectionString -StoreTable $table -LedgerSignerPath $script:Signer
        $request = New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-eng -RequestedBy 'bob@contoso.com' -Title 'Engineering reads the exports' | Request-HumanApproval

        # An approver with an Add+Read SAS: the decision document, its lease and its ledger entry are inserts.
        $sas = ConvertTo-Secret (New-TableSas -Table $table -Permissions 'ra')
        Connect-AgentGovernance -SnapshotPath $script:Tenant -PolicyPath $script:Policy -StoreEndpoint $script:Endpoint -StoreSasToken $sas -StoreTable $table -LedgerSignerPath (Join-Path $TestDrive 'sas-signer.json')
        $approved = $request | Approve-AccessChange -KeyPath $script:Carol -Passphrase $script:Passphrase -Force
        $approved.Approvals | Should -Be 1
        (Get-ApprovalRequest -RequestId $request.RequestId).Approvals | Should -Be 1
        (Get-GovernanceAuditLog -RequestId $request.RequestId).Event | Should -Contain 'Approved'
        $verification = Test-GovernanceAuditLog
        $verification.IsValid | Should -BeTrue
        $verification.LastSealedSequence | Should -Be $verification.Entries

        # A read-only SAS reads and verifies, and cannot decide: StoreAccessDenied, and nothing is written.
        $readOnly = ConvertTo-Secret (New-TableSas -Table $table -Permissions 'r')
        Connect-AgentGovernance -SnapshotPath $script:Tenant -PolicyPath $script:Policy -StoreEndpoint $script:Endpoint -StoreSasToken $readOnly -StoreTable $table -LedgerSignerPath (Join-Path $TestDrive 'ro-signer.json')
        Test-GovernanceAuditLog -Quiet | Should -BeTrue
        $failed = $null
        try { $null = $request | Approve-AccessChange -KeyPath $script:Dana -Passphrase $script:Passphrase -Force -ErrorAction Stop }
        catch { $failed = $_ }
        $failed | Should -Not -BeNullOrEmpty
        $failed | Get-ErrorId | Should -Be 'StoreAccessDenied'
        $failed.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $failed.Exception.Message | Should -Match 'Storage Table Data Contributor'
        (Get-ApprovalRequest -RequestId $request.RequestId).Approvals | Should -Be 1
        (Test-GovernanceAuditLog).Entries | Should -Be $verification.Entries
    }

    It 'copies a folder store to a table and back, verifying both sides each time' {
        if ($script:NoNode) { return }
        $source = Join-Path $TestDrive 'copy-source'
        Connect-AgentGovernance -SnapshotPath $script:Tenant -PolicyPath $script:Policy -StorePath $source -LedgerSignerPath $script:Signer
        $run = Invoke-Pipeline
        $entries = (Test-GovernanceAuditLog).Entries

        # Into a new table on the account the session is connected to, then connected to it.
        $table = 'copy' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        Connect-AgentGovernance -StoreConnectionString $script:ConnectionString -StoreTable ('staging' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $toTable = Copy-GovernanceStore -SourcePath $source -DestinationTable $table -Confirm:$false
        $toTable.SourceVerified | Should -BeTrue
        $toTable.DestinationVerified | Should -BeTrue
        $toTable.Entries | Should -Be $entries
        $toTable.Requests | Should -Be 1
        Connect-AgentGovernance -StoreConnectionString $script:ConnectionString -StoreTable $table
        (Test-GovernanceAuditLog).Entries | Should -Be $entries
        (Get-ApprovalRequest -RequestId $run.Request.RequestId).Status | Should -Be 'Applied'

        $back = Join-Path $TestDrive 'copy-back'
        $toFolder = Copy-GovernanceStore -DestinationPath $back -Confirm:$false
        $toFolder.SourceVerified | Should -BeTrue
        $toFolder.DestinationVerified | Should -BeTrue
        $toFolder.StoreId | Should -Be $toTable.StoreId

        Connect-AgentGovernance -StorePath $back
        $verification = Test-GovernanceAuditLog
        $verification.IsValid | Should -BeTrue
        $verification.Entries | Should -Be $entries
        (Get-ApprovalRequest -RequestId $run.Request.RequestId).RequestId | Should -Be $run.Request.RequestId
    }

    It '-StoreLeaseDuration <Value> is <Outcome>' -TestCases @(
        @{ Value = 'PT2M'; Outcome = 'taken' }
        @{ Value = '00:00:05'; Outcome = 'taken' }
        @{ Value = 'PT2S'; Outcome = 'StoreLeaseDurationInvalid' }
        @{ Value = 'PT11M'; Outcome = 'StoreLeaseDurationInvalid' }
    ) {
        if ($script:NoNode) { return }
        $table = 'lease' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $failed = $null
        try { Connect-AgentGovernance -SnapshotPath $script:Tenant -PolicyPath $script:Policy -StoreConnectionString $script:ConnectionString -StoreTable $table -StoreLeaseDuration $Value -LedgerSignerPath $script:Signer -ErrorAction Stop }
        catch { $failed = $_ }
        if ($Outcome -eq 'taken') {
            $failed | Should -BeNullOrEmpty
            # The lease is held and released by the apply.
            (Invoke-Pipeline).Result.Outcome | Should -Be 'Applied'
        }
        else {
            $failed | Get-ErrorId | Should -Be $Outcome
            $failed.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $failed.Exception.Message | Should -Match '3 s to 10 min'
        }
    }

    It '-StoreLeaseDuration refuses a bare number (it would be ticks)' {
        if ($script:NoNode) { return }
        { Connect-AgentGovernance -StoreConnectionString $script:ConnectionString -StoreTable leasenumber -StoreLeaseDuration 30 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentTransformationError,AgentGovernance.Commands.ConnectAgentGovernanceCommand'
    }
}
