using module \\fileserver\share\GovernanceHelpers\GovernanceHelpers.psm1
Get-MgUser -UserId alice@contoso.com
