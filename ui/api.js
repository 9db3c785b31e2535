// The only file that calls into the app. Every command returns a value or throws
// {code, message}; views branch on `code`. The types below are the Rust structs the commands
// return, as serde writes them: `make check` (tsc --checkJs) holds the views to them.
const { invoke } = window.__TAURI__.core;

/** @typedef {{ field: string, message: string }} FieldError */
/** @typedef {{ code: string, message: string, fields?: FieldError[] }} CommandError */
/**
 * The public half of a client's signing key (core oauth/signing_key.rs PublicKey).
 * @typedef {{ alg: string, thumbprint: string, jwk: Record<string, string> }} ClientKey
 */

/**
 * A client certificate as shown (core oauth/client_cert.rs CertView).
 * @typedef {{ subject: string, not_after: string, thumbprint: string, self_signed: boolean }} ClientCert
 */

/**
 * ProviderView (core vault/provider_table.rs): the list's row; no secret, only whether there is one.
 * @typedef {{
 *   id: number, name: string, preset: string | null, issuer: string | null,
 *   authorization_url: string | null, token_url: string | null, refresh_url: string | null,
 *   revocation_url: string | null, userinfo_url: string | null, device_authorization_url: string | null,
 *   introspection_url: string | null, jwks_uri: string | null, par_url: string | null, par: boolean,
 *   registration_url: string | null, registered: boolean, end_session_url: string | null,
 *   client_id: string,
 *   has_client_secret: boolean, client_auth: string, auth_methods: string[], assertion_algs: string[],
 *   assertion_aud_issuer: boolean,
 *   client_key: ClientKey | null, dpop: boolean, dpop_per_account: boolean, dpop_algs: string[],
 *   dpop_key: ClientKey | null,
 *   client_cert: ClientCert | null, mtls_token_url: string | null, mtls_bound_tokens: boolean,
 *   mtls_revocation_url: string | null, mtls_introspection_url: string | null,
 *   mtls_device_authorization_url: string | null, mtls_par_url: string | null, mtls_userinfo_url: string | null,
 *   scopes: string[], extra_params: Record<string, string>, resources: string[], audience: string | null,
 *   discovered: Record<string, string>, endpoint_sources: Record<string, 'discovered' | 'by_hand'>,
 *   redirect_port: number, redirect_path: string, redirect_url: string | null, sign_in_with: string,
 *   color: string | null, iss_required: boolean, ask_first: boolean, accounts: number, created_at: string, updated_at: string,
 * }} ProviderView
 */
/** @typedef {ProviderView & { changed: string[], notice?: string }} Updated */
/** The provider form's fields, every one as text (core oauth/provider.rs ProviderForm / ProviderInput). @typedef {Record<string, string>} ProviderForm */
/**
 * The client key a saved form asks for (core oauth/signing_key.rs KeyInput): a new one, or
 * a key file the app reads. The page never holds a private key.
 * @typedef {{ generate?: string, file?: string }} KeyChoice
 */
/**
 * A certificate file the app reads for tls_client_auth (core oauth/client_cert.rs CertInput).
 * @typedef {{ file: string }} CertChoice
 */
/** A form as sent to be checked or saved: its fields and, maybe, a key choice. @typedef {{ [field: string]: string | KeyChoice | CertChoice }} ProviderSubmission */
/** @typedef {{ key: string, label: string, kind: string, example: string, default: string | null }} PresetParam */
/** @typedef {{ id: string, label: string, params: PresetParam[], notes?: string | null }} Preset */
/**
 * @typedef {{ path: string, key_mode: 'keyring' | 'passphrase', schema_version: number, sqlcipher_version: string,
 *   providers: number, tokens: number, activity: number, before_restore?: string | null }} VaultStatus
 */
/**
 * @typedef {{ state: 'open', status: VaultStatus }
 *   | { state: 'locked', path: string, exists: boolean, code: string, message: string, keyring: boolean }} VaultView
 */
/** @typedef {{ id: number, at: number, action: string, provider: string | null, account: string | null, detail: string | null }} ActivityEntry */
/** @typedef {{ running: boolean, port: number | null }} ApiStatus */
/** @typedef {{ id: number, method: 'window' | 'browser', url: string }} SigninStarted */
/** @typedef {{ id: number, user_code: string, verification_uri: string, expires_in: number }} DeviceStarted */
/**
 * @typedef {{ provider: string, color: string | null, account: string, status: string, expires_at: number | null,
 *   scopes: string[], refreshed_at: number | null, issued_at: number, last_error: string | null, has_refresh_token: boolean,
 *   token_type: string | null, bound: string | null }} TokenRow
 */
/** @typedef {{ total: number, rows: TokenRow[] }} TokenPage */
/** @typedef {{ provider: string, account: string, expires_at: number | null, rotated: boolean, shared: boolean }} RefreshOutcome */
/** @typedef {{ header: unknown, claims: unknown }} Jwt */
/** @typedef {{ kind: string, alg: string, thumbprint: string }} Binding */
/** @typedef {{ id_token: Jwt | null, access_token: Jwt | null, userinfo: unknown, introspection: unknown, bound_to: Binding | null, notes: string[] }} TokenDetails */
/** @typedef {{ schema_version: number, providers: string[], accounts: [string, string][] }} BackupContents */
/** @typedef {{ name: string, action: string, fields: string[], needs_secret: boolean, warning?: string | null }} Planned */
/** @typedef {{ digest: string, providers: Planned[] }} Plan */

/**
 * @template T
 * @param {string} command
 * @param {Record<string, unknown>} [args]
 * @returns {Promise<T>}
 */
async function call(command, args) {
  try {
    return await invoke(command, args);
  } catch (e) {
    throw typeof e === 'object' && e && 'code' in e ? e : { code: 'internal', message: String(e) };
  }
}

/** @type {() => Promise<VaultView>} */
export const vaultStatus = () => call('vault_status');
/** @type {(passphrase: string) => Promise<VaultView>} */
export const unlockVault = (passphrase) => call('unlock_vault', { passphrase });
/** Locks the vault: its key leaves memory until it is unlocked again. @type {() => Promise<VaultView>} */
export const lockVault = () => call('lock_vault');
/** The person used the window: the auto-lock counts from now. */
export const noteActivity = () => call('note_activity');
/** The view the window opens on, when it was started on one. @type {() => Promise<string | null>} */
export const startView = () => call('start_view');
/**
 * A program's request the person is asked about (the agent that asks).
 * @typedef {{ id: number, provider: string, account: string, program: string, pid: number | null, remote: boolean }} Question
 */
/** @type {() => Promise<Question[]>} */
export const waitingQuestions = () => call('waiting_questions');
/** @type {(id: number, answer: 'once' | 'hours' | 'deny') => Promise<void>} */
export const answerQuestion = (id, answer) => call('answer_question', { id, answer });
/** @type {() => Promise<ProviderView[]>} */
export const listProviders = () => call('list_providers');
export const listTokens = () => call('list_tokens');
/** @type {() => Promise<ActivityEntry[]>} */
export const listActivity = () => call('list_activity');
/** @type {(name: string) => Promise<ProviderForm>} */
export const providerForm = (name) => call('provider_form', { name });
/** @type {(input: ProviderSubmission, editing: string | null) => Promise<FieldError[]>} */
export const checkProvider = (input, editing) => call('check_provider', { input, editing });
/** @type {(input: ProviderSubmission) => Promise<Updated>} */
export const addProvider = (input) => call('add_provider', { input });
/** @type {(input: ProviderSubmission, initialToken: string | null) => Promise<ProviderView>} */
export const registerProvider = (input, initialToken) => call('register_provider', { input, initialToken });
/** @type {(name: string) => Promise<ProviderView>} */
export const updateRegistration = (name) => call('update_registration', { name });
/** @type {(name: string) => Promise<number>} */
export const deregisterProvider = (name) => call('deregister_provider', { name });
/** @type {(name: string, input: ProviderSubmission) => Promise<Updated>} */
export const updateProvider = (name, input) => call('update_provider', { name, input });
/** @type {(name: string) => Promise<void>} */
export const copyPublicKey = (name) => call('copy_public_key', { name });
/** @type {(name: string) => Promise<number>} */
export const removeProvider = (name) => call('remove_provider', { name });
/**
 * An endpoint the issuer's OpenID configuration and RFC 8414 metadata name differently.
 * @typedef {{ field: string, values: [string, string], sources: [string, string] }} Disagreement
 */
/** @type {(input: ProviderSubmission) => Promise<{ form: ProviderForm, disagreements: Disagreement[] }>} */
export const discoverProvider = (input) => call('discover_provider', { input });
/** @type {() => Promise<Preset[]>} */
export const listPresets = () => call('list_presets');
/** @type {(id: string, params: Record<string, string>) => Promise<ProviderForm>} */
export const applyPreset = (id, params) => call('apply_preset', { id, params });
/** What one sign-in asks tokens for instead of the provider's own. @typedef {{ resources: string[], audience: string | null }} Target */
/** @type {(name: string, account: string | null, target: Target | null) => Promise<SigninStarted>} */
export const startSignin = (name, account, target) => call('start_signin', { name, account, target });
export const openSigninInBrowser = (id) => call('open_signin_in_browser', { id });
export const cancelSignin = (id) => call('cancel_signin', { id });
/** @type {(name: string, account: string | null, target: Target | null) => Promise<DeviceStarted>} */
export const startDeviceSignin = (name, account, target) => call('start_device_signin', { name, account, target });
export const signinClientCredentials = (name, account, target) =>
  call('signin_client_credentials', { name, account, target });
/** The JWT bearer grant (RFC 7523) for the client itself: a service account's token. */
export const signinJwtBearer = (name, account, target) => call('signin_jwt_bearer', { name, account, target });
/** The form as a Google service-account key file fills it (its key is read again on save). @type {(path: string) => Promise<ProviderForm>} */
export const serviceAccountForm = (path) => call('service_account_form', { path });

// Events from the app: `signin-finished` ({id, provider, signed_in, error}), `tokens-changed`.
export const onEvent = (name, handler) => window.__TAURI__.event.listen(name, (e) => handler(e.payload));
/** @type {(query: Record<string, unknown>) => Promise<TokenPage>} */
export const queryTokens = (query) => call('query_tokens', { query });
/** @type {(provider: string, account: string) => Promise<RefreshOutcome>} */
export const refreshToken = (provider, account) => call('refresh_token', { provider, account });
export const revokeToken = (provider, account) => call('revoke_token', { provider, account });
/**
 * Token exchange (RFC 8693) at provider `name`: the subject's (and actor's) token for one of
 * its own, stored as an account of `name`.
 * @type {(name: string, input: { subject: string | { provider: string, account: string | null }, actor?: string, audience?: string, resource?: string, scopes?: string[], account?: string }) => Promise<{ account: string, expires_at: number | null, scopes: string[] }>}
 */
export const exchangeToken = (name, input) => call('exchange_token', { name, input });
/**
 * Signs an account out (revoked, and the provider's session ended where it can be).
 * @type {(name: string, account: string, forget: boolean) => Promise<{ provider: string, account: string, revoked_at_provider: boolean, session_ended: boolean, forgotten: boolean }>}
 */
export const signOut = (name, account, forget) => call('sign_out', { name, account, forget });
/** Stops waiting for the provider to end its session during a sign-out. */
export const cancelSignOut = () => call('cancel_sign_out');
/** @type {(provider: string, account: string) => Promise<TokenDetails>} */
export const tokenDetails = (provider, account) => call('token_details', { provider, account });
/** @type {(provider: string, account: string) => Promise<string>} */
export const revealAccessToken = (provider, account) => call('reveal_access_token', { provider, account });
/** @type {(provider: string, account: string) => Promise<number>} */
export const copyAccessToken = (provider, account) => call('copy_access_token', { provider, account });
export const importToken = (provider, account, json) => call('import_token', { provider, account, json });
export const getSettings = () => call('get_settings');
export const saveSettings = (settings) => call('save_settings', { settings });
/** @type {() => Promise<ApiStatus>} */
export const apiStatus = () => call('api_status');
/** @type {(port: number) => Promise<ApiStatus>} */
export const startApi = (port) => call('start_api', { port });
/** @type {() => Promise<ApiStatus>} */
export const stopApi = () => call('stop_api');
/** @type {(regenerate: boolean) => Promise<string>} */
export const apiKey = (regenerate) => call('api_key', { regenerate });
export const setProxyPassword = (password) => call('set_proxy_password', { password });
/** @type {(mode: string, passphrase: string | null) => Promise<VaultStatus>} */
export const changeVaultKey = (mode, passphrase) => call('change_vault_key', { mode, passphrase });
/** @type {() => Promise<string>} */
export const suggestBackupPath = () => call('suggest_backup_path');
/** @type {(path: string, passphrase: string) => Promise<BackupContents>} */
export const backupVault = (path, passphrase) => call('backup_vault', { path, passphrase });
/** @type {(path: string, passphrase: string) => Promise<BackupContents>} */
export const inspectBackup = (path, passphrase) => call('inspect_backup', { path, passphrase });
/** @type {(path: string, passphrase: string) => Promise<VaultStatus>} */
export const restoreVault = (path, passphrase) => call('restore_vault', { path, passphrase });
/** @type {() => Promise<VaultStatus>} */
export const removeBeforeRestore = () => call('remove_before_restore');
/** @type {(path: string) => Promise<number>} */
export const exportProviders = (path) => call('export_providers', { path });
/** @type {(path: string) => Promise<Plan>} */
export const planProviderImport = (path) => call('plan_provider_import', { path });
/** @type {(path: string, digest: string, secrets: Record<string, string>) => Promise<[string, string][]>} */
export const applyProviderImport = (path, digest, secrets) => call('apply_provider_import', { path, digest, secrets });
