# Every example of docs/cmdlets, and every PowerShell block of the README, run as written on the demo tenant.
#
# Each example runs in a fresh runspace that has imported the module under test, with its location in
# a new working folder laid out like the repository (examples/, tests/corpus/, and the files the pages
# name, from tests/Pester/Examples/workspace/, and the approver keys carol.key, dana.key and bob.key,
# made once with the demo passphrase). Examples/<Page>.setup.ps1 and then Examples/<Page>.<N>.setup.ps1
# (N, the example's number), when they exist, run first in the same runspace and make what the
# examples take for granted (a policy, an open request in $request, ...); Examples/<Page>.<N>.teardown.ps1
# takes away afterwards what a setup put outside the working folder. What each example printed is
# kept in out/test-results/examples/ to compare with the page's Output block. Read-Host is answered by the harness (it types the demo passphrase), and
# confirmations are given ($ConfirmPreference = 'None'), as a person at the prompt would.
#
# An example passes when it writes no error record, or only errors whose ErrorId its own text shows (its
# Output block, or the words under its heading): a page that demonstrates a refusal names that refusal.
#
# An example marked <!-- example: live tenant --> under its heading signs in to a real Microsoft Entra
# tenant, which no test here can reach: it is parsed, and each command and parameter it uses is
# checked against the module, but it is not run.
BeforeDiscovery {
    function Get-MarkdownExample {
        # The examples of a page: under '## EXAMPLES', one per '### ' heading (its first powershell block,
        # and its Output blocks); or, with -EveryBlock, each powershell block under its nearest heading.
        param([string] $Path, [string] $Page, [switch] $EveryBlock)
        $lines = Get-Content -LiteralPath $Path
        $inExamples = [bool]$EveryBlock
        $heading = $null
        $live = $false
        $current = $null
        $fence = $null
        $buffer = $null
        $count = 0
        for ($i = 0; $i -lt $lines.Count; $i++) {
            $line = $lines[$i]
            if ($current -and -not $EveryBlock) { $current.Output += "`n" + $line }
            if ($null -eq $fence) {
                if (-not $EveryBlock -and $line -match '^## ') {
                    if ($current) { $current; $current = $null }
                    $inExamples = $line -eq '## EXAMPLES'
                    continue
                }
                if (-not $inExamples) { continue }
                if ($line -match '^#{2,4} (.+)$') {
                    $heading = $Matches[1]
                    if (-not $EveryBlock) {
                        if ($current) { $current }
                        $number = if ($heading -match '^Example (\d+)') { [int]$Matches[1] } else { 0 }
                        $current = @{ Page = $Page; Title = $heading; Number = $number; Code = $null; Output = ''; Live = $false; Line = $i + 1 }
                    }
                    continue
                }
                if ($line -match '^<!-- example: live tenant -->') {
                    if ($EveryBlock) { $live = $true } elseif ($current) { $current.Live = $true }
                    continue
                }
                if ($line -match '^```(\w*)\s*$') {
                    $fence = $Matches[1]
                    $buffer = [System.Collections.Generic.List[string]]::new()
                    if ($EveryBlock -and $fence -eq 'powershell') {
                        $count++
                        $current = @{ Page = $Page; Title = "$heading (block $count)"; Number = $count; Code = $null; Output = ''; Live = $live; Line = $i + 1 }
                        $live = $false
                    }
                    continue
                }
            }
            elseif ($line -match '^```\s*$') {
                $text = $buffer -join "`n"
                if ($fence -eq 'powershell' -and $current -and $null -eq $current.Code) { $current.Code = $text }
                elseif ($fence -eq 'Output' -and $current -and $EveryBlock) { $current.Output += "`n" + $text }
                if ($EveryBlock -and $fence -eq 'powershell') { $current; $current = $null }
                $fence = $null
                continue
            }
            else {
                $buffer.Add($line)
            }
        }
        if ($current) { $current }
    }

    $docs = Join-Path $PSScriptRoot '../../docs/cmdlets'
    $Examples = @(
        foreach ($file in Get-ChildItem -LiteralPath $docs -Filter '*.md' | Where-Object Name -notlike 'about_*' | Sort-Object Name) {
            Get-MarkdownExample -Path $file.FullName -Page $file.BaseName
        }
        Get-MarkdownExample -Path (Join-Path $PSScriptRoot '../../README.md') -Page 'README' -EveryBlock
    )
    # While writing docs: $env:AGENTGOVERNANCE_EXAMPLES = 'Approve-*' runs only those pages.
    if ($env:AGENTGOVERNANCE_EXAMPLES) { $Examples = @($Examples | Where-Object { $_.Page -like $env:AGENTGOVERNANCE_EXAMPLES }) }
}

BeforeAll {
    . $PSScriptRoot/common.ps1
    $workspaceSource = Join-Path $PSScriptRoot 'Examples/workspace'
    $setups = Join-Path $PSScriptRoot 'Examples'
    $passphraseText = 'demo passphrase, not a secret'
    $printed = Join-Path $RepoRoot 'out/test-results/examples'
    $null = New-Item -ItemType Directory -Force -Path $printed

    # The demo approvers' keys, made once (each takes a deliberately slow key derivation).
    $keyCache = Join-Path ([System.IO.Path]::GetTempPath()) ('agentgovernance-example-keys-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $keyCache
    $secure = [System.Net.NetworkCredential]::new('', $passphraseText).SecurePassword
    $entries = foreach ($who in 'carol', 'dana', 'bob') {
        (New-ApproverKey -Identity "$who@contoso.com" -Path (Join-Path $keyCache "$who.key") -Passphrase $secure).PolicyEntry
    }
    [System.IO.File]::WriteAllLines((Join-Path $keyCache 'approvers.txt'), [string[]]$entries)

    function New-ExampleWorkspace {
        $work = Join-Path ([System.IO.Path]::GetTempPath()) ('agentgovernance-examples-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $null = New-Item -ItemType Directory -Path $work
        Copy-Item -LiteralPath $ExamplesFolder -Destination (Join-Path $work 'examples') -Recurse
        $null = New-Item -ItemType Directory -Path (Join-Path $work 'tests')
        Copy-Item -LiteralPath (Join-Path $RepoRoot 'tests/corpus') -Destination (Join-Path $work 'tests/corpus') -Recurse
        if (Test-Path -LiteralPath $workspaceSource) {
            Copy-Item -Path (Join-Path $workspaceSource '*') -Destination $work -Recurse
        }
        Copy-Item -Path (Join-Path $keyCache '*') -Destination $work
        # ./out/AgentGovernance, where the README imports the built module from: the module under test.
        # Each example imports it through this same path first, so the README's own Import-Module of it is
        # the module already loaded, not a second copy whose type data would clash with the first.
        $null = New-Item -ItemType Directory -Path (Join-Path $work 'out')
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $work 'out/AgentGovernance') -Target $ModuleBase
        $work
    }

    function Invoke-Example {
        param([string] $Page, [int] $Number, [string] $Code, [string] $Work)
        $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
        $ps = [powershell]::Create($iss)
        # Relative paths some commands give .NET (Import-Module among them) resolve against the process's
        # directory, not PowerShell's location: both are the working folder while an example runs.
        $savedDirectory = [Environment]::CurrentDirectory
        [Environment]::CurrentDirectory = $Work
        try {
            $ps.Runspace.SessionStateProxy.Path.SetLocation($Work) | Out-Null
            $prelude = @'
param($Manifest, $Passphrase, [string[]] $Setup)
$ErrorActionPreference = 'Continue'
$ConfirmPreference = 'None'
Import-Module -Name $Manifest -ErrorAction Stop
# The person at the keyboard: types the demo passphrase whenever asked.
function Read-Host {
    param([Parameter(Position = 0)] [object] $Prompt, [switch] $AsSecureString, [switch] $MaskInput)
    if ($AsSecureString) { [System.Net.NetworkCredential]::new('', $Passphrase).SecurePassword } else { $Passphrase }
}
foreach ($file in $Setup) { . $file }
'@
            $setup = @((Join-Path $setups "$Page.setup.ps1"), (Join-Path $setups "$Page.$Number.setup.ps1") | Where-Object { Test-Path -LiteralPath $_ })
            $null = $ps.AddScript($prelude, $false).AddArgument((Join-Path $Work 'out/AgentGovernance/AgentGovernance.psd1')).AddArgument($passphraseText).AddArgument($setup)
            $null = $ps.Invoke()
            $setupErrors = @($ps.Streams.Error)
            if ($setupErrors) { throw "The setup of $Page failed: $($setupErrors[0]) ($($setupErrors[0].FullyQualifiedErrorId))" }
            $ps.Commands.Clear()
            $null = $ps.AddScript($Code, $false).AddCommand('Out-String').AddParameter('Width', 120)
            $thrown = @()
            $text = ''
            try {
                $text = -join $ps.Invoke()
            }
            catch {
                $inner = $_.Exception.InnerException
                if ($inner -is [System.Management.Automation.IContainsErrorRecord]) { $thrown = @($inner.ErrorRecord) } else { throw }
            }
            $errors = @($ps.Streams.Error) + $thrown
            $teardown = Join-Path $setups "$Page.$Number.teardown.ps1"
            if (Test-Path -LiteralPath $teardown) {
                $ps.Commands.Clear()
                $null = $ps.AddScript(". '$($teardown -replace "'", "''")'", $false).Invoke()
            }
            [pscustomobject]@{ Text = $text; Errors = $errors }
        }
        finally {
            [Environment]::CurrentDirectory = $savedDirectory
            $ps.Dispose()
        }
    }

    $savedData = $env:XDG_DATA_HOME
}

AfterAll {
    $env:XDG_DATA_HOME = $savedData
    Remove-Item -LiteralPath $keyCache -Recurse -Force -ErrorAction SilentlyContinue
}

Describe '<Page>: <Title>' -ForEach $Examples {
    BeforeAll {
        $work = New-ExampleWorkspace
        # The default store and ledger signer of examples that name none: inside the working folder.
        $env:XDG_DATA_HOME = Join-Path $work 'data'
    }

    AfterAll {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }

    if (-not $Live) {
        It 'runs on the demo tenant, with only the errors its text shows' {
            $Code | Should -Not -BeNullOrEmpty -Because 'an example shows its code in a powershell block'
            $result = Invoke-Example -Page $Page -Number $Number -Code $Code -Work $work
            $shown = $result.Text + (($result.Errors | ForEach-Object { "ERROR $($_.FullyQualifiedErrorId): $_" }) -join "`n")
            [System.IO.File]::WriteAllText((Join-Path $printed "$Page.$Number.txt"), $shown)
            $unexpected = foreach ($e in $result.Errors) {
                $id = ($e.FullyQualifiedErrorId -split ',')[0]
                if ($Output -notmatch "(?<![\w])$([regex]::Escape($id))(?![\w])") { "$id`: $e" }
            }
            $unexpected | Should -BeNullOrEmpty -Because "$Page line $Line runs as written"
        }
    }
    else {
        It 'uses only commands and parameters that exist (a live-tenant example: checked, not run)' {
            $tokens = $null; $parseErrors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref] $tokens, [ref] $parseErrors)
            $parseErrors | Should -BeNullOrEmpty
            $problems = foreach ($call in $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] }, $true)) {
                $name = $call.GetCommandName()
                if (-not $name) { continue }
                $command = Get-Command -Name $name -ErrorAction SilentlyContinue
                if (-not $command) { "no command $name"; continue }
                foreach ($element in $call.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] }) {
                    $matching = @($command.Parameters.Keys | Where-Object { $_ -like "$($element.ParameterName)*" }) +
                        @($command.Parameters.Values | Where-Object { $_.Aliases -contains $element.ParameterName })
                    if (-not $matching) { "$name has no parameter -$($element.ParameterName)" }
                }
            }
            $problems | Should -BeNullOrEmpty
        }
    }
}
