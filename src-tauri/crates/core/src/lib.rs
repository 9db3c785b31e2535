//! OAuth Desk's core: the encrypted vault and the OAuth flows. No GUI here: the desktop
//! app, the CLI and the REST API are thin faces over what this crate offers.

pub mod agent;
pub mod child_env;
pub mod details;
pub mod error;
pub mod exchange;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod import;
pub mod local_file;
pub mod logging;
pub mod oauth;
pub mod provider_sharing;
pub mod providers;
pub mod proxy;
pub mod refresh;
pub mod retry;
pub mod revoke;
pub mod secret;
pub mod signin;
pub mod text;
pub mod time;
pub mod vault;
pub mod wire;

pub use error::{Error, FieldError, Result};
pub use secret::Secret;
