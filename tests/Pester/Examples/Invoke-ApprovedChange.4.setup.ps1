# The incident happened: the agent's grant to All Engineering was approved and applied.
$incident = Approve-Example (New-ExampleRequest (Import-AccessChange ./examples/changes/forum-4411.json))
$null = $incident | Invoke-ApprovedChange -Force
