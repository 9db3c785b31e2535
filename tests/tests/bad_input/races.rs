//! Trust-boundary cases (issue 16): races.

use crate::common::Case;

pub fn cases() -> Vec<Case> {
    Vec::new()
}
