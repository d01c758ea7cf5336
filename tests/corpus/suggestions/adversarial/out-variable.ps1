Get-MgGroup -Filter "displayName eq 'Leadership Team'" -OutVariable target | Out-Null
New-MgGroupMember -GroupId $target.Id -DirectoryObjectId u-joe
