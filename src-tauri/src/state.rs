//! What setup() builds once: the vault path and the vault, opened lazily off the UI thread
//! (opening may wait on the keyring or a slow KDF).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use oauth_desk_core::signin::Cancel;
use oauth_desk_core::vault::{self, KeyMode, SharedVault, Vault};
use oauth_desk_core::{Error, Result};

pub struct AppState {
    pub vault_path: PathBuf,
    pub vault: SharedVault,
    /// Sign-ins in progress, by id: how to cancel them or move them to the browser.
    pub signins: Mutex<HashMap<u64, Signin>>,
    next_signin: AtomicU64,
    /// The sign-out waiting for the provider's return, if one is: its Cancel.
    pub sign_out_cancel: Mutex<Option<Cancel>>,
    /// The local REST API, when Settings started it.
    pub api: Mutex<Option<crate::commands::api::RunningApi>>,
    /// When the person last used the window (Unix seconds): the auto-lock counts from it.
    pub last_active: AtomicI64,
    /// Lock a passphrase vault after this many idle seconds (0: never), from Settings.
    pub auto_lock_secs: AtomicI64,
    /// The auto-lock's thread (it sleeps until it is due): `wake_auto_lock`.
    pub auto_lock_thread: std::sync::OnceLock<std::thread::Thread>,
    /// The auto-lock counts idle time: a passphrase vault is open and a limit is set.
    pub auto_lock_counting: AtomicBool,
    /// Closing the window leaves the app in the tray (Settings), where there is one.
    pub keep_in_tray: AtomicBool,
    /// The vault was locked (by hand, or when idle): the window asks before opening it again,
    /// even where the keyring could open it; and whether the keyring can.
    pub locked: AtomicBool,
    pub locked_keyring: AtomicBool,
    /// The token last put on the clipboard, taken off when the vault locks or the app quits.
    pub copied: crate::copied::Copied,
}

pub struct Signin {
    pub cancel: Cancel,
    pub moved_to_browser: Arc<AtomicBool>,
    pub url: String,
    /// The browser can finish it: its redirect comes to the loopback listener, not to a
    /// custom URL only the login window catches.
    pub in_browser: bool,
}

impl AppState {
    /// The vault path from OAUTH_DESK_VAULT (which `oauth-desk --vault` sets) or the default.
    pub fn from_env() -> Result<AppState> {
        let vault_path = match std::env::var_os("OAUTH_DESK_VAULT").filter(|v| !v.is_empty()) {
            Some(p) => PathBuf::from(p),
            None => vault::default_path()?,
        };
        Ok(AppState {
            vault_path,
            vault: SharedVault::default(),
            signins: Mutex::new(HashMap::new()),
            next_signin: AtomicU64::new(1),
            sign_out_cancel: Mutex::new(None),
            last_active: AtomicI64::new(oauth_desk_core::time::now()),
            auto_lock_secs: AtomicI64::new(15 * 60),
            auto_lock_thread: std::sync::OnceLock::new(),
            auto_lock_counting: AtomicBool::new(false),
            keep_in_tray: AtomicBool::new(true),
            locked: AtomicBool::new(false),
            locked_keyring: AtomicBool::new(false),
            api: Mutex::new(None),
            copied: Default::default(),
        })
    }

    /// Drops the open vault (its key with it) until it is unlocked again; false when it was
    /// not open. The agent and the REST API answer "locked" meanwhile.
    pub fn lock(&self) -> bool {
        // The flags are set while the slot is held: a vault_status in between would open a
        // keyring vault again.
        let mut slot = self.vault.lock();
        let Some(vault) = slot.take() else {
            return false;
        };
        self.locked_keyring
            .store(vault.key_mode() == KeyMode::Keyring, Ordering::SeqCst);
        self.locked.store(true, Ordering::SeqCst);
        drop(slot);
        drop(vault);
        // "Allow for 8 hours" ends with the unlocked time it was given in.
        oauth_desk_core::agent::forget_allowances();
        true
    }

    /// What Settings say about locking and the tray, as the background threads read them; a
    /// test may shorten the auto-lock with OAUTH_DESK_AUTO_LOCK_SECS.
    pub fn apply_settings(&self, s: &vault::settings::Settings) {
        // Test builds only: a release never takes its auto-lock from the environment.
        let secs = std::env::var("OAUTH_DESK_AUTO_LOCK_SECS")
            .ok()
            .filter(|_| cfg!(debug_assertions))
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|s| *s > 0)
            .unwrap_or(s.auto_lock_minutes * 60);
        if self.auto_lock_secs.swap(secs.max(0), Ordering::SeqCst) != secs.max(0) {
            self.wake_auto_lock();
        }
        self.keep_in_tray.store(s.keep_in_tray, Ordering::SeqCst);
    }

    /// The idle time starts again (the vault was opened or unlocked).
    pub fn touch(&self) {
        self.last_active
            .store(oauth_desk_core::time::now(), Ordering::SeqCst);
    }

    /// The person used the window: the idle time starts again, unless it ran out unseen while
    /// the auto-lock was counting (the machine slept through the limit): then the auto-lock is
    /// woken to lock first, and the use does not keep the vault open.
    pub fn note_use(&self) {
        let limit = self.auto_lock_secs.load(Ordering::SeqCst);
        let idle = oauth_desk_core::time::now() - self.last_active.load(Ordering::SeqCst);
        if self.auto_lock_counting.load(Ordering::SeqCst) && limit > 0 && idle >= limit {
            self.wake_auto_lock();
            return;
        }
        self.touch();
    }

    /// Tells the auto-lock to look again: what it watches changed (the vault was opened or
    /// unlocked, its key changed, the limit changed, or a use came past the limit). It sleeps
    /// without end while nothing could lock by idleness, so whatever could change that calls
    /// this.
    pub fn wake_auto_lock(&self) {
        if let Some(t) = self.auto_lock_thread.get() {
            t.unpark();
        }
    }

    pub fn next_signin_id(&self) -> u64 {
        self.next_signin.fetch_add(1, Ordering::SeqCst)
    }

    /// Runs `f` with the open vault on a blocking thread (the UI thread never waits on the disk).
    pub async fn with_vault<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Vault) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.with_vault_mut(move |v| f(v)).await
    }

    /// Like `with_vault`, for what replaces the vault's file (a new key, a restore).
    pub async fn with_vault_mut<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vault) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let vault = self.vault.clone();
        blocking(move || vault.with_mut(f)).await
    }
}

/// Runs `f` on a blocking thread: network and disk work never runs on the UI thread.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| Error::Storage(format!("background task failed: {e}")))?
}
