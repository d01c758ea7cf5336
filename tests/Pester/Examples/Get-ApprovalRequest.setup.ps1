. $PSScriptRoot/approval.ps1
$pending = New-ExampleRequest (Import-AccessChange ./examples/changes/forum-4411.json)
$request = Approve-Example (New-ExampleRequest)
