# A change policy blocks (an anonymous link to a Confidential price list), and break-glass approvers.
Write-ExamplePolicy -BreakGlass
Connect-AgentGovernance -PolicyPath ./policy.psd1
$change = Import-AccessChange ./examples/changes/anonymous-link.json
