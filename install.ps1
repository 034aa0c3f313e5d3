<#
.SYNOPSIS
Installs codex, the coding agent, on Windows (x64 and arm64).

.DESCRIPTION
Downloads a codex release (codex.exe and codex-exec-server.exe), verifies the Ed25519 signature
of the release's manifest.json (manifest.json.sig) with OpenSSL 3 where it is on PATH, checks
every download against the manifest's SHA-256 digests before unpacking it, runs the new codex.exe
once, and only then copies both programs into the bin dir, which is added to your user PATH.

Windows PowerShell has no Ed25519, so the signature is checked with openssl.exe (OpenSSL 3 or
later, as Git for Windows ships it) when it is on PATH. Without it, only the SHA-256 digests are
checked, with a warning; -RequireSignature makes that an error instead. A release whose signature
is missing or not by one of the keys built into this script is never installed.

    irm https://github.com/openai/codex/releases/latest/download/install.ps1 | iex

`iex` cannot pass parameters, so each parameter can also be set with an environment variable
(given below). To pass parameters instead:

    & ([scriptblock]::Create((irm https://github.com/openai/codex/releases/latest/download/install.ps1))) -Version 1.2.3

Layout (the same as install.sh and `codex update`; CODEX_HOME defaults to %USERPROFILE%\.codex):

    %CODEX_HOME%\packages\standalone\releases\<version>-<target>\codex.exe, codex-exec-server.exe
    %CODEX_HOME%\packages\standalone\receipt.json    what is installed, from where, and the previous release
    %CODEX_HOME%\packages\standalone\.staging\       downloads and unpacking (never %TEMP%)
    %CODEX_HOME%\packages\standalone\.lock\pid       held while installing
    <bin dir>\codex.exe, codex-exec-server.exe       copies (symbolic links would need Developer Mode)

Until the copies are switched, nothing the installed codex uses is touched: a failure leaves the
previous install working. Installing the version that is already installed changes nothing.

.PARAMETER Version
The release to install: a version such as 1.2.3 (a "v" or "rust-v" prefix is accepted) or
"latest". Environment variable: CODEX_VERSION. Default: the newest release (or, for a copy of
this script published with a release, that release).

.PARAMETER InstallDir
Where codex.exe and codex-exec-server.exe are copied. Environment variable: CODEX_INSTALL_DIR.
Default: %LOCALAPPDATA%\Programs\codex\bin.

.PARAMETER BaseUrl
The release source: GitHub's releases page or a mirror with the same layout
(<base>/download/v<version>/<file>, <base>/latest/download/<file>). Environment variable:
CODEX_RELEASE_BASE_URL. Default: https://github.com/openai/codex/releases. Plain http:// is
refused unless the host is loopback or the URL was given explicitly by this parameter or the
environment variable.

.PARAMETER NoModifyPath
Do not add the bin dir to the user PATH. Environment variable: CODEX_NO_MODIFY_PATH=1.

.PARAMETER RequireSignature
Refuse to install, before downloading anything, when no signature verifier (OpenSSL 3 or later
on PATH) is available, instead of installing with only the SHA-256 digests checked. Environment
variable: CODEX_REQUIRE_SIGNATURE=1.

.PARAMETER AllowDowngrade
Install the release even if it is older than the installed version (from receipt.json). Without
it, such a release is refused. Environment variable: CODEX_ALLOW_DOWNGRADE=1.

.EXAMPLE
irm https://github.com/openai/codex/releases/latest/download/install.ps1 | iex

.EXAMPLE
$env:CODEX_VERSION = '1.2.3'; irm https://github.com/openai/codex/releases/latest/download/install.ps1 | iex

.EXAMPLE
.\install.ps1 -Version 1.2.3 -InstallDir D:\tools\bin -NoModifyPath

.EXAMPLE
.\install.ps1 -Version 1.2.0 -AllowDowngrade -RequireSignature

.NOTES
Works on Windows PowerShell 5.1 and PowerShell 7. Downloads honour HTTPS_PROXY (HTTP_PROXY for
an http:// mirror); without them, the system proxy settings apply.
#>
[CmdletBinding()]
param(
    [string]$Version,
    [string]$InstallDir,
    [string]$BaseUrl,
    [switch]$NoModifyPath,
    [switch]$RequireSignature,
    [switch]$AllowDowngrade
)

# The whole installer runs inside this script block. It has a scope of its own, so `irm | iex`
# leaves the caller's session as it was: strict mode, the error preference and the helper
# functions below all end with the block. (Its body is deliberately not indented.)
& {
param(
    [string]$Version,
    [string]$InstallDir,
    [string]$BaseUrl,
    [switch]$NoModifyPath,
    [switch]$RequireSignature,
    [switch]$AllowDowngrade
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
# Invoke-WebRequest redraws a progress bar for every chunk, which makes downloads on Windows
# PowerShell 5.1 many times slower.
$ProgressPreference = 'SilentlyContinue'

# The version installed when neither -Version nor CODEX_VERSION is given. The release build
# rewrites this line to the release's own version when it publishes the script with a release.
$DefaultVersion = 'latest'

# Native Windows architecture (as Get-NativeArch names it) -> release target triple. Kept equal
# to the Windows rows of crates/installer/src/target.rs (tests/install_ps1.rs checks it).
# BEGIN GENERATED: targets
$Targets = @{ 'x64' = 'x86_64-pc-windows-gnu'; 'arm64' = 'aarch64-pc-windows-gnullvm' }
# END GENERATED: targets
# BEGIN GENERATED: trusted-keys (cargo xtask generate, from crates/installer/src/signature.rs)
$TrustedKeys = @(
    @{ Id = 'codex-release-1'; Spki = 'MCowBQYDK2VwAyEAGQDfW+ejGsQd6lKu5JQgUGRgA1zrEkfDL0zI3UAFJXc=' }
)
# END GENERATED: trusted-keys
# The publisher (certificate subject CN) of the release's Authenticode signatures.
# BEGIN GENERATED: expected-publisher (cargo xtask generate, from crates/installer/src/signature.rs)
$ExpectedPublisher = 'OpenAI (set before the first signed release)'
# END GENERATED: expected-publisher
# Whether the release this script is pinned to has Authenticode-signed programs: the release
# build rewrites this line to $true when it signs them. Then that release's programs must carry
# a Valid signature by $ExpectedPublisher; other versions are checked when they carry one.
$SignedRelease = $false

$DefaultBaseUrl = 'https://github.com/openai/codex/releases'
# Every release ships these programs for every target, as <name>-<triple>.zip holding only
# <name>-<triple>.exe; they are installed as <name>.exe.
$Binaries = @('codex', 'codex-exec-server')
$VersionPattern = '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
$StagingPrefix = 'ps1-'

function Write-Step {
    param([string]$Message)
    Write-Host $Message
}

function Write-Note {
    param([string]$Message)
    Write-Host "warning: $Message" -ForegroundColor Yellow
}

# Collapses a (possibly multi-line) message to one line.
function Get-OneLine {
    param([string]$Text)
    return (($Text -replace '\s*[\r\n]+\s*', ' ').Trim())
}

# An environment variable, or '' when it is not set (never an error under strict mode).
function Get-Env {
    param([string]$Name)
    $value = [Environment]::GetEnvironmentVariable($Name)
    if ($null -eq $value) {
        return ''
    }
    return $value.Trim()
}

# A property of a parsed JSON object, or $null when it is missing (strict mode would throw).
function Get-Prop {
    param($Object, [string]$Name)
    if ($null -eq $Object) {
        return $null
    }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) {
        return $null
    }
    return $property.Value
}

# An absolute file system path. .NET methods resolve relative paths against the process's
# directory, not PowerShell's current location, so every path is made absolute first.
function Get-FullPath {
    param([string]$Path)
    return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
}

function New-Dir {
    param([string]$Path)
    $null = [System.IO.Directory]::CreateDirectory($Path)
}

function Remove-Tree {
    param([string]$Path)
    try {
        if (Test-Path -LiteralPath $Path) {
            Remove-Item -LiteralPath $Path -Recurse -Force
        }
    } catch {
        Write-Note "could not remove ${Path}: $(Get-OneLine $_.Exception.Message)"
    }
}

# A folder from PATH in a comparable form: variables expanded, no quotes, no trailing slash.
function Get-NormalizedDir {
    param([string]$Dir)
    return [Environment]::ExpandEnvironmentVariables($Dir.Trim().Trim('"')).TrimEnd('\', '/')
}

function Test-PathContains {
    param([string]$PathValue, [string]$Dir)
    $want = Get-NormalizedDir $Dir
    foreach ($item in ($PathValue -split ';')) {
        if ($item.Trim() -and ((Get-NormalizedDir $item) -ieq $want)) {
            return $true
        }
    }
    return $false
}

# 1.2.3, v1.2.3 and rust-v1.2.3 -> 1.2.3; latest stays latest.
function ConvertTo-ReleaseVersion {
    param([string]$Value)
    $v = $Value.Trim()
    if ($v -ieq 'latest') {
        return 'latest'
    }
    if ($v -like 'rust-v*') {
        $v = $v.Substring(6)
    } elseif ($v -like 'v*') {
        $v = $v.Substring(1)
    }
    if ($v -notmatch $VersionPattern) {
        throw "invalid version '$Value'; use a release version such as 1.2.3 (a v or rust-v prefix is fine) or latest"
    }
    return $v
}

function ConvertTo-ArchName {
    param([string]$Name)
    $n = $Name.Trim()
    if ($n -match '^(x64|amd64|x86_64)$') {
        return 'x64'
    }
    if ($n -match '^(arm64|aarch64)$') {
        return 'arm64'
    }
    if ($n -match '^(x86|i386|i686)$') {
        return 'x86'
    }
    return $n.ToLowerInvariant()
}

# The machine's own architecture, not the process's: an x64 PowerShell emulated on Windows on ARM
# sees PROCESSOR_ARCHITECTURE=AMD64, and so can .NET Framework's OSArchitecture, while the
# system's registry value says ARM64. Any source that sees ARM64 wins; otherwise the first answer.
function Get-NativeArch {
    $seen = @()
    # [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture, where it exists
    # (PowerShell 7; .NET Framework 4.7.1 and newer).
    $runtimeInfo = 'System.Runtime.InteropServices.RuntimeInformation' -as [type]
    if ($null -ne $runtimeInfo) {
        try {
            $seen += ConvertTo-ArchName ([string]($runtimeInfo::OSArchitecture))
        } catch {
            $seen += ''
        }
    }
    # Set for 32-bit (WOW64) processes only: the native architecture.
    $seen += ConvertTo-ArchName (Get-Env 'PROCESSOR_ARCHITEW6432')
    try {
        $key = Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Environment' -Name 'PROCESSOR_ARCHITECTURE'
        $seen += ConvertTo-ArchName ([string]($key.PROCESSOR_ARCHITECTURE))
    } catch {
        $seen += ''
    }
    $seen += ConvertTo-ArchName (Get-Env 'PROCESSOR_ARCHITECTURE')
    $known = @($seen | Where-Object { $_ })
    if ($known -contains 'arm64') {
        return 'arm64'
    }
    if ($known.Count -eq 0) {
        return 'unknown'
    }
    return $known[0]
}

function Get-Target {
    $arch = Get-NativeArch
    if (-not $Targets.ContainsKey($arch)) {
        $list = @($Targets.Keys | Sort-Object | ForEach-Object { "$($Targets[$_]) ($_)" }) -join ', '
        throw "no codex release for Windows on $arch; releases exist for: $list"
    }
    return $Targets[$arch]
}

function Test-LoopbackUri {
    param([Uri]$Uri)
    if ($Uri.IsLoopback) {
        return $true
    }
    $hostName = $Uri.Host.Trim('[', ']')
    return (($hostName -ieq 'localhost') -or ($hostName -eq '::1') -or ($hostName -match '^127\.'))
}

# https always; http only for loopback or for a source the user named explicitly.
function Assert-BaseUrl {
    param([string]$Url, [bool]$Explicit)
    $uri = $null
    if (-not [Uri]::TryCreate($Url, [UriKind]::Absolute, [ref]$uri)) {
        throw "invalid release base URL '$Url'; give a URL such as $DefaultBaseUrl"
    }
    if ($uri.Scheme -eq 'https') {
        return
    }
    if ($uri.Scheme -ne 'http') {
        throw "unsupported release base URL '$Url'; give an https:// URL such as $DefaultBaseUrl"
    }
    if (Test-LoopbackUri $uri) {
        return
    }
    if (-not $Explicit) {
        throw "refusing to download codex over plain http from $Url; use https, or name the mirror explicitly with -BaseUrl or CODEX_RELEASE_BASE_URL"
    }
    Write-Note "downloading over plain http from $Url, as requested"
}

# -Proxy (and -ProxyCredential) for Invoke-WebRequest from HTTPS_PROXY / https_proxy (or
# HTTP_PROXY / http_proxy for an http:// URL). Loopback URLs never go through a proxy.
function Get-ProxyArgs {
    param([Uri]$Uri)
    $result = @{}
    if (Test-LoopbackUri $Uri) {
        return $result
    }
    if ($Uri.Scheme -eq 'https') {
        $names = @('HTTPS_PROXY', 'https_proxy')
    } else {
        $names = @('HTTP_PROXY', 'http_proxy')
    }
    $proxy = ''
    foreach ($name in $names) {
        if (-not $proxy) {
            $proxy = Get-Env $name
        }
    }
    if (-not $proxy) {
        return $result
    }
    if ($proxy -notmatch '^[A-Za-z][A-Za-z0-9+.-]*://') {
        $proxy = "http://$proxy"
    }
    $proxyUri = $null
    if (-not [Uri]::TryCreate($proxy, [UriKind]::Absolute, [ref]$proxyUri)) {
        throw "invalid proxy URL '$proxy' in HTTPS_PROXY; fix or unset it"
    }
    if ($proxyUri.UserInfo) {
        $parts = @($proxyUri.UserInfo -split ':', 2)
        $user = [Uri]::UnescapeDataString($parts[0])
        $secret = New-Object System.Security.SecureString
        if ($parts.Count -gt 1) {
            foreach ($c in [Uri]::UnescapeDataString($parts[1]).ToCharArray()) {
                $secret.AppendChar($c)
            }
        }
        $result['ProxyCredential'] = New-Object System.Management.Automation.PSCredential -ArgumentList $user, $secret
        $builder = New-Object System.UriBuilder -ArgumentList $proxyUri
        $builder.UserName = ''
        $builder.Password = ''
        $proxyUri = $builder.Uri
    }
    $result['Proxy'] = $proxyUri
    return $result
}

# The HTTP status of a failed Invoke-WebRequest (WebException on 5.1, HttpResponseException on 7),
# or 0 when there was no response.
function Get-HttpStatus {
    param($ErrorRecord)
    $ex = $ErrorRecord.Exception
    while ($null -ne $ex) {
        $response = Get-Prop $ex 'Response'
        if ($null -ne $response) {
            $code = Get-Prop $response 'StatusCode'
            if ($null -ne $code) {
                return [int]$code
            }
        }
        $ex = $ex.InnerException
    }
    return 0
}

# Downloads $Url to $OutFile, retrying connection errors, timeouts, 408, 429 and 5xx
# (4 attempts: after 1, 2 and 4 seconds).
function Invoke-Download {
    param([string]$Url, [string]$OutFile, [string]$NotFoundHint)
    $request = Get-ProxyArgs ([Uri]$Url)
    $request['Uri'] = $Url
    $request['OutFile'] = $OutFile
    $request['UseBasicParsing'] = $true
    $delays = @(1, 2, 4)
    $attempt = 0
    while ($true) {
        try {
            Invoke-WebRequest @request
            return
        } catch {
            $status = Get-HttpStatus $_
            $reason = Get-OneLine $_.Exception.Message
        }
        if ($status -eq 404) {
            throw "not found: $Url (HTTP 404); $NotFoundHint"
        }
        $retryable = ($status -eq 0) -or ($status -eq 408) -or ($status -eq 429) -or ($status -ge 500)
        if ((-not $retryable) -or ($attempt -ge $delays.Count)) {
            throw "could not download $Url ($reason); check your network connection and proxy (HTTPS_PROXY), then run the installer again"
        }
        Start-Sleep -Seconds $delays[$attempt]
        $attempt++
    }
}

function Get-Sha256 {
    param([string]$Path)
    return (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
}

function Assert-Sha256 {
    param([string]$Path, [string]$Expected, [string]$Name)
    $actual = Get-Sha256 $Path
    if ($actual -ne $Expected.ToLowerInvariant()) {
        throw "SHA-256 mismatch for ${Name}: the release manifest says $Expected, the download is $actual; nothing was installed. Run the installer again; if it fails the same way, the download is being altered (proxy?) or the release is broken"
    }
}

# Whether an environment variable's value means yes, as codex reads it: set, and not 0, false or no.
function Test-Yes {
    param([string]$Value)
    return ([bool]$Value) -and ($Value -notmatch '^(0|false|no)$')
}

# Compares two numeric identifiers (digit strings of any length): -1, 0 or 1.
function Compare-Digits {
    param([string]$Left, [string]$Right)
    $a = $Left.TrimStart('0')
    $b = $Right.TrimStart('0')
    if ($a.Length -ne $b.Length) {
        if ($a.Length -lt $b.Length) {
            return -1
        }
        return 1
    }
    return [Math]::Sign([string]::CompareOrdinal($a, $b))
}

# Compares two versions that match $VersionPattern by semver precedence: -1, 0 or 1. Build
# metadata (+...) is ignored; a pre-release (1.2.3-beta.1) comes before its release (1.2.3); its
# identifiers compare as numbers when both are numeric, else in ASCII order, numeric ones first;
# and of two pre-releases that agree as far as both go, the shorter comes first.
# ([System.Management.Automation.SemanticVersion] would do this, but Windows PowerShell 5.1 lacks it.)
function Compare-SemVer {
    param([string]$Left, [string]$Right)
    $a = @((($Left -split '\+', 2)[0]) -split '-', 2)
    $b = @((($Right -split '\+', 2)[0]) -split '-', 2)
    $aCore = @($a[0] -split '\.')
    $bCore = @($b[0] -split '\.')
    for ($i = 0; $i -lt 3; $i++) {
        $order = Compare-Digits $aCore[$i] $bCore[$i]
        if ($order -ne 0) {
            return $order
        }
    }
    $aPre = ''
    if ($a.Count -gt 1) {
        $aPre = $a[1]
    }
    $bPre = ''
    if ($b.Count -gt 1) {
        $bPre = $b[1]
    }
    if ($aPre -ceq $bPre) {
        return 0
    }
    if (-not $aPre) {
        return 1
    }
    if (-not $bPre) {
        return -1
    }
    $aIds = @($aPre -split '\.')
    $bIds = @($bPre -split '\.')
    $common = [Math]::Min($aIds.Count, $bIds.Count)
    for ($i = 0; $i -lt $common; $i++) {
        $x = $aIds[$i]
        $y = $bIds[$i]
        $xNumeric = $x -match '^[0-9]+$'
        $yNumeric = $y -match '^[0-9]+$'
        if ($xNumeric -and $yNumeric) {
            $order = Compare-Digits $x $y
        } elseif ($xNumeric) {
            $order = -1
        } elseif ($yNumeric) {
            $order = 1
        } else {
            $order = [Math]::Sign([string]::CompareOrdinal($x, $y))
        }
        if ($order -ne 0) {
            return $order
        }
    }
    return [Math]::Sign($aIds.Count - $bIds.Count)
}

# Runs $Exe with $Arguments (each one quoted; none may contain a double quote), 60 s at most.
# Returns @{ ExitCode; Output } with stdout and stderr on one line; ExitCode is -1 when the program
# could not be started or did not finish.
function Invoke-Program {
    param([string]$Exe, [string[]]$Arguments)
    $info = New-Object System.Diagnostics.ProcessStartInfo
    $info.FileName = $Exe
    $info.Arguments = (@($Arguments | ForEach-Object { '"' + $_ + '"' }) -join ' ')
    $info.UseShellExecute = $false
    $info.CreateNoWindow = $true
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    try {
        $process = [System.Diagnostics.Process]::Start($info)
    } catch {
        return @{ ExitCode = -1; Output = (Get-OneLine $_.Exception.Message) }
    }
    try {
        $process.StandardInput.Close()
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit(60000)) {
            try {
                $process.Kill()
            } catch {
                Write-Verbose "could not stop ${Exe}: $($_.Exception.Message)"
            }
            return @{ ExitCode = -1; Output = "$Exe did not finish in 60 s" }
        }
        $process.WaitForExit()
        return @{ ExitCode = $process.ExitCode; Output = (Get-OneLine ($stdout.Result + ' ' + $stderr.Result)) }
    } finally {
        $process.Dispose()
    }
}

# The path of an openssl.exe on PATH that can verify Ed25519 signatures (OpenSSL 3 or later:
# `pkeyutl -rawin`), or '' when there is none. .NET (and so PowerShell) has no Ed25519.
function Get-SignatureVerifier {
    foreach ($command in @(Get-Command -Name 'openssl' -CommandType Application -ErrorAction SilentlyContinue)) {
        $path = [string](Get-Prop $command 'Path')
        if (-not $path) {
            continue
        }
        $result = Invoke-Program $path @('version')
        if (($result.ExitCode -eq 0) -and ($result.Output -match '^OpenSSL ([0-9]+)\.') -and ([int]$Matches[1] -ge 3)) {
            return $path
        }
        Write-Verbose "not using $path to verify signatures: it is not OpenSSL 3 or later ($($result.Output))"
    }
    return ''
}

# Verifies the Ed25519 signature $SigPath (manifest.json.sig: base64 of 64 bytes) of the manifest
# $ManifestPath with OpenSSL, trying each of $TrustedKeys. Returns the id of the key that made it;
# throws, naming the trusted keys, when none did.
function Assert-ManifestSignature {
    param([string]$OpenSsl, [string]$ManifestPath, [string]$SigPath, [string]$Release)
    $dir = Split-Path -Parent $SigPath
    $sigBin = Join-Path $dir 'manifest.json.sig.bin'
    $decoded = Invoke-Program $OpenSsl @('base64', '-d', '-A', '-in', $SigPath, '-out', $sigBin)
    $size = 0
    if (Test-Path -LiteralPath $sigBin -PathType Leaf) {
        $size = (Get-Item -LiteralPath $sigBin).Length
    }
    if (($decoded.ExitCode -ne 0) -or ($size -ne 64)) {
        throw "the signature of release ${Release}'s manifest.json is malformed (not base64 of a 64-byte Ed25519 signature); nothing was installed. Run the installer again; if it fails the same way, the download is being altered (proxy?) or the release is broken, please report it"
    }
    $index = 0
    foreach ($trusted in $TrustedKeys) {
        $pem = Join-Path $dir "trusted-key-$index.pem"
        $index++
        [System.IO.File]::WriteAllText($pem, "-----BEGIN PUBLIC KEY-----`n$($trusted.Spki)`n-----END PUBLIC KEY-----`n", [System.Text.Encoding]::ASCII)
        $result = Invoke-Program $OpenSsl @('pkeyutl', '-verify', '-pubin', '-inkey', $pem, '-rawin', '-in', $ManifestPath, '-sigfile', $sigBin)
        if (($result.ExitCode -eq 0) -and ($result.Output -match 'Signature Verified Successfully')) {
            return $trusted.Id
        }
        Write-Verbose "manifest.json is not signed by $($trusted.Id): $($result.Output)"
    }
    $ids = @($TrustedKeys | ForEach-Object { $_.Id }) -join ', '
    throw "release ${Release}'s manifest.json was not signed by any trusted key (trusted: $ids); the download may have been tampered with, so nothing was installed. Check the release source (-BaseUrl or CODEX_RELEASE_BASE_URL) and run the installer again; do not install this release"
}

function Import-ZipSupport {
    foreach ($assembly in @('System.IO.Compression', 'System.IO.Compression.FileSystem')) {
        try {
            Add-Type -AssemblyName $assembly
        } catch {
            Write-Verbose "Add-Type $assembly failed: $($_.Exception.Message)"
        }
    }
    if ($null -eq ('System.IO.Compression.ZipFile' -as [type])) {
        throw 'cannot load System.IO.Compression.ZipFile; install .NET Framework 4.5 or newer (or use PowerShell 7) and run the installer again'
    }
}

# Extracts the one entry of a release zip. The zip must hold exactly one entry, named exactly
# $EntryName (so no folders, no "..", no absolute paths) and of the manifest's size; nothing else
# is ever written. The caller has already checked the zip's SHA-256 against the manifest.
function Expand-SingleEntry {
    param([string]$ZipPath, [string]$EntryName, [long]$EntrySize, [string]$Destination)
    $zipName = Split-Path -Leaf $ZipPath
    $zip = [System.IO.Compression.ZipFile]::OpenRead($ZipPath)
    try {
        $entries = @($zip.Entries)
        if ($entries.Count -ne 1) {
            throw "$zipName holds $($entries.Count) entries instead of only $EntryName; the release is broken, please report it"
        }
        $entry = $entries[0]
        $name = $entry.FullName
        if (($name -cne $EntryName) -or $name.Contains('/') -or $name.Contains('\') -or $name.Contains('..')) {
            throw "$zipName holds '$name' instead of $EntryName; the release is broken, please report it"
        }
        if ($entry.Length -ne $EntrySize) {
            throw "$EntryName in $zipName is $($entry.Length) bytes, the manifest says $EntrySize; the release is broken, please report it"
        }
        [System.IO.Compression.ZipFileExtensions]::ExtractToFile($entry, $Destination, $true)
    } finally {
        $zip.Dispose()
    }
}

# Checks the Authenticode signature of a program just extracted, before anything is switched:
# Windows must call it Valid and its signer must be $ExpectedPublisher. The release this script
# is pinned to must be signed when $SignedRelease says so. A signature on any other version is
# checked the same way; an unsigned program of another version (releases made before signing
# began, or by a build without the certificate) is installed with a warning, since its bytes
# were already checked against the release's Ed25519-signed manifest.
function Assert-Authenticode {
    param([string]$Exe, [string]$Version)
    $name = Split-Path -Leaf $Exe
    $sig = Get-AuthenticodeSignature -LiteralPath $Exe
    $status = [string]$sig.Status
    if ($status -eq 'NotSigned') {
        if ($SignedRelease -and ($Version -eq $DefaultVersion)) {
            throw "$name of release $Version carries no Authenticode signature, but that release is signed; nothing was switched, the previous install is unchanged"
        }
        Write-Note "$name of release $Version carries no Authenticode signature"
        return
    }
    if ($status -ne 'Valid') {
        throw "the Authenticode signature of $name is $status ($(Get-OneLine $sig.StatusMessage)); nothing was switched, the previous install is unchanged"
    }
    $publisher = $sig.SignerCertificate.GetNameInfo([System.Security.Cryptography.X509Certificates.X509NameType]::SimpleName, $false)
    if ($publisher -cne $ExpectedPublisher) {
        throw "$name is signed by '$publisher', not by $ExpectedPublisher; nothing was switched, the previous install is unchanged"
    }
}

# Runs `<exe> --version` (30 s at most) and requires " <version> " in what it prints, as
# `codex update` does. Returns the printed line.
function Invoke-VersionCheck {
    param([string]$Exe, [string]$Version)
    $name = Split-Path -Leaf $Exe
    $info = New-Object System.Diagnostics.ProcessStartInfo
    $info.FileName = $Exe
    $info.Arguments = '--version'
    $info.UseShellExecute = $false
    $info.CreateNoWindow = $true
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    try {
        $process = [System.Diagnostics.Process]::Start($info)
    } catch {
        throw "cannot run ${Exe} ($(Get-OneLine $_.Exception.Message)); if antivirus software blocked it, allow it and run the installer again"
    }
    try {
        $process.StandardInput.Close()
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit(30000)) {
            try {
                $process.Kill()
            } catch {
                Write-Verbose "could not stop ${name}: $($_.Exception.Message)"
            }
            throw "$name --version did not finish in 30 s; if antivirus software is scanning it, wait and run the installer again"
        }
        $process.WaitForExit()
        $raw = $stdout.Result
        $out = Get-OneLine $raw
        $err = Get-OneLine $stderr.Result
        if ($process.ExitCode -ne 0) {
            throw "$name --version failed with exit code $($process.ExitCode) ($err); nothing was switched, the previous install is unchanged"
        }
    } finally {
        $process.Dispose()
    }
    if (-not $raw.Contains(" $Version ")) {
        throw "$name --version printed '$out', expected version $Version; nothing was switched, the previous install is unchanged"
    }
    return $out
}

function Assert-Writable {
    param([string]$Dir, [string]$Hint)
    try {
        New-Dir $Dir
        $probe = Join-Path $Dir ".codex-write-test.$PID"
        [System.IO.File]::WriteAllText($probe, '')
        Remove-Item -LiteralPath $probe -Force
    } catch {
        throw "cannot write to ${Dir} ($(Get-OneLine $_.Exception.Message)); $Hint"
    }
}

function Read-LockPid {
    param([string]$Path)
    try {
        $text = [System.IO.File]::ReadAllText($Path).Trim()
    } catch {
        return 0
    }
    $number = 0
    if ([int]::TryParse($text, [ref]$number)) {
        return $number
    }
    return 0
}

# Creates the pid file only if it does not exist yet (CreateNew is atomic), so of two installers
# that both saw the lock folder missing, exactly one owns the lock.
function Write-LockPid {
    param([string]$Path)
    try {
        $stream = [System.IO.File]::Open($Path, [System.IO.FileMode]::CreateNew, [System.IO.FileAccess]::Write, [System.IO.FileShare]::Read)
    } catch {
        return $false
    }
    try {
        $bytes = [System.Text.Encoding]::ASCII.GetBytes("$PID`n")
        $stream.Write($bytes, 0, $bytes.Length)
    } finally {
        $stream.Dispose()
    }
    return $true
}

# The install lock shared with install.sh and `codex update`: the folder .lock holding the
# owner's pid. A lock whose owner is no longer running is taken over.
function Enter-InstallLock {
    param([string]$Root)
    $lock = Join-Path $Root '.lock'
    $pidFile = Join-Path $lock 'pid'
    for ($attempt = 0; $attempt -lt 40; $attempt++) {
        $created = $false
        try {
            # Fails when the folder exists.
            $null = New-Item -ItemType Directory -Path $lock
            $created = $true
        } catch {
            if (-not (Test-Path -LiteralPath $lock -PathType Container)) {
                throw "cannot create the install lock $lock ($(Get-OneLine $_.Exception.Message)); check the permissions of $Root"
            }
        }
        if ($created -and (Write-LockPid $pidFile)) {
            return $lock
        }
        $owner = Read-LockPid $pidFile
        if (($owner -gt 0) -and ($owner -ne $PID) -and ($null -ne (Get-Process -Id $owner -ErrorAction SilentlyContinue))) {
            throw "another codex install or update is running (pid $owner); wait for it to finish and try again"
        }
        if ($owner -le 0) {
            # Its owner may be between creating the folder and writing its pid.
            $item = Get-Item -LiteralPath $lock -Force -ErrorAction SilentlyContinue
            if ($null -eq $item) {
                continue
            }
            $age = (Get-Date) - $item.LastWriteTime
            if ($age.TotalSeconds -lt 5) {
                Start-Sleep -Milliseconds 250
                continue
            }
        }
        Write-Note "taking over the install lock left by a process that is no longer running (pid $owner)"
        Remove-Item -LiteralPath $lock -Recurse -Force
    }
    throw "could not take the install lock $lock; if no codex install or update is running, delete that folder and try again"
}

function Exit-InstallLock {
    param([string]$Lock)
    try {
        if ((Read-LockPid (Join-Path $Lock 'pid')) -eq $PID) {
            Remove-Item -LiteralPath $Lock -Recurse -Force
        }
    } catch {
        Write-Note "could not remove the install lock ${Lock}: $(Get-OneLine $_.Exception.Message)"
    }
}

function Read-Manifest {
    param([string]$Path, [string]$Url)
    try {
        $text = [System.IO.File]::ReadAllText($Path, [System.Text.Encoding]::UTF8)
        return ($text | ConvertFrom-Json)
    } catch {
        throw "$Url is not a codex release manifest ($(Get-OneLine $_.Exception.Message)); check the release source (-BaseUrl or CODEX_RELEASE_BASE_URL)"
    }
}

# What the manifest says about one program for one target, checked for the names this script
# expects: <binary>-<triple>.zip holding <binary>-<triple>.exe.
function Get-Artifact {
    param($Manifest, [string]$Binary, [string]$Target, [string]$Version)
    $found = @(@(Get-Prop $Manifest 'artifacts') | Where-Object {
            ((Get-Prop $_ 'binary') -eq $Binary) -and ((Get-Prop $_ 'target') -eq $Target)
        })
    if ($found.Count -ne 1) {
        throw "release $Version has no $Binary for $Target; choose another version with -Version or CODEX_VERSION"
    }
    $archive = Get-Prop $found[0] 'archive'
    $entry = Get-Prop $found[0] 'entry'
    $artifact = @{
        ArchiveName = [string](Get-Prop $archive 'name')
        ArchiveSha256 = ([string](Get-Prop $archive 'sha256')).ToLowerInvariant()
        EntryName = [string](Get-Prop $entry 'name')
        EntrySha256 = ([string](Get-Prop $entry 'sha256')).ToLowerInvariant()
        EntrySize = [long](Get-Prop $entry 'size')
        InstalledName = "$Binary.exe"
    }
    $expectedArchive = "$Binary-$Target.zip"
    $expectedEntry = "$Binary-$Target.exe"
    $namesOk = ($artifact.ArchiveName -ceq $expectedArchive) -and ($artifact.EntryName -ceq $expectedEntry)
    $digestsOk = ($artifact.ArchiveSha256 -match '^[0-9a-f]{64}$') -and ($artifact.EntrySha256 -match '^[0-9a-f]{64}$')
    if ((-not $namesOk) -or (-not $digestsOk) -or ($artifact.EntrySize -le 0)) {
        throw "the manifest of release $Version does not describe $expectedArchive (holding $expectedEntry) with its size and SHA-256 digests; the release is broken, please report it"
    }
    return $artifact
}

# Whether $Dir holds every program with exactly the manifest's contents.
function Test-ReleaseFiles {
    param([string]$Dir, [hashtable]$Artifacts)
    foreach ($binary in $Binaries) {
        $artifact = $Artifacts[$binary]
        $exe = Join-Path $Dir $artifact.InstalledName
        if (-not (Test-Path -LiteralPath $exe -PathType Leaf)) {
            return $false
        }
        if ((Get-Sha256 $exe) -ne $artifact.EntrySha256) {
            return $false
        }
    }
    return $true
}

# Whether releases\$Name holds every program (the release folder names come from the receipt,
# so anything that is not a plain folder name is ignored).
function Test-ReleaseComplete {
    param([string]$Releases, [string]$Name)
    if ((-not $Name) -or ($Name -notmatch '^[0-9A-Za-z][0-9A-Za-z.+_-]*$') -or $Name.Contains('..')) {
        return $false
    }
    foreach ($binary in $Binaries) {
        if (-not (Test-Path -LiteralPath (Join-Path (Join-Path $Releases $Name) "$binary.exe") -PathType Leaf)) {
            return $false
        }
    }
    return $true
}

function Read-Receipt {
    param([string]$Path)
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $null
    }
    try {
        return ([System.IO.File]::ReadAllText($Path, [System.Text.Encoding]::UTF8) | ConvertFrom-Json)
    } catch {
        Write-Note "ignoring ${Path}, which cannot be read: $(Get-OneLine $_.Exception.Message)"
        return $null
    }
}

# Writes receipt.json through a temporary file and a rename, so it is never half-written. UTF-8
# without a byte order mark, which `codex update` (serde_json) requires.
function Write-Receipt {
    param([string]$Path, [System.Collections.IDictionary]$Receipt)
    $json = ConvertTo-Json -InputObject $Receipt -Depth 4
    $tmp = "$Path.tmp.$PID"
    [System.IO.File]::WriteAllText($tmp, $json + "`n", (New-Object System.Text.UTF8Encoding -ArgumentList $false))
    Move-Item -LiteralPath $tmp -Destination $Path -Force
}

# Copies the release's programs into the bin dir. A running .exe cannot be overwritten on Windows
# but can be renamed: each existing copy is renamed to <name>.old-<random>, then the new one
# (already copied in under a temporary name) is moved into place. If any step fails, the
# programs switched so far are put back, so the bin dir holds one version or the other.
function Install-BinCopies {
    param([string]$ReleaseDir, [string]$BinDir)
    $suffix = [System.IO.Path]::GetRandomFileName().Replace('.', '')
    $names = @($Binaries | ForEach-Object { "$_.exe" })
    $switched = New-Object System.Collections.Generic.List[object]
    try {
        foreach ($name in $names) {
            Copy-Item -LiteralPath (Join-Path $ReleaseDir $name) -Destination (Join-Path $BinDir ".$name.new-$suffix") -Force
        }
        foreach ($name in $names) {
            $dest = Join-Path $BinDir $name
            $new = Join-Path $BinDir ".$name.new-$suffix"
            $old = ''
            try {
                if (Test-Path -LiteralPath $dest) {
                    $old = Join-Path $BinDir "$name.old-$suffix"
                    Move-Item -LiteralPath $dest -Destination $old -Force
                }
                Move-Item -LiteralPath $new -Destination $dest -Force
            } catch {
                $reason = Get-OneLine $_.Exception.Message
                $switched.Add(@{ Dest = $dest; Old = $old; New = $new })
                for ($i = $switched.Count - 1; $i -ge 0; $i--) {
                    Undo-BinSwitch $switched[$i].Dest $switched[$i].Old $switched[$i].New
                }
                throw "could not replace ${dest} ($reason); close programs that use it and run the installer again"
            }
            $switched.Add(@{ Dest = $dest; Old = $old; New = $new })
        }
    } finally {
        foreach ($name in $names) {
            $leftover = Join-Path $BinDir ".$name.new-$suffix"
            if (Test-Path -LiteralPath $leftover) {
                Remove-Item -LiteralPath $leftover -Force -ErrorAction SilentlyContinue
            }
        }
    }
    # Copies renamed away by this or an earlier install; those still running stay until next time.
    foreach ($name in $names) {
        foreach ($stale in @(Get-ChildItem -LiteralPath $BinDir -Force | Where-Object { $_.Name -like "$name.old-*" -or $_.Name -like ".$name.new-*" })) {
            Remove-Item -LiteralPath $stale.FullName -Force -ErrorAction SilentlyContinue
        }
    }
}

# Puts back what Install-BinCopies changed for one program: if the new copy was moved in (its
# temporary file is gone), it is removed, and the renamed old copy returns.
function Undo-BinSwitch {
    param([string]$Dest, [string]$Old, [string]$New)
    try {
        if ((Test-Path -LiteralPath $Dest) -and (-not (Test-Path -LiteralPath $New))) {
            Remove-Item -LiteralPath $Dest -Force
        }
        if ($Old -and (Test-Path -LiteralPath $Old)) {
            Move-Item -LiteralPath $Old -Destination $Dest -Force
        }
    } catch {
        Write-Note "could not restore ${Dest}: $(Get-OneLine $_.Exception.Message)"
    }
}

# Renames a folder (same volume). Antivirus software often holds a freshly written or started
# .exe for a moment, so a failed rename is retried for a few seconds.
function Move-Directory {
    param([string]$Source, [string]$Destination)
    $attempt = 0
    while ($true) {
        try {
            [System.IO.Directory]::Move($Source, $Destination)
            return
        } catch {
            $attempt++
            if ($attempt -ge 10) {
                throw "could not move $Source to $Destination ($(Get-OneLine $_.Exception.Message)); close programs that use it and run the installer again"
            }
        }
        Start-Sleep -Milliseconds 500
    }
}

# Removes every release folder except those in $Keep; a failure only costs disk space.
function Remove-OldReleases {
    param([string]$Releases, [string[]]$Keep)
    if (-not (Test-Path -LiteralPath $Releases -PathType Container)) {
        return
    }
    foreach ($dir in @(Get-ChildItem -LiteralPath $Releases -Directory -Force)) {
        if ($Keep -notcontains $dir.Name) {
            Remove-Tree $dir.FullName
        }
    }
}

# Tells running programs (Explorer, new terminals) that the environment changed.
function Send-EnvironmentChange {
    try {
        if ($null -eq ('CodexInstaller.Win32' -as [type])) {
            Add-Type -Namespace 'CodexInstaller' -Name 'Win32' -MemberDefinition @'
[DllImport("user32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
public static extern IntPtr SendMessageTimeout(IntPtr hWnd, uint Msg, UIntPtr wParam, string lParam, uint fuFlags, uint uTimeout, out UIntPtr lpdwResult);
'@
        }
        $result = [UIntPtr]::Zero
        # HWND_BROADCAST, WM_SETTINGCHANGE, SMTO_ABORTIFHUNG, 5 s.
        $null = [CodexInstaller.Win32]::SendMessageTimeout([IntPtr]0xffff, 0x1A, [UIntPtr]::Zero, 'Environment', 2, 5000, [ref]$result)
    } catch {
        Write-Note "PATH was changed, but open programs were not told; open a new terminal to use codex"
    }
}

# Adds $Dir to the user PATH (HKCU\Environment\Path) unless the user or machine PATH has it.
# The value is read unexpanded and written back as REG_EXPAND_SZ, so entries such as
# %USERPROFILE%\bin keep working. Returns whether it changed anything.
function Add-ToUserPath {
    param([string]$Dir)
    if (Test-PathContains ([Environment]::GetEnvironmentVariable('Path', 'Machine')) $Dir) {
        return $false
    }
    $key = [Microsoft.Win32.Registry]::CurrentUser.OpenSubKey('Environment', $true)
    if ($null -eq $key) {
        $key = [Microsoft.Win32.Registry]::CurrentUser.CreateSubKey('Environment')
    }
    try {
        $current = [string]$key.GetValue('Path', '', 'DoNotExpandEnvironmentNames')
        if (Test-PathContains $current $Dir) {
            return $false
        }
        $trimmed = $current.TrimEnd(';')
        if ($trimmed) {
            $new = "$trimmed;$Dir"
        } else {
            $new = $Dir
        }
        $key.SetValue('Path', $new, 'ExpandString')
    } finally {
        $key.Close()
    }
    Send-EnvironmentChange
    return $true
}

# Exit with 1 when this runs as a script file (.\install.ps1, powershell -File, or iex inside a
# script) or as a one-shot `powershell -Command`, whose exit code must say that the install
# failed. In an interactive session, `exit` would close the window: there, only $LASTEXITCODE is
# set.
function Test-ExitOnError {
    $scriptPath = Get-Variable -Name 'PSCommandPath' -ValueOnly -ErrorAction SilentlyContinue
    if ($scriptPath) {
        return $true
    }
    $argv = @([Environment]::GetCommandLineArgs() | Select-Object -Skip 1)
    if (@($argv | Where-Object { $_ -match '^[-/]noe' }).Count -gt 0) {
        return $false
    }
    $oneShot = '^[-/](c|co|com|comm|comma|comman|command|e|ec|en|enc|enco|encod|encode|encoded|encodedc\w*|f|fi|fil|file|noni\w*)$'
    return (@($argv | Where-Object { $_ -match $oneShot }).Count -gt 0)
}

function Install-Codex {
    param(
        [string]$Version,
        [string]$InstallDir,
        [string]$BaseUrl,
        [switch]$NoModifyPath,
        [switch]$RequireSignature,
        [switch]$AllowDowngrade
    )

    $onWindows = Get-Variable -Name 'IsWindows' -ValueOnly -ErrorAction SilentlyContinue
    if ($onWindows -eq $false) {
        throw 'install.ps1 installs codex on Windows; on Linux and macOS, use install.sh'
    }
    if ($PSVersionTable.PSVersion.Major -lt 6) {
        # Windows PowerShell 5.1 may default to TLS 1.0, which GitHub refuses.
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    }

    # Settings: parameter, then environment variable, then default.
    $requested = $Version
    if (-not $requested) {
        $requested = Get-Env 'CODEX_VERSION'
    }
    if (-not $requested) {
        $requested = $DefaultVersion
    }
    $requested = ConvertTo-ReleaseVersion $requested

    $base = $BaseUrl
    if (-not $base) {
        $base = Get-Env 'CODEX_RELEASE_BASE_URL'
    }
    $explicitBase = [bool]$base
    if (-not $base) {
        $base = $DefaultBaseUrl
    }
    $base = $base.Trim().TrimEnd('/')
    Assert-BaseUrl $base $explicitBase

    $codexHome = Get-Env 'CODEX_HOME'
    if (-not $codexHome) {
        $profileDir = Get-Env 'USERPROFILE'
        if (-not $profileDir) {
            throw 'USERPROFILE is not set; set CODEX_HOME to the folder codex should use (for example C:\Users\me\.codex)'
        }
        $codexHome = Join-Path $profileDir '.codex'
    }
    $codexHome = Get-FullPath $codexHome

    $binDir = $InstallDir
    if (-not $binDir) {
        $binDir = Get-Env 'CODEX_INSTALL_DIR'
    }
    if (-not $binDir) {
        $localAppData = Get-Env 'LOCALAPPDATA'
        if (-not $localAppData) {
            throw 'LOCALAPPDATA is not set; choose the folder for codex.exe with -InstallDir or CODEX_INSTALL_DIR'
        }
        $binDir = Join-Path $localAppData 'Programs\codex\bin'
    }
    $binDir = Get-FullPath $binDir

    $skipPath = $NoModifyPath.IsPresent -or ((Get-Env 'CODEX_NO_MODIFY_PATH') -match '^(1|true|yes)$')
    $mustVerify = $RequireSignature.IsPresent -or (Test-Yes (Get-Env 'CODEX_REQUIRE_SIGNATURE'))
    $downgradeOk = $AllowDowngrade.IsPresent -or (Test-Yes (Get-Env 'CODEX_ALLOW_DOWNGRADE'))

    # Before downloading anything: what will verify the release's signature.
    $openssl = Get-SignatureVerifier
    if ((-not $openssl) -and $mustVerify) {
        throw 'no signature verifier found: install.ps1 verifies release signatures with OpenSSL 3 or later (openssl.exe on PATH, as Git for Windows ships it), and -RequireSignature (or CODEX_REQUIRE_SIGNATURE) forbids installing without it; nothing was downloaded. Put OpenSSL 3 on PATH and run the installer again'
    }

    $target = Get-Target
    $root = Join-Path $codexHome 'packages\standalone'
    $releases = Join-Path $root 'releases'
    $stagingRoot = Join-Path $root '.staging'
    $receiptPath = Join-Path $root 'receipt.json'

    # Before downloading anything: both folders must accept new files.
    Assert-Writable $root 'set CODEX_HOME to a folder you can write to'
    Assert-Writable $binDir 'choose another folder with -InstallDir or CODEX_INSTALL_DIR'
    Import-ZipSupport

    $lock = Enter-InstallLock $root
    $work = Join-Path $stagingRoot ($StagingPrefix + $PID + '-' + [System.IO.Path]::GetRandomFileName().Replace('.', ''))
    $version = ''
    $release = ''
    try {
        # Under the lock, anything an earlier run of this script left in staging is abandoned.
        if (Test-Path -LiteralPath $stagingRoot -PathType Container) {
            foreach ($dir in @(Get-ChildItem -LiteralPath $stagingRoot -Directory -Force | Where-Object { $_.Name -like "$StagingPrefix*" })) {
                Remove-Tree $dir.FullName
            }
        }
        New-Dir $work

        if ($requested -eq 'latest') {
            Write-Step "Finding the latest codex release at $base"
            $manifestUrl = "$base/latest/download/manifest.json"
            $hint = 'check the release source (-BaseUrl or CODEX_RELEASE_BASE_URL)'
        } else {
            $manifestUrl = "$base/download/v$requested/manifest.json"
            $hint = "is $requested a released version? Check the version (-Version or CODEX_VERSION) and the release source"
        }
        $manifestPath = Join-Path $work 'manifest.json'
        Invoke-Download $manifestUrl $manifestPath $hint
        $manifest = Read-Manifest $manifestPath $manifestUrl
        $version = [string](Get-Prop $manifest 'version')
        if ($version -notmatch $VersionPattern) {
            throw "the manifest at $manifestUrl has no valid version ('$version'); check the release source (-BaseUrl or CODEX_RELEASE_BASE_URL)"
        }
        if (($requested -ne 'latest') -and ($version -ne $requested)) {
            throw "the manifest at $manifestUrl is for version $version, not $requested; the release source is inconsistent, check it"
        }
        # The signature, before any digest of the manifest is used. It is fetched from the release's
        # tag even for latest, which may move between two requests (a tag does not); a manifest
        # that names another version than its own fails the check.
        if ($openssl) {
            $sigUrl = "$base/download/v$version/manifest.json.sig"
            $sigPath = Join-Path $work 'manifest.json.sig'
            Invoke-Download $sigUrl $sigPath "release v$version is not signed, so it is refused and nothing was installed; codex installs only signed releases. Check the release source (-BaseUrl or CODEX_RELEASE_BASE_URL) or choose another version"
            $signer = Assert-ManifestSignature $openssl $manifestPath $sigPath "v$version"
            Write-Step "Verified the signature of release v$version (key $signer)"
        } else {
            Write-Note "the signature of release v$version was not verified, only the SHA-256 checksums of its downloads: no OpenSSL 3 or later is on PATH (Git for Windows ships one). Put it on PATH to verify signatures, or pass -RequireSignature (or set CODEX_REQUIRE_SIGNATURE=1) to refuse installs without them"
        }
        $release = "$version-$target"
        $releaseDir = Join-Path $releases $release
        $artifacts = @{}
        foreach ($binary in $Binaries) {
            $artifacts[$binary] = Get-Artifact $manifest $binary $target $version
        }

        $old = Read-Receipt $receiptPath
        $installedVersion = [string](Get-Prop $old 'version')
        if ((-not $downgradeOk) -and ($installedVersion -match $VersionPattern) -and ((Compare-SemVer $version $installedVersion) -lt 0)) {
            throw "release $version is older than the installed $installedVersion; refusing to downgrade (pass -AllowDowngrade, or set CODEX_ALLOW_DOWNGRADE=1, to install it anyway)"
        }
        $oldRelease = [string](Get-Prop $old 'release')
        $oldBinDir = [string](Get-Prop $old 'bin_dir')
        $sameBinDir = (Get-NormalizedDir $oldBinDir) -ieq (Get-NormalizedDir $binDir)
        if (($oldRelease -eq $release) -and $sameBinDir -and (Test-ReleaseFiles $releaseDir $artifacts) -and (Test-ReleaseFiles $binDir $artifacts)) {
            Write-Step "codex $version ($target) is already installed in $binDir; nothing to change"
        } else {
            Write-Step "Installing codex $version ($target) from $base"
            if (Test-ReleaseFiles $releaseDir $artifacts) {
                Write-Step "Using the copy of $release already in $releases"
                foreach ($binary in $Binaries) {
                    $null = Invoke-VersionCheck (Join-Path $releaseDir "$binary.exe") $version
                }
            } else {
                $newDir = Join-Path $work $release
                New-Dir $newDir
                foreach ($binary in $Binaries) {
                    $artifact = $artifacts[$binary]
                    $zipPath = Join-Path $work $artifact.ArchiveName
                    Write-Step "Downloading $($artifact.ArchiveName)"
                    Invoke-Download "$base/download/v$version/$($artifact.ArchiveName)" $zipPath 'the release is incomplete; check the release source or choose another version'
                    # Verify the archive before opening it.
                    Assert-Sha256 $zipPath $artifact.ArchiveSha256 $artifact.ArchiveName
                    $exe = Join-Path $newDir $artifact.InstalledName
                    Expand-SingleEntry $zipPath $artifact.EntryName $artifact.EntrySize $exe
                    Assert-Sha256 $exe $artifact.EntrySha256 $artifact.EntryName
                    Assert-Authenticode $exe $version
                }
                foreach ($binary in $Binaries) {
                    $null = Invoke-VersionCheck (Join-Path $newDir "$binary.exe") $version
                }
                # An incomplete or damaged folder of the same release is moved aside (into
                # staging, removed below) rather than deleted in place.
                New-Dir $releases
                if (Test-Path -LiteralPath $releaseDir) {
                    Move-Directory $releaseDir (Join-Path $work "replaced-$release")
                }
                Move-Directory $newDir $releaseDir
            }

            if ($oldRelease -and ($oldRelease -ne $release)) {
                $previous = $oldRelease
            } else {
                $previous = [string](Get-Prop $old 'previous')
            }
            if (($previous -eq $release) -or -not (Test-ReleaseComplete $releases $previous)) {
                $previous = $null
            }

            Write-Step "Copying codex.exe and codex-exec-server.exe to $binDir"
            Install-BinCopies $releaseDir $binDir
            if ($oldBinDir -and -not $sameBinDir -and (Test-Path -LiteralPath (Join-Path $oldBinDir 'codex.exe'))) {
                Write-Note "the earlier install's copies stay in $oldBinDir; delete them if you no longer need them"
            }

            $receipt = [ordered]@{
                schema = 1
                method = 'standalone'
                version = $version
                target = $target
                release = $release
                previous = $previous
                source = $base
                bin_dir = $binDir
                installed_by = 'install.ps1'
                installed_at = [long][Math]::Floor(([DateTime]::UtcNow - (New-Object DateTime -ArgumentList 1970, 1, 1, 0, 0, 0, ([DateTimeKind]::Utc))).TotalSeconds)
            }
            Write-Receipt $receiptPath $receipt
            Remove-OldReleases $releases @($release, $previous)
        }
    } finally {
        Remove-Tree $work
        if ((Test-Path -LiteralPath $stagingRoot -PathType Container) -and (@(Get-ChildItem -LiteralPath $stagingRoot -Force).Count -eq 0)) {
            Remove-Tree $stagingRoot
        }
        Exit-InstallLock $lock
    }

    if ($skipPath) {
        Write-Step "Not changing PATH (-NoModifyPath); add $binDir to PATH to run codex by name"
    } elseif (Add-ToUserPath $binDir) {
        Write-Step "Added $binDir to your user PATH; terminals that were already open need a restart to see it"
    }
    if (-not $skipPath) {
        $sessionPath = Get-Env 'Path'
        if (-not (Test-PathContains $sessionPath $binDir)) {
            $env:Path = $sessionPath.TrimEnd(';') + ";$binDir"
        }
        $resolved = @(Get-Command -Name 'codex' -ErrorAction SilentlyContinue | Select-Object -First 1)
        if ($resolved.Count -gt 0) {
            $resolvedPath = [string](Get-Prop $resolved[0] 'Path')
            if ($resolvedPath -and ((Get-NormalizedDir (Split-Path -Parent $resolvedPath)) -ine (Get-NormalizedDir $binDir))) {
                Write-Note "'codex' runs $resolvedPath, which comes before $binDir in PATH; remove that copy or move $binDir earlier in PATH"
            }
        }
    }

    $shown = Invoke-VersionCheck (Join-Path $binDir 'codex.exe') $version
    Write-Step "Installed $shown in $binDir"
}

try {
    Install-Codex -Version $Version -InstallDir $InstallDir -BaseUrl $BaseUrl -NoModifyPath:$NoModifyPath -RequireSignature:$RequireSignature -AllowDowngrade:$AllowDowngrade
} catch {
    $Host.UI.WriteErrorLine("error: $(Get-OneLine $_.Exception.Message)")
    if (Test-ExitOnError) {
        exit 1
    }
    $global:LASTEXITCODE = 1
}
} -Version $Version -InstallDir $InstallDir -BaseUrl $BaseUrl -NoModifyPath:$NoModifyPath -RequireSignature:$RequireSignature -AllowDowngrade:$AllowDowngrade
