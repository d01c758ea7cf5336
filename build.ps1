#Requires -Version 7.2
<#
.SYNOPSIS
    Builds, tests, documents and packages the AgentGovernance module.
.DESCRIPTION
    Build    dotnet build -c Release: lays out an importable module in out/AgentGovernance.
    Test     dotnet test (xunit, including the cmdlets driven through a real runspace), then the
             Pester 5 tests in tests/Pester when Pester 5 is installed.
    Docs     checks every exported cmdlet has docs/cmdlets/<Name>.md and, when platyPS is
             installed, builds the MAML help into out/AgentGovernance/en-US.
    Package  Build, then zips out/AgentGovernance into out/AgentGovernance-<version>.zip.
.EXAMPLE
    ./build.ps1 -Task Build, Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Docs', 'Package')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$moduleOut = Join-Path $root 'out/AgentGovernance'

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    Write-Host "> $File $($Arguments -join ' ')" -ForegroundColor Cyan
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File exited with $LASTEXITCODE" }
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' {
            Invoke-Native dotnet @('build', (Join-Path $root 'src/AgentGovernance/AgentGovernance.csproj'), '-c', $Configuration, '-nologo')
            Write-Host "Module laid out in $moduleOut"
        }
        'Test' {
            Invoke-Native dotnet @('test', $root, '-nologo')
            $pester = Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0.0' | Sort-Object Version -Descending | Select-Object -First 1
            if ($pester) {
                Import-Module $pester
                $config = New-PesterConfiguration
                $config.Run.Path = Join-Path $root 'tests/Pester'
                $config.Run.Exit = $false
                $config.Run.Throw = $true
                $config.Output.Verbosity = 'Detailed'
                Invoke-Pester -Configuration $config
            }
            else {
                Write-Warning 'Pester 5 is not installed: skipped tests/Pester (Install-Module Pester -MinimumVersion 5.0).'
            }
        }
        'Docs' {
            $manifest = Import-PowerShellDataFile (Join-Path $root 'AgentGovernance.psd1')
            $missing = $manifest.CmdletsToExport | Where-Object { -not (Test-Path (Join-Path $root "docs/cmdlets/$_.md")) }
            if ($missing) { throw "Missing docs/cmdlets pages: $($missing -join ', ')" }
            if (Get-Module -ListAvailable platyPS) {
                Import-Module platyPS
                New-ExternalHelp -Path (Join-Path $root 'docs/cmdlets') -OutputPath (Join-Path $moduleOut 'en-US') -Force | Out-Null
                Write-Host "MAML help written to $moduleOut/en-US"
            }
            else {
                Write-Warning 'platyPS is not installed: checked the pages exist, did not build MAML help.'
            }
        }
        'Package' {
            Invoke-Native dotnet @('build', (Join-Path $root 'src/AgentGovernance/AgentGovernance.csproj'), '-c', 'Release', '-nologo')
            $version = (Import-PowerShellDataFile (Join-Path $root 'AgentGovernance.psd1')).ModuleVersion
            $zip = Join-Path $root "out/AgentGovernance-$version.zip"
            Compress-Archive -Path $moduleOut -DestinationPath $zip -Force
            Write-Host "Packaged $zip"
        }
    }
}
