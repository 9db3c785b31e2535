//! Trust-boundary cases (issue 16): numbers.

use crate::common::Case;

pub fn cases() -> Vec<Case> {
    Vec::new()
}
