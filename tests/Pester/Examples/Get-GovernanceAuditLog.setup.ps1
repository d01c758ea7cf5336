. $PSScriptRoot/approval.ps1
$request = New-ExampleRequest
# Bob tries to approve his own request: refused, and the refusal is in the ledger.
$null = $request | Approve-AccessChange -KeyPath ./bob.key -Passphrase $pass -Force -ErrorAction SilentlyContinue
$request = Approve-Example $request
$null = $request | Invoke-ApprovedChange -Force
$Error.Clear()
