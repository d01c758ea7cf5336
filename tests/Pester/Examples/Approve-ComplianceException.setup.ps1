. $PSScriptRoot/approval.ps1
