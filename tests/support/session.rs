//! A scratch desktop session for one test: a throwaway HOME and XDG directories, and (when
//! asked) a private D-Bus session bus with gnome-keyring's Secret Service unlocked on it.
//! Nothing touches the real user's keyring or files.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Session {
    pub home: tempfile::TempDir,
    bus: Option<Child>,
    bus_address: Option<String>,
}

impl Session {
    /// A throwaway HOME with no D-Bus at all: the machine without a keyring.
    pub fn without_keyring() -> Session {
        Session {
            home: tempfile::tempdir().expect("temp HOME"),
            bus: None,
            bus_address: None,
        }
    }

    /// A throwaway HOME, a private session bus, and gnome-keyring unlocked on it.
    pub fn with_keyring() -> Session {
        let mut s = Session::without_keyring();
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1", "--nopidfile"])
            .envs(s.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (apt package dbus; `make test` installs it)");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .expect("dbus-daemon prints its address");
        let address = address.trim().to_owned();
        assert!(
            address.starts_with("unix:"),
            "unexpected bus address {address:?}"
        );
        s.bus = Some(bus);
        s.bus_address = Some(address);

        // --unlock reads the login keyring's password on stdin and creates the keyring; the
        // daemon forks and lives as long as the bus.
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets"])
            .envs(s.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "gnome-keyring-daemon runs (apt package gnome-keyring; `make test` installs it)",
            );
        keyring
            .stdin
            .take()
            .unwrap()
            .write_all(b"scratch-login-password")
            .unwrap();
        let status = keyring.wait().unwrap();
        assert!(
            status.success(),
            "gnome-keyring-daemon --unlock failed: {status}"
        );
        s
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The default vault path inside this session.
    pub fn default_vault(&self) -> PathBuf {
        self.home().join("data/oauth-desk/vault.db")
    }

    /// Opens this session's default vault with `passphrase`, as the CLI would (migrating it).
    pub fn open_vault(&self, passphrase: &str) -> oauth_desk_core::vault::Vault {
        use oauth_desk_core::vault::{Create, NoKeyring, Unlock, Vault};
        Vault::open(
            &self.default_vault(),
            Unlock::Passphrase(passphrase.into()),
            &NoKeyring,
            Create::Never,
        )
        .unwrap_or_else(|e| panic!("the vault opens: {e}"))
    }

    /// The environment a program of this session gets.
    pub fn env(&self) -> Vec<(String, String)> {
        let home = self.home().display().to_string();
        let mut env = vec![
            ("HOME".into(), home.clone()),
            ("XDG_DATA_HOME".into(), format!("{home}/data")),
            ("XDG_CONFIG_HOME".into(), format!("{home}/config")),
            ("XDG_CACHE_HOME".into(), format!("{home}/cache")),
            ("XDG_RUNTIME_DIR".into(), format!("{home}/run")),
        ];
        std::fs::create_dir_all(format!("{home}/run")).ok();
        if let Some(addr) = &self.bus_address {
            env.push(("DBUS_SESSION_BUS_ADDRESS".into(), addr.clone()));
        }
        env
    }

    /// Applies this session to a command and removes what would leak the real one in.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env_remove("DBUS_SESSION_BUS_ADDRESS");
        cmd.envs(self.env());
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // gnome-keyring-daemon leaves when its bus goes.
        if let Some(mut bus) = self.bus.take() {
            let _ = bus.kill();
            let _ = bus.wait();
        }
    }
}
