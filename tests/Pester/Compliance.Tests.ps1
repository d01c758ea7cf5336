# Invoke-ComplianceAudit's HTML report in a real headless browser (Chromium from the distribution's
# packages, started by the test): a screenshot at 1280x800, and the DOM after the page's script ran,
# with directory text an attacker wrote (a script end, an img onerror, a markdown link, a bidi override).

BeforeAll {
    . $PSScriptRoot/common.ps1
    $Chromium = @('chromium', 'chromium-browser', 'google-chrome') | ForEach-Object { Get-Command $_ -CommandType Application -ErrorAction Ignore } | Select-Object -First 1

    function Invoke-Chromium([string[]] $Arguments) {
        # Headless, no sandbox (the tests may run as root in a container), its own profile, no network use.
        $profileDir = Join-Path $TestDrive ('chromium-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $all = @('--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions', '--disable-background-networking',
            "--user-data-dir=$profileDir", '--window-size=1280,800', '--virtual-time-budget=3000') + $Arguments
        $out = & $Chromium.Source @all 2>$null
        $out -join "`n"
    }

    $work = Join-Path $TestDrive 'audit'
    $null = New-Item -ItemType Directory -Path $work
    $hostile = 'Archive </script><img src=x onerror="document.title=''pwned''"> [click](javascript:alert(2)) ' + [char]0x202E + 'gnp.exe'
    $snapshot = Get-Content -LiteralPath $DemoSnapshotPath -Raw
    $snapshot = $snapshot.Replace('"Old Projects Archive"', (ConvertTo-Json $hostile))
    $tenant = Join-Path $work 'tenant.json'
    Set-Content -LiteralPath $tenant -Value $snapshot -Encoding utf8NoBOM
    Connect-AgentGovernance -SnapshotPath $tenant -StorePath (Join-Path $work 'store') -LedgerSignerPath (Join-Path $work 'signer.json') | Out-Null
    $Report = Join-Path $work 'audit.html'
    $Findings = @(Invoke-ComplianceAudit -OutputPath $Report)
}

Describe 'Invoke-ComplianceAudit -OutputPath (HTML) in headless Chromium' {
    It 'renders at 1280x800 (screenshot)' {
        if (-not $Chromium) { Set-ItResult -Skipped -Because 'Chromium is not installed (apt-get install -y chromium)'; return }
        $png = Join-Path $RepoRoot 'out/test-results/compliance-report.png'
        $null = New-Item -ItemType Directory -Force -Path (Split-Path $png)
        Remove-Item -LiteralPath $png -ErrorAction Ignore
        Invoke-Chromium @("--screenshot=$png", ([System.Uri]::new('file://' + $Report)).AbsoluteUri) | Out-Null
        Test-Path -LiteralPath $png | Should -BeTrue
        $bytes = [System.IO.File]::ReadAllBytes($png)
        # A PNG of 1280 x 800 pixels (its IHDR width and height, big-endian).
        [System.BitConverter]::ToString($bytes, 0, 4) | Should -Be '89-50-4E-47'
        ([int]$bytes[16] * 16777216 + [int]$bytes[17] * 65536 + [int]$bytes[18] * 256 + [int]$bytes[19]) | Should -Be 1280
        ([int]$bytes[20] * 16777216 + [int]$bytes[21] * 65536 + [int]$bytes[22] * 256 + [int]$bytes[23]) | Should -Be 800
    }

    It 'the DOM after the script ran: every finding a row, the filter counted, the hostile name inert text' {
        if (-not $Chromium) { Set-ItResult -Skipped -Because 'Chromium is not installed (apt-get install -y chromium)'; return }
        $dom = Invoke-Chromium @('--dump-dom', ([System.Uri]::new('file://' + $Report)).AbsoluteUri)
        $dom | Should -Match '<h1>Compliance audit of'
        ([regex]::Matches($dom, '<tr class="finding"')).Count | Should -Be $Findings.Count
        $dom | Should -Match ('<span id="shown">{0} of {0} shown</span>' -f $Findings.Count)
        $dom | Should -Not -Match '<img'
        $dom | Should -Not -Match '<title>pwned'
        ([regex]::Matches($dom, '<script')).Count | Should -Be 1
        $dom | Should -Not -Match 'href="javascript'
        $dom | Should -Match ([regex]::Escape('Archive &lt;/script&gt;&lt;img src=x onerror="document.title=''pwned''"&gt; [click](javascript:alert(2)) &lt;U+202E&gt;gnp.exe'))
        $dom.IndexOf([char]0x202E) | Should -Be -1
    }
}
