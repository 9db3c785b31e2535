// The only file that calls into the app. Every command returns a value or throws
// {code, message}; views branch on `code`.
const { invoke } = window.__TAURI__.core;

async function call(command, args) {
  try {
    return await invoke(command, args);
  } catch (e) {
    throw typeof e === 'object' && e && 'code' in e ? e : { code: 'internal', message: String(e) };
  }
}

export const vaultStatus = () => call('vault_status');
export const unlockVault = (passphrase) => call('unlock_vault', { passphrase });
export const listProviders = () => call('list_providers');
export const listTokens = () => call('list_tokens');
export const listActivity = () => call('list_activity');
export const providerForm = (name) => call('provider_form', { name });
export const checkProvider = (input, editing) => call('check_provider', { input, editing });
export const addProvider = (input) => call('add_provider', { input });
export const updateProvider = (name, input) => call('update_provider', { name, input });
export const removeProvider = (name) => call('remove_provider', { name });
export const discoverProvider = (input) => call('discover_provider', { input });
export const listPresets = () => call('list_presets');
export const applyPreset = (id, params) => call('apply_preset', { id, params });
export const startSignin = (name, account) => call('start_signin', { name, account });
export const openSigninInBrowser = (id) => call('open_signin_in_browser', { id });
export const cancelSignin = (id) => call('cancel_signin', { id });
export const startDeviceSignin = (name, account) => call('start_device_signin', { name, account });
export const signinClientCredentials = (name, account) => call('signin_client_credentials', { name, account });

// Events from the app: `signin-finished` ({id, provider, signed_in, error}), `tokens-changed`.
export const onEvent = (name, handler) => window.__TAURI__.event.listen(name, (e) => handler(e.payload));
export const queryTokens = (query) => call('query_tokens', { query });
export const refreshToken = (provider, account) => call('refresh_token', { provider, account });
export const revokeToken = (provider, account) => call('revoke_token', { provider, account });
export const tokenDetails = (provider, account) => call('token_details', { provider, account });
export const revealAccessToken = (provider, account) => call('reveal_access_token', { provider, account });
export const copyAccessToken = (provider, account) => call('copy_access_token', { provider, account });
export const importToken = (provider, account, json) => call('import_token', { provider, account, json });
export const getSettings = () => call('get_settings');
export const saveSettings = (settings) => call('save_settings', { settings });
export const apiStatus = () => call('api_status');
export const startApi = (port) => call('start_api', { port });
export const stopApi = () => call('stop_api');
export const apiKey = (regenerate) => call('api_key', { regenerate });
export const setProxyPassword = (password) => call('set_proxy_password', { password });
export const changeVaultKey = (mode, passphrase) => call('change_vault_key', { mode, passphrase });
export const suggestBackupPath = () => call('suggest_backup_path');
export const backupVault = (path, passphrase) => call('backup_vault', { path, passphrase });
export const inspectBackup = (path, passphrase) => call('inspect_backup', { path, passphrase });
export const restoreVault = (path, passphrase) => call('restore_vault', { path, passphrase });
export const removeBeforeRestore = () => call('remove_before_restore');
export const exportProviders = (path) => call('export_providers', { path });
export const planProviderImport = (path) => call('plan_provider_import', { path });
export const applyProviderImport = (path, digest, secrets) => call('apply_provider_import', { path, digest, secrets });
