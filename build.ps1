#Requires -Version 7.2
<#
.SYNOPSIS
    Builds, tests, documents, packages and demonstrates the AgentGovernance module.
.DESCRIPTION
    Needs only the .NET SDK: run it with the PowerShell pinned in .config/dotnet-tools.json,
        dotnet tool restore
        dotnet pwsh ./build.ps1 -Task Test

    Build    dotnet build -c Release: the whole module in out/AgentGovernance (assembly, manifest, format
             files, the Graph part in graph/, help in en-US/, the demo tenant in examples/).
    Test     Build, install Azurite (npm ci in tests/Azurite, pinned), then every test: the xunit suite (dotnet test), the Pester suite against the built
             module, and the package test (Package, install into an empty module path, import it in a
             fresh pwsh, run the Pester suite against the installed module). Ends with one line,
             "N passed, N failed", over all of them; exits 1 when anything failed.
    Docs     Builds the help (en-US/AgentGovernance.dll-Help.xml, about_AgentGovernance.help.txt) from
             docs/cmdlets and checks every exported cmdlet has its page.
    Package  Build, then out/package/AgentGovernance.<version>.nupkg with Compress-PSResource.
    Demo     Build, then the incident end to end on the demo tenant (examples/quickstart.ps1).

    Pester comes from NuGet (the version pinned below, restored once into the NuGet cache), never from
    the PowerShell Gallery, and nothing here prompts.
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Demo
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Build, Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Docs', 'Package', 'Demo')]
    [string[]] $Task = @('Build')
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = $PSScriptRoot
$moduleOut = Join-Path $root 'out/AgentGovernance'
$manifestPath = Join-Path $root 'AgentGovernance.psd1'
$resultsFolder = Join-Path $root 'out/test-results'
$packageFolder = Join-Path $root 'out/package'
$PesterVersion = '5.9.1'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    Write-Host "> $File $($Arguments -join ' ')" -ForegroundColor Cyan
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File exited with $LASTEXITCODE" }
}

function Get-PwshCommand {
    # The pwsh running this script, as a command line for a child process: 'dotnet <pwsh.dll>' when it
    # is the dotnet tool, else the executable itself.
    $exe = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') {
        return @($exe, [Reflection.Assembly]::GetEntryAssembly().Location)
    }
    return @($exe)
}

function Get-PesterPath {
    # Pester from NuGet: a PackageDownload leaves the module under the package's tools/ folder.
    $cache = (& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
    $path = Join-Path $cache.Trim() "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path -LiteralPath $path)) {
        Invoke-Native dotnet @('restore', (Join-Path $root 'build/PesterDownload/PesterDownload.csproj'), "-p:PesterVersion=$PesterVersion", '-nologo') | Out-Host
    }
    if (-not (Test-Path -LiteralPath $path)) { throw "Pester $PesterVersion was restored, but $path does not exist." }
    $path
}

function Invoke-PesterSuite {
    # Runs tests/Pester in a child pwsh (so the module loads fresh) against the module named by
    # $Module (a manifest path, or a module name found on $ModulePath). Returns passed/failed counts.
    param([string] $Name, [string] $Module, [string] $ModulePath)
    $pester = Get-PesterPath
    $summary = Join-Path $resultsFolder "$Name.summary.json"
    $junit = Join-Path $resultsFolder "$Name.junit.xml"
    Remove-Item -LiteralPath $summary -ErrorAction SilentlyContinue
    $script = @'
param($Pester, $Tests, $Summary, $JUnit)
$ErrorActionPreference = 'Stop'
Import-Module $Pester
$config = New-PesterConfiguration
$config.Run.Path = $Tests
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Normal'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'JUnitXml'
$config.TestResult.OutputPath = $JUnit
$result = Invoke-Pester -Configuration $config
[IO.File]::WriteAllText($Summary, (@{ passed = $result.PassedCount; failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount } | ConvertTo-Json))
'@
    $pwsh = Get-PwshCommand
    $saved = @{ AGENTGOVERNANCE_MODULE = $env:AGENTGOVERNANCE_MODULE; PSModulePath = $env:PSModulePath }
    try {
        $env:AGENTGOVERNANCE_MODULE = $Module
        if ($ModulePath) { $env:PSModulePath = $ModulePath }
        Write-Host "> Pester $PesterVersion ($Name): tests/Pester against $Module" -ForegroundColor Cyan
        $scriptFile = Join-Path $resultsFolder "$Name.run.ps1"
        [IO.File]::WriteAllText($scriptFile, $script)
        $rest = @($pwsh | Select-Object -Skip 1)
        & $pwsh[0] @rest -NoProfile -NonInteractive -File $scriptFile -Pester $pester -Tests (Join-Path $root 'tests/Pester') -Summary $summary -JUnit $junit | Out-Host
    }
    finally {
        $env:AGENTGOVERNANCE_MODULE = $saved.AGENTGOVERNANCE_MODULE
        $env:PSModulePath = $saved.PSModulePath
    }
    if (-not (Test-Path -LiteralPath $summary)) {
        Write-Warning "Pester ($Name) ended without a result (exit $LASTEXITCODE)."
        return [pscustomobject]@{ Runner = "Pester ($Name)"; Passed = 0; Failed = 1 }
    }
    $counts = Get-Content -LiteralPath $summary -Raw | ConvertFrom-Json
    [pscustomobject]@{ Runner = "Pester ($Name)"; Passed = [int]$counts.passed; Failed = [int]$counts.failed }
}

function Invoke-Build {
    Invoke-Native dotnet @('build', $root, '-c', 'Release', '-nologo') | Out-Host
    Write-Host "Module laid out in $moduleOut"
}

function Install-Azurite {
    # Azurite (the Azure Storage emulator) for the table store's tests and bench: npm azurite, pinned in
    # tests/Azurite/package-lock.json, installed there from the npm registry once. Needs node and npm.
    $folder = Join-Path $root 'tests/Azurite'
    if (Test-Path -LiteralPath (Join-Path $folder 'node_modules/azurite/dist/src/table/main.js')) { return }
    if (-not (Get-Command npm -ErrorAction SilentlyContinue)) { throw 'The table store tests need node and npm (Debian: apt-get install -y nodejs npm).' }
    Invoke-Native npm @('ci', '--prefix', $folder, '--no-audit', '--no-fund', '--loglevel', 'error') | Out-Host
}

function Invoke-Xunit {
    $trx = 'xunit.trx'
    Remove-Item -LiteralPath (Join-Path $resultsFolder $trx) -ErrorAction SilentlyContinue
    Write-Host "> dotnet test -c Release --no-build" -ForegroundColor Cyan
    & dotnet test $root -c Release --no-build -nologo --logger "trx;LogFileName=$trx" --results-directory $resultsFolder | Out-Host
    $file = Join-Path $resultsFolder $trx
    if (-not (Test-Path -LiteralPath $file)) {
        Write-Warning "dotnet test ended without a result (exit $LASTEXITCODE)."
        return [pscustomobject]@{ Runner = 'xunit'; Passed = 0; Failed = 1 }
    }
    $counters = ([xml](Get-Content -LiteralPath $file -Raw)).TestRun.ResultSummary.Counters
    $failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    if ($LASTEXITCODE -ne 0 -and $failed -eq 0) { $failed = 1 }   # the run itself failed
    [pscustomobject]@{ Runner = 'xunit'; Passed = [int]$counters.passed; Failed = $failed }
}

function Invoke-Package {
    Invoke-Build
    if (Test-Path -LiteralPath $packageFolder) { Remove-Item -LiteralPath $packageFolder -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $packageFolder
    Compress-PSResource -Path $moduleOut -DestinationPath $packageFolder | Out-Host
    $nupkg = Get-ChildItem -LiteralPath $packageFolder -Filter '*.nupkg' | Select-Object -First 1
    if (-not $nupkg) { throw "Compress-PSResource wrote no package to $packageFolder." }
    Write-Host "Packaged $($nupkg.FullName)"
    $nupkg
}

function Test-Package {
    # The package as a user gets it: registered as a repository, installed into an empty module path,
    # imported by name in a fresh pwsh, and the Pester suite run against it.
    $nupkg = Invoke-Package
    $work = Join-Path ([IO.Path]::GetTempPath()) ('agentgovernance-package-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $modules = Join-Path $work 'Modules'
    $null = New-Item -ItemType Directory -Path $modules
    $savedData = $env:XDG_DATA_HOME
    try {
        # PSResourceGet keeps its repository list under the user's data folder: give it a private one.
        $env:XDG_DATA_HOME = Join-Path $work 'data'
        $name = 'AgentGovernanceLocal'
        Register-PSResourceRepository -Name $name -Uri $packageFolder -Trusted -Force | Out-Host
        Save-PSResource -Name AgentGovernance -Repository $name -Path $modules -TrustRepository -SkipDependencyCheck | Out-Host
        $installed = Get-ChildItem -LiteralPath (Join-Path $modules 'AgentGovernance') -Directory | Select-Object -First 1
        if (-not $installed -or -not (Test-Path (Join-Path $installed.FullName 'AgentGovernance.psd1'))) {
            throw "Save-PSResource did not install AgentGovernance into $modules."
        }
        Write-Host "Installed $($nupkg.Name) into $($installed.FullName)"
        $pwshHome = [IO.Path]::GetDirectoryName([Reflection.Assembly]::GetEntryAssembly().Location)
        Invoke-PesterSuite -Name 'installed' -Module 'AgentGovernance' -ModulePath ($modules + [IO.Path]::PathSeparator + (Join-Path $pwshHome 'Modules'))
    }
    finally {
        $env:XDG_DATA_HOME = $savedData
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
}

$null = New-Item -ItemType Directory -Force -Path $resultsFolder
foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-Build }
        'Docs' {
            $manifest = Import-PowerShellDataFile $manifestPath
            $missing = $manifest.CmdletsToExport | Where-Object { -not (Test-Path (Join-Path $root "docs/cmdlets/$_.md")) }
            if ($missing) { throw "Missing docs/cmdlets pages: $($missing -join ', ')" }
            Invoke-Native dotnet @('build', (Join-Path $root 'build/HelpBuilder/HelpBuilder.csproj'), '-c', 'Release', '-nologo')
            Write-Host "Help written to $moduleOut/en-US"
        }
        'Package' { $null = Invoke-Package }
        'Demo' {
            Invoke-Build
            $pwsh = Get-PwshCommand
            $rest = @($pwsh | Select-Object -Skip 1)
            & $pwsh[0] @rest -NoProfile -NonInteractive -File (Join-Path $root 'examples/quickstart.ps1') -ModulePath (Join-Path $moduleOut 'AgentGovernance.psd1')
            if ($LASTEXITCODE -ne 0) { throw "The demo failed (exit $LASTEXITCODE)." }
        }
        'Test' {
            Invoke-Build
            Install-Azurite
            $results = @(
                Invoke-Xunit
                Invoke-PesterSuite -Name 'built' -Module (Join-Path $moduleOut 'AgentGovernance.psd1')
                Test-Package
            )
            $results | Format-Table Runner, Passed, Failed -AutoSize | Out-String | Write-Host
            $passed = ($results | Measure-Object Passed -Sum).Sum
            $failed = ($results | Measure-Object Failed -Sum).Sum
            Write-Host "$passed passed, $failed failed"
            if ($failed -gt 0) { exit 1 }
        }
    }
}
