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
