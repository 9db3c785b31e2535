//! The harness OAuth Desk's end-to-end tests share: the real binaries, a real OpenID provider
//! (`tests/idp`), a scratch D-Bus session with an unlocked gnome-keyring, Xvfb + tauri-driver
//! for the window, and a headless user who plays the person's part of a sign-in.
//!
//! Every piece starts on demand, on loopback or a private display, and stops when dropped.

pub mod bins;
pub mod canned;
pub mod cli;
pub mod desktop;
pub mod idp;
pub mod jwt;
pub mod notices;
pub mod other_user;
pub mod pki;
pub mod proxy;
pub mod session;
pub mod signin;
pub mod sshd;
pub mod stand_in;
pub mod user;

use std::path::PathBuf;

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_owned()
}

/// Where tests put what a person should look at (screenshots): `<target>/test-artifacts`.
pub fn artifacts_dir() -> PathBuf {
    let dir = bins::target_dir().join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create the artifacts directory");
    dir
}

/// A free TCP port on 127.0.0.1 (free now; the caller binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An HTTP client for the tests' own requests (the provider's test routes, the REST API).
pub fn http() -> reqwest::blocking::Client {
    http_builder().build().expect("an HTTP client")
}

/// A builder for one: reqwest is built with rustls and leaves the cryptography to the
/// application, which OAuth Desk's core chooses (ring) before any client is made.
pub fn http_builder() -> reqwest::blocking::ClientBuilder {
    oauth_desk_core::http::install_tls();
    reqwest::blocking::Client::builder()
}
