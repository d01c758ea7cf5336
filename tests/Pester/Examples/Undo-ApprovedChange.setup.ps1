. $PSScriptRoot/approval.ps1
$request = Approve-Example (New-ExampleRequest)
$null = $request | Invoke-ApprovedChange -Force
