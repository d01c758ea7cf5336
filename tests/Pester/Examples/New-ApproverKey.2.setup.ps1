# Dana's certificate in the current user's personal store (taken out again by the teardown).
$ecdsa = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
$csr = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=dana@contoso.com (AgentGovernance example)', $ecdsa, [System.Security.Cryptography.HashAlgorithmName]::SHA256)
$certificate = $csr.CreateSelfSigned([DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(1))
$store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
$store.Open('ReadWrite')
$store.Add($certificate)
$store.Close()
$thumbprint = $certificate.Thumbprint
