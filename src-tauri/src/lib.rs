//! The OAuth Desk window: Tauri setup, the app's state and its commands. Everything that
//! matters lives in `oauth-desk-core`; this crate only connects it to the window.

mod asking;
mod autolock;
mod commands;
mod copied;
mod error;
mod login_window;
mod notices;
mod refresher;
mod screen_lock;
mod single_instance;
mod state;
mod tray;
mod tray_host;
mod watch;
mod webkit_env;

use tauri::{Manager, Runtime};

pub use state::AppState;

/// Adds the app's state and commands to a builder; generic over the runtime so that tests can
/// pass `tauri::test::mock_builder()`. `single` answers later launches (see single_instance).
pub fn builder<R: Runtime>(
    builder: tauri::Builder<R>,
    single: Option<std::os::unix::net::UnixListener>,
) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        // The main window comes back at the size and place it was left; login windows don't.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::SIZE
                        | tauri_plugin_window_state::StateFlags::POSITION
                        | tauri_plugin_window_state::StateFlags::MAXIMIZED,
                )
                .with_filter(|label| label == "main")
                .build(),
        )
        .setup(move |app| {
            app.manage(AppState::from_env()?);
            app.manage(asking::Questions::default());
            refresher::start(app.handle().clone());
            autolock::start(app.handle().clone());
            screen_lock::start(app.handle().clone());
            tray::install(app.handle());
            if let Some(listener) = single {
                let handle = app.handle().clone();
                single_instance::serve(listener, move || tray::show_window(&handle));
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::vault::vault_status,
            commands::vault::unlock_vault,
            commands::vault::lock_vault,
            commands::vault::note_activity,
            commands::vault::start_view,
            asking::waiting_questions,
            asking::answer_question,
            commands::providers::list_providers,
            commands::providers::provider_form,
            commands::providers::check_provider,
            commands::providers::add_provider,
            commands::providers::register_provider,
            commands::providers::update_registration,
            commands::providers::deregister_provider,
            commands::providers::update_provider,
            commands::providers::remove_provider,
            commands::providers::discover_provider,
            commands::providers::list_presets,
            commands::providers::apply_preset,
            commands::signin::start_signin,
            commands::signin::open_signin_in_browser,
            commands::signin::cancel_signin,
            commands::signin::start_device_signin,
            commands::signin::signin_client_credentials,
            commands::signin::signin_jwt_bearer,
            commands::providers::service_account_form,
            commands::tokens::query_tokens,
            commands::tokens::refresh_token,
            commands::tokens::revoke_token,
            commands::tokens::exchange_token,
            commands::signin::sign_out,
            commands::signin::cancel_sign_out,
            commands::tokens::token_details,
            commands::tokens::reveal_access_token,
            commands::tokens::copy_access_token,
            commands::providers::copy_public_key,
            commands::tokens::import_token,
            commands::vault::list_tokens,
            commands::vault::list_activity,
            commands::settings::get_settings,
            commands::settings::save_settings,
            commands::settings::set_proxy_password,
            commands::keys::change_vault_key,
            commands::keys::suggest_backup_path,
            commands::keys::backup_vault,
            commands::keys::inspect_backup,
            commands::keys::restore_vault,
            commands::keys::remove_before_restore,
            commands::sharing::export_providers,
            commands::sharing::plan_provider_import,
            commands::sharing::apply_provider_import,
            commands::api::api_status,
            commands::api::start_api,
            commands::api::stop_api,
            commands::api::api_key,
        ])
}

pub fn run() {
    // Before any thread: the browser (opened by the opener plugin) and WebKit's processes
    // inherit this environment, and the window never reads a passphrase from it.
    oauth_desk_core::child_env::forget_passphrases();
    webkit_env::quiet_memory_monitor();
    oauth_desk_core::logging::init_from_env();
    let listener = match AppState::from_env().map(|s| single_instance::claim(&s.vault_path)) {
        Ok(Some(single_instance::Instance::Running)) => {
            eprintln!(
                "OAuth Desk is already open with this vault; brought its window to the front."
            );
            return;
        }
        Ok(Some(single_instance::Instance::First(l))) => Some(l),
        _ => None,
    };
    builder(tauri::Builder::default(), listener)
        .build(tauri::generate_context!())
        .expect("error while building OAuth Desk")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                if let Some(state) = app.try_state::<AppState>() {
                    state.copied.clear(app);
                }
            }
        });
}
