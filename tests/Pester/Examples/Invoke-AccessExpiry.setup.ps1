. $PSScriptRoot/approval.ps1
# A time-boxed grant that was applied two seconds before its end, and is now due.
$short = New-AccessChange -Grant -ResourceId site-userdata -PrincipalId g-dataplatform -Role read -Duration PT2S `
    -Title 'Data Platform reads the pipeline exports for the debugging session' -RequestedBy bob@contoso.com
$request = Approve-Example (New-ExampleRequest $short)
$null = $request | Invoke-ApprovedChange -Force
Start-Sleep -Seconds 3
