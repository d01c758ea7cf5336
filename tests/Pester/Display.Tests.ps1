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
