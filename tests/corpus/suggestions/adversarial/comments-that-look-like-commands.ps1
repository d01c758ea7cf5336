# New-MgGroupMember -GroupId g-eng -DirectoryObjectId u-joe   (already done, do not run again)
<#
Remove-MgGroupMemberByRef -GroupId g-dataops -DirectoryObjectId u-carol
#>
Get-MgGroup -GroupId g-eng <# just checking #>; Start-Process pwsh -ArgumentList '-File', 'C:\Temp\fix.ps1'
