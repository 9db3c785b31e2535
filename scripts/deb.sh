#!/usr/bin/env bash
# Builds the .deb offline: the window (oauth-desk-app), the `oauth-desk` command beside it on
# the PATH, a .desktop entry and icons, with the Tauri bundler (from npm, prebuilt).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"

if [[ ! -f packaging/node_modules/.package-lock.json || packaging/package-lock.json -nt packaging/node_modules/.package-lock.json ]]; then
    # `npm install`, not `npm ci`: this registry's metadata leaves the other platforms'
    # optional CLI packages out of the lockfile, which `npm ci` refuses; install keeps to the
    # locked versions all the same.
    (cd packaging && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
cargo build --release --locked -p oauth-desk-cli -p oauth-desk
host="$(rustc -vV | sed -n 's/^host: //p')"
mkdir -p src-tauri/binaries
for bin in oauth-desk oauth-desk-cli; do
    cp "$target/release/$bin" "src-tauri/binaries/$bin-$host"
done
# The command rides along as "external binaries" (installed as /usr/bin/oauth-desk, the small
# front, and /usr/bin/oauth-desk-cli, the full command it hands over to). They are named only
# in this build's extra config: in tauri.conf.json they would make every build, a fresh clone's
# debug build included, require the files.
(cd src-tauri && "$root/packaging/node_modules/.bin/tauri" build --bundles deb --ci --config packaging/deb.conf.json)
deb="$(ls -t "$target"/release/bundle/deb/*.deb | head -1)"
# The bundler compresses with gzip; xz (dpkg's own default) makes the package about 45%
# smaller. Repacked with dpkg-deb, same files, same control data, owned by root.
repack="$(mktemp -d)"
trap 'rm -rf "$repack"' EXIT
dpkg-deb -R "$deb" "$repack/root"
dpkg-deb --root-owner-group -Zxz -z9 -b "$repack/root" "$repack/out.deb" >/dev/null
mv "$repack/out.deb" "$deb"
echo "built $deb ($(stat -c %s "$deb") bytes)"
