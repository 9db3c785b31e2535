//! Diagnostics on standard error, off unless asked: `OAUTH_DESK_LOG=debug` (or error, warn,
//! info, trace) when something needs explaining. Events carry names, codes and counts, never a
//! secret; the canary test runs every flow at `trace` and searches what was printed.

/// Installs the stderr logger when `OAUTH_DESK_LOG` names a level; does nothing otherwise, so
/// a plain `token get` pays nothing for it.
pub fn init_from_env() {
    let Some(level) = std::env::var("OAUTH_DESK_LOG")
        .ok()
        .and_then(|v| v.trim().parse::<tracing::Level>().ok())
    else {
        return;
    };
    // Only OAuth Desk's own events: a dependency's trace output (the D-Bus messages of the
    // Secret Service, HTTP internals) is not written with secrets in mind.
    use tracing_subscriber::layer::SubscriberExt;
    let ours = tracing_subscriber::filter::Targets::new()
        .with_target("oauth_desk_core", level)
        .with_target("oauth_desk_cli", level)
        .with_target("oauth_desk_api", level)
        .with_target("oauth_desk_app", level);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .finish()
        .with(ours);
    let _ = tracing::subscriber::set_global_default(subscriber);
}
