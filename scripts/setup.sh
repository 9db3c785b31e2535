#!/usr/bin/env bash
# Installs what OAuth Desk needs on Debian or Ubuntu, and only what is missing,
# so a second run takes about a second.
#
#   scripts/setup.sh run    build the app and start it
#   scripts/setup.sh check  also the UI's checkers (tsc, prettier: npm, into tools/ui)
#   scripts/setup.sh test   also the test tools: Xvfb, WebDriver, D-Bus, gnome-keyring, the test IdP,
#                           schemathesis (in a venv under ~/.cache/oauth-desk)
#   scripts/setup.sh bench  the test tools, and the peers the benchmarks compare against
#                           (oidc-agent's oidc-token, ApacheBench)
set -euo pipefail

purpose="${1:-run}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31msetup:\033[0m %s\n' "$*" >&2; exit 1; }

# Build: WebKitGTK for the window, OpenSSL for SQLCipher's crypto.
packages=(libwebkit2gtk-4.1-dev libssl-dev build-essential pkg-config file fonts-dejavu-core)
# The tray icon (loaded when the app starts; without it, closing the window quits), and
# the packager, which reads its pkg-config entry to name the dependency.
packages+=(libayatana-appindicator3-dev)
# Running without a display needs a virtual one.
packages+=(xvfb xauth)
if [[ "$purpose" == test || "$purpose" == bench ]]; then
    # Not dbus-x11: with it libdbus starts its own bus under X and gnome-keyring
    # shows an "Unlock Login Keyring" dialog on the test screen.
    packages+=(xdotool webkit2gtk-driver dbus gnome-keyring libsecret-tools imagemagick openssl)
    # A notification service the desktop tests watch (org.freedesktop.Notifications), a tray
    # (XEmbed) whose menu they open, and a StatusNotifier watcher and host (gdbus asks them).
    packages+=(dunst trayer haskell-status-notifier-item-utils haskell-gtk-sni-tray-utils)
    packages+=(libglib2.0-bin)
    # A venv for schemathesis (the OpenAPI test); Debian splits venv out of python3.
    packages+=(python3-venv)
    # The real clients the integration tests drive (git's credential helpers, kubectl's exec
    # plugins), where the machine has none of its own.
    command -v git >/dev/null || packages+=(git)
    command -v kubectl >/dev/null || packages+=(kubernetes-client)
    # docker's credential helpers: the docker CLI where the machine has one, else skopeo, which
    # speaks the same helper protocol without a daemon. curl asks the stand-in servers.
    command -v docker >/dev/null || packages+=(skopeo)
    command -v curl >/dev/null || packages+=(curl)
    # A real sshd for the agent forwarded to another machine (ssh -R).
    [[ -x /usr/sbin/sshd ]] || packages+=(openssh-server)
    # Unpacking the .rpm to check what it holds.
    packages+=(rpm rpm2cpio cpio)
    # The shells whose completion scripts `oauth-desk completions` writes.
    command -v zsh >/dev/null || packages+=(zsh)
    command -v fish >/dev/null || packages+=(fish)
fi
if [[ "$purpose" == bench ]]; then
    packages+=(oidc-agent-cli apache2-utils)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "apt-get not found: install by hand: ${missing[*]}"
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "run as root or install sudo; missing: ${missing[*]}"
        sudo=(sudo)
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    # No recommends: they would pull in dbus-x11 (see above) and a desktop's worth of extras.
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# sshd run as root wants its privilege-separation folder, which only a booted system makes.
if [[ "$purpose" == test && ! -d /run/sshd && -x /usr/sbin/sshd ]]; then
    if [[ $(id -u) -eq 0 ]]; then mkdir -p -m 0755 /run/sshd; fi
fi

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs) and run this again"

if [[ "$purpose" != run ]]; then
    command -v node >/dev/null || die "node not found: install Node.js 20 or newer (the UI's checkers and the test IdP run on it)"
    ui_tools="$root/tools/ui"
    # npm ci only when the lockfile changed since the last install.
    if [[ ! -f "$ui_tools/node_modules/.package-lock.json" || "$ui_tools/package-lock.json" -nt "$ui_tools/node_modules/.package-lock.json" ]]; then
        say "installing the UI's checkers (typescript, prettier, from npm)"
        (cd "$ui_tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
fi

if [[ "$purpose" == test || "$purpose" == bench ]]; then
    cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
    if ! command -v tauri-driver >/dev/null && [[ ! -x "$cargo_bin/tauri-driver" ]]; then
        say "installing tauri-driver (WebDriver for Tauri windows)"
        cargo install tauri-driver --version '^2' --locked --quiet
    fi
    if ! command -v cargo-deny >/dev/null && [[ ! -x "$cargo_bin/cargo-deny" ]]; then
        say "installing cargo-deny (licences, bans and sources of the dependencies)"
        cargo install cargo-deny --version '^0.20' --locked --quiet
    fi
    command -v node >/dev/null || die "node not found: install Node.js 20 or newer (the test IdP runs on it)"
    idp="$root/tests/idp"
    # npm ci only when the lockfile changed since the last install.
    if [[ ! -f "$idp/node_modules/.package-lock.json" || "$idp/package-lock.json" -nt "$idp/node_modules/.package-lock.json" ]]; then
        say "installing the test OpenID provider (oidc-provider, from npm)"
        (cd "$idp" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
    # schemathesis (PyPI) checks the REST API against its OpenAPI document
    # (tests/tests/api_schema.rs, which looks for it here). A venv of its own, outside the clone;
    # the marker names the version, so a new pin installs again.
    schemathesis_version=4.32.5
    venv="${XDG_CACHE_HOME:-$HOME/.cache}/oauth-desk/schemathesis"
    if [[ ! -f "$venv/installed-$schemathesis_version" ]]; then
        say "installing schemathesis $schemathesis_version (from PyPI) in $venv"
        command -v python3 >/dev/null || die "python3 not found: install python3 and python3-venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
        touch "$venv/installed-$schemathesis_version"
    fi
fi
