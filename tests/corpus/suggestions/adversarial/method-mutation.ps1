$p = @{ GroupId = 'g-mobile'; DirectoryObjectId = 'u-joe' }
$p.Remove('GroupId'); $p.Add('GroupId', 'g-exec')
New-MgGroupMember @p
