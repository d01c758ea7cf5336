# Shared set-up for the Pester tests, dot-sourced from each file's BeforeAll:
#     BeforeAll { . $PSScriptRoot/common.ps1 }
# It imports the BUILT module (dotnet build -c Release lays it out in out/AgentGovernance/), the way
# a user has it, and names the demo tenant's files. Run the tests with:
#     dotnet build -c Release; Invoke-Pester -Path ./tests/Pester

$RepoRoot = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '../..')).ProviderPath
# The module under test: the built one in out/AgentGovernance/AgentGovernance.psd1 by default, or what
# $env:AGENTGOVERNANCE_MODULE names (a manifest path, or a module name found on $env:PSModulePath, as
# build.ps1's package test sets it for the installed package).
$ModuleManifest = if ($env:AGENTGOVERNANCE_MODULE) { $env:AGENTGOVERNANCE_MODULE } else { Join-Path $RepoRoot 'out/AgentGovernance/AgentGovernance.psd1' }
if ($ModuleManifest -match '[\\/]' -and -not (Test-Path -LiteralPath $ModuleManifest)) {
    throw "The module is not built: $ModuleManifest does not exist. Run 'dotnet build -c Release' at the repository root first."
}

Import-Module -Name $ModuleManifest -Force -ErrorAction Stop
$ModuleBase = (Get-Module AgentGovernance).ModuleBase

$ExamplesFolder = Join-Path $RepoRoot 'examples'
$ChangesFolder = Join-Path $ExamplesFolder 'changes'
$DemoSnapshotPath = Join-Path $ExamplesFolder 'contoso.snapshot.json'
$SamplePolicyPath = Join-Path $ExamplesFolder 'policy.psd1'

function Get-ErrorId {
    # The stable ErrorId of an error record: the part of FullyQualifiedErrorId before the comma.
    param([Parameter(Mandatory, ValueFromPipeline)] [System.Management.Automation.ErrorRecord] $ErrorRecord)
    process { ($ErrorRecord.FullyQualifiedErrorId -split ',')[0] }
}

function Get-ExampleChange {
    # One of the example change documents, by file name (forum-4411.json, ...).
    param([Parameter(Mandatory)] [string] $Name)
    Import-AccessChange -LiteralPath (Join-Path $ChangesFolder $Name) -ErrorAction Stop
}

function New-TestFile {
    # Writes text to a new file under $TestDrive and returns its full path.
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [AllowEmptyString()] [string] $Content
    )
    $path = Join-Path $TestDrive $Name
    [System.IO.File]::WriteAllText($path, $Content)   # UTF-8 without a byte order mark, in every PowerShell
    $path
}

function Invoke-InNewRunspace {
    # Runs a script in a fresh runspace that has imported the module but was never connected
    # (Connect-AgentGovernance is per runspace). Give it full paths. Returns the output and every
    # error record the script wrote, a terminating one included.
    param([Parameter(Mandatory)] [string] $Script)
    $ps = [powershell]::Create([System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2())
    try {
        $null = $ps.AddScript('param($Manifest) Import-Module -Name $Manifest -ErrorAction Stop')
        $null = $ps.AddParameter('Manifest', $ModuleManifest)
        $null = $ps.Invoke()
        $ps.Commands.Clear()
        $ps.Streams.ClearStreams()
        $null = $ps.AddScript($Script)
        $output = @()
        $thrown = @()
        try {
            $output = @($ps.Invoke())
        } catch {
            $inner = $_.Exception.InnerException
            if ($inner -is [System.Management.Automation.IContainsErrorRecord]) {
                $thrown = @($inner.ErrorRecord)
            } else {
                throw
            }
        }

        [pscustomobject]@{
            Output = $output
            Errors = @($ps.Streams.Error) + $thrown
        }
    } finally {
        $ps.Dispose()
    }
}
