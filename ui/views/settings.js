import * as api from '../api.js';
import { el, toast } from '../dom.js';

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

  const settings = await api.getSettings();
  const minutes = el('input', { id: 'refresh-window', type: 'number', min: '0', max: '1440', value: String(Math.round(settings.refresh_window_secs / 60)) });
  const error = el('p', { class: 'field-error', role: 'alert' });
  const form = el('form', { class: 'settings-form' },
    el('div', { class: 'field' },
      el('label', { for: 'refresh-window' }, 'Refresh tokens this many minutes before they expire'),
      el('div', { class: 'input-row' }, minutes, el('button', { type: 'submit', class: 'primary' }, 'Save')),
      el('p', { class: 'hint' }, 'While OAuth Desk is open it refreshes such tokens in the background. 0 turns this off.')),
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      await api.saveSettings({ refresh_window_secs: Number(minutes.value) * 60 });
      toast('Settings saved.');
    } catch (e) {
      error.textContent = e.fields?.[0]?.message ?? e.message;
    }
  });
  view.append(el('h2', {}, 'Background refresh'), form);
}
