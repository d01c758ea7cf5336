<#
.SYNOPSIS
    Import-Module's cost over a bare PowerShell start (issue 16: at most 300 ms).

.DESCRIPTION
    Starts fresh processes, interleaved: `pwsh -NoProfile -c '$null'` (the baseline) and
    `pwsh -NoProfile -c 'Import-Module <psd1>'`, -Runs times each after -Warmup of each (excluded), and
    prints the median of each, the median of the per-pair differences, their spread, and the load
    average before and after. Run it from the repository root after a Release build:

        dotnet build src/AgentGovernance -c Release
        dotnet pwsh -NoProfile -File bench/ImportModule.ps1 [-Runs 20] [-Pwsh /path/to/pwsh]

    Both commands start the same way (-Pwsh, default: the pwsh of this session), so what that costs is
    in both and cancels in the difference.
#>
[CmdletBinding()]
param(
    [int] $Runs = 20,
    [int] $Warmup = 2,
    [string] $Module = (Join-Path $PSScriptRoot '../out/AgentGovernance/AgentGovernance.psd1'),
    # The pwsh of this session; under `dotnet pwsh` (a .NET tool) that is dotnet and this session's pwsh.dll.
    [string] $Pwsh = $(if ((Get-Process -Id $PID).ProcessName -eq 'dotnet') { "dotnet $([Environment]::GetCommandLineArgs()[0])" } else { (Get-Process -Id $PID).Path })
)

$ErrorActionPreference = 'Stop'
$Module = (Resolve-Path $Module).Path
Write-Verbose "pwsh: $Pwsh"
$exe, $prefix = $Pwsh -split ' ', 2
[string[]] $prefixArgs = @(if ($prefix) { $prefix -split ' ' })

function Invoke-Timed([string] $Command) {
    $psi = [Diagnostics.ProcessStartInfo]::new($exe)
    foreach ($a in @($prefixArgs) + @('-NoProfile', '-NonInteractive', '-c', $Command)) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $p = [Diagnostics.Process]::Start($psi)
    $null = $p.StandardOutput.ReadToEnd()
    $p.WaitForExit()
    $watch.Stop()
    if ($p.ExitCode -ne 0) { throw "'$Command' exited with $($p.ExitCode)" }
    $watch.Elapsed.TotalMilliseconds
}

function Get-Median([double[]] $xs) {
    $s = $xs | Sort-Object
    if ($s.Count % 2) { $s[[int][Math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 }
}

$bare = '$null'
# Import and one command of the module, so that a module whose work is deferred to first use is not flattered.
$import = "Import-Module '$($Module -replace "'", "''")'; `$null = Get-Command -Module AgentGovernance"
$load0 = (Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -split ' ' | Select-Object -First 1

for ($i = 0; $i -lt $Warmup; $i++) { $null = Invoke-Timed $bare; $null = Invoke-Timed $import }
$b = [Collections.Generic.List[double]]::new()
$m = [Collections.Generic.List[double]]::new()
for ($i = 0; $i -lt $Runs; $i++) {
    # Alternate which goes first, so that a slow spell of the machine falls on both alike.
    if ($i % 2) { $m.Add((Invoke-Timed $import)); $b.Add((Invoke-Timed $bare)) }
    else { $b.Add((Invoke-Timed $bare)); $m.Add((Invoke-Timed $import)) }
}

$load1 = (Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -split ' ' | Select-Object -First 1
$diff = for ($i = 0; $i -lt $Runs; $i++) { $m[$i] - $b[$i] }
$sorted = $diff | Sort-Object
[pscustomobject]@{
    Runs             = $Runs
    BareMedianMs     = [Math]::Round((Get-Median $b), 0)
    ImportMedianMs   = [Math]::Round((Get-Median $m), 0)
    OverBareMedianMs = [Math]::Round((Get-Median $diff), 0)
    OverBareP10Ms    = [Math]::Round($sorted[[int][Math]::Floor($Runs * 0.1)], 0)
    OverBareP90Ms    = [Math]::Round($sorted[[int][Math]::Min($Runs - 1, [Math]::Floor($Runs * 0.9))], 0)
    GoalMet          = (Get-Median $diff) -le 300
    LoadBefore       = $load0
    LoadAfter        = $load1
} | Format-List
