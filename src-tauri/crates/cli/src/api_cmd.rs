//! `oauth-desk serve [--port N]` and `oauth-desk api key [--regenerate]`.

use std::io::Write;

use oauth_desk_api::ApiState;
use oauth_desk_core::vault::{settings, Create, SharedVault};
use oauth_desk_core::{Error, Result};

use crate::args::{ApiCmd, Global};
use crate::unlock;

pub fn run(global: &Global, cmd: ApiCmd) -> Result<()> {
    match cmd {
        ApiCmd::Key { regenerate } => {
            let vault = unlock::open(global, Create::IfMissing)?;
            let key = settings::api_key(vault.conn(), regenerate)?;
            println!("{}", key.expose());
            Ok(())
        }
    }
}

pub fn serve(global: &Global, port: u16) -> Result<()> {
    let vault = unlock::open(global, Create::IfMissing)?;
    let key = settings::api_key(vault.conn(), false)?;
    let path = vault.path().to_owned();
    let shared = SharedVault::new(vault);
    // While it runs, `oauth-desk token get` asks it instead of opening the vault.
    if let Err(e) = oauth_desk_core::agent::start(
        &path,
        shared.clone(),
        oauth_desk_core::agent::Serves::KeyringVaults,
        // Nobody to ask: a provider that asks first is refused its tokens here.
        None,
    ) {
        // The API still serves; `token get` opens the vault itself meanwhile.
        eprintln!(
            "oauth-desk: the token agent is off: {}",
            crate::output::printable(&e.to_string())
        );
    }
    let state = ApiState::new(shared, key);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the API's runtime", e))?;
    runtime.block_on(oauth_desk_api::serve(state, port, |addr| {
        // On stdout alone, so that scripts (and the tests) can wait for it.
        println!("listening on http://{addr}");
        let _ = std::io::stdout().flush();
        eprintln!("The key is printed by `oauth-desk api key`. Stop with Ctrl+C.");
    }))
}
