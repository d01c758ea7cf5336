# AgentGovernance policy: a sample that spells out every setting at its default value, plus one
# agent identity. Deleting a line (or the whole file) leaves that setting at the same default.
#
# This file is read as data, never run: only 'strings', whole numbers, $true/$false, @( ) lists and
# @{ } hashtables are allowed. Variables, commands, $( ), [casts] and arithmetic are errors.
# Keys are not case-sensitive; an unknown key is an error. Reference: docs/policy.md.
@{
    # Resources labelled at or above this are "sensitive".
    # Public | General | Confidential | HighlyConfidential
    SensitiveFrom = 'Confidential'

    # Exposure rules AG001 to AG010. Each takes Enabled = $true/$false; some take a threshold.
    Rules = @{
        AG001 = @{ Enabled = $true }                              # hard-denied at Critical (below)
        AG002 = @{ Enabled = $true; PercentOfEnabledUsers = 10 }  # more than 10% of enabled users newly reach a sensitive resource (1..100)
        AG003 = @{ Enabled = $true; Threshold = 50 }              # more than 50 principals newly gain access (1 or more)
        AG004 = @{ Enabled = $true }
        AG005 = @{ Enabled = $true; CriticalAbove = 50 }          # personal data: Critical when more than 50 gain access (1 or more)
        AG006 = @{ Enabled = $true }
        AG007 = @{ Enabled = $true }
        AG008 = @{ Enabled = $true }
        AG009 = @{ Enabled = $true }
        AG010 = @{ Enabled = $true }
    }

    # Rule -> the lowest risk at which its finding blocks the change outright; no approval lifts it.
    # Low | Medium | High | Critical | Never. Merged over the defaults: listing AG008 keeps AG001,
    # and 'Never' removes an entry. A hard-denied rule cannot be disabled above.
    HardDeny = @{
        AG001 = 'Critical'
    }

    # Approvals each risk level needs (1..20). Merged over the defaults; the counts may never fall
    # as risk rises.
    RequiredApprovals = @{
        None     = 1
        Low      = 1
        Medium   = 1
        High     = 2
        Critical = 2
    }

    # Identities that are agents, besides those the directory marks (isAgent): principal ids or
    # user principal names, not case-sensitive. An agent can never approve a change.
    AgentIdentities = @(
        'sp-helper'
    )

    # Who may approve, with the public keys New-ApproverKey printed. None by default: then no change
    # can be approved. Add one line per approver (BreakGlass = $true for break-glass approvers):
    #   @{ Id = 'carol@contoso.com'; PublicKey = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE...' }
    Approvers = @()

    # How long a request stays open (ISO 8601, PT1M..P30D), and the longest time-boxed change (PT1M..P3650D).
    ApprovalExpiry = 'P1D'
    MaxDuration    = 'P30D'

    # A break-glass request needs this many more approvals, from BreakGlass approvers only.
    BreakGlass = @{ ExtraApprovals = 1 }

    # Reducing access (undo, expiry, Invoke-ApprovedChange -EmergencyRevocation) needs no approval.
    EmergencyRevocation = $true

    # Public keys trusted to sign ledger checkpoints; empty: those registered in the store, with a warning.
    LedgerSigners = @()
}
