//! The device flow's polling schedule (RFC 8628 §3.5), kept by this side whatever numbers the
//! provider sends: the code's lifetime and the interval within bounds, five seconds more on
//! each `slow_down`, twice as long after a failed request, and never a poll past the code's
//! expiry. Every sum saturates, so no answer can overflow a clock.

use std::time::{Duration, Instant};

/// RFC 8628 §3.2: the interval when the provider names none. A zero is treated the same: no
/// wait at all between polls is no interval.
pub const DEFAULT_INTERVAL: u64 = 5;
/// The longest a device code is polled for, whatever its `expires_in` says: nobody takes
/// longer to type a code, and it keeps every instant far from the clock's end.
pub const MAX_LIFETIME: u64 = 60 * 60;
/// RFC 8628 §3.5: `slow_down` adds five seconds, for this and every later request.
const SLOW_DOWN: u64 = 5;

#[derive(Debug, Clone)]
pub struct Schedule {
    lifetime: u64,
    interval: u64,
    expires: Instant,
}

impl Schedule {
    /// From the device authorization answer's `expires_in` and `interval`, received at `now`.
    /// Err (what is wrong, for the message) when the code has no lifetime at all.
    pub fn new(expires_in: u64, interval: u64, now: Instant) -> Result<Schedule, String> {
        if expires_in == 0 {
            return Err("an expires_in of 0 seconds (a code that expired already)".into());
        }
        let lifetime = expires_in.min(MAX_LIFETIME);
        let interval = match interval {
            0 => DEFAULT_INTERVAL,
            i => i.min(MAX_LIFETIME),
        };
        Ok(Schedule {
            lifetime,
            interval,
            expires: now
                .checked_add(Duration::from_secs(lifetime))
                .unwrap_or(now),
        })
    }

    /// How long the code is polled for, in seconds (at most `MAX_LIFETIME`).
    pub fn lifetime(&self) -> u64 {
        self.lifetime
    }

    /// The wait between two polls, now.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval)
    }

    /// When polling stops.
    pub fn expires(&self) -> Instant {
        self.expires
    }

    /// The provider answered `slow_down`.
    pub fn slow_down(&mut self) {
        self.interval = self.interval.saturating_add(SLOW_DOWN).min(MAX_LIFETIME);
    }

    /// A poll failed (no answer, or not an OAuth one): RFC 8628 §3.5 asks for a lower polling
    /// frequency, doubling the interval is its example. It never gets shorter again.
    pub fn failed(&mut self) {
        self.interval = self.interval.saturating_mul(2).min(MAX_LIFETIME);
    }

    /// When the next poll may go, after one at `at`: never past the code's expiry.
    pub fn next_poll(&self, at: Instant) -> Instant {
        at.checked_add(self.interval())
            .map_or(self.expires, |t| t.min(self.expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_lifetimes_and_intervals_are_bounded() {
        let now = Instant::now();
        let s = Schedule::new(u64::MAX, u64::MAX, now).unwrap();
        assert_eq!(
            s.lifetime(),
            MAX_LIFETIME,
            "expires_in near 2^64 is cut to an hour"
        );
        assert_eq!(s.expires(), now + Duration::from_secs(MAX_LIFETIME));
        assert_eq!(s.interval(), Duration::from_secs(MAX_LIFETIME));
        assert_eq!(
            s.next_poll(now),
            s.expires(),
            "never a poll past the expiry"
        );
        assert!(Schedule::new(0, 5, now)
            .unwrap_err()
            .contains("expires_in of 0"));
        let s = Schedule::new(600, 0, now).unwrap();
        assert_eq!(
            s.interval(),
            Duration::from_secs(DEFAULT_INTERVAL),
            "0 is no interval"
        );
        let s = Schedule::new(600, 3, now).unwrap();
        assert_eq!(s.lifetime(), 600);
        assert_eq!(s.next_poll(now), now + Duration::from_secs(3));
    }

    #[test]
    fn slow_down_adds_five_seconds_and_failures_double_within_the_bound() {
        let now = Instant::now();
        let mut s = Schedule::new(600, 1, now).unwrap();
        s.slow_down();
        assert_eq!(s.interval(), Duration::from_secs(6));
        s.slow_down();
        assert_eq!(s.interval(), Duration::from_secs(11));
        s.failed();
        assert_eq!(
            s.interval(),
            Duration::from_secs(22),
            "a failure never shortens it"
        );
        for _ in 0..100 {
            s.failed();
            s.slow_down();
        }
        assert_eq!(s.interval(), Duration::from_secs(MAX_LIFETIME));
        let mut s = Schedule::new(u64::MAX, u64::MAX - 1, now).unwrap();
        s.slow_down();
        s.failed();
        assert_eq!(
            s.interval(),
            Duration::from_secs(MAX_LIFETIME),
            "no overflow"
        );
    }
}
