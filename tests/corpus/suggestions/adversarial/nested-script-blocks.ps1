Invoke-Command -ScriptBlock { New-MgGroupMember -GroupId g-exec -DirectoryObjectId u-joe }
$grant = { param($g) New-MgGroupMember -GroupId $g -DirectoryObjectId u-joe }
& $grant 'g-exec'
