import * as api from '../api.js';
import { confirmDialog, el, field, toast, visible } from '../dom.js';

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
    keySection(s.key_mode, () => {
      view.replaceChildren();
      render(view);
    }),
  );
  const settings = await api.getSettings();
  view.append(el('h2', {}, 'Preferences'), preferencesForm(settings));
  view.append(
    el('h2', {}, 'Backup and restore'),
    await backupSection(s, () => {
      view.replaceChildren();
      render(view);
    }),
  );
  view.append(el('h2', {}, 'Local REST API'), await apiSection());
}

function showFieldErrors(form, e) {
  form.querySelectorAll('.field-error').forEach((p) => {
    p.textContent = '';
  });
  const general = form.querySelector('.form-error');
  if (general) general.textContent = '';
  for (const f of e.fields ?? []) {
    const slot = form.querySelector(`[data-field="${f.field}"] .field-error`);
    if (slot) slot.textContent = f.message;
    else if (general) general.textContent = `${f.field}: ${f.message}`;
  }
  if (!e.fields?.length && general) general.textContent = e.message;
}

const count = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

// An error about a file (no field named): shown beside the file's path.
const besidePath = (e) => (e.fields?.length ? e : { fields: [{ field: 'path', message: e.message }] });

// Runs a long task with the button disabled and an indeterminate progress bar beside it.
async function busy(button, status, text, task) {
  button.disabled = true;
  status.replaceChildren(el('div', { class: 'progress', role: 'status' }, el('progress', {}), el('span', {}, text)));
  try {
    return await task();
  } finally {
    button.disabled = false;
    status.replaceChildren();
  }
}

function passwordInput(id, autocomplete = 'new-password') {
  return el('input', { id, type: 'password', autocomplete });
}

function keySection(mode, redraw) {
  const box = el('div', { class: 'facts-box' });
  const status = el('div');
  const error = el('p', { class: 'form-error field-error', role: 'alert' });
  const pass = passwordInput('new-passphrase');
  const again = passwordInput('new-passphrase-again');
  const change = el(
    'button',
    { type: 'submit', class: 'primary' },
    mode === 'keyring' ? 'Use this passphrase' : 'Change passphrase',
  );
  const form = el(
    'form',
    { class: 'settings-form' },
    field({
      label: 'New passphrase',
      control: pass,
      hint: 'At least 8 characters. The vault is re-encrypted under it; the old key stops working.',
      name: 'passphrase',
      alert: true,
    }),
    field({ label: 'Repeat the new passphrase', control: again, name: 'new-passphrase-again', alert: true }),
    el('div', { class: 'actions' }, change),
    error,
    status,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    if (pass.value !== again.value) {
      showFieldErrors(form, { message: 'The two passphrases differ.' });
      return;
    }
    try {
      await busy(change, status, 'Re-encrypting the vault…', () => api.changeVaultKey('passphrase', pass.value));
      pass.value = '';
      again.value = '';
      toast('The vault now opens with the new passphrase only.');
      redraw();
    } catch (e) {
      showFieldErrors(form, e);
    }
  });
  const toKeyring = el(
    'button',
    { type: 'button', class: 'secondary' },
    mode === 'keyring' ? 'Rotate key' : 'Use the OS keyring',
  );
  toKeyring.addEventListener('click', async () => {
    const rotating = mode === 'keyring';
    const yes = await confirmDialog({
      title: rotating ? 'Rotate the vault key?' : 'Keep the key in the OS keyring?',
      text: rotating
        ? 'The vault is re-encrypted under a fresh random key and the old key is removed from the keyring. Close other OAuth Desk processes first.'
        : 'The vault is re-encrypted under a random key kept in the OS keyring; the passphrase stops working. Close other OAuth Desk processes first.',
      confirm: rotating ? 'Rotate' : 'Use the keyring',
    });
    if (!yes) return;
    try {
      await busy(toKeyring, status, 'Re-encrypting the vault…', () => api.changeVaultKey('keyring', null));
      toast(rotating ? 'The vault is encrypted under a fresh key.' : 'The vault key is now in the OS keyring.');
      redraw();
    } catch (e) {
      error.textContent = e.message;
    }
  });
  box.append(
    el(
      'p',
      { class: 'muted' },
      'Every change of key is atomic: if anything stops it half-way, the old key still opens the vault.',
    ),
    el('div', { class: 'actions' }, toKeyring),
    el('h3', {}, mode === 'keyring' ? 'Use a passphrase instead' : 'Change the passphrase'),
    form,
  );
  return box;
}

function preferencesForm(settings) {
  const minutes = el('input', {
    id: 'refresh-window',
    type: 'number',
    min: '0',
    max: '1440',
    value: String(Math.round(settings.refresh_window_secs / 60)),
  });
  const clipboard = el('input', {
    id: 'clipboard-clear',
    type: 'number',
    min: '0',
    max: '3600',
    value: String(settings.clipboard_clear_secs),
  });
  const autoLock = el('input', {
    id: 'auto-lock',
    type: 'number',
    min: '0',
    max: '1440',
    value: String(settings.auto_lock_minutes),
  });
  const tray = el(
    'select',
    { id: 'keep-in-tray' },
    el('option', { value: 'true' }, 'Keep running in the tray'),
    el('option', { value: 'false' }, 'Quit'),
  );
  tray.value = String(settings.keep_in_tray);
  const mode = el(
    'select',
    { id: 'proxy-mode' },
    ...[
      ['environment', 'From the environment (HTTPS_PROXY, NO_PROXY)'],
      ['off', 'No proxy'],
      ['manual', 'This proxy'],
    ].map(([value, text]) => {
      const o = el('option', { value }, text);
      if (value === settings.proxy_mode) o.selected = true;
      return o;
    }),
  );
  const url = el('input', {
    id: 'proxy-url',
    type: 'text',
    placeholder: 'http://proxy.example:3128',
    value: settings.proxy_url,
    spellcheck: 'false',
  });
  const user = el('input', { id: 'proxy-username', type: 'text', value: settings.proxy_username, autocomplete: 'off' });
  const password = el('input', {
    id: 'proxy-password',
    type: 'password',
    autocomplete: 'new-password',
    placeholder: settings.has_proxy_password ? 'saved (type to replace)' : '',
  });
  const clearPassword = el('button', { type: 'button', class: 'secondary' }, 'Forget proxy password');
  clearPassword.hidden = !settings.has_proxy_password;
  const manual = el(
    'div',
    { class: 'proxy-manual' },
    field({ label: 'Proxy URL', control: url, name: 'proxy_url', alert: true }),
    field({ label: 'Proxy user name', control: user, name: 'proxy_username', alert: true }),
    field({
      label: 'Proxy password',
      control: password,
      row: el('div', { class: 'input-row' }, password, clearPassword),
      hint: 'Kept in the encrypted vault.',
      name: 'proxy_password',
      alert: true,
    }),
  );
  const showManual = () => {
    manual.hidden = mode.value !== 'manual';
  };
  mode.addEventListener('change', showManual);
  showManual();
  const form = el(
    'form',
    { class: 'settings-form' },
    field({
      label: 'Refresh tokens this many minutes before they expire',
      control: minutes,
      hint: 'While OAuth Desk is open it refreshes such tokens in the background. 0 turns this off.',
      name: 'refresh_window_secs',
      alert: true,
    }),
    field({
      label: 'Clear a copied token from the clipboard after (seconds)',
      control: clipboard,
      hint: '0 leaves it there until the vault locks or OAuth Desk quits.',
      name: 'clipboard_clear_secs',
      alert: true,
    }),
    field({
      label: 'Lock a passphrase vault after this many idle minutes',
      control: autoLock,
      hint: 'Without use of the window; the key is then dropped from memory until the passphrase is typed again. 0 turns this off.',
      name: 'auto_lock_minutes',
      alert: true,
    }),
    field({
      label: 'When the window is closed',
      control: tray,
      hint: 'In the tray, the token agent, the background refresh and a running REST API go on. Where the desktop shows no tray, closing quits.',
      name: 'keep_in_tray',
      alert: true,
    }),
    field({
      label: 'HTTP proxy for provider calls',
      control: mode,
      hint: 'Addresses on this machine (127.0.0.1, localhost) never go through a proxy.',
      name: 'proxy_mode',
      alert: true,
    }),
    manual,
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary' }, 'Save')),
    el('p', { class: 'form-error field-error', role: 'alert' }),
  );
  clearPassword.addEventListener('click', async () => {
    try {
      await api.setProxyPassword('');
      clearPassword.hidden = true;
      password.placeholder = '';
      toast('Proxy password forgotten.');
    } catch (e) {
      toast(e.message, 'error');
    }
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const next = {
      ...settings,
      refresh_window_secs: Number(minutes.value) * 60,
      clipboard_clear_secs: Number(clipboard.value),
      auto_lock_minutes: Number(autoLock.value),
      keep_in_tray: tray.value === 'true',
      proxy_mode: mode.value,
      proxy_url: url.value,
      proxy_username: user.value,
    };
    delete next.has_proxy_password;
    try {
      await api.saveSettings(next);
      if (password.value) {
        await api.setProxyPassword(password.value);
        password.value = '';
        password.placeholder = 'saved (type to replace)';
        clearPassword.hidden = false;
      }
      Object.assign(settings, next);
      showFieldErrors(form, {});
      toast('Settings saved.');
    } catch (e) {
      showFieldErrors(form, e);
    }
  });
  return form;
}

async function backupSection(vault, redraw) {
  const box = el('div', { class: 'facts-box' });
  // Backup.
  const path = el('input', {
    id: 'backup-path',
    type: 'text',
    spellcheck: 'false',
    value: await api.suggestBackupPath(),
  });
  const pass = passwordInput('backup-passphrase');
  const again = passwordInput('backup-passphrase-again');
  const write = el('button', { type: 'submit', class: 'primary' }, 'Write backup');
  const status = el('div');
  const backupForm = el(
    'form',
    { class: 'settings-form' },
    field({ label: 'Backup file', control: path, name: 'path', alert: true }),
    field({
      label: 'Backup passphrase',
      control: pass,
      hint: 'The backup is encrypted under this passphrase, never the keyring key, so it opens on another machine.',
      name: 'passphrase',
      alert: true,
    }),
    field({ label: 'Repeat the backup passphrase', control: again, name: 'backup-passphrase-again', alert: true }),
    el('div', { class: 'actions' }, write),
    el('p', { class: 'form-error field-error', role: 'alert' }),
    status,
  );
  backupForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (pass.value !== again.value) {
      showFieldErrors(backupForm, { message: 'The two passphrases differ.' });
      return;
    }
    try {
      const c = await busy(write, status, 'Writing the backup…', () => api.backupVault(path.value, pass.value));
      pass.value = '';
      again.value = '';
      showFieldErrors(backupForm, {});
      toast(`Backup written: ${count(c.providers.length, 'provider')}, ${count(c.accounts.length, 'token')}.`);
    } catch (e) {
      showFieldErrors(
        backupForm,
        e.fields?.length || (e.code !== 'invalid_input' && e.code !== 'io') ? e : besidePath(e),
      );
    }
  });

  // Restore: look inside first, then confirm.
  const from = el('input', { id: 'restore-path', type: 'text', spellcheck: 'false' });
  const fromPass = passwordInput('restore-passphrase', 'off');
  const look = el('button', { type: 'submit', class: 'secondary' }, 'Look inside');
  const contents = el('div', { id: 'restore-contents' });
  const restoreStatus = el('div');
  const restoreForm = el(
    'form',
    { class: 'settings-form' },
    field({ label: 'Backup to restore', control: from, name: 'path', alert: true }),
    field({ label: 'Its passphrase', control: fromPass, name: 'restore-passphrase', alert: true }),
    el('div', { class: 'actions' }, look),
    el('p', { class: 'form-error field-error', role: 'alert' }),
    restoreStatus,
    contents,
  );
  restoreForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    contents.replaceChildren();
    try {
      const c = await busy(look, restoreStatus, 'Opening the backup…', () =>
        api.inspectBackup(from.value, fromPass.value),
      );
      showFieldErrors(restoreForm, {});
      const items = c.providers.map((p) => {
        const accounts = c.accounts.filter(([prov]) => prov === p).map(([, a]) => visible(a));
        return el('li', {}, accounts.length ? `${visible(p)}: ${accounts.join(', ')}` : visible(p));
      });
      const restore = el('button', { type: 'button', class: 'danger' }, 'Restore this backup');
      restore.addEventListener('click', async () => {
        const v = await api.vaultStatus();
        // Locked since the backup was opened (another window restored or moved it): say so
        // rather than count the providers of a vault that is not open.
        if (v.state !== 'open') {
          toast(v.message, 'error');
          return;
        }
        const st = v.status;
        const yes = await confirmDialog({
          title: 'Replace the vault with this backup?',
          text: `The vault's ${count(st.providers, 'provider')} and ${count(st.tokens, 'token')} are replaced by the backup's ${count(c.providers.length, 'provider')} and ${count(c.accounts.length, 'token')}. The current vault is kept beside it (vault.db.before-restore).`,
          confirm: 'Replace',
        });
        if (!yes) return;
        try {
          const after = await busy(restore, restoreStatus, 'Restoring…', () =>
            api.restoreVault(from.value, fromPass.value),
          );
          fromPass.value = '';
          toast(
            after.before_restore
              ? `Restored from the backup. The vault it replaced is kept at ${after.before_restore}.`
              : 'Restored from the backup.',
          );
          redraw();
        } catch (e) {
          showFieldErrors(restoreForm, besidePath(e));
        }
      });
      contents.append(
        el(
          'p',
          {},
          `This backup holds ${count(c.providers.length, 'provider')} and ${count(c.accounts.length, 'token')}:`,
        ),
        el('ul', {}, ...items),
        el('div', { class: 'actions' }, restore),
      );
    } catch (e) {
      showFieldErrors(restoreForm, besidePath(e));
    }
  });
  box.append(el('h3', {}, 'Back up'), backupForm, el('h3', {}, 'Restore'), restoreForm);
  if (vault.before_restore) box.append(replacedVault(vault.before_restore, redraw));
  return box;
}

// The copy of the vault a restore replaced: it still holds the old providers and tokens, so
// the user removes it once the restored vault is as they want it.
function replacedVault(path, redraw) {
  const remove = el('button', { type: 'button', class: 'danger' }, 'Remove the replaced vault');
  const error = el('p', { class: 'form-error field-error', role: 'alert' });
  remove.addEventListener('click', async () => {
    const yes = await confirmDialog({
      title: 'Remove the replaced vault?',
      text: `${path} holds the providers and tokens the vault had before the restore. Removing it cannot be undone.`,
      confirm: 'Remove',
    });
    if (!yes) return;
    try {
      await api.removeBeforeRestore();
      toast('The replaced vault was removed.');
      redraw();
    } catch (e) {
      error.textContent = e.message;
    }
  });
  return el(
    'div',
    { class: 'settings-form', id: 'before-restore' },
    el(
      'p',
      {},
      'The vault the last restore replaced is kept at ',
      el('code', {}, path),
      '. It still holds the providers and tokens the vault had before.',
    ),
    el('div', { class: 'actions' }, remove),
    error,
  );
}

async function apiSection() {
  const box = el('div', { class: 'facts-box' });
  const draw = async () => {
    const st = await api.apiStatus();
    const status = el(
      'p',
      { role: 'status', id: 'api-status' },
      st.running ? `Listening on http://127.0.0.1:${st.port}` : 'Off. Scripts can also run `oauth-desk serve`.',
    );
    const port = el('input', {
      id: 'api-port',
      type: 'number',
      min: '0',
      max: '65535',
      value: String(st.port ?? 8765),
    });
    const toggle = el(
      'button',
      { type: 'button', class: st.running ? 'secondary' : 'primary' },
      st.running ? 'Stop API' : 'Start API',
    );
    toggle.addEventListener('click', async () => {
      try {
        if (st.running) await api.stopApi();
        else await api.startApi(Number(port.value));
      } catch (e) {
        toast(e.message, 'error');
      }
      await draw();
    });
    const key = el('code', { class: 'secret', id: 'api-key-value' }, '••••••••••••••••');
    const reveal = el('button', { type: 'button', class: 'secondary' }, 'Show key');
    reveal.addEventListener('click', async () => {
      try {
        key.textContent = await api.apiKey(false);
      } catch (e) {
        toast(e.message, 'error');
      }
    });
    const regenerate = el('button', { type: 'button', class: 'secondary danger-text' }, 'Regenerate key');
    regenerate.addEventListener('click', async () => {
      const yes = await confirmDialog({
        title: 'Regenerate the API key?',
        text: 'Every script using the current key will get 401 until it is given the new one.',
        confirm: 'Regenerate',
      });
      if (!yes) return;
      try {
        key.textContent = await api.apiKey(true);
        toast('A new API key is in use.');
      } catch (e) {
        toast(e.message, 'error');
      }
    });
    box.replaceChildren(
      status,
      el('p', { class: 'muted' }, 'While it is on, it starts whenever OAuth Desk opens.'),
      el(
        'div',
        { class: 'field' },
        el('label', { for: 'api-port' }, 'Port'),
        el('div', { class: 'input-row' }, port, toggle),
      ),
      el(
        'div',
        { class: 'field' },
        el('label', {}, 'Key (send as Authorization: Bearer <key>)'),
        el('div', { class: 'input-row' }, key, reveal, regenerate),
      ),
    );
  };
  await draw();
  return box;
}
