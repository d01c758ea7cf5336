# Importing the module twice in one session, from two paths (the build in out/, then a copy installed
# elsewhere), works as Import-Module of a module's second copy does: no error, and the views still read
# their label members. Each case runs in a fresh pwsh, since a session that has imported the module once
# cannot show the first import again.

BeforeAll {
    . $PSScriptRoot/common.ps1

    function Invoke-FreshPwsh {
        # Runs a script in a new pwsh process (the one running these tests) and returns its output and exit code.
        param([Parameter(Mandatory)] [string] $Script)
        $exe = [Environment]::ProcessPath
        $command = if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { @($exe, [Reflection.Assembly]::GetEntryAssembly().Location) } else { @($exe) }
        $file = Join-Path $TestDrive "fresh-$([guid]::NewGuid().ToString('N')).ps1"
        [IO.File]::WriteAllText($file, $Script)
        $output = & $command[0] @($command | Select-Object -Skip 1) -NoProfile -NonInteractive -File $file 2>&1
        [pscustomobject]@{ Output = @($output | ForEach-Object { "$_" }); ExitCode = $LASTEXITCODE }
    }

    # A second copy of the module at another path, as an installed module would be.
    $script:Copy = Join-Path $TestDrive 'installed/AgentGovernance'
    $null = New-Item -ItemType Directory -Path (Split-Path $script:Copy)
    Copy-Item -LiteralPath $ModuleBase -Destination $script:Copy -Recurse
    $script:First = Join-Path $ModuleBase 'AgentGovernance.psd1'
    $script:Second = Join-Path $script:Copy 'AgentGovernance.psd1'
}

Describe 'Importing the module from two paths in one session' {
    It 'imports <Case> with no error, and the views still read their label members' -TestCases @(
        @{ Case = 'the second copy after the first'; Imports = 'Import-Module -Name $first -ErrorAction Stop; Import-Module -Name $second -ErrorAction Stop' }
        @{ Case = 'the second copy with -Force'; Imports = 'Import-Module -Name $first -ErrorAction Stop; Import-Module -Name $second -Force -ErrorAction Stop' }
        @{ Case = 'the same copy twice with -Force'; Imports = 'Import-Module -Name $first -ErrorAction Stop; Import-Module -Name $first -Force -ErrorAction Stop' }
        @{ Case = 'the first again after Remove-Module'; Imports = 'Import-Module -Name $first -ErrorAction Stop; Remove-Module AgentGovernance; Import-Module -Name $second -ErrorAction Stop' }
    ) {
        $result = Invoke-FreshPwsh @"
`$ErrorActionPreference = 'Stop'
`$first = '$($script:First -replace "'", "''")'
`$second = '$($script:Second -replace "'", "''")'
try {
    $Imports
    `$snapshot = Import-AccessSnapshot -LiteralPath '$($DemoSnapshotPath -replace "'", "''")'
    `$report = Import-AccessChange -LiteralPath '$((Join-Path $ChangesFolder 'forum-4411.json') -replace "'", "''")' | Test-ExposureRisk -Snapshot `$snapshot
    "risk=`$(`$report.Risk) gained=`$(`$report.Gained)"
    "table=`$((`$report | Format-Table Change, Risk | Out-String -Width 120) -match 'Critical')"
    "imported=`$(@(Get-Module AgentGovernance).Count)"
} catch {
    "failed: `$(`$_.FullyQualifiedErrorId): `$_"
    exit 1
}
"@
        $result.Output | Should -Not -Match 'failed|Error in TypeData|already present'
        $result.ExitCode | Should -Be 0
        $result.Output | Should -Contain 'risk=Critical gained=315'
        $result.Output | Should -Contain 'table=True'
    }

    It 'the old manifest (TypesToProcess) fails the same second import: the case the test is for' {
        $old = Join-Path $TestDrive 'old/AgentGovernance'
        $null = New-Item -ItemType Directory -Path (Split-Path $old)
        Copy-Item -LiteralPath $ModuleBase -Destination $old -Recurse
        $manifest = Join-Path $old 'AgentGovernance.psd1'
        $text = [IO.File]::ReadAllText($manifest) -replace "(?m)^(\s*)FormatsToProcess", "`$1TypesToProcess = @('AgentGovernance.Types.ps1xml')`n`$1FormatsToProcess"
        [IO.File]::WriteAllText($manifest, $text)
        $result = Invoke-FreshPwsh @"
Import-Module -Name '$($script:First -replace "'", "''")' -ErrorAction Stop
Import-Module -Name '$($manifest -replace "'", "''")' -ErrorAction SilentlyContinue -ErrorVariable failed
"errors=`$(`$failed.Count)"
"@
        $result.Output | Should -Contain 'errors=1'
    }
}
