. $PSScriptRoot/approval.ps1
$request = Approve-Example (New-ExampleRequest)
$id = $request.RequestId
