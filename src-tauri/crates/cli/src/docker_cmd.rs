//! docker's credential helper (the docker-credential-helpers protocol) and its set-up. For a
//! registry whose `credHelpers` entry in docker's config.json says `oauth-desk`, docker (and
//! skopeo, buildah, crane...) runs `docker-credential-oauth-desk get` with the registry on
//! standard input and reads `{ServerURL, Username, Secret}`; the secret is a fresh access token
//! of the provider `oauth-desk docker setup` mapped the registry to. The mapping is kept beside
//! the vault (`vault.db.docker.json`: registry, provider, account and user name, no secret), so
//! a running window's agent answers without the vault's passphrase. The protocol's way of saying
//! no is a message on standard output and exit 1; "credentials not found in native keychain"
//! is the one message docker reads as "no credentials here", and gets for registries not mapped.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use oauth_desk_core::local_file;
use oauth_desk_core::oauth::check;
use oauth_desk_core::text::visible;
use oauth_desk_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::args::{DockerCmd, Global};

/// The protocol's "nothing stored for this server", word for word: docker compares it.
const NOT_FOUND: &str = "credentials not found in native keychain";

/// More than any request docker sends (a server URL, or one credential to store).
const MAX_REQUEST: u64 = 64 * 1024;

/// More than any mapping a person makes by hand; a larger file is not ours.
const MAX_MAPPING: usize = 1024 * 1024;

/// docker keeps nothing: every `get` asks, so a token with less than this left is refreshed.
const MIN_VALID_SECS: i64 = 60;

/// The suffix docker's config names: docker runs `docker-credential-` + this.
const HELPER: &str = "oauth-desk";

/// Docker Hub, by the one name mapped for it; docker itself asks for it by its old address.
const HUB: &str = "index.docker.io";
const HUB_SERVER: &str = "https://index.docker.io/v1/";

/// One registry's provider and the account and user name it is answered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Mapped {
    provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    username: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Mapping {
    registries: BTreeMap<String, Mapped>,
}

/// `docker-credential-oauth-desk ACTION`: the answer on standard output, and the exit status
/// the protocol wants (its errors go to standard output too, where docker reads them).
pub fn credential(global: &Global, action: &str) -> ExitCode {
    match answer(global, action) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(out.as_bytes())
                .and_then(|_| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(1),
            }
        }
        Err(said) => {
            println!("{}", crate::output::printable(&said.to_string()));
            ExitCode::from(1)
        }
    }
}

/// The protocol's "nothing stored here", as an error whose message is that exact text.
fn not_found() -> Error {
    Error::NotFound(NOT_FOUND.into())
}

/// What goes on standard output; an error's message is what docker shows.
fn answer(global: &Global, action: &str) -> Result<String> {
    let path = || mapping_path(global);
    match action {
        "get" => {
            let server = read_request()?;
            let host = registry_host(&server).map_err(|_| not_found())?;
            let mapping = load(&path()?)?;
            let m = mapping.registries.get(&host).ok_or_else(not_found)?;
            let got = crate::token_cmd::obtain(
                global,
                &m.provider,
                m.account.as_deref(),
                MIN_VALID_SECS,
            )?;
            Ok(json!({
                "ServerURL": server,
                "Username": m.username,
                "Secret": got.token.expose(),
            })
            .to_string())
        }
        "list" => {
            let mapping = load(&path()?)?;
            let listed: BTreeMap<&String, &String> = mapping
                .registries
                .iter()
                .map(|(host, m)| (host, &m.username))
                .collect();
            Ok(json!(listed).to_string())
        }
        // docker login stores what it was given; the token belongs to the vault, so for a
        // mapped registry there is nothing to keep, and for another there is nowhere to.
        "store" => {
            let request = read_request()?;
            let server = serde_json::from_str::<Value>(&request)
                .ok()
                .and_then(|v| v["ServerURL"].as_str().map(str::to_owned))
                .ok_or_else(|| Error::InvalidInput("docker sent no ServerURL to store".into()))?;
            let host = registry_host(&server)?;
            if load(&path()?)?.registries.contains_key(&host) {
                Ok(String::new())
            } else {
                Err(Error::InvalidInput(format!(
                    "OAuth Desk keeps no typed passwords; to answer {host} with a provider's \
                     token: oauth-desk docker setup NAME --registry {host}"
                )))
            }
        }
        // docker logout: the registry is no longer answered (its provider keeps its tokens).
        "erase" => {
            let server = read_request()?;
            let Ok(host) = registry_host(&server) else {
                return Ok(String::new());
            };
            let path = path()?;
            let mut mapping = load(&path)?;
            if mapping.registries.remove(&host).is_some() {
                save(&path, &mapping)?;
            }
            Ok(String::new())
        }
        "version" => Ok(format!("oauth-desk {}\n", env!("CARGO_PKG_VERSION"))),
        other => Err(Error::InvalidInput(format!(
            "unknown action {}: get, store, erase, list or version",
            visible(other)
        ))),
    }
}

fn read_request() -> Result<String> {
    let mut raw = Vec::new();
    std::io::stdin()
        .take(MAX_REQUEST)
        .read_to_end(&mut raw)
        .map_err(|e| Error::io("reading docker's request", e))?;
    Ok(String::from_utf8_lossy(&raw).trim().to_owned())
}

/// The registry a server URL names, as mapped: `host[:port]` in lower case, without the
/// scheme or path docker sometimes adds (Docker Hub is `https://index.docker.io/v1/`).
fn registry_host(server: &str) -> Result<String> {
    let lower = server.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let host = match rest.split('/').next().unwrap_or_default() {
        "docker.io" | "registry-1.docker.io" => HUB.to_owned(),
        other => other.to_owned(),
    };
    // The host becomes a key of two JSON files and goes into messages: a name, a port.
    if host.is_empty()
        || host.len() > 253 + 6
        || check::plain_text(&host).is_err()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
    {
        return Err(Error::field(
            "registry",
            format!(
                "must be a registry host, such as registry.example.com or localhost:5000, not {}",
                visible(server)
            ),
        ));
    }
    Ok(host)
}

/// The key docker looks a registry up by in `credHelpers`.
fn config_key(host: &str) -> &str {
    if host == HUB {
        HUB_SERVER
    } else {
        host
    }
}

/// Beside the vault, named after it whole: each vault has its own registries.
fn mapping_path(global: &Global) -> Result<PathBuf> {
    let vault = crate::unlock::vault_path(global)?;
    let mut name = vault.file_name().unwrap_or_default().to_owned();
    name.push(".docker.json");
    Ok(vault.with_file_name(name))
}

fn load(path: &Path) -> Result<Mapping> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Mapping::default()),
        Err(e) => return Err(Error::io("reading the registry mapping", e)),
    };
    // It decides which provider's token goes to which registry: only the owner may have
    // written it.
    if meta.uid() != euid() || meta.mode() & 0o022 != 0 || !meta.is_file() {
        return Err(Error::InvalidInput(format!(
            "the registry mapping {} is not a file only you can write; it is not used",
            visible(&path.display().to_string())
        )));
    }
    let bytes = local_file::read_bounded(path, MAX_MAPPING, "the registry mapping")?;
    serde_json::from_slice(bytes.expose()).map_err(|e| {
        Error::InvalidInput(format!(
            "the registry mapping {} is not OAuth Desk's ({e}); move it aside to start afresh",
            visible(&path.display().to_string())
        ))
    })
}

fn save(path: &Path, mapping: &Mapping) -> Result<()> {
    if let Some(dir) = path.parent() {
        // The vault's folder, which no vault may have made yet: the owner's only.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io("creating the vault's folder", e))?;
    }
    let mut text = serde_json::to_vec_pretty(mapping).expect("a mapping serializes");
    text.push(b'\n');
    local_file::write_private(path, &text, "the registry mapping")
}

/// docker's config.json: `$DOCKER_CONFIG/config.json`, or `~/.docker/config.json`.
fn docker_config() -> Result<PathBuf> {
    let dir = match std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".docker"))
            .ok_or_else(|| Error::InvalidInput("neither DOCKER_CONFIG nor HOME is set".into()))?,
    };
    Ok(dir.join("config.json"))
}

/// This process's effective user.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Sets (or, with None, removes) `credHelpers[host]` in docker's config, keeping the rest.
fn set_cred_helper(host: &str, helper: Option<&str>) -> Result<PathBuf> {
    let path = docker_config()?;
    let shown = visible(&path.display().to_string());
    // Written where it really is: a config kept as a link (stow, home-manager) stays one.
    let (path, exists) = match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_symlink() => {
            let target = std::fs::canonicalize(&path).map_err(|e| {
                Error::InvalidInput(format!(
                    "docker's config {shown} is a link to nothing ({e}); it is left as it is"
                ))
            })?;
            (target, true)
        }
        Ok(_) => (path, true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (path, false),
        Err(e) => return Err(Error::io("reading docker's config", e)),
    };
    let mut config = if exists {
        let bytes = local_file::read_bounded(&path, MAX_MAPPING, "docker's config")?;
        serde_json::from_slice::<Value>(bytes.expose())
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "docker's config {} is not a JSON object; it is left as it is",
                    visible(&path.display().to_string())
                ))
            })?
    } else {
        json!({})
    };
    let helpers = config
        .as_object_mut()
        .expect("checked above")
        .entry("credHelpers")
        .or_insert_with(|| json!({}));
    let Some(helpers) = helpers.as_object_mut() else {
        return Err(Error::InvalidInput(
            "credHelpers in docker's config is not an object; it is left as it is".into(),
        ));
    };
    let key = config_key(host);
    match helper {
        Some(h) => {
            // Another helper's registry is not taken over without a word.
            if let Some(other) = helpers.get(key).filter(|v| v.as_str() != Some(h)) {
                return Err(Error::InvalidInput(format!(
                    "{host} already has a credential helper in docker's config ({}); remove \
                     that entry from credHelpers first",
                    visible(&other.to_string())
                )));
            }
            helpers.insert(key.to_owned(), json!(h));
        }
        None => {
            if helpers.get(key).and_then(Value::as_str) == Some(HELPER) {
                helpers.remove(key);
            }
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io("creating docker's config folder", e))?;
    }
    let mut text = serde_json::to_vec_pretty(&config).expect("a JSON value serializes");
    text.push(b'\n');
    local_file::write_private(&path, &text, "docker's config")?;
    Ok(path)
}

pub fn run(global: &Global, cmd: DockerCmd) -> Result<()> {
    let path = mapping_path(global)?;
    match cmd {
        DockerCmd::Setup {
            name,
            registry,
            account,
            username,
        } => {
            let host = registry_host(&registry)?;
            if username.is_empty() || check::plain_text(&username).is_err() {
                return Err(Error::field("username", "must be plain text, not empty"));
            }
            let mut mapping = load(&path)?;
            mapping.registries.insert(
                host.clone(),
                Mapped {
                    provider: name.clone(),
                    account,
                    username,
                },
            );
            // docker's config first: if it cannot be written, nothing is mapped in vain.
            let config = set_cred_helper(&host, Some(HELPER))?;
            save(&path, &mapping)?;
            println!(
                "docker now asks OAuth Desk for {host}: \"credHelpers\": {{\"{}\": \"{HELPER}\"}} in {}",
                config_key(&host),
                visible(&config.display().to_string())
            );
            println!(
                "{host} gets {}'s tokens (docker-credential-{HELPER} must be on the PATH).",
                visible(&name)
            );
            Ok(())
        }
        DockerCmd::Remove { registry } => {
            let host = registry_host(&registry)?;
            let mut mapping = load(&path)?;
            let was = mapping.registries.remove(&host).is_some();
            set_cred_helper(&host, None)?;
            save(&path, &mapping)?;
            if was {
                println!("docker no longer asks OAuth Desk for {host}.");
            } else {
                println!("{host} was not set up; nothing to remove.");
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_url_names_its_registry_host() {
        for (server, host) in [
            ("registry.example.com", "registry.example.com"),
            ("127.0.0.1:5000", "127.0.0.1:5000"),
            ("https://index.docker.io/v1/", "index.docker.io"),
            ("HTTPS://Registry.Example.com/v2/", "registry.example.com"),
            ("http://localhost:5000", "localhost:5000"),
            ("docker.io", HUB),
            ("registry-1.docker.io", HUB),
        ] {
            assert_eq!(registry_host(server).unwrap(), host, "{server}");
        }
        for bad in ["", "https://", "reg istry", "a\"b", "x\ny", "üñí.example"] {
            assert!(registry_host(bad).is_err(), "{bad:?} is refused");
        }
    }
}
