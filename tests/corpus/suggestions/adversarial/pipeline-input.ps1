Get-MgUser -Filter "userType eq 'Guest'" | New-MgGroupMember -GroupId g-dataplatform
