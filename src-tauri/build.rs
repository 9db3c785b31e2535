fn main() {
    // Every app command is declared, so the ACL knows them and refuses them to any window
    // without a capability (the login window), whatever Tauri version would otherwise allow.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "vault_status",
            "unlock_vault",
            "list_providers",
            "provider_form",
            "check_provider",
            "add_provider",
            "update_provider",
            "remove_provider",
            "discover_provider",
            "list_presets",
            "apply_preset",
            "start_signin",
            "open_signin_in_browser",
            "cancel_signin",
            "start_device_signin",
            "signin_client_credentials",
            "query_tokens",
            "refresh_token",
            "revoke_token",
            "token_details",
            "reveal_access_token",
            "copy_access_token",
            "import_token",
            "list_tokens",
            "list_activity",
            "get_settings",
            "save_settings",
            "api_status",
            "start_api",
            "stop_api",
            "api_key",
        ]),
    ))
    .expect("failed to run tauri-build");
}
