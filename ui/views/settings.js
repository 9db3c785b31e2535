import * as api from '../api.js';
import { confirmDialog, el, toast } from '../dom.js';

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
  view.append(el('h2', {}, 'Local REST API'), await apiSection());
}

async function apiSection() {
  const box = el('div', { class: 'facts-box' });
  const draw = async () => {
    const st = await api.apiStatus();
    const status = el('p', { role: 'status', id: 'api-status' },
      st.running ? `Listening on http://127.0.0.1:${st.port}` : 'Off. Scripts can also run `oauth-desk serve`.');
    const port = el('input', { id: 'api-port', type: 'number', min: '0', max: '65535', value: String(st.port ?? 8765) });
    const toggle = el('button', { type: 'button', class: st.running ? 'secondary' : 'primary' }, st.running ? 'Stop API' : 'Start API');
    toggle.addEventListener('click', async () => {
      try {
        if (st.running) await api.stopApi(); else await api.startApi(Number(port.value));
      } catch (e) { toast(e.message, 'error'); }
      await draw();
    });
    const key = el('code', { class: 'secret', id: 'api-key-value' }, '••••••••••••••••');
    const reveal = el('button', { type: 'button', class: 'secondary' }, 'Show key');
    reveal.addEventListener('click', async () => {
      try { key.textContent = await api.apiKey(false); } catch (e) { toast(e.message, 'error'); }
    });
    const regenerate = el('button', { type: 'button', class: 'secondary danger-text' }, 'Regenerate key');
    regenerate.addEventListener('click', async () => {
      const yes = await confirmDialog({ title: 'Regenerate the API key?', text: 'Every script using the current key will get 401 until it is given the new one.', confirm: 'Regenerate' });
      if (!yes) return;
      try { key.textContent = await api.apiKey(true); toast('A new API key is in use.'); } catch (e) { toast(e.message, 'error'); }
    });
    box.replaceChildren(status,
      el('div', { class: 'field' }, el('label', { for: 'api-port' }, 'Port'), el('div', { class: 'input-row' }, port, toggle)),
      el('div', { class: 'field' }, el('label', {}, 'Key (send as Authorization: Bearer <key>)'), el('div', { class: 'input-row' }, key, reveal, regenerate)));
  };
  await draw();
  return box;
}
