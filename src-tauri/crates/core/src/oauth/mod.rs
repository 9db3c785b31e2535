//! OAuth: the provider model and its validation, discovery, presets, and the flows (the
//! authorization code with its loopback redirect, device authorization, client credentials).

pub mod assertion;
pub mod callback;
pub mod check;
pub mod client_auth;
pub mod client_cert;
pub mod discovery;
pub mod dpop;
pub mod flow;
pub mod input_schema;
pub mod jwk;
pub mod loopback;
pub mod par;
pub mod polling;
pub mod presets;
pub mod provider;
pub mod provider_schema;
pub mod registration;
pub mod service_account;
pub mod signing_key;
