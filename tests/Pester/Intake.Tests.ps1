# Intake as an attacker tries it (issue 11, item 5): scripts that change a value through another
# reference before using it, markdown answers whose commands sit in console transcripts, and answers
# with one block that cannot be read. Each attack is first run for real against recording stubs, to
# show that PowerShell does act on the changed value; ConvertFrom-AgentSuggestion must then refuse it.

BeforeAll {
    . $PSScriptRoot/common.ps1
    Connect-AgentGovernance -SnapshotPath $DemoSnapshotPath

    function Get-OperationText($Change) {
        # The change's operations as sentences ("add u-x to group g-y"); none when there is no change.
        , @($Change.Operations | ForEach-Object { $_.ToString() })
    }

    function Invoke-WithStub {
        # Runs a script for real, in a child scope, with New-MgGroupMember a stub that records what it is given.
        param([Parameter(Mandatory)] [string] $Script)
        $calls = [System.Collections.Generic.List[string]]::new()
        function New-MgGroupMember {
            param([Parameter(Mandatory)] [string] $GroupId, [Parameter(Mandatory)] [string] $DirectoryObjectId)
            $calls.Add("add $DirectoryObjectId to group $GroupId")
        }
        & ([scriptblock]::Create($Script)) | Out-Null
        , $calls.ToArray()
    }
}

Describe 'ConvertFrom-AgentSuggestion against aliasing (issue 11, item 5)' {
    BeforeDiscovery {
        $table = "`$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-marcus.bell' }"
        $Attacks = @(
            @{ How = 'another reference'; Script = "$table`n`$h2 = `$h`n`$h2.GroupId = 'g-exec'`nNew-MgGroupMember @h" }
            @{ How = '$_'; Script = "$table`n`$h | ForEach-Object { `$_.GroupId = 'g-exec' }`nNew-MgGroupMember @h" }
            @{ How = 'a foreach variable'; Script = "$table`nforeach (`$x in @(`$h)) { `$x.GroupId = 'g-exec' }`nNew-MgGroupMember @h" }
            @{ How = 'a function parameter'; Script = "function f(`$p) { `$p.GroupId = 'g-exec' }`n$table`nf `$h`nNew-MgGroupMember @h" }
            @{ How = 'a list element'; Script = "$table`n`$l = @(`$h)`n`$l[0].GroupId = 'g-exec'`nNew-MgGroupMember @h" }
            @{ How = 'an aliased array'; Script = "`$a = @('g-eng')`n`$b = `$a`n`$b[0] = 'g-exec'`nNew-MgGroupMember -GroupId `$a[0] -DirectoryObjectId u-marcus.bell" }
            @{ How = '(Get-Variable h).Value'; Script = "$table`n(Get-Variable h).Value.GroupId = 'g-exec'`nNew-MgGroupMember @h" }
            @{ How = 'Set-Variable'; Script = "`$g = 'g-eng'`nSet-Variable -Name g -Value 'g-exec'`nNew-MgGroupMember -GroupId `$g -DirectoryObjectId u-marcus.bell" }
            @{ How = 'a [ref]'; Script = "`$g = 'g-eng'`n`$r = [ref]`$g`n`$r.Value = 'g-exec'`nNew-MgGroupMember -GroupId `$g -DirectoryObjectId u-marcus.bell" }
            @{ How = 'a script block run in the script''s scope'; Script = "`$g = 'g-eng'`n1 | Where-Object { `$g = 'g-exec'; `$true } | Out-Null`nNew-MgGroupMember -GroupId `$g -DirectoryObjectId u-marcus.bell" }
            @{ How = 'a function that reads the variable after it changed'; Script = "`$g = 'g-eng'`nfunction add { New-MgGroupMember -GroupId `$g -DirectoryObjectId u-marcus.bell }`nSet-Variable g 'g-exec'`nadd" }
        )
    }

    It 'refuses a change through <How>, which PowerShell really performs' -TestCases $Attacks {
        Invoke-WithStub $Script | Should -Be @('add u-marcus.bell to group g-exec')

        $change = ConvertFrom-AgentSuggestion -InputObject $Script -ErrorVariable problems -ErrorAction SilentlyContinue

        $change | Should -BeNullOrEmpty
        $problems | Should -Not -BeNullOrEmpty
        @($problems | Get-ErrorId) | Should -Contain 'SuggestionUnresolvedValue'
        ($problems | Where-Object { ($_ | Get-ErrorId) -eq 'SuggestionUnresolvedValue' } | Select-Object -First 1).TargetObject.Command | Should -Be 'New-MgGroupMember'
    }

    It 'reports the value a script really uses when nothing changes it through an alias' {
        $script = "`$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-marcus.bell' }`n`$h2 = `$h`nfunction add(`$x) { `$x }`nadd `$h | Out-Null`nNew-MgGroupMember @h2"
        Invoke-WithStub $script | Should -Be @('add u-marcus.bell to group g-eng')

        Get-OperationText (ConvertFrom-AgentSuggestion -InputObject $script) | Should -Be @('add u-marcus.bell to group g-eng')
    }

    It 'reads a function where it is called, and not at all when it is never called' {
        $called = "`$g = 'g-eng'`nfunction add { New-MgGroupMember -GroupId `$g -DirectoryObjectId u-marcus.bell }`n`$g = 'g-platform'`nadd"
        $uncalled = "function add { New-MgGroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell }`nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId u-marcus.bell"
        Invoke-WithStub $called | Should -Be @('add u-marcus.bell to group g-platform')
        Invoke-WithStub $uncalled | Should -Be @('add u-marcus.bell to group g-eng')

        Get-OperationText (ConvertFrom-AgentSuggestion -InputObject $called) | Should -Be @('add u-marcus.bell to group g-platform')
        ConvertFrom-AgentSuggestion -InputObject $uncalled -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems.TargetObject.Command | Should -Contain 'New-MgGroupMember'
        $problems.Exception.Message | Should -Match 'in the function add, which the script does not call'
    }
}

Describe 'ConvertFrom-AgentSuggestion is precise where it can know, and refuses where it cannot (issue 11, item 5)' {
    BeforeDiscovery {
        $table = "`$h = @{ GroupId = 'g-eng'; DirectoryObjectId = 'u-marcus.bell' }"
        $Precise = @(
            @{ How = 'a helper function called with known arguments'; Script = "function add(`$grp, `$usr) { New-MgGroupMember -GroupId `$grp -DirectoryObjectId `$usr }`n`$g = 'g-exec'`nadd `$g u-marcus.bell" }
            @{ How = 'Get-Variable -ValueOnly'; Script = "`$g = 'g-exec'`n`$v = Get-Variable g -ValueOnly`nNew-MgGroupMember -GroupId `$v -DirectoryObjectId u-marcus.bell" }
            @{ How = 'its own hashtable changed in place'; Script = "$table`n`$h.GroupId = 'g-exec'`nNew-MgGroupMember @h" }
            @{ How = 'return'; Script = "New-MgGroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell`nreturn`nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId u-marcus.bell" }
            @{ How = 'throw'; Script = "New-MgGroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell`nthrow 'stop'`nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId u-marcus.bell" }
            @{ How = 'a return in a function'; Script = "function f { New-MgGroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell; return; New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-marcus.bell }`nf" }
            @{ How = 'a branch whose condition is false'; Script = "if (`$false) { New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-marcus.bell }`nNew-MgGroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell" }
            @{ How = 'a break in a loop'; Script = "foreach (`$i in 1, 2) { New-MgGroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell; break; New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-marcus.bell }" }
        )
    }

    It 'reports exactly what runs with <How>' -TestCases $Precise {
        try { Invoke-WithStub $Script | Should -Be @('add u-marcus.bell to group g-exec') }
        catch { $_.Exception.Message | Should -Be 'stop' } # a throw ends the stubbed run as it ends the script

        $change = ConvertFrom-AgentSuggestion -InputObject $Script -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Should -BeNullOrEmpty
        Get-OperationText $change | Should -Be @('add u-marcus.bell to group g-exec')
    }

    It 'refuses a command whose branch may not run (<Why>), never reporting it as if it ran' -TestCases @(
        @{ Why = 'a condition only known when it runs'; Script = "if (`$env:DEPLOY) { New-MgGroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell }" }
        @{ Why = 'a return that may run before it'; Script = "if (`$env:DEPLOY) { return }`nNew-MgGroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell" }
        @{ Why = 'a catch block'; Script = "try { Get-MgGroup -GroupId g-eng | Out-Null } catch { New-MgGroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell }" }
    ) {
        $change = ConvertFrom-AgentSuggestion -InputObject $Script -ErrorVariable problems -ErrorAction SilentlyContinue

        $change | Should -BeNullOrEmpty
        @($problems | Get-ErrorId) | Should -Be @('SuggestionUnresolvedValue')
        $problems[0].TargetObject.Command | Should -Be 'New-MgGroupMember'
        $problems[0].Exception.Message | Should -Match 'whether it runs is only known when the script runs'
    }
}

Describe 'ConvertFrom-AgentSuggestion on markdown answers' {
    BeforeDiscovery {
        $Labels = @('console', 'powershell', 'pwsh', 'ps1', 'text', 'shell', 'sh', 'output', 'log', 'plaintext', '') | ForEach-Object { @{ Label = $_ } }
    }

    It 'reads a console transcript in a block labelled "<Label>"' -TestCases $Labels {
        $answer = "Add Marcus to All Engineering:`n`n``````$Label`nPS C:\> Get-MgGroup -GroupId g-eng | Out-Null`nPS> New-MgGroupMember -GroupId g-eng ``" + "`n>> -DirectoryObjectId u-marcus.bell`n``````n`nDone."

        $change = ConvertFrom-AgentSuggestion -InputObject $answer -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Should -BeNullOrEmpty
        Get-OperationText $change | Should -Be @('add u-marcus.bell to group g-eng')
    }

    It 'reads a command name split by a backtick escape (New-Mg`GroupMember) in a console block' {
        $answer = "Run this:`n`n``````console`nPS> New-Mg``GroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell`n``````n"

        $change = ConvertFrom-AgentSuggestion -InputObject $answer -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems | Should -BeNullOrEmpty
        Get-OperationText $change | Should -Be @('add u-marcus.bell to group g-exec')
    }

    It 'governs every block: a benign block beside a console block gives both operations' {
        $answer = "First:`n`n``````powershell`nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId u-marcus.bell`n``````n`nThen:`n`n``````console`nPS> New-MgGroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell`n``````n"

        $change = ConvertFrom-AgentSuggestion -InputObject $answer

        # "First:" and "Then:" are prose, also where the whole answer is read as a script.
        $operations = Get-OperationText $change
        $operations | Sort-Object | Should -Be @('add u-marcus.bell to group g-eng', 'add u-marcus.bell to group g-exec')
    }

    It 'refuses the whole answer when one block holds a command it cannot read (<Why>)' -TestCases @(
        @{ Why = 'Invoke-Expression in a console block'; Block = "``````console`nPS> Invoke-Expression `$payload`n``````" }
        @{ Why = 'an Azure CLI line in a bash block'; Block = "``````bash`n`$ az role assignment create --assignee marcus.bell@contoso.com --role Owner`n``````" }
        @{ Why = 'a computed command name in an unlabelled block'; Block = "``````n& ('New-Mg' + 'GroupMember') -GroupId g-exec -DirectoryObjectId u-marcus.bell`n``````" }
        @{ Why = 'a block that does not parse'; Block = "``````powershell`nNew-MgGroupMember -GroupId g-exec -DirectoryObjectId u-marcus.bell {`n``````" }
    ) {
        $answer = "Add Marcus:`n`n``````powershell`nNew-MgGroupMember -GroupId g-eng -DirectoryObjectId u-marcus.bell`n``````n`nAnd:`n`n$Block`n"

        $change = ConvertFrom-AgentSuggestion -InputObject $answer -ErrorVariable problems -ErrorAction SilentlyContinue

        $change | Should -BeNullOrEmpty
        $problems | Should -Not -BeNullOrEmpty
        @($problems | Get-ErrorId) | ForEach-Object { $_ | Should -BeIn @('SuggestionRefused', 'SuggestionUnresolvedValue') }
    }
}
