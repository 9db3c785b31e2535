//! What the background refresh tells the person: an account that now needs a sign-in, or whose
//! refresh failed three times in a row, as a notification whose action opens the sign-in. At
//! most one per account an hour; the text names the account and provider, never a token or the
//! provider's own words.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use oauth_desk_core::text::visible;
use oauth_desk_core::Error;
use tauri::{AppHandle, Runtime};

const QUIET: Duration = Duration::from_secs(3600);
const FAILURES: u32 = 3;

#[derive(Default)]
pub struct Watch {
    failures: HashMap<(String, String), u32>,
    told: HashMap<(String, String), Instant>,
}

impl Watch {
    /// One refresh of `provider`/`account` came out as `error` (None: it worked).
    pub fn saw<R: Runtime>(
        &mut self,
        app: &AppHandle<R>,
        provider: &str,
        account: &str,
        error: Option<&Error>,
    ) {
        let key = (provider.to_owned(), account.to_owned());
        let Some(error) = error else {
            self.failures.remove(&key);
            return;
        };
        let failures = self.failures.entry(key.clone()).or_insert(0);
        *failures += 1;
        let who = format!("{} at {}", visible(account), visible(provider));
        let (summary, body) = if error.code() == "needs_signin" {
            (
                format!("{who} needs to sign in again"),
                "The provider refused to refresh its token. Sign in to go on.".to_owned(),
            )
        } else if *failures == FAILURES {
            (
                format!("{who}: refreshing failed {FAILURES} times"),
                "OAuth Desk could not refresh its token; it keeps trying. Sign in if it does not recover.".to_owned(),
            )
        } else {
            return;
        };
        if self.told.get(&key).is_some_and(|at| at.elapsed() < QUIET) {
            return;
        }
        self.told.insert(key, Instant::now());
        crate::notices::offer_signin(app, &summary, &body, provider);
    }
}
