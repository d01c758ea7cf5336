. $PSScriptRoot/notify.ps1
