. $PSScriptRoot/approval.ps1
. $PSScriptRoot/notify.ps1
$request = New-ExampleRequest
