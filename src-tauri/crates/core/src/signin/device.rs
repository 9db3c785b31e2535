//! The device authorization sign-in (RFC 8628): the face shows the code and where to enter it,
//! then the token endpoint is polled until the person approves, refuses, or the code expires.

use super::{Cancel, Grantee, Request, SignedIn};
use crate::error::Result;
use crate::oauth::flow::DeviceFlow;
use crate::time;
use crate::vault::SharedVault;

/// Signs in with a device code: `show` gets the code once the provider gave it, then the
/// polling runs until it ends or `cancel` is set, and the grant is stored. Any failure,
/// `show`'s included, is logged.
pub fn sign_in(
    vault: &SharedVault,
    request: &Request,
    cancel: &Cancel,
    show: impl FnOnce(&DeviceFlow) -> Result<()>,
) -> Result<SignedIn> {
    request.complete(vault, Grantee::Device, |http, p| {
        let flow = DeviceFlow::start(p, &request.scopes, http)?;
        show(&flow)?;
        flow.finish(http, cancel.flag(), time::now)
    })
}
