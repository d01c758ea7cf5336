# The help a user reads: Get-Help -Full for every exported cmdlet, and the about topic.
BeforeDiscovery {
    $manifest = Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../AgentGovernance.psd1')
    $Cmdlets = @($manifest.CmdletsToExport | ForEach-Object { @{ Name = $_ } })
}

BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'Get-Help <Name> -Full' -ForEach $Cmdlets {
    BeforeAll {
        $help = Get-Help -Name $Name -Full
        $command = Get-Command -Name $Name -Module AgentGovernance
    }

    It 'has a synopsis of its own' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        # Without MAML, Get-Help makes the synopsis from the syntax; ours is a sentence.
        $help.Synopsis | Should -Not -Match ('^' + [regex]::Escape($Name) + '\s+\[')
    }

    It 'has a description' {
        ($help.description.Text -join "`n").Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        $missing = foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $described = $help.parameters.parameter | Where-Object name -eq $parameter
            if (-not $described -or -not ($described.description.Text -join '').Trim()) { $parameter }
        }
        $missing | Should -BeNullOrEmpty -Because 'each parameter needs a description in docs/cmdlets'
    }

    It 'has at least one example with code' {
        @($help.examples.example).Count | Should -BeGreaterThan 0
        $help.examples.example[0].code | Should -Not -BeNullOrEmpty
    }

    It 'shows the syntax of every parameter set' {
        @($help.syntax.syntaxItem).Count | Should -Be @($command.ParameterSets).Count
    }
}

Describe 'about_AgentGovernance' {
    It 'is found by Get-Help and names every cmdlet' {
        $text = Get-Help about_AgentGovernance | Out-String
        $text | Should -Match 'SHORT DESCRIPTION'
        foreach ($cmdlet in (Get-Command -Module AgentGovernance).Name) {
            $text | Should -Match ([regex]::Escape($cmdlet))
        }
    }

    It 'is plain text that fits 80 columns, apart from code and tables' {
        $file = Join-Path $ModuleBase 'en-US/about_AgentGovernance.help.txt'
        $file | Should -Exist
        $long = Get-Content -LiteralPath $file | Where-Object { $_.Length -gt 80 -and $_ -notmatch '^\s{8}' -and $_ -notmatch '\s{2}\S+\s{2}' }
        $long | Should -BeNullOrEmpty
    }
}
