// Sharing provider definitions without secrets: export them to a file, import a file after
// seeing what it changes and typing the secrets its new clients need.
import * as api from '../api.js';
import { el, field, toast, visible } from '../dom.js';
import { setTitle } from '../app.js';

function panel(view, heading, back, ...children) {
  setTitle(heading);
  const cancel = el('button', { type: 'button', class: 'secondary' }, 'Back to providers');
  cancel.addEventListener('click', back);
  view.replaceChildren(...children, el('div', { class: 'actions' }, cancel));
  const onKey = (ev) => {
    if (ev.key === 'Escape') {
      document.removeEventListener('keydown', onKey);
      back();
    }
  };
  document.addEventListener('keydown', onKey);
}

function pathField(id, label, value = '') {
  const input = el('input', { id, type: 'text', spellcheck: 'false', value });
  return [input, field({ label, control: input, alert: true })];
}

export async function showExport(view, back) {
  const suggested = (await api.suggestBackupPath()).replace(/oauth-desk-backup-(.*)\.odb$/, 'providers-$1.json');
  const [path, pathBox] = pathField('export-path', 'Export to file', suggested);
  const go = el('button', { type: 'submit', class: 'primary' }, 'Export');
  const form = el(
    'form',
    { class: 'settings-form' },
    el(
      'p',
      { class: 'muted' },
      'Every provider is written as JSON without its client secret: a list a team can share. Tokens never leave the vault.',
    ),
    pathBox,
    el('div', { class: 'actions' }, go),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const error = pathBox.querySelector('.field-error');
    error.textContent = '';
    try {
      const n = await api.exportProviders(path.value);
      toast(`Exported ${n === 1 ? '1 provider' : `${n} providers`} to ${path.value}.`);
      back();
    } catch (e) {
      error.textContent = e.fields?.[0]?.message ?? e.message;
    }
  });
  panel(view, 'Export providers', back, form);
  path.focus();
}

export function showImport(view, back) {
  const [path, pathBox] = pathField('import-path', 'Provider file');
  const preview = el('button', { type: 'submit', class: 'primary' }, 'Preview');
  const result = el('div', { id: 'import-preview' });
  const form = el(
    'form',
    { class: 'settings-form' },
    el(
      'p',
      { class: 'muted' },
      'A file written by Export (or `oauth-desk provider export`). Nothing changes until you press Import.',
    ),
    pathBox,
    el('div', { class: 'actions' }, preview),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const error = pathBox.querySelector('.field-error');
    error.textContent = '';
    result.replaceChildren();
    try {
      const plan = await api.planProviderImport(path.value);
      result.append(planView(plan, path.value, back));
    } catch (e) {
      error.textContent = e.fields?.length ? e.fields.map((f) => f.message).join('\n') : e.message;
    }
  });
  panel(view, 'Import providers', back, form, result);
  path.focus();
}

function planView(plan, path, back) {
  /** @type {Record<string, string>} */
  const secrets = {};
  const rows = plan.providers.map((p) => {
    const name = visible(p.name);
    const what = p.action === 'add' ? 'Add' : p.action === 'update' ? `Update: ${p.fields.join(', ')}` : 'No change';
    const row = el('li', {}, el('strong', {}, name), ` — ${what}`);
    // Every endpoint old → new, so that a file pointing one at another host shows it.
    if (p.endpoints?.length) {
      row.append(
        el(
          'ul',
          { class: 'plan-endpoints' },
          ...p.endpoints.map((e) =>
            el('li', {}, el('code', {}, e.field), `: ${visible(e.old ?? '(none)')} → ${visible(e.new ?? '(none)')}`),
          ),
        ),
      );
    }
    if (p.warning) row.append(el('p', { class: 'field-error plan-warning' }, `Warning: ${p.warning}.`));
    if (p.needs_secret) {
      const id = `secret-${p.name.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
      const input = el('input', { id, type: 'password', autocomplete: 'off' });
      input.addEventListener('input', () => {
        secrets[p.name] = input.value;
      });
      row.append(
        el(
          'div',
          { class: 'field' },
          el('label', { for: id }, `Client secret for ${name}`),
          input,
          el('p', { class: 'hint' }, 'Shared files never carry secrets; type the one your provider gave you.'),
        ),
      );
    }
    return row;
  });
  const changes = plan.providers.some((p) => p.action !== 'unchanged');
  const go = el('button', { type: 'button', class: 'primary' }, 'Import');
  go.disabled = !changes;
  const error = el('p', { class: 'field-error', role: 'alert' });
  go.addEventListener('click', async () => {
    error.textContent = '';
    try {
      // The digest of the file as previewed: the import is refused if it has changed since.
      const notices = await api.applyProviderImport(path, plan.digest, secrets);
      toast('Providers imported.');
      for (const [name, notice] of notices) toast(`${visible(name)}: ${notice}.`, 'error');
      back();
    } catch (e) {
      error.textContent = e.fields?.length ? e.fields.map((f) => f.message).join('\n') : e.message;
    }
  });
  return el(
    'div',
    {},
    el(
      'h3',
      {},
      changes ? 'Importing makes these changes:' : 'Nothing to change: the vault already holds these providers.',
    ),
    el('ul', { class: 'plan' }, ...rows),
    el('div', { class: 'actions' }, go),
    error,
  );
}
