# What the module shows: default views whose labels are properties, tables that fit 120 columns,
# compact JSON, completion, progress, -WhatIf that writes nothing, and text from documents or the
# directory shown neutrally (no control characters, ESC sequences, bidi overrides or newlines that
# reach the terminal as such).

BeforeDiscovery {
    . $PSScriptRoot/common.ps1
    $Views = foreach ($file in Get-ChildItem -LiteralPath $ModuleBase -Filter '*.Format.ps1xml') {
        foreach ($view in ([xml](Get-Content -LiteralPath $file.FullName -Raw)).Configuration.ViewDefinitions.View) {
            @{ File = $file.Name; View = $view.Name; TypeName = $view.ViewSelectedBy.TypeName; Xml = $view.OuterXml }
        }
    }
}

BeforeAll {
    . $PSScriptRoot/common.ps1
    $script:Passphrase = [System.Net.NetworkCredential]::new('', 'pester passphrase, not a secret').SecurePassword

    function Get-ViewLabel {
        # Each column or list item of a view: the label it shows and the property it reads (when it reads one).
        param([xml] $Xml)
        $view = $Xml.View
        if ($view.TableControl) {
            $headers = @($view.TableControl.TableHeaders.TableColumnHeader)
            $items = @($view.TableControl.TableRowEntries.TableRowEntry.TableColumnItems.TableColumnItem)
            for ($i = 0; $i -lt $items.Count; $i++) {
                $label = if ($i -lt $headers.Count -and $headers[$i].Label) { $headers[$i].Label } else { $items[$i].PropertyName }
                [pscustomobject]@{ Label = $label; Property = $items[$i].PropertyName }
            }
        }
        foreach ($item in @($view.ListControl.ListEntries.ListEntry.ListItems.ListItem)) {
            if ($null -eq $item) { continue }
            $label = if ($item.Label) { $item.Label } else { $item.PropertyName }
            [pscustomobject]@{ Label = $label; Property = $item.PropertyName }
        }
    }

    function Connect-DisplaySession {
        # A copy of the demo tenant, approvers carol and dana, the agent sp-helper and a store, all under $TestDrive.
        param([Parameter(Mandatory)] [string] $Name)
        $folder = Join-Path $TestDrive $Name
        $null = New-Item -ItemType Directory -Path $folder
        $tenant = Join-Path $folder 'tenant.json'
        Copy-Item -LiteralPath $DemoSnapshotPath -Destination $tenant
        $carol = New-ApproverKey -Identity 'carol@contoso.com' -Path (Join-Path $folder 'carol.key') -Passphrase $script:Passphrase
        $dana = New-ApproverKey -Identity 'dana@contoso.com' -Path (Join-Path $folder 'dana.key') -Passphrase $script:Passphrase
        $policy = Join-Path $folder 'policy.psd1'
        Set-Content -LiteralPath $policy -Value "@{ AgentIdentities = 'sp-helper'; Approvers = @( $($carol.PolicyEntry); $($dana.PolicyEntry) ) }"
        Connect-AgentGovernance -SnapshotPath $tenant -PolicyPath $policy -StorePath (Join-Path $folder 'store') -LedgerSignerPath (Join-Path $folder 'signer.json')
        [pscustomobject]@{ Folder = $folder; Tenant = $tenant; Store = Join-Path $folder 'store'; Carol = Join-Path $folder 'carol.key'; Dana = Join-Path $folder 'dana.key' }
    }

    function Test-HasProperty {
        # True when the type has a public instance property of that name, or the type data (Types.ps1xml) adds one.
        param([type] $Type, [string] $Name)
        if ($Type.GetProperty($Name, [System.Reflection.BindingFlags]'Public, Instance, IgnoreCase')) { return $true }
        $data = Get-TypeData -TypeName $Type.FullName
        return [bool]($data -and $data.Members.Keys -contains $Name)
    }
}

Describe 'Default views' {
    It '<File> <View>: every label is a property of <TypeName>' -TestCases $Views {
        $type = ($TypeName -as [type])
        $type | Should -Not -BeNullOrEmpty -Because "the view's type $TypeName is in the module"
        $bad = foreach ($column in Get-ViewLabel -Xml $Xml) {
            if (-not (Test-HasProperty -Type $type -Name $column.Label)) { "label '$($column.Label)' is no property" }
            if ($column.Property -and -not (Test-HasProperty -Type $type -Name $column.Property)) { "property '$($column.Property)' does not exist" }
        }
        $bad | Should -BeNullOrEmpty
    }
}

Describe 'A column a view shows can be selected and filtered by its label' {
    BeforeAll {
        $snapshot = Import-AccessSnapshot -Path $DemoSnapshotPath
        $report = Get-ExampleChange -Name 'forum-4411.json' | Test-ExposureRisk -Snapshot $snapshot -Policy ([AgentGovernance.Policy.GovernancePolicy]::Default)
    }

    It 'Format-Table Change, Risk prints the risk' {
        $text = $report | Format-Table Change, Risk | Out-String -Width 120
        $text | Should -Match 'Critical'
    }

    It 'Where-Object Risk -eq Critical finds the incident report; Approvals and Gained read the numbers' {
        @($report | Where-Object Risk -eq Critical).Count | Should -Be 1
        @($report | Where-Object Approvals -eq 2).Count | Should -Be 1
        $report.Gained | Should -Be 315
        $report.Resources[0].Members | Should -Be 305
    }

    It 'the label aliases stay out of ConvertTo-Json' {
        $json = $report | ConvertTo-Json -Depth 2 -WarningAction SilentlyContinue | ConvertFrom-Json
        $json.PSObject.Properties.Name | Should -Not -Contain 'Risk'
        $json.PSObject.Properties.Name | Should -Contain 'RiskLevel'
    }
}

Describe 'Text from documents and the directory is shown neutrally' {
    BeforeAll {
        $esc = [char]27
        # An agent's change whose text tries to spoof the approval prompt: a title with a newline and a fake
        # operation line, a justification that hides what follows (ESC[8m, concealed), a suggester whose
        # name is reversed by a bidi override, and a zero-width space in the source.
        $fakeLine = '  - grant read on site-userdata to u-alice.smith'
        $script:Title = "Read the exports`n$fakeLine"
        $script:Justification = "Routine.$esc[8m hidden from the approver$esc[0m"
        $script:CarolKey = (Connect-DisplaySession -Name 'neutral').Carol
        $script:Change = New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-dataplatform -RequestedBy bob@contoso.com `
            -Title $script:Title -Justification $script:Justification -SuggestedBy sp-helper -SuggestedByName "Help$([char]0x202E)reganaM" -SuggestionSource "forum$([char]0x200B)4411"
        $script:Request = $script:Change | Request-HumanApproval

        function Assert-Neutral([string] $Text, [string] $Surface) {
            $Text | Should -Not -Match "$([char]27)" -Because "$Surface shows no ESC"
            $Text | Should -Not -Match "[$([char]0x202E)$([char]0x200B)]" -Because "$Surface shows no bidi override or zero-width space"
            ($Text -split "`r?`n" | Where-Object { $_ -match 'grant read on site-userdata to u-alice\.smith' } | Where-Object { $_ -notmatch '<U\+000A>' }).Count |
                Should -Be 0 -Because "$Surface has no line of its own that only the title made"
        }
    }

    It 'the Approve-AccessChange prompt (as its verbose lines show it) has one operation line and every control visible' {
        $lines = @($script:Request | Approve-AccessChange -KeyPath $script:CarolKey -Passphrase $script:Passphrase -WhatIf -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $text = $lines -join "`n"
        Assert-Neutral $text 'the prompt'
        @($lines | Where-Object { $_ -match '^\s+- ' }).Count | Should -Be 1
        $text | Should -Match ([regex]::Escape('Read the exports<U+000A>  - grant read'))
        $text | Should -Match ([regex]::Escape('<U+001B>[8m hidden'))
        $text | Should -Match ([regex]::Escape('Help<U+202E>reganaM'))
    }

    It 'the prompt text itself: <Surface>' -TestCases @(
        @{ Surface = 'Render' }
    ) {
        $request = Get-ApprovalRequest -RequestId $script:Request.RequestId
        $text = [AgentGovernance.Approval.ApprovalRequest].Assembly.GetType('AgentGovernance.Approval.ApprovalService', $true).GetMethod('Render', [System.Reflection.BindingFlags]'NonPublic, Static').Invoke($null, @($request.psobject.BaseObject, 'carol@contoso.com'))
        Assert-Neutral $text 'the prompt'
    }

    It 'the default views: <Name>' -TestCases @(
        @{ Name = 'Get-ApprovalRequest (table)'; Script = { Get-ApprovalRequest -RequestId $script:Request.RequestId | Format-Table } }
        @{ Name = 'Get-ApprovalRequest (detail)'; Script = { Get-ApprovalRequest -RequestId $script:Request.RequestId | Format-List -View ApprovalRequestDetail } }
        @{ Name = 'New-AccessChange'; Script = { $script:Change } }
        @{ Name = 'Test-ExposureRisk'; Script = { $script:Change | Test-ExposureRisk } }
        @{ Name = 'Get-GovernanceAuditLog'; Script = { Get-GovernanceAuditLog -RequestId $script:Request.RequestId } }
    ) {
        $text = & $Script | Out-String -Width 120
        Assert-Neutral $text $Name
        $text | Should -Not -BeNullOrEmpty
    }

    It 'warning lines: a request whose store file names a problem' {
        $warnings = @(& { $script:Change | Test-ExposureRisk -WarningAction Continue; Write-Warning 'x' } 3>&1 | Where-Object { $_ -is [System.Management.Automation.WarningRecord] })
        $warnings.Count | Should -BeGreaterThan 0
        foreach ($w in $warnings) { Assert-Neutral $w.Message 'a warning' }
    }

    It 'error messages quote document text neutrally' {
        $bad = New-TestFile -Name 'bad-op.json' -Content ('{ "operations": [ { "op": "gr\u001b[8mant\nrevoke", "resource": "site-userdata", "principal": "g-eng", "role": "read" } ] }')
        Import-AccessChange -LiteralPath $bad -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $shown = if ($err[0].ErrorDetails) { $err[0].ErrorDetails.Message } else { $err[0].Exception.Message }
        $shown | Should -Not -Match "$([char]27)"
        $shown | Should -Not -Match "`n"
    }
}

Describe '-Role is checked and completed; -RequestId is completed from the store' {
    BeforeAll {
        $null = Connect-DisplaySession -Name 'complete'
        $script:Opened = New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-dataplatform -RequestedBy bob@contoso.com -Title 'complete me' | Request-HumanApproval -ErrorAction Stop
        function Get-Completion([string] $Line) {
            (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object CompletionText
        }
    }

    It '-Role <Role> is refused with RoleUnknown, naming the roles there are' -TestCases @(
        @{ Role = 'reader' }, @{ Role = 'Owners' }, @{ Role = "read$([char]0x200B)" }
    ) {
        $err = $null
        try { New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-eng -Role $Role -ErrorAction Stop } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err | Get-ErrorId | Should -Be 'RoleUnknown'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match 'read, write or owner'
        $err.Exception.Message | Should -Not -Match "$([char]0x200B)"
    }

    It '-Role member (a directory role) is accepted' {
        (New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-eng -Role member).Operations[0].Role | Should -Be 'member'
    }

    It '-Role in another case is the role itself' {
        (New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-eng -Role Write).Operations[0].Role | Should -Be 'write'
    }

    It '-Role completes read, write, owner and member' {
        Get-Completion 'New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-eng -Role ' | Select-Object -First 4 | Should -Be @('read', 'write', 'owner', 'member')
        Get-Completion 'New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-eng -Role o' | Should -Be @('owner')
        Get-Completion 'New-AccessChange -CreateLink Anonymous -ResourceId site-userdata -Role ' | Should -Be @('read', 'write')
    }

    It '-RequestId of <Command> completes from the store' -TestCases @(
        @{ Command = 'Get-ApprovalRequest' }, @{ Command = 'Approve-AccessChange' }, @{ Command = 'Invoke-ApprovedChange' }, @{ Command = 'Get-GovernanceAuditLog' }
    ) {
        $id = $script:Opened.RequestId
        Get-Completion "$Command -RequestId $($id.Substring(0, 8))" | Should -Contain $id
        Get-Completion "$Command -RequestId req-nothing-like-it" | Should -BeNullOrEmpty
    }
}

Describe 'Invoke-ApprovedChange -WhatIf writes nothing; locks go away after use' {
    BeforeAll {
        $script:Session = Connect-DisplaySession -Name 'whatif'
        $change = New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-dataplatform -RequestedBy bob@contoso.com -Title 'Data Platform reads the exports'
        $script:Approved = $change | Request-HumanApproval
        $null = $script:Approved | Approve-AccessChange -KeyPath $script:Session.Carol -Passphrase $script:Passphrase -Force
        $null = $script:Approved | Approve-AccessChange -KeyPath $script:Session.Dana -Passphrase $script:Passphrase -Force

        function Get-FolderState([string] $Folder) {
            # Every file and folder under $Folder with its content's hash: equal states are byte-identical trees.
            Get-ChildItem -LiteralPath $Folder -Recurse -Force | Sort-Object FullName | ForEach-Object {
                $name = $_.FullName.Substring($Folder.Length)
                if ($_.PSIsContainer) { "$name/" } else { "$name $((Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash)" }
            }
        }
    }

    It 'leaves the store and the tenant byte-identical (no lock file in applying)' {
        $store = Get-FolderState $script:Session.Store
        $tenant = (Get-FileHash -LiteralPath $script:Session.Tenant).Hash
        $tenantFolder = @(Get-ChildItem -LiteralPath $script:Session.Folder -Force -File).Name
        Invoke-ApprovedChange -RequestId $script:Approved.RequestId -WhatIf
        Get-FolderState $script:Session.Store | Should -Be $store
        (Get-FileHash -LiteralPath $script:Session.Tenant).Hash | Should -Be $tenant
        @(Get-ChildItem -LiteralPath $script:Session.Folder -Force -File).Name | Should -Be $tenantFolder
        Join-Path $script:Session.Store 'applying' | Should -Not -Exist
    }

    It 'removes every lock file after the apply: the request''s, the store''s and the tenant''s' {
        $result = Invoke-ApprovedChange -RequestId $script:Approved.RequestId -Force
        $result.Outcome | Should -Be 'Applied'
        @(Get-ChildItem -LiteralPath $script:Session.Store -Recurse -Force -Filter '*.lock') | Should -BeNullOrEmpty
        @(Get-ChildItem -LiteralPath $script:Session.Folder -Recurse -Force -Filter '*.lock') | Should -BeNullOrEmpty
        Join-Path $script:Session.Store 'applying' | Should -Not -Exist
    }
}

Describe 'Write-Progress on large snapshots' {
    BeforeAll {
        # A generated tenant of 40,000 users in 400 groups and 2,000 resources: about 5 MB, above the 4 MB
        # at which reading a snapshot file tells its progress (and above 20,000 entries for writing one).
        $sb = [System.Text.StringBuilder]::new()
        $null = $sb.Append('{ "schema": "agentgovernance/snapshot@1", "tenant": { "id": "big.example" }, "principals": [')
        for ($i = 0; $i -lt 40000; $i++) {
            $null = $sb.Append("{ `"id`": `"u-$i`", `"type`": `"user`", `"displayName`": `"User number $i of the generated tenant`", `"userPrincipalName`": `"user.$i@big.example`" },")
        }
        for ($g = 0; $g -lt 400; $g++) {
            $members = (0..99 | ForEach-Object { "`"u-$($g * 100 + $_)`"" }) -join ', '
            $null = $sb.Append("{ `"id`": `"g-$g`", `"type`": `"group`", `"displayName`": `"Group $g`", `"members`": [ $members ] }")
            if ($g -lt 399) { $null = $sb.Append(',') }
        }
        $null = $sb.Append('], "resources": [')
        $null = $sb.Append(((0..1999 | ForEach-Object { "{ `"id`": `"site-$_`", `"type`": `"site`", `"displayName`": `"Site $_`" }" }) -join ','))
        $null = $sb.Append('], "grants": [')
        $null = $sb.Append(((0..1999 | ForEach-Object { "{ `"resource`": `"site-$_`", `"principal`": `"g-$($_ % 400)`", `"role`": `"read`" }" }) -join ','))
        $null = $sb.Append('] }')
        $script:BigSnapshot = New-TestFile -Name 'big.snapshot.json' -Content $sb.ToString()

        function Get-ProgressRecord([string] $Script) {
            # The progress records a script writes, from a runspace of its own (the progress stream cannot be redirected).
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("Import-Module -Name '$ModuleManifest'; `$ProgressPreference = 'Continue'; $Script").Invoke()
                $ps.Streams.Error | Should -BeNullOrEmpty
                @($ps.Streams.Progress)
            } finally { $ps.Dispose() }
        }
    }

    It 'the generated file is above the threshold' {
        (Get-Item -LiteralPath $script:BigSnapshot).Length | Should -BeGreaterThan 4MB
    }

    It '<Command> writes progress records and completes them' -TestCases @(
        @{ Command = 'Import-AccessSnapshot'; Script = 'Import-AccessSnapshot -LiteralPath "{0}" | Out-Null' }
        @{ Command = 'Connect-AgentGovernance'; Script = 'Connect-AgentGovernance -SnapshotPath "{0}" -StorePath "{1}/store" -LedgerSignerPath "{1}/signer.json"' }
        @{ Command = 'Export-AccessSnapshot'; Script = 'Import-AccessSnapshot -LiteralPath "{0}" | Export-AccessSnapshot -Path "{1}/copy.json"' }
    ) {
        $folder = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Path $folder
        $records = Get-ProgressRecord ($Script -f $script:BigSnapshot, $folder)
        $records.Count | Should -BeGreaterThan 2
        @($records | Where-Object RecordType -eq 'Processing').Count | Should -BeGreaterThan 0
        $records[-1].RecordType | Should -Be 'Completed'
        if ($Command -eq 'Export-AccessSnapshot') { $records.Activity | Should -Contain "Writing snapshot $folder/copy.json" }
    }

    It 'a small snapshot reads without progress records' {
        Get-ProgressRecord "Import-AccessSnapshot -LiteralPath '$DemoSnapshotPath' | Out-Null" | Should -BeNullOrEmpty
    }
}

Describe 'ConvertTo-Json of what the module returns is compact' {
    BeforeAll {
        $snapshot = Import-AccessSnapshot -Path $DemoSnapshotPath
        $script:Report = Get-ExampleChange -Name 'forum-4411.json' | Test-ExposureRisk -Snapshot $snapshot -Policy ([AgentGovernance.Policy.GovernancePolicy]::Default)
        $script:Json = $script:Report | ConvertTo-Json -Depth 5 -WarningAction SilentlyContinue
    }

    It 'the incident report is under 100 KB at -Depth 5 (it carried the whole snapshot: 252,453 bytes)' {
        $script:Json.Length | Should -BeLessThan 100000
    }

    It 'carries no snapshot, yet PowerShell still reads the report''s snapshot' {
        ($script:Json | ConvertFrom-Json).PSObject.Properties.Name | Should -Not -Contain 'Snapshot'
        $script:Json | Should -Not -Match '"PrincipalSlots"|"TenantDisplayName"'
        $script:Report.Snapshot | Should -BeOfType ([AgentGovernance.Directory.AccessSnapshot])
    }

    It 'writes enums as names' {
        $o = $script:Json | ConvertFrom-Json
        $o.RiskLevel | Should -BeExactly 'Critical'
        $o.Findings[0].Severity | Should -BeExactly 'Critical'
        $o.Resources[0].Sensitivity | Should -BeExactly 'HighlyConfidential'
        $o.Resources[0].Gained[0].Before | Should -BeExactly 'None'
        $o.Change.Operations[0].Op | Should -BeExactly 'Grant'
    }

    It 'writes a duration once, as ISO 8601, while PowerShell still reads it as a TimeSpan' {
        $change = New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-eng -Duration PT2H
        $o = $change | ConvertTo-Json -Depth 4 | ConvertFrom-Json
        $o.Duration | Should -BeExactly 'PT2H'
        $o.PSObject.Properties.Name | Should -Not -Contain 'DurationTimeSpan'
        $change.DurationTimeSpan | Should -Be ([TimeSpan]::FromHours(2))
    }
}
