$cmd = 'New-MgGroupMember -GroupId g-exec -DirectoryObjectId u-joe'
Inv`oke-Ex`pression $cmd
