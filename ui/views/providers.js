// The Providers view: the list of providers, with sign-in, edit and remove on each; the form
// to add or edit one is ./provider-form.js.
import * as api from '../api.js';
import { setTitle } from '../app.js';
import { confirmDialog, el, empty, toast, visible } from '../dom.js';
import { showForm } from './provider-form.js';
import { openSignin } from './signin.js';
import { showExport, showImport } from './sharing.js';

export const title = 'Providers';

/** @typedef {import('../api.js').ProviderView} ProviderView */

/** @param {HTMLElement} view */
export async function render(view) {
  await showList(view);
}

/**
 * @param {HTMLElement} view
 * @param {string | null} [focusName] the provider whose card gets the focus
 */
async function showList(view, focusName) {
  setTitle(title);
  const providers = await api.listProviders();
  view.replaceChildren();
  const add = el('button', { type: 'button', class: 'primary', onclick: () => openForm(view) }, 'Add provider');
  const back = () => showList(view);
  const importButton = el(
    'button',
    { type: 'button', class: 'secondary', onclick: () => showImport(view, back) },
    'Import…',
  );
  const exportButton = el(
    'button',
    { type: 'button', class: 'secondary', onclick: () => showExport(view, back) },
    'Export…',
  );
  if (providers.length === 0) {
    const presets = await api.listPresets();
    view.append(
      empty({
        title: 'Add your first provider',
        text:
          'A provider is the OAuth 2.0 or OpenID Connect server you sign in with: ' +
          'its client ID and endpoints, or just its issuer URL to discover them. ' +
          'Once it is here, sign in to get tokens.',
        actions: [add, importButton],
      }),
      el(
        'div',
        { class: 'preset-chips', role: 'group', 'aria-label': 'Start from a preset' },
        el('p', { class: 'muted' }, 'Or start from a preset:'),
        ...presets.map((p) =>
          el('button', { type: 'button', class: 'secondary', onclick: () => openForm(view, null, p.id) }, p.label),
        ),
      ),
    );
    return;
  }
  const count = providers.length === 1 ? '1 provider' : `${providers.length} providers`;
  view.append(
    el(
      'div',
      { class: 'toolbar' },
      el('p', { class: 'muted' }, count),
      el('div', { class: 'toolbar-actions' }, importButton, exportButton, add),
    ),
    el('ul', { class: 'cards', 'aria-label': 'Providers' }, ...providers.map((p) => row(view, p))),
  );
  if (focusName) {
    [.../** @type {NodeListOf<HTMLElement>} */ (view.querySelectorAll('.card'))]
      .find((c) => c.dataset.name === focusName)
      ?.querySelector('button')
      ?.focus();
  }
}

/**
 * @param {HTMLElement} view
 * @param {ProviderView} p
 */
function row(view, p) {
  const name = visible(p.name);
  const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
  if (p.color) swatch.style.setProperty('--swatch', p.color);
  const accounts = p.accounts === 1 ? '1 account' : `${p.accounts} accounts`;
  const card = el(
    'li',
    { class: 'card' },
    swatch,
    el(
      'div',
      { class: 'card-main' },
      el('div', { class: 'card-title' }, name),
      el(
        'div',
        { class: 'muted' },
        hostOf(p.authorization_url || p.token_url),
        ' · ',
        p.client_id ? `client ${visible(p.client_id)}${p.registered ? ' (registered by OAuth Desk)' : ''}` : '',
        ' · ',
        accounts,
        p.dpop ? ' · tokens DPoP-bound' : '',
      ),
    ),
    el(
      'div',
      { class: 'card-actions' },
      el(
        'button',
        { type: 'button', class: 'small-primary', 'aria-label': `Sign in to ${name}`, onclick: () => openSignin(p) },
        'Sign in',
      ),
      el(
        'button',
        { type: 'button', class: 'secondary', 'aria-label': `Edit ${name}`, onclick: () => openForm(view, p) },
        'Edit',
      ),
      el(
        'button',
        {
          type: 'button',
          class: 'secondary danger-text',
          'aria-label': `Remove ${name}`,
          onclick: () => remove(view, p),
        },
        'Remove',
      ),
    ),
  );
  card.dataset.name = p.name;
  return card;
}

/**
 * @param {HTMLElement} view
 * @param {ProviderView} p
 */
async function remove(view, p) {
  const tokens = p.accounts === 1 ? 'its 1 token' : `its ${p.accounts} tokens`;
  const yes = await confirmDialog({
    title: `Remove ${visible(p.name)}?`,
    text: p.accounts
      ? `This deletes the provider and ${tokens} from the vault. This cannot be undone.`
      : 'This deletes the provider from the vault. It has no tokens. This cannot be undone.',
    confirm: 'Remove provider',
  });
  if (!yes) return;
  // A client OAuth Desk registered can be deleted at the provider too (RFC 7592).
  const there =
    p.registered &&
    (await confirmDialog({
      title: `Also delete the client at the provider?`,
      text: `OAuth Desk registered this client at ${hostOf(p.registration_url)}. Deleting it there too means its id and secret stop working everywhere. If the provider refuses, nothing is removed here.`,
      confirm: 'Delete there too',
      cancel: 'Only remove here',
    }));
  try {
    const gone = there ? await api.deregisterProvider(p.name) : await api.removeProvider(p.name);
    toast(`Removed ${visible(p.name)}${gone ? ` and ${gone === 1 ? '1 token' : `${gone} tokens`}` : ''}.`);
  } catch (e) {
    toast(e.message, 'error');
  }
  await showList(view);
}

/** @param {string | null} url */
function hostOf(url) {
  try {
    return new URL(url ?? '').host;
  } catch {
    return url ?? '';
  }
}

// The form comes back here when saved or left, with the provider it was about in focus.
/**
 * @param {HTMLElement} view
 * @param {ProviderView | null} [existing]
 * @param {string | null} [presetId]
 */
function openForm(view, existing = null, presetId = null) {
  return showForm(view, { existing, presetId, back: (name) => showList(view, name) });
}
