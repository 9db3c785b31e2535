//! Trust-boundary cases (issue 16): endpoints.

use crate::common::Case;

pub fn cases() -> Vec<Case> {
    Vec::new()
}
