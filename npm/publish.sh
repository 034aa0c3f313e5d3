#!/bin/sh
# Publishes a release's npm packages (RELEASE_DIR/npm/, written by `cargo xtask dist`): every
# platform package first, then checks that the registry serves each of them at this version
# with the tarball's own integrity, and only then the wrapper, so `latest` never points at a
# wrapper whose programs are missing. A package already published with the same contents is
# skipped, so a failed run can be repeated.
#
# Usage: npm/publish.sh [--registry URL] [--tag TAG] [--dry-run] RELEASE_DIR
# npm's own configuration (an npmrc with the token) applies; --registry overrides the registry.
# The dist-tag is `latest` for a release and `next` for a pre-release (1.2.3-beta.1) unless
# --tag names one.
set -u

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}
say() { printf '%s\n' "$*"; }

registry=""
tag=""
dry_run=0
release_dir=""
while [ $# -gt 0 ]; do
    case $1 in
        --registry) [ $# -ge 2 ] || die "--registry needs a URL"; registry=$2; shift ;;
        --registry=*) registry=${1#*=} ;;
        --tag) [ $# -ge 2 ] || die "--tag needs a name"; tag=$2; shift ;;
        --tag=*) tag=${1#*=} ;;
        --dry-run) dry_run=1 ;;
        -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
        -*) die "unknown option '$1'; see --help" ;;
        *) [ -z "$release_dir" ] || die "one release folder, please"; release_dir=$1 ;;
    esac
    shift
done
[ -n "$release_dir" ] || die "usage: npm/publish.sh [--registry URL] [--tag TAG] [--dry-run] RELEASE_DIR"
[ -f "$release_dir/manifest.json" ] || die "$release_dir has no manifest.json; build a release with cargo xtask dist"
[ -d "$release_dir/npm" ] || die "$release_dir has no npm/ folder; build the release with cargo xtask dist"
command -v npm >/dev/null 2>&1 || die "npm is not installed"
command -v node >/dev/null 2>&1 || die "node is not installed"

# field TGZ KEY: a top-level string of the tarball's package.json.
field() {
    tar -xzOf "$1" package/package.json | node -e '
        let s = ""; process.stdin.on("data", (d) => (s += d));
        process.stdin.on("end", () => process.stdout.write(String(JSON.parse(s)[process.argv[1]] ?? "")));
    ' "$2"
}

# integrity TGZ: npm's sha512 integrity string of the tarball.
integrity() {
    node -e 'const c = require("crypto"), f = require("fs");
        process.stdout.write("sha512-" + c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

# served NAME VERSION: the integrity the registry serves for NAME@VERSION, or nothing.
served() {
    npm view "$1@$2" dist.integrity ${registry:+--registry "$registry"} 2>/dev/null | tail -n 1
}

# publish TGZ: publishes one tarball unless the registry already has it; then waits until the
# registry serves it with the same integrity.
publish() {
    name=$(field "$1" name) || die "cannot read $1"
    version=$(field "$1" version) || die "cannot read $1"
    want=$(integrity "$1") || die "cannot hash $1"
    have=$(served "$name" "$version")
    if [ "$have" = "$want" ]; then
        say "$name@$version is already published"
        return 0
    fi
    [ -z "$have" ] || die "$name@$version is published with other contents ($have); versions cannot be reused, build a new release"
    say "publishing $name@$version"
    if [ "$dry_run" = 1 ]; then
        npm publish "$1" --access public --tag "$tag" --dry-run ${registry:+--registry "$registry"} >/dev/null 2>&1 ||
            die "npm publish --dry-run $1 failed"
        return 0
    fi
    npm publish "$1" --access public --tag "$tag" ${registry:+--registry "$registry"} >/dev/null ||
        die "npm publish $1 failed; nothing more was published"
    tries=0
    while [ "$(served "$name" "$version")" != "$want" ]; do
        tries=$((tries + 1))
        [ "$tries" -le 10 ] || die "the registry does not serve $name@$version with the published contents; nothing more was published"
        sleep 1
    done
}

version=$(node -p 'require(process.argv[1]).version' "$(cd "$release_dir" && pwd)/manifest.json") ||
    die "cannot read $release_dir/manifest.json"
if [ -z "$tag" ]; then
    case $version in *-*) tag=next ;; *) tag=latest ;; esac
fi
wrapper=""
platforms=""
for tgz in "$release_dir"/npm/*.tgz; do
    [ -f "$tgz" ] || die "$release_dir/npm holds no packages"
    case $(field "$tgz" name) in
        *-linux-* | *-darwin-* | *-win32-*) platforms="$platforms $tgz" ;;
        *) [ -z "$wrapper" ] || die "two wrappers in $release_dir/npm"; wrapper=$tgz ;;
    esac
done
[ -n "$wrapper" ] || die "$release_dir/npm has no wrapper package"
[ -n "$platforms" ] || die "$release_dir/npm has no platform packages"
[ "$(field "$wrapper" version)" = "$version" ] || die "the wrapper is not version $version"

for tgz in $platforms; do
    publish "$tgz"
done
publish "$wrapper"
say "published $(field "$wrapper" name)@$version and its platform packages"
