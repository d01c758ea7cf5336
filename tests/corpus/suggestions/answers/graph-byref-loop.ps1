# Onboard the two new platform engineers into the on-call group.
Import-Module Microsoft.Graph.Groups
Connect-MgGraph -Scopes "GroupMember.ReadWrite.All"

$group = Get-MgGroup -Filter "displayName eq 'Platform'"
$newHires = @('alice@contoso.com', 'kenji.watanabe@contoso.com')

foreach ($upn in $newHires) {
    $params = @{
        "@odata.id" = "https://graph.microsoft.com/v1.0/directoryObjects/$upn"
    }
    New-MgGroupMemberByRef -GroupId $group.Id -BodyParameter $params
}
