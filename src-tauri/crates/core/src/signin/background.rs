//! A sign-in run on a thread of its own, for a face that must answer at once (a window's
//! command, an API request) while the sign-in waits minutes for the person.

use std::cell::Cell;
use std::sync::mpsc;

use super::SignedIn;
use crate::error::{Error, Result};

/// Runs `sign_in` on a thread named `name`. What it hands over (its URL, its device code) is
/// returned as soon as it is there; the outcome then goes to `then`, on that thread. A sign-in
/// that fails before handing anything over returns its error here instead, and `then` is not
/// called: the face answers with it, as it would had it run the sign-in itself.
pub fn start<T: Send + 'static>(
    name: &str,
    sign_in: impl FnOnce(&dyn Fn(T)) -> Result<SignedIn> + Send + 'static,
    then: impl FnOnce(Result<SignedIn>) + Send + 'static,
) -> Result<T> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let handed = Cell::new(false);
            let outcome = sign_in(&|t| {
                handed.set(true);
                let _ = tx.send(t);
            });
            if handed.get() {
                then(outcome);
                None
            } else {
                outcome.err()
            }
        })
        .map_err(|e| Error::io("starting the sign-in", e))?;
    match rx.recv() {
        Ok(t) => Ok(t),
        // Joined, so that nothing of a sign-in that never began is left once the face answers.
        Err(_) => match thread.join() {
            Ok(Some(e)) => Err(e),
            Ok(None) | Err(_) => Err(Error::Storage("the sign-in stopped before it began".into())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_handed_over_comes_back_and_the_outcome_goes_to_then() {
        let (done, outcome) = mpsc::channel();
        let url = start(
            "test-signin",
            |hand_over| {
                hand_over("https://idp.example/auth");
                Err(Error::Cancelled("the person closed the window".into()))
            },
            move |o| done.send(o.map(drop)).unwrap(),
        );
        assert_eq!(url.unwrap(), "https://idp.example/auth");
        let outcome = outcome.recv().unwrap();
        assert_eq!(outcome.unwrap_err().code(), "cancelled");
    }

    #[test]
    fn a_sign_in_that_fails_before_handing_over_returns_its_error_and_skips_then() {
        let started: Result<&str> = start(
            "test-signin",
            |_| Err(Error::InvalidInput("the port is taken".into())),
            |_| panic!("then runs only after a hand-over"),
        );
        assert_eq!(started.unwrap_err().code(), "invalid_input");
    }
}
