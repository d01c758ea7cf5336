# Entra's audit log as a runbook saves it (the pages of GET auditLogs/directoryAudits): a member added in the
# admin center, and a role member removed with the runbook's own app id, neither through the pipeline.
$at = [AgentGovernance.GovernanceClock]::Format([AgentGovernance.GovernanceClock]::UtcNow.AddHours(-3))
$page = @{
    '@odata.context' = 'https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits'
    value = @(
        @{ id = 'Directory_8f2c1e7a'; category = 'GroupManagement'; result = 'success'; activityDisplayName = 'Add member to group'; activityDateTime = $at
           loggedByService = 'Core Directory'; operationType = 'Assign'
           initiatedBy = @{ user = @{ id = 'u-admin'; userPrincipalName = 'admin@contoso.com' }; app = $null }
           targetResources = @(@{ id = 'u-contractor'; type = 'User'; displayName = 'Contractor' }, @{ id = 'g-dataplatform'; type = 'Group'; displayName = 'Data Platform' }) }
        @{ id = 'Directory_4b9d0c3e'; category = 'RoleManagement'; result = 'success'; activityDisplayName = 'Remove member from role'; activityDateTime = $at
           loggedByService = 'Core Directory'; operationType = 'Unassign'
           initiatedBy = @{ user = $null; app = @{ appId = '3f1c8a52-7d5e-4b7a-9d38-0c2f4e6a8b10'; displayName = 'AgentGovernance runbook' } }
           targetResources = @(@{ id = 'u-secops'; type = 'User'; displayName = 'SecOps' }, @{ id = 'role-ga'; type = 'Role'; displayName = 'Global Administrator' }) }
    )
}
ConvertTo-Json -InputObject @($page) -Depth 8 | Set-Content -LiteralPath ./directoryAudits.json
