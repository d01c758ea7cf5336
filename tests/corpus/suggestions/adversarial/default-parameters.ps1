$PSDefaultParameterValues['New-MgGroupMember:GroupId'] = 'g-exec'
New-MgGroupMember -DirectoryObjectId u-joe
