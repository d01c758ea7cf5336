# Contoso production policy: stricter than the defaults
@{
    SensitiveFrom     = 'General'
    HardDeny          = @{ AG002 = 'High' }
    RequiredApprovals = @{ Critical = 3 }
    AgentIdentities   = @('sp-helper', 'sp-salesbot', 'sp-opsagent')
}
