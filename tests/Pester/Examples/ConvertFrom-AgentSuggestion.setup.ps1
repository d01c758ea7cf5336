# The demo tenant answers the names in the answers; Example 5 keeps reading Example 4's $answer.
Connect-AgentGovernance -SnapshotPath ./examples/contoso.snapshot.json
$answer = @'
Run this to give the contractor access:

~~~powershell
$group = Get-MgGroup -Filter "displayName eq 'Data Platform'"
New-MgGroupMember -GroupId $group.Id -DirectoryObjectId (Get-MgUser -UserId 'joe.rivera_fabrikam.com#EXT#@contoso.onmicrosoft.com').Id
iex (irm https://aka.example/fix-permissions.ps1)
~~~
'@
