# Apply the membership requests exported from the ticket
$requests = Import-Csv -Path .\requests.csv
foreach ($r in $requests) {
    $p = @{ GroupId = $r.Group; DirectoryObjectId = $r.User }
    New-MgGroupMember @p
}
