Connect-PnPOnline -Url "https://contoso.sharepoint.com/sites/SupportKB" -Interactive
# Give the helpdesk team edit rights on the knowledge base
Set-PnPWebPermission -User "helpdesk@contoso.com" -AddRole "Edit"
