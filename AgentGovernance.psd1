@{
    RootModule           = 'AgentGovernance.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f3c2a8e-4b1d-4e57-9a2c-7d0e5b9f1a34'
    Author               = 'AgentGovernance contributors'
    CompanyName          = 'AgentGovernance'
    Copyright            = '(c) AgentGovernance contributors. MIT License.'
    Description          = 'Puts every permission change an AI agent suggests through preview, human approval, apply and audit. Previews who would newly reach what, how bad it is, and why.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Core', 'Desktop')
    TypesToProcess       = @('AgentGovernance.Types.ps1xml')
    FormatsToProcess     = @('AgentGovernance.Format.ps1xml', 'AgentGovernance.Approval.Format.ps1xml', 'AgentGovernance.Suggestions.Format.ps1xml', 'AgentGovernance.Notifications.Format.ps1xml', 'AgentGovernance.Compliance.Format.ps1xml')
    CmdletsToExport      = @(
        'Approve-AccessChange'
        'Approve-ComplianceException'
        'Connect-AgentGovernance'
        'ConvertFrom-AgentSuggestion'
        'Copy-GovernanceStore'
        'Deny-AccessChange'
        'Export-AccessChange'
        'Export-AccessSnapshot'
        'Export-GovernanceAuditLog'
        'Get-ApprovalRequest'
        'Get-ComplianceAuditResult'
        'Get-EffectiveAccess'
        'Get-GovernanceAuditLog'
        'Import-AccessChange'
        'Import-AccessSnapshot'
        'Import-GovernancePolicy'
        'Invoke-AccessExpiry'
        'Invoke-ComplianceAudit'
        'Invoke-ApprovedChange'
        'New-AccessChange'
        'New-ApproverKey'
        'Request-HumanApproval'
        'Send-ApprovalNotification'
        'Start-AgentGovernanceMcpServer'
        'Test-ExposureRisk'
        'Test-GovernanceAuditLog'
        'Undo-ApprovedChange'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Governance', 'Permissions', 'EntraID', 'MicrosoftGraph', 'SharePoint', 'AI', 'Agents', 'Security', 'Audit', 'Compliance', 'PSEdition_Core', 'PSEdition_Desktop', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://opensource.org/license/mit'
            ProjectUri   = 'https://github.com/AgentGovernance/AgentGovernance'
            ReleaseNotes = '0.1.0: preview, human approval, guarded apply and audit for permission changes AI agents suggest. CHANGELOG.md in the module folder has the details.'
        }
    }
}
