import * as api from '../api.js';
import { el } from '../dom.js';

export const title = 'Settings';

const MODES = {
  keyring: 'OS keyring: a random 256-bit key kept in the Secret Service',
  passphrase: 'Passphrase: the key is derived from your passphrase (Argon2id)',
};

export async function render(view) {
  const v = await api.vaultStatus();
  if (v.state !== 'open') return;
  const s = v.status;
  const facts = [
    ['Vault file', s.path],
    ['Key', MODES[s.key_mode] ?? s.key_mode],
    ['Encryption', `SQLCipher ${s.sqlcipher_version}`],
    ['Schema version', String(s.schema_version)],
    ['Providers', String(s.providers)],
    ['Tokens', String(s.tokens)],
  ];
  view.append(
    el('h2', {}, 'Vault'),
    el('dl', { class: 'facts' }, ...facts.flatMap(([k, val]) => [el('dt', {}, k), el('dd', {}, val)])),
  );
}
