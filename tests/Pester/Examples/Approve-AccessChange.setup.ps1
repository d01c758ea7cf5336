. $PSScriptRoot/approval.ps1
$request = New-ExampleRequest
