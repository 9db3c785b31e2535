//! When the background refresh tries again after a refresh failed. Not on each of its rounds
//! (every 30 s): an account waits twice as long after each failure in a row, from 30 s up to
//! 30 minutes; and a provider that could not be reached at all waits the same way as a whole,
//! so that a host that is down is asked once a wait, not once an account. A provider that
//! answered (even with an error) is no reason to spare its other accounts: their own grants
//! may be fine.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::error::Error;

/// The wait after the first failure; each further failure in a row doubles it.
pub const FIRST_WAIT: Duration = Duration::from_secs(30);
/// The longest wait between two tries.
pub const LONGEST_WAIT: Duration = Duration::from_secs(30 * 60);

/// The wait before trying again after `failures` failures in a row (at least one).
pub fn wait_after(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_WAIT.saturating_mul(1 << doublings).min(LONGEST_WAIT)
}

/// Failures in a row, and when the next try may be.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    failures: u32,
    until: Instant,
}

impl Waiting {
    fn after(previous: Option<&Waiting>, now: Instant) -> Self {
        let failures = previous.map_or(0, |w| w.failures) + 1;
        Waiting {
            failures,
            until: now + wait_after(failures),
        }
    }
}

type Key = (String, String);

/// The refresher's memory of failures, per account and per provider that could not be reached.
#[derive(Debug, Default)]
pub struct Backoff {
    accounts: HashMap<Key, Waiting>,
    unreachable: HashMap<String, Waiting>,
}

impl Backoff {
    /// Whether `account` at `provider` may be tried at `now`.
    pub fn ready(&self, provider: &str, account: &str, now: Instant) -> bool {
        let waits = |w: Option<&Waiting>| w.is_some_and(|w| now < w.until);
        !waits(self.unreachable.get(provider))
            && !waits(
                self.accounts
                    .get(&(provider.to_owned(), account.to_owned())),
            )
    }

    /// The try at `now` came out as `error` (None: it worked, and the account starts afresh).
    pub fn saw(&mut self, provider: &str, account: &str, error: Option<&Error>, now: Instant) {
        let key = (provider.to_owned(), account.to_owned());
        let Some(error) = error else {
            self.accounts.remove(&key);
            self.unreachable.remove(provider);
            return;
        };
        match error {
            // Not reached, or it said it cannot serve now.
            Error::Network(_) | Error::Unavailable(_) => {
                let next = Waiting::after(self.unreachable.get(provider), now);
                self.unreachable.insert(provider.to_owned(), next);
            }
            // It answered.
            Error::ProviderError(_) | Error::OAuth { .. } | Error::NeedsSignin(_) => {
                self.unreachable.remove(provider);
            }
            // This side's trouble (the refresh lock held elsewhere, the disk): says nothing
            // of the provider.
            _ => {}
        }
        let next = Waiting::after(self.accounts.get(&key), now);
        self.accounts.insert(key, next);
    }

    /// The due accounts in the order to try them: those that have not failed first, then by
    /// fewer failures (an account that fails on its own, say its certificate, must not be the
    /// one that always speaks for its provider), keeping `due`'s order otherwise.
    pub fn order(&self, due: &mut [(String, String)]) {
        due.sort_by_key(|k| self.accounts.get(k).map_or(0, |w| w.failures));
    }

    /// Forgets accounts that are no longer due (refreshed elsewhere, signed out, removed), and
    /// providers none of whose accounts are: the memory stays as large as what is due.
    pub fn keep_only<'a>(&mut self, due: impl IntoIterator<Item = &'a (String, String)>) {
        let due: HashSet<&Key> = due.into_iter().collect();
        self.accounts.retain(|k, _| due.contains(k));
        let providers: HashSet<&str> = due.iter().map(|(p, _)| p.as_str()).collect();
        self.unreachable
            .retain(|p, _| providers.contains(p.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network() -> Error {
        Error::Network("could not reach idp.example".into())
    }

    fn refused() -> Error {
        Error::OAuth {
            error: "invalid_grant".into(),
            message: "the provider refused the refresh token".into(),
        }
    }

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_wait_doubles_from_thirty_seconds_to_half_an_hour() {
        let waits: Vec<u64> = (1..=8).map(|n| wait_after(n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(wait_after(u32::MAX), LONGEST_WAIT);
    }

    #[test]
    fn a_failed_account_waits_and_a_success_starts_it_afresh() {
        let mut b = Backoff::default();
        let t0 = Instant::now();
        assert!(b.ready("p", "a", t0));
        b.saw("p", "a", Some(&refused()), t0);
        assert!(!b.ready("p", "a", t0 + secs(29)));
        assert!(b.ready("p", "a", t0 + secs(30)));
        b.saw("p", "a", Some(&refused()), t0 + secs(30));
        assert!(!b.ready("p", "a", t0 + secs(89)));
        assert!(b.ready("p", "a", t0 + secs(90)));
        // Another account of the same provider, which answered, is not held back.
        assert!(b.ready("p", "other", t0));
        b.saw("p", "a", None, t0 + secs(90));
        assert!(b.ready("p", "a", t0 + secs(90)));
    }

    #[test]
    fn a_provider_that_cannot_be_reached_waits_as_a_whole() {
        let mut b = Backoff::default();
        let t0 = Instant::now();
        b.saw("down", "a", Some(&network()), t0);
        assert!(
            !b.ready("down", "b", t0 + secs(29)),
            "its other accounts wait"
        );
        assert!(b.ready("up", "c", t0), "other providers go on");
        assert!(b.ready("down", "b", t0 + secs(30)));
        b.saw("down", "b", Some(&network()), t0 + secs(30));
        assert!(
            !b.ready("down", "c", t0 + secs(89)),
            "and twice as long again"
        );
        assert!(b.ready("down", "c", t0 + secs(90)));
        // An answer, even a refusal, ends the provider's wait (not the failed account's).
        b.saw("down", "c", Some(&refused()), t0 + secs(90));
        assert!(b.ready("down", "d", t0 + secs(90)));
        assert!(!b.ready("down", "c", t0 + secs(91)));
    }

    #[test]
    fn a_provider_that_says_it_cannot_serve_waits_as_a_whole_and_local_trouble_does_not_count() {
        let mut b = Backoff::default();
        let t0 = Instant::now();
        b.saw(
            "busy",
            "a",
            Some(&Error::Unavailable("HTTP 503".into())),
            t0,
        );
        assert!(!b.ready("busy", "b", t0 + secs(29)));
        // The refresh lock held by another process: the provider is not to blame.
        b.saw(
            "p",
            "a",
            Some(&Error::TimedOut("the refresh lock".into())),
            t0,
        );
        assert!(b.ready("p", "b", t0));
    }

    #[test]
    fn accounts_that_failed_least_are_tried_first() {
        let mut b = Backoff::default();
        let t0 = Instant::now();
        let key = |a: &str| ("p".to_owned(), a.to_owned());
        b.saw("p", "a", Some(&refused()), t0);
        b.saw("p", "a", Some(&refused()), t0);
        b.saw("p", "c", Some(&refused()), t0);
        let mut due = vec![key("a"), key("b"), key("c"), key("d")];
        b.order(&mut due);
        assert_eq!(due, [key("b"), key("d"), key("c"), key("a")]);
    }

    #[test]
    fn what_is_no_longer_due_is_forgotten() {
        let mut b = Backoff::default();
        let t0 = Instant::now();
        b.saw("p", "a", Some(&refused()), t0);
        b.saw("p", "b", Some(&refused()), t0);
        b.saw("down", "x", Some(&network()), t0);
        let due = [("p".to_owned(), "b".to_owned())];
        b.keep_only(&due);
        assert!(b.ready("p", "a", t0));
        assert!(!b.ready("p", "b", t0));
        assert!(b.ready("down", "y", t0));
    }
}
