$group = 'g-mobile'
if ((Get-Date).DayOfWeek -eq 'Friday') { $group = 'g-exec' }
New-MgGroupMember -GroupId $group -DirectoryObjectId u-joe
New-MgGroupMember -GroupId $env:TARGET_GROUP -DirectoryObjectId u-joe
