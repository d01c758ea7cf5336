# The permission inventory on the loopback Graph, as a user drives it: Export-AccessSnapshot -FromGraph,
# a change made in the tenant, -Update, then a live Test-ExposureRisk that looks in the inventory.
# The Graph is bench/GraphBench's `serve` (the Fabrikam tenant, with the response shapes Graph documents),
# run out of process on 127.0.0.1. Build it first: dotnet build bench/GraphBench -c Release

BeforeAll {
    . $PSScriptRoot/common.ps1

    $bench = Join-Path $RepoRoot 'bench/GraphBench/bin/Release/net10.0/GraphBench.dll'
    if (-not (Test-Path -LiteralPath $bench)) {
        throw "The loopback Graph is not built: $bench does not exist. Run 'dotnet build bench/GraphBench -c Release' first."
    }

    $start = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in 'exec', $bench, 'serve', '--seconds', '900') { $start.ArgumentList.Add($a) }
    $start.RedirectStandardOutput = $true
    $start.UseShellExecute = $false
    $script:Fake = [System.Diagnostics.Process]::Start($start)
    # "endpoint http://127.0.0.1:N/v1.0", then "token    ..."
    $script:Endpoint = ($Fake.StandardOutput.ReadLine() -split '\s+', 2)[1]
    $script:Token = ($Fake.StandardOutput.ReadLine() -split '\s+', 2)[1]
    $script:Secure = [System.Net.NetworkCredential]::new('', $Token).SecurePassword

    function Get-FabrikamId([int] $n) { '00000000-0000-0000-0000-{0:D12}' -f $n }
    $script:Carol = Get-FabrikamId 3
    $script:Joe = Get-FabrikamId 5
    $script:Erin = Get-FabrikamId 6
    $script:DataOps = Get-FabrikamId 13
    $script:Payroll = 'drives/b!drive1/items/01PAYROLL' # in Carol's OneDrive, shared with Data Ops

    # Not under $TestDrive, which is emptied after each Describe: -Update and the preview use the file the export wrote.
    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) ("ag-inventory-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $Folder | Out-Null
    $script:InventoryPath = Join-Path $Folder 'fabrikam.snapshot.json'
    Connect-AgentGovernance -TenantId fabrikam.example -AccessToken $Secure -GraphEndpoint $Endpoint -ErrorAction Stop
}

AfterAll {
    Connect-AgentGovernance -SnapshotPath $DemoSnapshotPath
    if ($Folder) { Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction SilentlyContinue }
    if ($Fake) {
        if (-not $Fake.HasExited) { $Fake.Kill() }
        $Fake.Dispose()
    }
}

Describe 'Export-AccessSnapshot -FromGraph with the permission inventory' {
    It 'crawls the sites'' drives and the users'' OneDrives, and stores where -Update goes on from' {
        Export-AccessSnapshot -FromGraph -Path $InventoryPath -WarningVariable warnings -ErrorAction Stop
        $doc = Get-Content -LiteralPath $InventoryPath -Raw | ConvertFrom-Json
        $doc.schema | Should -Be 'agentgovernance/snapshot@2'
        @($doc.inventory.drives).Count | Should -Be 3 # Data Ops' and Team's libraries, Carol's OneDrive
        $doc.inventory.drives.site | Should -Contain "users/$Carol"
        $doc.inventory.deltaLinks.users | Should -Match '/users/delta'
        $doc.inventory.deltaLinks.groups | Should -Match '/groups/delta'
        $doc.inventory.deltaLinks.sites | Should -Match '/sites/delta\?token='
        # Only Carol has a OneDrive: the others' 404s are no gap and no warning.
        @($doc.inventory.gaps) -match 'OneDrive' | Should -BeNullOrEmpty
        @($warnings) -match 'OneDrive' | Should -BeNullOrEmpty
        $payroll = @($doc.grants | Where-Object resource -EQ $Payroll)
        ($payroll | Where-Object principal -EQ $DataOps).role | Should -Be 'read'
        ($payroll | Where-Object principal -EQ $Carol).role | Should -Be 'write'
    }

    It '-Update reads a membership added in the tenant since, from the groups'' delta link' {
        $body = @{ '@odata.id' = "$Endpoint/directoryObjects/$Erin" } | ConvertTo-Json
        Invoke-RestMethod -Method Post -Uri "$Endpoint/groups/$DataOps/members/`$ref" -Headers @{ Authorization = "Bearer $Token" } -ContentType 'application/json' -Body $body
        (Import-AccessSnapshot -Path $InventoryPath).GetMembers($DataOps) | Should -Not -Contain $Erin

        Export-AccessSnapshot -FromGraph -Update -Path $InventoryPath -WarningVariable warnings -ErrorAction Stop
        $snapshot = Import-AccessSnapshot -Path $InventoryPath
        $snapshot.GetMembers($DataOps) | Should -Contain $Erin
        $snapshot.Inventory.Count | Should -Be 3
        @($warnings) -match 'read again in full' | Should -BeNullOrEmpty
    }
}

Describe 'Test-ExposureRisk through the inventory' {
    BeforeAll {
        Connect-AgentGovernance -TenantId fabrikam.example -AccessToken $Secure -GraphEndpoint $Endpoint -InventoryPath $InventoryPath -ErrorAction Stop
        $change = New-TestFile -Name 'add-joe.json' -Content (@{
                schema      = 'agentgovernance/change@1'
                title       = 'Let Joe help Data Ops'
                requestedBy = 'bob.stone@fabrikam.example'
                operations  = @(@{ op = 'addMember'; group = $DataOps; member = $Joe })
            } | ConvertTo-Json -Depth 5)
        $script:Report = Import-AccessChange -Path $change | Test-ExposureRisk -ErrorAction Stop
    }

    It 'finds the OneDrive file the group reaches, which Graph cannot look up from the group' {
        $Report.Resources.ResourceId | Should -Contain $Payroll
        ($Report.Resources | Where-Object ResourceId -EQ $Payroll).Gained.PrincipalId | Should -Contain $Joe
        $Report.Notes -match '^Inventory: the permission inventory crawled' | Should -Not -BeNullOrEmpty
    }

    It 'states its coverage: Partial, with what the crawl could not read or look for' {
        $Report.Coverage | Should -Be 'Partial'
        # roadmap.docx in Carol's OneDrive is shared with a SharePoint group, whose members Graph does not list;
        # and -Update looked for new users' OneDrives only, not for one Alice, Bob or Erin may have had since.
        $Report.CoverageReasons -match 'SharePoint groups' | Should -Not -BeNullOrEmpty
        $Report.CoverageReasons -match 'OneDrive accounts provisioned since the last full crawl for the 3 enabled member users' | Should -Not -BeNullOrEmpty
        $Report.CoverageReasons -match 'does not crawl|SharePoint sites'' drives only' | Should -BeNullOrEmpty
        $Report.RiskLevel | Should -BeIn 'High', 'Critical' # a guest reaches Data Ops' Highly Confidential site
    }
}
