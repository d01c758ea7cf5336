# Request-HumanApproval -Notify and Send-ApprovalNotification as an administrator and a scheduler use
# them on the demo tenant, against a real Teams-like webhook on 127.0.0.1: what the card carries, what
# is sent once, what a leaky webhook file gets, and that a failed send never holds up a request.

BeforeAll {
    . $PSScriptRoot/common.ps1

    $Passphrase = [System.Net.NetworkCredential]::new('', 'correct horse battery staple').SecurePassword
    $KeyFolder = Join-Path $TestDrive 'keys'
    $null = New-Item -ItemType Directory -Path $KeyFolder
    $Keys = @{}
    foreach ($pair in @(@('carol', 'carol@contoso.com'), @('grace', 'grace.kim@contoso.com'), @('hannah', 'hannah.weber@contoso.com'))) {
        $Keys[$pair[0]] = New-ApproverKey -Identity $pair[1] -Path (Join-Path $KeyFolder "$($pair[0]).key") -Passphrase $Passphrase -ErrorAction Stop
    }

    # The webhook: an HttpListener in a runspace of its own that answers 202 and keeps every body it got.
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $probe.Start(); $Port = $probe.LocalEndpoint.Port; $probe.Stop()
    $Received = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
    $Listener = [System.Net.HttpListener]::new()
    $Listener.Prefixes.Add("http://127.0.0.1:$Port/")
    $Listener.Start()
    $Server = [powershell]::Create()
    $null = $Server.AddScript({
            param($Listener, $Received)
            while ($Listener.IsListening) {
                try { $context = $Listener.GetContext() } catch { return }
                $reader = [System.IO.StreamReader]::new($context.Request.InputStream)
                $Received.Enqueue($reader.ReadToEnd())
                $context.Response.StatusCode = 202
                $context.Response.Close()
            }
        }).AddArgument($Listener).AddArgument($Received)
    $ServerRun = $Server.BeginInvoke()

    function New-WebhookFile([string] $Mode = 'UserRead, UserWrite') {
        $path = New-TestFile -Name ("hook-{0}.url" -f [guid]::NewGuid().ToString('N').Substring(0, 8)) -Content "http://127.0.0.1:$Port/workflows/x/triggers/manual/paths/invoke?sig=PESTER-SECRET"
        if (-not $IsWindows) { [System.IO.File]::SetUnixFileMode($path, [System.IO.UnixFileMode]$Mode) }
        $path
    }

    function Connect-NotifyStore([string] $Notifications) {
        $entries = foreach ($k in $Keys.Values) { "        @{ Id = '$($k.Identity)'; PublicKey = '$($k.PublicKey)' }" }
        $extra = if ($Notifications) { "    Notifications = $Notifications`n" } else { '' }
        $policy = New-TestFile -Name ("policy-{0}.psd1" -f [guid]::NewGuid().ToString('N').Substring(0, 8)) -Content ("@{`n    AgentIdentities = @('sp-helper')`n    Approvers = @(`n" + ($entries -join "`n") + "`n    )`n$extra}`n")
        $folder = Join-Path $TestDrive ('run-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
        Connect-AgentGovernance -SnapshotPath $DemoSnapshotPath -PolicyPath $policy -StorePath (Join-Path $folder 'store') -LedgerSignerPath (Join-Path $folder 'signer/ledger-signer.json')
    }

    function Get-Received {
        $body = $null
        $all = while ($Received.TryDequeue([ref] $body)) { $body | ConvertFrom-Json -Depth 20 }
        $all
    }
}

AfterAll {
    $Listener.Stop()
    $Listener.Close()
    $Server.Dispose()
}

Describe 'Request-HumanApproval -Notify' {
    BeforeEach { $null = Get-Received }

    It 'posts one Adaptive Card 1.4 in the Workflows envelope, and records the send' {
        Connect-NotifyStore "@{ Teams = @{ WebhookUrlFile = '$(New-WebhookFile)' } }"

        $request = Get-ExampleChange forum-4411.json | Request-HumanApproval -Notify -WarningVariable warned

        $warned | Should -BeNullOrEmpty
        $request.Status | Should -Be 'Pending'
        $got = @(Get-Received)
        $got.Count | Should -Be 1
        $got[0].type | Should -Be 'message'
        $got[0].attachments[0].contentType | Should -Be 'application/vnd.microsoft.card.adaptive'
        $card = $got[0].attachments[0].content
        $card.version | Should -Be '1.4'
        $card.PSObject.Properties.Name | Should -Not -Contain 'actions'
        ($card.body | ConvertTo-Json -Depth 20) | Should -Match ([regex]::Escape("Approve-AccessChange -RequestId $($request.RequestId)"))
        $sent = Get-GovernanceAuditLog -Event NotificationSent
        $sent.Details.status | Should -Be 'Sent'
        $sent.Details.channel | Should -Be 'Teams'
        $sent.DetailsJson | Should -Not -Match 'PESTER-SECRET'
    }

    It 'opens the request with a warning when no channel takes the notification' {
        $leaky = New-WebhookFile -Mode 'UserRead, UserWrite, GroupRead, OtherRead'
        Connect-NotifyStore "@{ Teams = @{ WebhookUrlFile = '$leaky' } }"

        $request = Get-ExampleChange forum-4411.json | Request-HumanApproval -Notify -WarningVariable warned -WarningAction SilentlyContinue -ErrorVariable failed

        $failed | Should -BeNullOrEmpty
        $request.Status | Should -Be 'Pending'
        if (-not $IsWindows) {
            $warned | Should -Match 'NotificationFailed: .*NotificationSecretInsecure'
            @(Get-Received).Count | Should -Be 0
        }
    }

    It 'refuses -Notify without a Notifications section, and opens nothing' {
        Connect-NotifyStore ''

        $request = Get-ExampleChange forum-4411.json | Request-HumanApproval -Notify -ErrorVariable refused -ErrorAction SilentlyContinue

        $request | Should -BeNullOrEmpty
        $refused | Get-ErrorId | Should -Be 'NotificationNoChannel'
        @(Get-ApprovalRequest).Count | Should -Be 0
    }
}

Describe 'Send-ApprovalNotification' {
    BeforeEach { $null = Get-Received }

    It 'sends the announcement, the progress and the outcome once each' {
        Connect-NotifyStore "@{ Teams = @{ WebhookUrlFile = '$(New-WebhookFile)' } }"
        $request = Get-ExampleChange forum-4411.json | Request-HumanApproval

        (Send-ApprovalNotification).Key | Should -Be 'Requested'
        Send-ApprovalNotification | Should -BeNullOrEmpty
        $null = $request | Approve-AccessChange -KeyPath $Keys.carol.Path -Passphrase $Passphrase -Force
        (Send-ApprovalNotification).Key | Should -Be 'Progress:1'
        $null = $request | Approve-AccessChange -KeyPath $Keys.grace.Path -Passphrase $Passphrase -Force
        $outcome = $request | Send-ApprovalNotification
        $outcome.Key | Should -Be 'Outcome:Approved'
        $outcome.Status | Should -Be 'Sent'
        Send-ApprovalNotification | Should -BeNullOrEmpty
        @(Get-Received).Count | Should -Be 3
        (Get-GovernanceAuditLog -Event NotificationSent).Details.key | Should -Be @('Requested', 'Progress:1', 'Outcome:Approved')
        Test-GovernanceAuditLog -ErrorVariable broken -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Out-Null
        $broken | Should -BeNullOrEmpty
    }

    It 'shows a title that tries to be a link as text, defanged' {
        Connect-NotifyStore "@{ Teams = @{ WebhookUrlFile = '$(New-WebhookFile)' } }"
        $null = New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-dataplatform -Role read -RequestedBy bob@contoso.com `
            -Title '[Approve here](https://evil.example/approve) **now**' | Request-HumanApproval

        $null = Send-ApprovalNotification
        $json = (Get-Received) | ConvertTo-Json -Depth 20

        $json | Should -Not -Match 'https://evil'
        $json | Should -Match ([regex]::Escape('[Approve here](https[:]//evil.example/approve) **now**'))
    }

    It 'sends nothing with -WhatIf' {
        Connect-NotifyStore "@{ Teams = @{ WebhookUrlFile = '$(New-WebhookFile)' } }"
        $null = Get-ExampleChange forum-4411.json | Request-HumanApproval

        Send-ApprovalNotification -WhatIf

        @(Get-Received).Count | Should -Be 0
        Get-GovernanceAuditLog -Event NotificationSent | Should -BeNullOrEmpty
    }

    It 'is a terminating NotificationNoChannel without channels' {
        Connect-NotifyStore ''
        { Send-ApprovalNotification -ErrorAction Stop } | Should -Throw -ErrorId 'NotificationNoChannel*'
    }
}
