//! OAuth: the provider model and its validation, discovery, presets (and, later, the flows).

pub mod check;
pub mod discovery;
pub mod presets;
pub mod provider;
