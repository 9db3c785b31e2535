//! kubectl's exec credential plugin (client.authentication.k8s.io) and a kubeconfig that uses
//! it. kubectl runs `oauth-desk kube-credential NAME` whenever it needs a token and reads an
//! ExecCredential from standard output; an error goes to standard error, which kubectl shows
//! as it is, with exit 3 when the account must sign in again.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use oauth_desk_core::text::visible;
use oauth_desk_core::{time, Error, Result};
use serde_json::{json, Value};

use crate::args::Global;

const V1: &str = "client.authentication.k8s.io/v1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// kubectl caches the credential until its expiry: the token is refreshed first when it has
/// less than this left (as `token get` does), and one from a running agent (whose expiry is
/// not known) is said to expire then.
const MIN_VALID_SECS: i64 = 60;

/// The longest KUBERNETES_EXEC_INFO read: it names the API version and, at most, the cluster.
const MAX_EXEC_INFO: usize = 1024 * 1024;

pub fn credential(global: &Global, name: &str, account: Option<&str>) -> Result<()> {
    let version = asked_version(std::env::var("KUBERNETES_EXEC_INFO").ok().as_deref());
    let got = crate::token_cmd::obtain(global, name, account, MIN_VALID_SECS)?;
    let expiry = got
        .expires_at
        .unwrap_or_else(|| time::now() + MIN_VALID_SECS);
    let out = json!({
        "apiVersion": version,
        "kind": "ExecCredential",
        "status": {
            "token": got.token.expose(),
            "expirationTimestamp": time::to_rfc3339(expiry),
        },
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{out}").map_err(|e| Error::io("answering kubectl", e))
}

/// The version kubectl asks for in KUBERNETES_EXEC_INFO: v1beta1 when it says so (kubectl
/// before 1.22 knows no other), v1 otherwise.
fn asked_version(info: Option<&str>) -> &'static str {
    let asked = info
        .filter(|i| i.len() <= MAX_EXEC_INFO)
        .and_then(|i| serde_json::from_str::<Value>(i).ok())
        .and_then(|v| v["apiVersion"].as_str().map(str::to_owned));
    match asked.as_deref() {
        Some(V1BETA1) => V1BETA1,
        _ => V1,
    }
}

pub fn kubeconfig(
    name: &str,
    server: &str,
    ca: Option<&Path>,
    account: Option<&str>,
) -> Result<()> {
    let server = oauth_desk_core::oauth::check::endpoint(server)
        .map_err(|e| Error::field("server", e))?
        .ok_or_else(|| {
            Error::field(
                "server",
                "is required, such as https://k8s.example.com:6443",
            )
        })?;
    let mut cluster = json!({ "server": server });
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).map_err(|e| {
            Error::field(
                "ca",
                format!("cannot read {}: {e}", visible(&ca.display().to_string())),
            )
        })?;
        if pem.len() > 1024 * 1024
            || !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----")
        {
            return Err(Error::field("ca", "must be a PEM certificate file"));
        }
        cluster["certificate-authority-data"] =
            json!(base64::engine::general_purpose::STANDARD.encode(pem));
    }
    let mut args = vec!["kube-credential".to_owned(), name.to_owned()];
    if let Some(a) = account {
        args.extend(["--account".to_owned(), a.to_owned()]);
    }
    let user = format!("oauth-desk-{name}");
    // JSON is YAML: kubectl reads it, and every name is quoted whatever it holds.
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": name, "cluster": cluster }],
        "users": [{
            "name": user,
            "user": { "exec": {
                // v1beta1: what every kubectl since 1.11 speaks (Debian's 1.20 knows no v1);
                // the plugin answers in the version kubectl asks for.
                "apiVersion": V1BETA1,
                "command": crate::front::path(),
                "args": args,
                "interactiveMode": "Never",
            } },
        }],
        "contexts": [{ "name": name, "context": { "cluster": name, "user": user } }],
        "current-context": name,
    });
    println!("{}", serde_json::to_string_pretty(&config).expect("JSON"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_v1_unless_kubectl_asks_for_v1beta1() {
        assert_eq!(asked_version(None), V1);
        assert_eq!(asked_version(Some("not json")), V1);
        let beta = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{}}"#;
        assert_eq!(asked_version(Some(beta)), V1BETA1);
        let v1 = r#"{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#;
        assert_eq!(asked_version(Some(v1)), V1);
    }
}
