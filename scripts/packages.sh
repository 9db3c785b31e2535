#!/usr/bin/env bash
# Builds the .deb and the .rpm offline, with the Tauri bundler (from npm, prebuilt): the window
# (oauth-desk-app), the `oauth-desk` command beside it on the PATH with the full command it
# hands over to, docker's helper name for it, a .desktop entry and icons, a manual page for
# every command, and the bash, zsh and fish completions, each in its standard place.
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
for bin in oauth-desk oauth-desk-cli docker-credential-oauth-desk; do
    cp "$target/release/$bin" "src-tauri/binaries/$bin-$host"
done

# The manual and the completion scripts, written by the command itself from its definitions.
extras="$target/release/package-extras"
rm -rf "$extras"
mkdir -p "$extras/man1"
cli="$target/release/oauth-desk-cli"
"$cli" manual "$extras/man1"
gzip -9n "$extras"/man1/*.1
"$cli" completions bash >"$extras/oauth-desk.bash"
"$cli" completions zsh >"$extras/_oauth-desk"
"$cli" completions fish >"$extras/oauth-desk.fish"

# The extras go in through the build's own config, as do the binaries ("external binaries",
# installed in /usr/bin): in tauri.conf.json the binaries would make every build, a fresh
# clone's debug build included, require the files. zsh looks in another folder on each family.
config="$extras/bundle.json"
python3 - "$extras" >"$config" <<'PY'
import json, os, sys
extras = sys.argv[1]
def files(zsh_dir):
    mapped = {
        "/usr/share/bash-completion/completions/oauth-desk": "oauth-desk.bash",
        f"{zsh_dir}/_oauth-desk": "_oauth-desk",
        "/usr/share/fish/vendor_completions.d/oauth-desk.fish": "oauth-desk.fish",
    }
    for page in sorted(os.listdir(os.path.join(extras, "man1"))):
        mapped[f"/usr/share/man/man1/{page}"] = os.path.join("man1", page)
    return {k: os.path.join(extras, v) for k, v in mapped.items()}
print(json.dumps({"bundle": {
    "externalBin": ["binaries/oauth-desk", "binaries/oauth-desk-cli",
                    "binaries/docker-credential-oauth-desk"],
    "linux": {
        "deb": {"files": files("/usr/share/zsh/vendor-completions")},
        "rpm": {
            "files": files("/usr/share/zsh/site-functions"),
            "depends": ["webkit2gtk4.1", "gtk3", "openssl-libs", "libayatana-appindicator-gtk3"],
            "desktopTemplate": "packaging/oauth-desk.desktop",
            "compression": {"type": "xz", "level": 9},
        },
    },
}}, indent=1))
PY
(cd src-tauri && "$root/packaging/node_modules/.bin/tauri" build --bundles deb,rpm --ci --config "$config")

deb="$(ls -t "$target"/release/bundle/deb/*.deb | head -1)"
# The bundler compresses with gzip; xz (dpkg's own default) makes the package about 45%
# smaller. Repacked with dpkg-deb, same files, same control data, owned by root.
repack="$(mktemp -d)"
trap 'rm -rf "$repack"' EXIT
dpkg-deb -R "$deb" "$repack/root"
dpkg-deb --root-owner-group -Zxz -z9 -b "$repack/root" "$repack/out.deb" >/dev/null
mv "$repack/out.deb" "$deb"
rpm="$(ls -t "$target"/release/bundle/rpm/*.rpm | head -1)"
echo "built $deb ($(stat -c %s "$deb") bytes)"
echo "built $rpm ($(stat -c %s "$rpm") bytes)"
