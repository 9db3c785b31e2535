//! Trust-boundary cases (issue 16): processes.

use crate::common::Case;

pub fn cases() -> Vec<Case> {
    Vec::new()
}
