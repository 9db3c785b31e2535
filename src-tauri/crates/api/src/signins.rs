//! The sign-ins started through `/connect`, as `/signin/{id}` reports them. A pending one has a
//! thread waiting for its redirect, which ends at the sign-in's time limit (the outcome is then
//! "timed out") or when the API stops. A finished one is reported once and dropped; one nobody
//! asks about is dropped after `KEEP`. So neither outcomes nor threads pile up however many
//! sign-ins are started.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use oauth_desk_core::signin::Cancel;

use crate::SigninState;

/// How long an outcome nobody has asked for is kept; also how long past its deadline a pending
/// sign-in whose thread never reported (it died) is kept.
pub const KEEP: Duration = Duration::from_secs(10 * 60);

/// At most this many sign-ins wait at once: each holds a thread and a loopback port for up to
/// ten minutes, and a caller with the API key must not be able to take them all.
pub const MAX_PENDING: usize = 16;

struct Entry {
    state: SigninState,
    /// Pending: its deadline. Finished: when it is dropped unread.
    until: Instant,
    cancel: Cancel,
}

#[derive(Default)]
pub struct Signins {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Signins {
    /// Adds a pending sign-in whose redirect may come until `deadline`; its thread stops
    /// waiting when the returned switch is set. None when `MAX_PENDING` already wait.
    pub fn start(&self, id: &str, deadline: Instant, now: Instant) -> Option<Cancel> {
        let cancel = Cancel::default();
        let mut entries = self.lock();
        sweep(&mut entries, now);
        let pending = entries
            .values()
            .filter(|e| matches!(e.state, SigninState::Pending))
            .count();
        if pending >= MAX_PENDING {
            return None;
        }
        entries.insert(
            id.to_owned(),
            Entry {
                state: SigninState::Pending,
                until: deadline,
                cancel: cancel.clone(),
            },
        );
        Some(cancel)
    }

    /// Records the outcome of sign-in `id`, kept for `KEEP` unless it is reported sooner.
    pub fn finish(&self, id: &str, state: SigninState, now: Instant) {
        let mut entries = self.lock();
        sweep(&mut entries, now);
        if let Some(e) = entries.get_mut(id) {
            e.state = state;
            e.until = now + KEEP;
        }
    }

    /// Drops sign-in `id`, which never began: nobody learnt its id.
    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    /// The state of sign-in `id`; a finished one is handed out once and forgotten.
    pub fn report(&self, id: &str, now: Instant) -> Option<SigninState> {
        let mut entries = self.lock();
        sweep(&mut entries, now);
        match entries.get(id)?.state {
            SigninState::Pending => Some(SigninState::Pending),
            _ => entries.remove(id).map(|e| e.state),
        }
    }

    /// Stops every pending sign-in's wait (the API is stopping).
    pub fn cancel_all(&self) {
        for e in self.lock().values() {
            e.cancel.cancel();
        }
    }

    /// How many sign-ins are kept, pending or finished.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic elsewhere while holding it leaves the map as valid as before.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Drops the outcomes kept past their time, and the pending sign-ins long past their deadline
/// (their thread is gone without a word; the flag stops it should it still run).
fn sweep(entries: &mut HashMap<String, Entry>, now: Instant) {
    entries.retain(|_, e| {
        let keep = match e.state {
            SigninState::Pending => now < e.until + KEEP,
            _ => now < e.until,
        };
        if !keep {
            e.cancel.cancel();
        }
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> SigninState {
        SigninState::Failed {
            code: "timed_out",
            message: "no redirect came back".into(),
        }
    }

    #[test]
    fn a_finished_sign_in_is_reported_once() {
        let s = Signins::default();
        let t = Instant::now();
        s.start("a", t + Duration::from_secs(600), t);
        assert!(matches!(s.report("a", t), Some(SigninState::Pending)));
        assert!(
            matches!(s.report("a", t), Some(SigninState::Pending)),
            "pending stays"
        );
        s.finish("a", failed(), t);
        assert!(matches!(s.report("a", t), Some(SigninState::Failed { .. })));
        assert!(s.report("a", t).is_none(), "reported, then dropped");
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn outcomes_nobody_reads_and_dead_pending_ones_are_dropped() {
        let s = Signins::default();
        let t = Instant::now();
        let deadline = t + Duration::from_secs(600);
        s.start("unread", deadline, t);
        let dead = s.start("thread died", deadline, t).unwrap();
        s.finish("unread", failed(), deadline);
        s.start("recent", t + KEEP * 3, deadline + KEEP);
        assert!(
            s.report("unread", deadline + KEEP).is_none(),
            "an outcome unread for KEEP is dropped"
        );
        assert!(
            s.report("thread died", deadline + KEEP).is_none(),
            "a pending sign-in KEEP past its deadline is dropped"
        );
        assert!(dead.is_cancelled(), "and its thread told to stop");
        assert_eq!(s.len(), 1, "only the recent one is left");
    }

    #[test]
    fn an_outcome_for_a_dropped_sign_in_is_ignored_and_stopping_cancels_the_rest() {
        let s = Signins::default();
        let t = Instant::now();
        s.finish("never started", failed(), t);
        assert_eq!(s.len(), 0);
        let a = s.start("a", t + KEEP, t).unwrap();
        let b = s.start("b", t + KEEP, t).unwrap();
        s.cancel_all();
        assert!(a.is_cancelled() && b.is_cancelled());
    }

    #[test]
    fn at_most_max_pending_sign_ins_wait_at_once() {
        let s = Signins::default();
        let t = Instant::now();
        for i in 0..MAX_PENDING {
            assert!(
                s.start(&i.to_string(), t + KEEP, t).is_some(),
                "sign-in {i}"
            );
        }
        assert!(
            s.start("one more", t + KEEP, t).is_none(),
            "each holds a thread and a port: no more than MAX_PENDING"
        );
        s.finish("0", failed(), t);
        assert!(
            s.start("after one finished", t + KEEP, t).is_some(),
            "a finished one makes room"
        );
    }
}
