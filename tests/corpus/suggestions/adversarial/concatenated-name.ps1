$suffix = 'MemberByRef'
& ('New-MgGroup' + $suffix) -GroupId g-exec -OdataId 'https://graph.microsoft.com/v1.0/directoryObjects/u-joe'
