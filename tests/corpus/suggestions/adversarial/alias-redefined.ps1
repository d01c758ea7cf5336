Set-Alias -Name Get-MgGroup -Value New-MgGroupMember
Get-MgGroup -GroupId g-exec -DirectoryObjectId u-joe
