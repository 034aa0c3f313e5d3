#!/bin/sh
# Install codex and codex-exec-server: curl -fsSL <release>/install.sh | sh
#
# Downloads the release manifest and archives for this machine, checks the manifest's Ed25519
# signature (with OpenSSL 3 or minisign) against the keys in TRUSTED_KEYS and each archive's
# SHA-256 from that manifest before extracting anything, refuses to replace the installed release
# with an older one, and installs it in the standalone layout that `codex update` manages:
#   $CODEX_HOME/packages/standalone/releases/<version>-<target>/{codex,codex-exec-server}
#   $CODEX_HOME/packages/standalone/current -> releases/<version>-<target>
#   <install dir>/codex -> $CODEX_HOME/packages/standalone/current/codex   (same for exec-server)
# A failure at any step leaves the previous install as it was. POSIX sh; tested under dash, bash,
# zsh and busybox sh, with curl or wget, and sha256sum, shasum or openssl. Without OpenSSL 3 or
# minisign it refuses: nothing unverified is installed or run, unless --allow-unverified asks for
# an install with only the checksums checked. No download may be larger than its size in the
# signed manifest (the manifest and its signature have caps), and https never leads to http.
set -u
# zsh runs this as sh (word splitting, no NOMATCH errors) when invoked as `zsh install.sh`.
if [ -n "${ZSH_VERSION:-}" ]; then emulate sh; fi

# BEGIN GENERATED: install-sh (cargo xtask generate, from crates/installer)
SUPPORTED_TARGETS="x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin"
DEFAULT_BASE_URL="https://github.com/openai/codex/releases"
MAX_MANIFEST_SIZE=1048576
MAX_SIGNATURE_SIZE=16384
MAX_API_RESPONSE_SIZE=4194304
# END GENERATED: install-sh
# BEGIN GENERATED: trusted-keys (cargo xtask generate, from crates/installer/src/signature.rs)
# One line per key: id, DER SubjectPublicKeyInfo in base64 (OpenSSL), minisign public key.
TRUSTED_KEYS="codex-release-1 MCowBQYDK2VwAyEAGQDfW+ejGsQd6lKu5JQgUGRgA1zrEkfDL0zI3UAFJXc= RWTv6b5lxacu5hkA31vnoxrEHepSruSUIFBkYANc6xJHwy9MyN1ABSV3
"
# END GENERATED: trusted-keys
# The copy published with each release names that release here; the repository's copy installs
# the newest one.
DEFAULT_VERSION="latest"

usage() {
    cat <<EOF
Install codex and codex-exec-server.

Usage: install.sh [options]

Options:
  --version VERSION    Version to install, e.g. 1.2.3, v1.2.3 or rust-v1.2.3 [env: CODEX_VERSION]
                       (default: $DEFAULT_VERSION)
  --install-dir DIR    Where the codex commands go [env: CODEX_INSTALL_DIR] (default: ~/.local/bin)
  --base-url URL       Release source with GitHub's layout [env: CODEX_RELEASE_BASE_URL]
                       (default: $DEFAULT_BASE_URL)
  --no-modify-path     Do not add the install dir to PATH; print the line to add instead
  --allow-unverified   Where the release signature cannot be checked (neither OpenSSL 3 nor
                       minisign is installed), install with only the SHA-256 checksums checked
                       instead of refusing [env: CODEX_ALLOW_UNVERIFIED=1]
  --require-signature  Refuse to install without a checked signature, even with
                       --allow-unverified (the default) [env: CODEX_REQUIRE_SIGNATURE=1]
  --allow-downgrade    Install a release older than the installed one [env: CODEX_ALLOW_DOWNGRADE=1]
  --uninstall          Remove the installed codex: its commands, releases, receipt, the PATH line
                       this script added, and CODEX_HOME (downloads nothing)
  --keep-config        With --uninstall: keep CODEX_HOME (config.toml, sessions)
  --yes, -y            Do not ask before installing (the default when stdin is not a terminal)
  --quiet, -q          Print only errors and warnings
  --verbose, -v        Print each step
  --help, -h           Show this help

Every release's manifest is signed, and checked with OpenSSL 3 (or else minisign): a release whose
signature is missing or not by a trusted key is refused, and so is every install where neither
is installed (macOS: brew install minisign), unless --allow-unverified.

Environment: CODEX_HOME (default ~/.codex) holds the releases; GITHUB_TOKEN is sent to the GitHub
API if it has to be asked which release is the newest.
EOF
}

QUIET=0
VERBOSE=0
say() { [ "$QUIET" = 1 ] || printf '%s\n' "$*"; }
detail() { [ "$VERBOSE" = 1 ] && printf '  %s\n' "$*" >&2; return 0; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# is_yes VALUE: an environment switch is on unless empty, 0, false or no (as in codex itself).
is_yes() {
    case $1 in
        '' | 0 | [Ff][Aa][Ll][Ss][Ee] | [Nn][Oo]) return 1 ;;
        *) return 0 ;;
    esac
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "this installer needs '$1'; install it and run again"
}

main() {
    # Nothing made here is writable by group or others, even under `umask 000` (a stricter umask
    # is kept): a world-writable bin dir or release would let any local user replace codex.
    umask go-w
    version=${CODEX_VERSION:-$DEFAULT_VERSION}
    install_dir=${CODEX_INSTALL_DIR:-}
    base_url=${CODEX_RELEASE_BASE_URL:-}
    explicit_mirror=0
    [ -n "$base_url" ] && explicit_mirror=1
    modify_path=1
    assume_yes=0
    [ -t 0 ] || assume_yes=1
    require_signature=0
    is_yes "${CODEX_REQUIRE_SIGNATURE:-}" && require_signature=1
    allow_unverified=0
    is_yes "${CODEX_ALLOW_UNVERIFIED:-}" && allow_unverified=1
    allow_downgrade=0
    is_yes "${CODEX_ALLOW_DOWNGRADE:-}" && allow_downgrade=1
    uninstall=0
    keep_config=0

    while [ $# -gt 0 ]; do
        case $1 in
            --version) [ $# -ge 2 ] || die "--version needs a value"; version=$2; shift ;;
            --version=*) version=${1#*=} ;;
            --install-dir) [ $# -ge 2 ] || die "--install-dir needs a value"; install_dir=$2; shift ;;
            --install-dir=*) install_dir=${1#*=} ;;
            --base-url) [ $# -ge 2 ] || die "--base-url needs a value"; base_url=$2; explicit_mirror=1; shift ;;
            --base-url=*) base_url=${1#*=}; explicit_mirror=1 ;;
            --no-modify-path) modify_path=0 ;;
            --require-signature) require_signature=1 ;;
            --allow-unverified) allow_unverified=1 ;;
            --allow-downgrade) allow_downgrade=1 ;;
            --uninstall) uninstall=1 ;;
            --keep-config) keep_config=1 ;;
            -y | --yes) assume_yes=1 ;;
            -q | --quiet) QUIET=1 ;;
            -v | --verbose) VERBOSE=1 ;;
            -h | --help) usage; exit 0 ;;
            *) die "unknown option '$1'; see --help" ;;
        esac
        shift
    done

    [ "$keep_config" = 0 ] || [ "$uninstall" = 1 ] || die "--keep-config goes with --uninstall"
    for cmd in uname mkdir rmdir rm mv ln tar chmod sed grep cat sleep readlink wc; do need "$cmd"; done
    [ -n "${HOME:-}" ] || die "HOME is not set"
    codex_home=${CODEX_HOME:-$HOME/.codex}
    root=$codex_home/packages/standalone
    bin_dir=${install_dir:-$HOME/.local/bin}
    case $bin_dir in /*) ;; *) bin_dir=$(pwd)/$bin_dir ;; esac
    case $codex_home in /*) ;; *) codex_home=$(pwd)/$codex_home; root=$codex_home/packages/standalone ;; esac
    # Control characters (a tab, a newline) cannot be written into the receipt or a startup
    # file faithfully, and never name a folder on purpose.
    for p in "$bin_dir" "$codex_home"; do
        case $p in
            *[[:cntrl:]]*) die "the folder '$p' has a control character (a tab or newline) in its name; choose another --install-dir / CODEX_HOME" ;;
        esac
    done
    if [ "$uninstall" = 1 ]; then
        uninstall
        exit 0
    fi

    base_url=${base_url:-$DEFAULT_BASE_URL}
    base_url=${base_url%/}
    check_url_scheme "$base_url"
    pick_downloader
    pick_checksum_tool
    pick_verifier
    detect_target

    # Writable locations first: nothing is downloaded for an install that cannot happen. One
    # mkdir makes every folder, the per-process staging folder included.
    staging=$root/.staging/sh.$$
    unpacked=$staging/release
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    mkdir -p "$bin_dir" "$root/releases" "$root/.lock" "$unpacked" "$staging/x.codex" \
        "$staging/x.codex-exec-server" 2>/dev/null
    check_writable "$root"
    check_writable "$bin_dir"

    normalize_version "$version"
    if [ "$version" = latest ]; then
        src=$base_url/latest/download
    else
        src=$base_url/download/v$version
    fi

    if [ "$assume_yes" != 1 ]; then
        printf 'Install codex %s for %s into %s? [Y/n] ' "$version" "$target" "$bin_dir"
        read -r answer || answer=n
        case $answer in '' | y | Y | yes | YES) ;; *) say "cancelled"; exit 1 ;; esac
    fi

    take_lock
    [ -d "$unpacked" ] || die "cannot create folders in $root/.staging"

    current=""
    if [ -h "$root/current" ]; then current=$(current_release); fi
    if [ "$version" != latest ] && already_installed "$version-$target"; then
        return 0
    fi
    read_installed_version
    # A pinned version older than the installed one is refused before anything is downloaded.
    [ "$version" != latest ] && check_downgrade "$version"
    # The receipt's timestamp, taken while the download runs (stderr first: if the staging
    # folder is gone because we are failing, the shell's complaint about it goes nowhere).
    date +%s 2>/dev/null >"$staging/now" &
    now_pid=$!

    # The manifest and its signature in one go (one connection with curl), each capped; the
    # archives once the signed manifest gives their sizes.
    detail "downloading the manifest from $src"
    fetch_release "$src"
    fetched=$?
    case $failed_url in */manifest.json) missing_manifest=1 ;; *) missing_manifest=0 ;; esac
    if [ "$fetched" = 22 ] && [ "$missing_manifest" = 1 ] && [ "$version" = latest ] &&
        repo=$(github_repo); then
        # The newest release has no manifest at latest/download: ask the API for its tag.
        api=${CODEX_GITHUB_API_URL:-https://api.github.com}
        api=${api%/}/repos/$repo/releases/latest
        detail "asking $api"
        fetch_limit=$MAX_API_RESPONSE_SIZE
        fetch "$api" "$staging/latest.json" auth || fetch_failed "$api" "the latest release"
        latest_tag=$(sed -n 's/.*"tag_name": *"\([^"]*\)".*/\1/p' "$staging/latest.json" | head -n 1)
        [ -n "$latest_tag" ] || die "$api did not name the latest release"
        src=$base_url/download/$latest_tag
        fetch_release "$src"
        fetched=$?
        case $failed_url in */manifest.json) missing_manifest=1 ;; *) missing_manifest=0 ;; esac
    fi
    if [ "$missing_manifest" = 1 ]; then
        (exit "$fetched") || fetch_failed "$failed_url" "release $version"
    fi
    release_label "$fetch_first"
    if [ "$fetched" = 22 ]; then
        case $failed_url in
            */manifest.json.sig | */manifest.json.minisig)
                die "$label from $base_url is not signed ($failed_url answered 404); refusing it, since codex installs only signed releases"
                ;;
        esac
    fi
    (exit "$fetched") || fetch_failed "$failed_url" "${failed_url##*/} of release $version"
    # Nothing in the manifest is read before its signature is checked.
    signer=""
    [ -n "$verifier" ] && verify_signature
    found=""
    tag=""
    sha_codex=""
    sha_es=""
    size_codex=""
    size_es=""
    want=""
    # The manifest is serde's pretty JSON (its writer guarantees it): the top level is one key per
    # line, two spaces in; in an archive's object the "name" line comes before its "sha256".
    while IFS= read -r line; do
        case $line in
            '  "version": "'*) found=${line#*: \"}; found=${found%\",} ;;
            '  "tag": "'*) tag=${line#*: \"}; tag=${tag%\",} ;;
            *"\"name\": \"codex-$target.tar.gz\","*) want=codex ;;
            *"\"name\": \"codex-exec-server-$target.tar.gz\","*) want=es ;;
            *'"size": '*)
                line=${line#*: }
                case $want in
                    codex) size_codex=${line%,} ;;
                    es) size_es=${line%,} ;;
                esac
                ;;
            *'"sha256": "'*)
                line=${line#*: \"}
                case $want in
                    codex) sha_codex=${line%%\"*} ;;
                    es) sha_es=${line%%\"*} ;;
                esac
                want=""
                ;;
            *'}'*) want="" ;;
        esac
    done <"$staging/manifest.json"
    { [ -n "$found" ] && [ -n "$tag" ]; } || die "$src/manifest.json is not a codex release manifest"
    case $tag$size_codex$size_es in *[!A-Za-z0-9._+-]*) die "$src/manifest.json is not a codex release manifest" ;; esac
    case $size_codex in '' | *[!0-9]*) die "$src/manifest.json lists no codex archive for $target" ;; esac
    case $size_es in '' | *[!0-9]*) die "$src/manifest.json lists no codex-exec-server archive for $target" ;; esac
    if [ "$version" != latest ] && [ "$found" != "$version" ]; then
        die "$src/manifest.json describes $found, not $version"
    fi
    version=$found
    [ -n "$signer" ] && say "verified the signature of release $version (key $signer)"
    release=$version-$target
    if already_installed "$release"; then
        return 0
    fi
    check_downgrade "$version"

    # The archives come from the tag the manifest names (`latest` may move meanwhile), each
    # stopped at its signed size.
    src=$base_url/download/$tag
    detail "downloading the archives from $src"
    fetch_archives "$src" || fetch_failed "$failed_url" "${failed_url##*/} of release $version"
    check_size "$staging/codex-$target.tar.gz" "$size_codex" "$src/codex-$target.tar.gz"
    check_size "$staging/codex-exec-server-$target.tar.gz" "$size_es" \
        "$src/codex-exec-server-$target.tar.gz"

    # The two archives are checked and unpacked side by side (one per core).
    # The background job must not run our EXIT trap (some shells keep traps in subshells). Its
    # messages go through a file, so that if this side fails first, the job's own error does not
    # follow ours: a failure is one line.
    (
        trap - EXIT INT TERM
        install_binary codex-exec-server "$sha_es"
    ) 2>"$staging/bg.err" &
    bg_pid=$!
    install_binary codex "$sha_codex"
    wait "$bg_pid"
    bg_status=$?
    bg_pid=""
    while IFS= read -r line; do printf '%s\n' "$line" >&2; done <"$staging/bg.err"
    [ "$bg_status" = 0 ] || exit 1 # its one error line is printed above
    # Both new binaries must run and name the version before anything switches to them.
    "$unpacked/codex-exec-server" --version >"$staging/es.version" 2>&1 &
    es_pid=$!
    installed_version=$(smoke_test codex "$("$unpacked/codex" --version 2>&1)" $?)
    [ -n "$installed_version" ] || exit 1
    wait "$es_pid"
    es_status=$?
    es_out=""
    while IFS= read -r line; do es_out=$es_out$line; done <"$staging/es.version"
    smoke_test codex-exec-server "$es_out" "$es_status" >/dev/null || exit 1

    previous=$current
    [ "$previous" = "$release" ] && previous=""
    [ -n "$previous" ] && [ ! -x "$root/releases/$previous/codex" ] && previous=""
    [ -e "$root/releases/$release" ] && rm -rf "$root/releases/$release"
    mv "$unpacked" "$root/releases/$release" || die "cannot move the release into $root/releases"
    if [ -z "$current" ] && [ ! -e "$root/current" ] && [ ! -h "$root/current" ]; then
        # A first install: creating the link is atomic by itself.
        ln -s "releases/$release" "$root/current" || die "cannot create $root/current"
    else
        ln -s "releases/$release" "$root/.current.$$" || die "cannot create a link in $root"
        replace "$root/.current.$$" "$root/current" || die "cannot switch $root/current"
    fi
    link_bins
    wait "$now_pid"
    now_pid=""
    read -r installed_at <"$staging/now" || installed_at=0
    write_receipt
    prune
    [ -x "$bin_dir/codex" ] || die "$bin_dir/codex is missing after installing"
    say "installed $installed_version"
    say "  commands: $bin_dir/codex, $bin_dir/codex-exec-server"
    [ -n "$previous" ] && say "  previous release kept: $previous (codex update --rollback)"
    path_advice
}

# smoke_test NAME OUTPUT STATUS: prints OUTPUT when the binary ran and named $version.
smoke_test() {
    [ "$3" = 0 ] || die "the downloaded $1 does not run on this machine ($2); nothing was changed"
    case $2 in
        *" $version "*) printf '%s\n' "$2" ;;
        *) die "the downloaded $1 reports '$2', expected version $version; nothing was changed" ;;
    esac
}

cleanup() {
    # Wait for the background job rather than kill it: killing leaves its children (tar, a
    # command substitution) writing into the staging folder we are about to remove. It only
    # hashes and unpacks local files, so the wait is short.
    if [ -n "${bg_pid:-}" ]; then
        wait "$bg_pid" 2>/dev/null
    fi
    if [ -n "${now_pid:-}" ]; then
        wait "$now_pid" 2>/dev/null
    fi
    set --
    [ -n "${staging:-}" ] && set -- "$staging"
    [ "${lock_taken:-0}" = 1 ] && release_lock
    [ $# -gt 0 ] && rm -rf "$@"
    return 0
}

# already_installed RELEASE: says so and succeeds when RELEASE is current and complete.
already_installed() {
    if [ "$current" = "$1" ] && [ -x "$root/releases/$1/codex" ] &&
        [ -x "$root/releases/$1/codex-exec-server" ]; then
        version=${1%-"$target"}
        link_bins
        say "codex $version is already installed in $bin_dir; nothing to do"
        path_advice
        return 0
    fi
    return 1
}

# fetch_release SRC: the manifest, its signature (for the verifier there is) and both archives
# from SRC into staging. The archives' digests come from the manifest.
fetch_release() {
    fr_src=$1
    set -- "$fr_src/manifest.json" "$staging/manifest.json"
    if [ -n "$verifier" ]; then
        set -- "$@" "$fr_src/manifest.json$sig_suffix" "$staging/manifest.json$sig_suffix"
    fi
    fetch_limit=$MAX_MANIFEST_SIZE
    fetch_too_large=""
    fetch_files "$@"
    fr_status=$?
    # The signature, over the manifest's cap in transit, is over its own too.
    case $fr_status:$failed_url in 24:*.sig | 24:*.minisig) fetch_too_large=$MAX_SIGNATURE_SIZE ;; esac
    [ "$fr_status" = 0 ] || return "$fr_status"
    if [ -n "$verifier" ] && [ "$(file_bytes "$staging/manifest.json$sig_suffix")" -gt "$MAX_SIGNATURE_SIZE" ]; then
        failed_url=$fr_src/manifest.json$sig_suffix
        fetch_too_large=$MAX_SIGNATURE_SIZE
        return 24
    fi
    return 0
}

# fetch_archives SRC: downloads both archives, none larger than its signed size.
fetch_archives() {
    fetch_limit=$size_codex
    [ "$size_es" -gt "$fetch_limit" ] && fetch_limit=$size_es
    fetch_files "$1/codex-$target.tar.gz" "$staging/codex-$target.tar.gz" \
        "$1/codex-exec-server-$target.tar.gz" "$staging/codex-exec-server-$target.tar.gz"
}

# check_size FILE SIZE URL: FILE must hold exactly SIZE bytes (its size in the signed
# manifest), else one error line.
check_size() {
    cs_n=$(file_bytes "$1")
    [ "$cs_n" -gt "$2" ] && die_too_large "$3" "$2" " (its size in the signed manifest)"
    [ "$cs_n" = "$2" ] || die "the download of $3 ended early ($cs_n of $2 bytes); try again later"
}

# file_bytes FILE: prints FILE's size in bytes (0 when it is missing).
file_bytes() {
    fb_n=0
    [ -f "$1" ] && fb_n=$(wc -c <"$1")
    printf '%s\n' $((fb_n + 0))
}

# die_too_large URL LIMIT [WHAT]: the one line for a body over its limit.
die_too_large() {
    die "$1 is larger than $2 bytes${3:-}, so the download was stopped and discarded; the release source is broken or hostile: check --base-url or CODEX_RELEASE_BASE_URL"
}

# release_label URL: sets $label to the release being installed, for messages from before its
# manifest is trusted: the version asked for, or the tag that the manifest's URL (after
# redirects, with curl) names.
release_label() {
    label=$version
    if [ "$version" = latest ]; then
        label=${1%/*}
        label=${label##*/}
        label=${label#rust-v}
        label=${label#v}
        case $label in download | latest | '') label="the latest release"; return 0 ;; esac
    fi
    label="release $label"
}

# Plain http is allowed for loopback, or for a mirror the user named; https everywhere else.
check_url_scheme() {
    case $1 in
        https://*) ;;
        http://127.* | http://localhost[:/]* | http://localhost | http://\[::1\]*) ;;
        http://*)
            [ "$explicit_mirror" = 1 ] ||
                die "refusing plain http for $1; use https, or name the mirror with --base-url"
            ;;
        *) die "release source '$1' is not an http(s) URL" ;;
    esac
}

pick_downloader() {
    if command -v curl >/dev/null 2>&1; then
        downloader=curl
    elif command -v wget >/dev/null 2>&1; then
        downloader=wget
        # busybox wget lacks GNU wget's TLS options; it still verifies certificates.
        if wget --help 2>&1 | grep -q BusyBox; then downloader=busybox-wget; fi
    else
        die "this installer needs curl or wget; install one and run again"
    fi
    detail "downloading with $downloader"
}

# fetch URL FILE [auth]: downloads URL to FILE. Returns 22 for an HTTP 404 and 23 for a rate
# limit. With "auth", GITHUB_TOKEN goes along (GitHub API only).
fetch() {
    if [ "${3:-}" = auth ] && [ -n "${GITHUB_TOKEN:-}" ]; then
        fetch_auth=1
        write_auth_files
    else
        fetch_auth=""
    fi
    fetch_files "$1" "$2"
    fetch_status=$?
    fetch_auth=""
    return "$fetch_status"
}

# write_auth_files: puts GITHUB_TOKEN into files only this user can read (a curl header file
# and a wgetrc), written by the printf builtin: on a command line any local user would read it
# from /proc/*/cmdline.
write_auth_files() {
    auth_header=$staging/auth.header
    auth_wgetrc=$staging/auth.wgetrc
    (
        umask 077
        printf 'Authorization: Bearer %s\n' "$GITHUB_TOKEN" >"$auth_header" || exit 1
        # The user's own wgetrc (proxies, CA files) still applies.
        { [ -f "${WGETRC:-$HOME/.wgetrc}" ] && cat "${WGETRC:-$HOME/.wgetrc}"; } >"$auth_wgetrc"
        printf 'header = Authorization: Bearer %s\n' "$GITHUB_TOKEN" >>"$auth_wgetrc" || exit 1
    ) || die "cannot write $staging; check that it is writable"
}

# fetch_files URL FILE [URL FILE]...: downloads each URL to its FILE, with one curl process for
# all of them (one connection) or one wget each, none larger than $fetch_limit bytes. Retries
# transient failures; on failure sets $failed_url and returns 22 for a 404, 23 for a rate limit,
# 24 for a body over the limit, 25 for a redirect from https to http, 1 otherwise. Sets $fetch_first to
# where the first URL led (after redirects, with curl).
fetch_files() {
    failed_url=$1
    tries=0
    while :; do
        tries=$((tries + 1))
        fetch_once "$@"
        fetch_status=$?
        case $fetch_status in
            0 | 22 | 23 | 24 | 25) return "$fetch_status" ;;
        esac
        [ "$tries" -lt 3 ] || return 1
        detail "download failed; trying again"
        sleep 1
    done
}

fetch_once() {
    fetch_first=""
    case $downloader in
        curl)
            # Turn the URL FILE pairs into "-o FILE URL" for one curl call (the pairs rotate
            # from the front of the argument list to its end).
            fetch_pairs=$(($# / 2))
            fetch_secure=1
            fetch_outputs=""
            while [ "$fetch_pairs" -gt 0 ]; do
                case $1 in http://*) fetch_secure=0 ;; esac
                fetch_u=$1
                fetch_f=$2
                fetch_outputs="$fetch_outputs$fetch_f
$fetch_u
"
                shift 2
                set -- "$@" -o "$fetch_f" "$fetch_u"
                fetch_pairs=$((fetch_pairs - 1))
            done
            if [ "$fetch_secure" = 1 ]; then set -- --proto '=https' --tlsv1.2 "$@"; fi
            if [ -n "${fetch_auth:-}" ]; then set -- -H "@$auth_header" "$@"; fi
            fetch_errlog=/dev/null
            [ "$VERBOSE" = 1 ] && fetch_errlog=$staging/curl.err
            # curl's own messages go to the verbose log; the caller prints one clear line.
            fetch_out=$(capped curl -sSL -w '%{http_code} %{url_effective}\n' "$@" 2>"$fetch_errlog")
            fetch_curl=$?
            over_limit "$fetch_outputs" && return 24
            fetch_result=0
            fetch_ifs=$IFS
            IFS='
'
            for fetch_line in $fetch_out; do
                [ -n "$fetch_first" ] || fetch_first=${fetch_line#* }
                case ${fetch_line%% *} in
                    2??) continue ;;
                    3??)
                        # A redirect that --proto refused to follow: it led off https.
                        fetch_result=1
                        if [ "$fetch_secure" = 1 ]; then
                            fetch_result=25
                            downgrade_to=${fetch_line#* }
                        fi
                        ;;
                    404) fetch_result=22 ;;
                    403 | 429) fetch_result=23 ;;
                    *) fetch_result=1 ;;
                esac
                failed_url=${fetch_line#* }
                break
            done
            IFS=$fetch_ifs
            if [ "$fetch_result" = 0 ] && [ "$fetch_curl" != 0 ]; then
                [ "$VERBOSE" = 1 ] && detail "$(cat "$fetch_errlog")"
                fetch_result=1
            fi
            return "$fetch_result"
            ;;
        wget | busybox-wget)
            fetch_first=$1
            while [ $# -ge 2 ]; do
                failed_url=$1
                wget_one "$1" "$2" || return $?
                shift 2
            done
            return 0
            ;;
    esac
}

# wget_one URL FILE: one download with wget (GNU or busybox), at most $fetch_limit bytes; same
# return codes as fetch_files. Neither wget can refuse a redirect from https to http (GNU's
# --https-only is for recursive downloads only), so each prints the answers' headers (-S) and a
# download led to plain http is discarded and refused before anything reads it.
wget_one() {
    w_url=$1
    w_file=$2
    set -- -S -O "$w_file"
    if [ "$downloader" = wget ]; then
        set -- "$@" --tries=1
        case $w_url in https://*) set -- "$@" --https-only --secure-protocol=TLSv1_2 ;; esac
    fi
    if [ -n "${fetch_auth:-}" ] && [ "$downloader" = wget ]; then
        # GNU wget would send the token's header along a redirect to another host; the API
        # answers directly.
        (
            WGETRC=$auth_wgetrc
            export WGETRC
            capped wget --max-redirect=0 "$@" "$w_url"
        ) 2>"$w_file.err"
        w_status=$?
    else
        # busybox wget reads no config file, and a --header would show the token to every
        # local user: it goes without (GitHub's anonymous limit still allows an install).
        [ -n "${fetch_auth:-}" ] && detail "busybox wget cannot send GITHUB_TOKEN privately; asking without it"
        capped wget "$@" "$w_url" 2>"$w_file.err"
        w_status=$?
    fi
    case $w_url in
        https://*)
            downgrade_to=$(grep -i '^ *location: *http://' "$w_file.err" | head -n 1 | sed 's/^ *[Ll][Oo][Cc][Aa][Tt][Ii][Oo][Nn]: *//; s/ .*//')
            if [ -n "$downgrade_to" ]; then
                rm -f "$w_file" "$w_file.err"
                return 25
            fi
            ;;
    esac
    if over_limit "$w_file
$w_url"; then
        rm -f "$w_file.err"
        return 24
    fi
    if [ "$w_status" != 0 ]; then
        if grep -q 'HTTP/[0-9.]* 404\|ERROR 404' "$w_file.err"; then
            w_status=22
        elif grep -q 'HTTP/[0-9.]* 40[3]\|HTTP/[0-9.]* 429\|ERROR 403\|ERROR 429' "$w_file.err"; then
            w_status=23
        else
            w_status=1
        fi
        detail "$(cat "$w_file.err")"
    fi
    rm -f "$w_file.err"
    return "$w_status"
}

# capped COMMAND...: runs COMMAND with no file it writes allowed past a little over $fetch_limit
# bytes, which stops every body at the limit, announced length or not (curl before 8.4 checks
# --max-filesize only against an announced one). A write past it fails; the signal that would
# kill the downloader instead, and leave a core, is ignored. The unit of `ulimit -f` is 512
# bytes, but 1024 in bash outside POSIX mode.
capped() {
    (
        cp_unit=512
        if [ -n "${BASH_VERSION:-}" ]; then
            # shellcheck disable=SC3028 # read only under bash, which sets it
            case :${SHELLOPTS:-}: in *:posix:*) ;; *) cp_unit=1024 ;; esac
        fi
        trap '' XFSZ
        ulimit -f $((fetch_limit / cp_unit + 2)) 2>/dev/null
        exec "$@"
    )
}

# over_limit FILE-URL-LINES: whether any FILE (lines alternate: a file, its URL) holds more than
# $fetch_limit bytes; sets $failed_url to its URL.
over_limit() {
    ol_ifs=$IFS
    IFS='
'
    ol_file=""
    for ol_line in $1; do
        if [ -z "$ol_file" ]; then
            ol_file=$ol_line
            continue
        fi
        ol_n=$(file_bytes "$ol_file")
        ol_file=""
        if [ "$ol_n" -gt "$fetch_limit" ]; then
            IFS=$ol_ifs
            failed_url=$ol_line
            return 0
        fi
    done
    IFS=$ol_ifs
    return 1
}

# owner/repo of a GitHub releases base URL (or any .../owner/repo/releases base when
# CODEX_GITHUB_API_URL names a GitHub Enterprise or test API); fails otherwise.
github_repo() {
    case $base_url in
        https://github.com/*/*/releases) ;;
        */*/releases) [ -n "${CODEX_GITHUB_API_URL:-}" ] || return 1 ;;
        *) return 1 ;;
    esac
    printf '%s\n' "$base_url" | sed 's|.*/\([^/]*\)/\([^/]*\)/releases$|\1/\2|'
}


# fetch_failed URL WHAT: turns fetch's status ($?) into one clear line.
fetch_failed() {
    failed_with=$?
    case $failed_with in
        22) die "$2 was not found at $base_url ($1 answered 404); check the version" ;;
        23) die "the server refused $1 (HTTP 403/429: rate limited); for GitHub, set GITHUB_TOKEN and try again" ;;
        24) die_too_large "$1" "${fetch_too_large:-$fetch_limit}" ;;
        25) die "refusing a redirect from https to plain http (${downgrade_to:-from $1}); the release source must stay on https: check --base-url or CODEX_RELEASE_BASE_URL" ;;
        *) die "cannot download $1; check the network, or the proxy in HTTPS_PROXY" ;;
    esac
}

pick_checksum_tool() {
    if command -v sha256sum >/dev/null 2>&1; then
        checksum=sha256sum
    elif command -v shasum >/dev/null 2>&1; then
        checksum=shasum
    elif command -v openssl >/dev/null 2>&1; then
        checksum="openssl"
    else
        die "no SHA-256 tool found (sha256sum, shasum or openssl); install one: the download is never installed unverified"
    fi
    detail "verifying with $checksum"
}

sha256_of() {
    case $checksum in
        sha256sum) digest=$(sha256sum "$1") ;;
        shasum) digest=$(shasum -a 256 "$1") ;;
        openssl) digest=$(openssl dgst -sha256 -r "$1") ;;
    esac || return 1
    printf '%s\n' "${digest%% *}"
}

# pick_verifier: the release signature is checked with OpenSSL 3 or later (LibreSSL and older
# OpenSSL lack raw Ed25519 verification), else minisign. Without either nothing is installed,
# unless --allow-unverified asks for an install with only the checksums checked; then the
# warning comes now, before anything is downloaded or run.
pick_verifier() {
    verifier=""
    sig_suffix=""
    if command -v openssl >/dev/null 2>&1; then
        pv_version=$(openssl version 2>/dev/null) || pv_version=""
        case $pv_version in
            'OpenSSL '[3-9].* | 'OpenSSL '[1-9][0-9]*)
                verifier=openssl
                sig_suffix=.sig
                detail "checking the release signature with $pv_version"
                return 0
                ;;
        esac
    fi
    if command -v minisign >/dev/null 2>&1; then
        verifier=minisign
        sig_suffix=.minisig
        detail "checking the release signature with minisign"
        return 0
    fi
    [ "$require_signature" = 1 ] &&
        die "neither OpenSSL 3 nor minisign is installed, so the release signature cannot be checked, and --require-signature (or CODEX_REQUIRE_SIGNATURE=1) refuses to install without it; install one and run again"
    [ "$allow_unverified" = 1 ] ||
        die "neither OpenSSL 3 nor minisign is installed, so the release signature cannot be checked and nothing was installed; install one (macOS: brew install minisign) and run again, or pass --allow-unverified (CODEX_ALLOW_UNVERIFIED=1) to install with only the SHA-256 checksums checked"
    warn "neither OpenSSL 3 nor minisign is installed, so the release signature will not be checked, only the SHA-256 checksums of the downloads (--allow-unverified)"
}

# verify_signature: checks $staging/manifest.json against its signature with $verifier, trying
# each key in TRUSTED_KEYS; sets $signer to the id of the key that made it, or fails with one line.
verify_signature() {
    vs_sig=$staging/manifest.json$sig_suffix
    vs_one=""
    vs_two=""
    { IFS= read -r vs_one; IFS= read -r vs_two; } <"$vs_sig"
    if [ "$verifier" = openssl ]; then
        # One line of base64 of 64 bytes: 86 characters and "==".
        case $vs_one in
            *[!A-Za-z0-9+/=]* | *=*=*=*) vs_one="" ;;
            *==) [ ${#vs_one} = 88 ] || vs_one="" ;;
            *) vs_one="" ;;
        esac
        { [ -n "$vs_one" ] && [ -z "$vs_two" ] &&
            openssl base64 -d -A -in "$vs_sig" -out "$staging/manifest.sig.bin" 2>/dev/null; } ||
            die "the signature of the manifest of $label is malformed (manifest.json.sig is not one line of base64 of 64 bytes); download the release again, and report it if that keeps happening; nothing was installed"
    else
        # minisign's 4 lines; the second is base64 of the algorithm, the key number and the
        # signature (74 bytes: 100 characters).
        case $vs_one in 'untrusted comment: '*) ;; *) vs_two="" ;; esac
        case $vs_two in
            *[!A-Za-z0-9+/=]*) vs_two="" ;;
            *) [ ${#vs_two} = 100 ] || vs_two="" ;;
        esac
        [ -n "$vs_two" ] ||
            die "the signature of the manifest of $label is malformed (manifest.json.minisig is not a minisign signature); download the release again, and report it if that keeps happening; nothing was installed"
        # Characters 5 to 12 hold 6 bytes of the key number, the same in the key: minisign runs
        # only for the key that names itself in the signature.
        vs_id=${vs_two#????}
        vs_id=${vs_id%"${vs_id#????????}"}
    fi
    vs_trusted=""
    vs_ifs=$IFS
    IFS='
'
    for vs_key in $TRUSTED_KEYS; do
        vs_name=${vs_key%% *}
        vs_rest=${vs_key#* }
        vs_spki=${vs_rest%% *}
        vs_mini=${vs_rest#* }
        vs_trusted=${vs_trusted:+$vs_trusted, }$vs_name
        if [ "$verifier" = openssl ]; then
            printf '%s\n' '-----BEGIN PUBLIC KEY-----' "$vs_spki" '-----END PUBLIC KEY-----' \
                >"$staging/key.pem" || continue
            openssl pkeyutl -verify -pubin -inkey "$staging/key.pem" -rawin \
                -in "$staging/manifest.json" -sigfile "$staging/manifest.sig.bin" >/dev/null 2>&1 ||
                continue
        else
            case ${vs_mini#????} in "$vs_id"*) ;; *) continue ;; esac
            minisign -V -q -P "$vs_mini" -m "$staging/manifest.json" -x "$vs_sig" >/dev/null 2>&1 ||
                continue
        fi
        signer=$vs_name
        break
    done
    IFS=$vs_ifs
    [ -n "$signer" ] ||
        die "the manifest of $label was not signed by any trusted key (trusted: $vs_trusted); the download may have been tampered with, so nothing was installed"
    detail "manifest.json: signature by $signer verified with $verifier"
}

# receipt_field NAME: prints the string value of NAME in the receipt (written by this script or by
# codex update, as one key per line or all on one), or nothing.
receipt_field() {
    [ -f "$root/receipt.json" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
            *"\"$1\""*:*)
                line=${line#*"\"$1\""}
                line=${line#*:}
                while :; do
                    case $line in ' '* | '	'*) line=${line#?} ;; *) break ;; esac
                done
                case $line in \"*) line=${line#\"}; printf '%s\n' "${line%%\"*}"; return 0 ;; esac
                ;;
        esac
    done <"$root/receipt.json"
}

# read_installed_version: sets $installed to the version in the receipt, else to that of the
# current release.
read_installed_version() {
    installed=$(receipt_field version)
    if [ -z "$installed" ]; then
        case $current in *-"$target") installed=${current%-"$target"} ;; esac
    fi
    [ -n "$installed" ] && detail "installed: $installed"
    return 0
}

# check_downgrade VERSION: refuses a VERSION older than the installed one, unless allowed.
check_downgrade() {
    [ -n "$installed" ] && [ "$allow_downgrade" != 1 ] && semver_lt "$1" "$installed" &&
        die "release $1 is older than the installed $installed; refusing to downgrade (pass --allow-downgrade, or set CODEX_ALLOW_DOWNGRADE=1, to install it anyway)"
    return 0
}

# semver_lt A B: succeeds when version A has lower precedence than B (semver 2.0: major, minor
# and patch numerically, then a pre-release before its release, pre-release identifiers one by
# one, numeric ones numerically and before alphanumeric ones; build metadata ignored). Fails for
# a version that is not semver: such an install is not protected, rather than stuck.
semver_lt() {
    semver_split "$1" || return 1
    sl_a1=$sv_1 sl_a2=$sv_2 sl_a3=$sv_3 sl_ap=$sv_pre
    semver_split "$2" || return 1
    cmp_num "$sl_a1" "$sv_1"
    [ "$cmp" = 0 ] && cmp_num "$sl_a2" "$sv_2"
    [ "$cmp" = 0 ] && cmp_num "$sl_a3" "$sv_3"
    [ "$cmp" = 0 ] || { [ "$cmp" = -1 ]; return; }
    [ -n "$sl_ap" ] || return 1
    [ -n "$sv_pre" ] || return 0
    cmp_pre "$sl_ap" "$sv_pre"
    [ "$cmp" = -1 ]
}

# semver_split V: sets $sv_1, $sv_2, $sv_3 and $sv_pre (empty for a release); fails if V is not
# MAJOR.MINOR.PATCH[-PRE][+BUILD].
semver_split() {
    sv_core=${1%%+*}
    sv_pre=${sv_core#*-}
    [ "$sv_pre" = "$sv_core" ] && sv_pre=""
    sv_core=${sv_core%%-*}
    case $sv_core in *.*.*.* | *[!0-9.]*) return 1 ;; *.*.*) ;; *) return 1 ;; esac
    sv_1=${sv_core%%.*}
    sv_3=${sv_core##*.}
    sv_2=${sv_core#*.}
    sv_2=${sv_2%.*}
    case .$sv_1.$sv_2.$sv_3. in *..* | *.0[0-9]*) return 1 ;; esac
    case $1 in *-) return 1 ;; esac
    [ -n "$sv_pre" ] || return 0
    case $sv_pre in *[!0-9A-Za-z.-]* | .* | *. | *..*) return 1 ;; esac
    # A numeric identifier has no leading zero.
    ss_rest=$sv_pre.
    while [ -n "$ss_rest" ]; do
        case ${ss_rest%%.*} in 0*[!0-9]* | 0) ;; 0*) return 1 ;; esac
        ss_rest=${ss_rest#*.}
    done
    return 0
}

# cmp_num X Y: sets $cmp to -1, 0 or 1 as digit string X is below, equal to or above Y (no
# arithmetic, so any length works).
cmp_num() {
    cn_x=$1
    cn_y=$2
    while [ ${#cn_x} -gt 1 ] && [ "${cn_x#0}" != "$cn_x" ]; do cn_x=${cn_x#0}; done
    while [ ${#cn_y} -gt 1 ] && [ "${cn_y#0}" != "$cn_y" ]; do cn_y=${cn_y#0}; done
    if [ "$cn_x" = "$cn_y" ]; then
        cmp=0
    elif [ ${#cn_x} != ${#cn_y} ]; then
        if [ ${#cn_x} -lt ${#cn_y} ]; then cmp=-1; else cmp=1; fi
    else
        # Same length: the first digit that differs decides.
        while [ "${cn_x%"${cn_x#?}"}" = "${cn_y%"${cn_y#?}"}" ]; do
            cn_x=${cn_x#?}
            cn_y=${cn_y#?}
        done
        if [ "${cn_x%"${cn_x#?}"}" -lt "${cn_y%"${cn_y#?}"}" ]; then cmp=-1; else cmp=1; fi
    fi
}

# cmp_pre X Y: sets $cmp comparing two pre-releases identifier by identifier; when one runs out
# first, it is the lower.
cmp_pre() {
    cp_x=$1.
    cp_y=$2.
    cmp=0
    while [ "$cmp" = 0 ]; do
        if [ -z "$cp_x" ]; then
            [ -z "$cp_y" ] || cmp=-1
            return 0
        fi
        [ -n "$cp_y" ] || { cmp=1; return 0; }
        cp_i=${cp_x%%.*}
        cp_j=${cp_y%%.*}
        cp_x=${cp_x#*.}
        cp_y=${cp_y#*.}
        case $cp_i in
            *[!0-9]*)
                case $cp_j in
                    *[!0-9]*) cmp_str "$cp_i" "$cp_j" ;;
                    *) cmp=1 ;;
                esac
                ;;
            *)
                case $cp_j in
                    *[!0-9]*) cmp=-1 ;;
                    *) cmp_num "$cp_i" "$cp_j" ;;
                esac
                ;;
        esac
    done
}

# cmp_str X Y: sets $cmp comparing X and Y by ASCII code, character by character.
cmp_str() {
    cs_x=$1
    cs_y=$2
    while :; do
        if [ "$cs_x" = "$cs_y" ]; then cmp=0; return 0; fi
        if [ -z "$cs_x" ]; then cmp=-1; return 0; fi
        if [ -z "$cs_y" ]; then cmp=1; return 0; fi
        cs_a=${cs_x%"${cs_x#?}"}
        cs_b=${cs_y%"${cs_y#?}"}
        if [ "$cs_a" != "$cs_b" ]; then
            # printf gives a character's code for an argument "'c" (only where two differ).
            if [ "$(printf '%d' "'$cs_a")" -lt "$(printf '%d' "'$cs_b")" ]; then cmp=-1; else cmp=1; fi
            return 0
        fi
        cs_x=${cs_x#?}
        cs_y=${cs_y#?}
    done
}

detect_target() {
    # One uname call: "<kernel> <machine>". Sets $target (no subshell: it is on the hot path).
    os=$(uname -sm) || die "uname failed; cannot tell this machine's platform"
    cpu=${os##* }
    os=${os%% *}
    case $os in
        Linux) os=unknown-linux-musl ;;
        Darwin)
            os=apple-darwin
            # An x86_64 shell under Rosetta 2 still gets the native arm64 build.
            if [ "$cpu" = x86_64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null)" = 1 ]; then
                cpu=arm64
            fi
            ;;
        *) die "no codex release for $os $cpu; releases exist for: $SUPPORTED_TARGETS" ;;
    esac
    case $cpu in
        x86_64 | amd64) cpu=x86_64 ;;
        aarch64 | arm64) cpu=aarch64 ;;
        # A 32-bit userland on a 64-bit ARM kernel reports armv8l: the static arm64 build runs.
        armv8l) cpu=aarch64 ;;
        *) die "no codex release for $os $cpu; releases exist for: $SUPPORTED_TARGETS" ;;
    esac
    target=$cpu-$os
    case " $SUPPORTED_TARGETS " in
        *" $target "*) ;;
        *) die "no codex release for $target; releases exist for: $SUPPORTED_TARGETS" ;;
    esac
}

# normalize_version V: sets $version to V without a `v` or `rust-v` prefix.
normalize_version() {
    version=${1#rust-v}
    version=${version#v}
    case $version in
        latest) ;;
        [0-9]*.[0-9]*.[0-9]*) ;;
        *) die "version '$1' is not a release version like 1.2.3" ;;
    esac
}

# check_writable DIR: DIR exists (made by the caller's mkdir -p) and accepts new files.
check_writable() {
    { [ -d "$1" ] && [ -w "$1" ]; } ||
        die "cannot install into $1: not writable; fix its permissions or choose another --install-dir / CODEX_HOME"
}

# The lock is the file .lock/pid (the folder comes from main's mkdir -p), created only if it
# does not exist: noclobber opens it with O_EXCL, as `codex update` and install.ps1 create it.
# A lock whose owner is gone is taken over under a second lock, the folder .lock.takeover (mkdir
# is atomic), shared with `codex update`: holding it, the pid is read again and the file removed
# only if it still names the dead owner. So two installers that both found a stale lock cannot
# both take it: the second reads the first one's fresh pid.
take_lock() {
    tries=0
    set -C
    until { printf '%s\n' "$$" >"$root/.lock/pid"; } 2>/dev/null; do
        set +C
        pid=""
        [ -f "$root/.lock/pid" ] && read -r pid <"$root/.lock/pid"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            die "another codex install or update is running (pid $pid); wait for it to finish and try again"
        fi
        tries=$((tries + 1))
        [ "$tries" -le 10 ] || die "cannot take the install lock $root/.lock; remove it if no install is running"
        if [ -z "$pid" ]; then
            # No pid yet: its owner may be between creating the file and writing it.
            [ -f "$root/.lock/pid" ] && sleep 1
        elif mkdir "$root/.lock.takeover" 2>/dev/null; then
            now=""
            [ -f "$root/.lock/pid" ] && read -r now <"$root/.lock/pid"
            if [ "$now" = "$pid" ] && ! kill -0 "$now" 2>/dev/null; then
                rm -f "$root/.lock/pid"
            fi
            rmdir "$root/.lock.takeover"
        else
            # Another process is taking the stale lock over right now.
            sleep 1
        fi
        mkdir -p "$root/.lock" 2>/dev/null
        set -C
    done
    set +C
    lock_taken=1
}

# release_lock: removes the lock, but only while it is still this process's.
release_lock() {
    owner=""
    [ -f "$root/.lock/pid" ] && read -r owner <"$root/.lock/pid"
    if [ "$owner" = "$$" ]; then
        rm -f "$root/.lock/pid"
        # Fails harmlessly when the next installer is already creating its pid file inside.
        rmdir "$root/.lock" 2>/dev/null
    fi
    lock_taken=0
}

current_release() {
    link=$(readlink "$root/current" 2>/dev/null) || return 0
    printf '%s\n' "${link##*/}"
}

# install_binary NAME SHA256: verify one downloaded archive against the SHA-256 that the manifest
# names for it, then extract its single entry into $unpacked as NAME.
install_binary() {
    archive=$1-$target.tar.gz
    entry=$1-$target
    expected=$2
    case $expected in
        *[!0-9a-f]*) expected="" ;;
        *) [ ${#expected} = 64 ] || expected="" ;;
    esac
    [ -n "$expected" ] || die "the manifest of release $version names no SHA-256 for $archive"
    actual=$(sha256_of "$staging/$archive") || die "cannot compute the SHA-256 of $archive"
    [ "$actual" = "$expected" ] ||
        die "checksum mismatch for $archive: expected sha256 $expected, got $actual; nothing was changed"
    detail "$archive: sha256 $actual verified"

    # One pass: extract into a folder of our own, listing what tar writes. Anything but exactly
    # the one expected name (a second entry, a path, a stripped `../`) is refused, and so is an
    # entry that did not come out as a regular file (a link, a device).
    x=$staging/x.$1
    names=$(cd "$x" && tar -xvzf "../$archive" 2>&1) || die "$archive is not a valid .tar.gz: $names"
    names=${names#x }
    [ "$names" = "$entry" ] ||
        die "$archive must hold exactly one entry named $entry, found: $(printf '%s' "$names" | tr '\n' ' ')"
    count=0
    for f in "$x"/* "$x"/.[!.]* "$x"/..?*; do
        if [ -e "$f" ] || [ -h "$f" ]; then count=$((count + 1)); fi
    done
    { [ -f "$x/$entry" ] && [ ! -h "$x/$entry" ] && [ "$count" = 1 ]; } ||
        die "$archive: $entry is not a regular file; refusing to install it"
    mv "$x/$entry" "$unpacked/$1" || die "cannot stage $1"
    [ -x "$unpacked/$1" ] || chmod 755 "$unpacked/$1" || die "cannot make $1 executable"
}

# replace NEW DEST: renames NEW over DEST without following DEST if it links to a folder.
replace() {
    mv -T "$1" "$2" 2>/dev/null || mv -h "$1" "$2" 2>/dev/null || { rm -f "$2" && mv "$1" "$2"; }
}

link_bins() {
    if [ ! -e "$bin_dir/codex" ] && [ ! -h "$bin_dir/codex" ] &&
        [ ! -e "$bin_dir/codex-exec-server" ] && [ ! -h "$bin_dir/codex-exec-server" ]; then
        # A fresh install: both links with one ln (they take their names from the targets).
        ln -s "$root/current/codex" "$root/current/codex-exec-server" "$bin_dir/" ||
            die "cannot create the links in $bin_dir"
        return 0
    fi
    for b in codex codex-exec-server; do
        if [ ! -e "$bin_dir/$b" ] && [ ! -h "$bin_dir/$b" ]; then
            ln -s "$root/current/$b" "$bin_dir/$b" || die "cannot create $bin_dir/$b"
        elif [ "$(readlink "$bin_dir/$b" 2>/dev/null)" != "$root/current/$b" ]; then
            { ln -s "$root/current/$b" "$bin_dir/.$b.$$" && replace "$bin_dir/.$b.$$" "$bin_dir/$b"; } ||
                die "cannot create $bin_dir/$b"
        fi
    done
}

# json_string S: prints S as a JSON string (printf builtins only, unless S needs escapes).
json_string() {
    case $1 in
        *[\\\"]*) printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')" ;;
        *) printf '"%s"' "$1" ;;
    esac
}

receipt_json() {
    printf '{\n  "schema": 1,\n  "method": "standalone",\n  "version": '
    json_string "$version"
    printf ',\n  "target": '
    json_string "$target"
    printf ',\n  "release": '
    json_string "$release"
    printf ',\n  "previous": '
    if [ -n "$previous" ]; then json_string "$previous"; else printf null; fi
    printf ',\n  "source": '
    json_string "$base_url"
    printf ',\n  "bin_dir": '
    json_string "$bin_dir"
    printf ',\n  "installed_by": "install.sh",\n  "installed_at": %s\n}\n' "$installed_at"
}

write_receipt() {
    if [ ! -e "$root/receipt.json" ]; then
        # A first install: nothing can read the receipt before the bin links exist.
        receipt_json >"$root/receipt.json" || die "cannot write $root/receipt.json"
        return 0
    fi
    receipt_json >"$root/.receipt.$$" || die "cannot write $root/.receipt.$$"
    # Replaced with a rename, so a reader never sees half a receipt.
    mv -f "$root/.receipt.$$" "$root/receipt.json" || die "cannot write $root/receipt.json"
}

# Keeps the current and the previous release, removes older ones.
prune() {
    for dir in "$root"/releases/*; do
        [ -d "$dir" ] || continue
        name=${dir##*/}
        [ "$name" = "$release" ] || [ "$name" = "$previous" ] || rm -rf "$dir"
    done
}

# uninstall: removes the standalone install the way `codex uninstall` does (docs/doctor.md): the
# bin links that lead into it, the root, the PATH block this script added, and CODEX_HOME unless
# --keep-config. Nothing is downloaded.
uninstall() {
    # Compared and removed as real paths: `$HOME//` or `$HOME/../me` must not pass for
    # something else than the home folder.
    home_real=$(real_dir "$HOME") || home_real=$HOME
    if codex_home_real=$(real_dir "$codex_home"); then
        case "${home_real%/}/" in
            "${codex_home_real%/}"/*)
                [ "$keep_config" = 1 ] ||
                    die "CODEX_HOME ($codex_home) is or holds your home folder, so it is not removed; set CODEX_HOME to the codex folder itself, or run with --keep-config"
                ;;
        esac
        codex_home=$codex_home_real
        root=$codex_home/packages/standalone
    fi
    if [ -f "$root/.lock/pid" ]; then
        pid=""
        read -r pid <"$root/.lock/pid" || true
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            die "a codex install or update is running (pid $pid); wait for it to finish and run --uninstall again"
        fi
    fi
    links_dir=$(receipt_field bin_dir)
    [ -n "$links_dir" ] || links_dir=$bin_dir
    found=0
    for name in codex codex-exec-server; do
        link=$links_dir/$name
        if [ -L "$link" ]; then
            dest=$(readlink "$link")
            case $dest in
                "$root"/*)
                    rm -f "$link" || die "cannot remove $link"
                    say "removed $link"
                    found=1
                    ;;
                *) say "kept $link: it leads to $dest, not into this install" ;;
            esac
        elif [ -e "$link" ]; then
            say "kept $link: it is not a link into this install"
        fi
    done
    if [ -d "$root" ]; then
        rm -rf "$root" || die "cannot remove $root"
        say "removed $root"
        found=1
    fi
    for rc in "${ZDOTDIR:-$HOME}/.zshrc" "$HOME/.zshrc" "$HOME/.bashrc" "$HOME/.bash_profile" \
        "$HOME/.profile" "$HOME/.config/fish/conf.d/codex.fish"; do
        remove_path_block "$rc"
    done
    if [ "$keep_config" = 1 ]; then
        rmdir "$codex_home/packages" 2>/dev/null || true
        [ -d "$codex_home" ] && say "kept $codex_home (config and sessions)"
    elif [ "$found" = 0 ]; then
        # No standalone install: CODEX_HOME may serve an npm or Homebrew copy; it stays.
        :
    elif [ -d "$codex_home" ]; then
        rm -rf "$codex_home" || die "cannot remove $codex_home"
        say "removed $codex_home"
        found=1
    fi
    if [ "$found" = 1 ]; then
        say "codex is uninstalled"
    else
        say "no codex install found in $codex_home"
    fi
}

# real_dir DIR: the absolute path of DIR with every link and `..` resolved; fails when DIR is
# not a folder.
real_dir() {
    (cd -P -- "$1" 2>/dev/null && pwd -P)
}

# remove_path_block FILE: deletes the block path_advice appended (its marker lines, what is
# between them and the empty line before it) from FILE; every other byte stays. A fish file left
# with nothing else is removed.
remove_path_block() {
    [ -f "$1" ] || return 0
    start=$(grep -n '^# >>> codex installer >>>$' "$1" | sed -n 1p)
    [ -n "$start" ] || return 0
    start=${start%%:*}
    end=$(sed -n "$start,\$p" "$1" | grep -n '^# <<< codex installer <<<$' | sed -n 1p)
    # An unterminated block is not this script's: leave the file alone.
    [ -n "$end" ] || return 0
    end=$((start + ${end%%:*} - 1))
    from=$start
    if [ "$start" -gt 1 ] && [ -z "$(sed -n "$((start - 1))p" "$1")" ]; then
        from=$((start - 1))
    fi
    rest=$1.codex-uninstall.$$
    sed "$from,${end}d" "$1" >"$rest" || die "cannot edit $1"
    case $1 in
        *.fish)
            if ! grep -q '[^[:space:]]' "$rest"; then
                rm -f "$rest" "$1" || die "cannot remove $1"
                say "removed $1"
                return 0
            fi
            ;;
    esac
    # Written through, not renamed over: the file keeps its mode, and a dotfile manager's link.
    cat "$rest" >"$1" || die "cannot write $1"
    rm -f "$rest"
    say "removed the codex PATH block from $1"
}

# sh_quote S: S in single quotes for sh, bash and zsh ('\'' for each quote inside).
sh_quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# fish_quote S: S in single quotes for fish, which escapes \ and ' inside them with a backslash.
fish_quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/[\\\\']/\\\\&/g")"
}

path_advice() {
    case ":${PATH:-}:" in
        *":$bin_dir:"*) return 0 ;;
    esac
    # Quoted for the shell that reads it: nothing in the path ($, `, quotes) is ever run.
    line="export PATH=$(sh_quote "$bin_dir")\":\$PATH\""
    if [ "$modify_path" != 1 ]; then
        say "$bin_dir is not on PATH; add this line to your shell's startup file:"
        say "  $line"
        return 0
    fi
    shell_name=${SHELL:-sh}
    shell_name=${shell_name##*/}
    case $shell_name in
        zsh) rc=${ZDOTDIR:-$HOME}/.zshrc ;;
        bash)
            if [ "$(uname -s)" = Darwin ]; then rc=$HOME/.bash_profile; else rc=$HOME/.bashrc; fi
            ;;
        fish)
            rc=$HOME/.config/fish/conf.d/codex.fish
            line="fish_add_path $(fish_quote "$bin_dir")"
            ;;
        *) rc=$HOME/.profile ;;
    esac
    if grep -q '^# >>> codex installer >>>$' "$rc" 2>/dev/null; then
        say "$bin_dir is added to PATH in $rc; open a new shell to use codex"
        return 0
    fi
    mkdir -p "$(dirname "$rc")" || die "cannot create $(dirname "$rc")"
    {
        printf '\n# >>> codex installer >>>\n'
        printf '%s\n' "$line"
        printf '# <<< codex installer <<<\n'
    } >>"$rc" || die "cannot write $rc"
    say "added $bin_dir to PATH in $rc; open a new shell, or run: $line"
}

main "$@"
