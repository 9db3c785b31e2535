// The window's shell: navigation, the vault badge and the unlock dialog.
import * as api from './api.js';
import { byId, el, toast, visible } from './dom.js';
import * as providers from './views/providers.js';
import * as tokens from './views/tokens.js';
import * as activity from './views/activity.js';
import * as settings from './views/settings.js';
import { openSignin } from './views/signin.js';

const views = { providers, tokens, activity, settings };
const order = ['providers', 'tokens', 'activity', 'settings'];
let current = 'providers';
let unlocked = false;

/**
 * The heading above the view: a view sets it when it shows something other than itself (a
 * form, an import), and `show` sets it back to the view's title.
 * @param {string} text
 */
export function setTitle(text) {
  byId('view-title').textContent = text;
}

async function show(name) {
  current = name;
  for (const b of /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll('.nav button'))) {
    b.toggleAttribute('aria-current', b.dataset.view === name);
    if (b.dataset.view === name) b.setAttribute('aria-current', 'page');
  }
  const view = byId('view');
  setTitle(views[name].title);
  view.replaceChildren();
  if (!unlocked) return;
  try {
    await views[name].render(view);
  } catch (e) {
    toast(e.message, 'error');
  }
}

/** @param {import('./api.js').VaultView} v */
function showVault(v) {
  const mode = byId('vault-mode');
  const path = byId('vault-path');
  mode.classList.remove('locked', 'error');
  byId('lock-vault').hidden = v.state !== 'open';
  if (v.state === 'open') {
    mode.textContent = v.status.key_mode === 'keyring' ? 'Vault: OS keyring' : 'Vault: passphrase';
    path.textContent = v.status.path;
  } else {
    mode.textContent = 'Vault: locked';
    mode.classList.add('locked');
    path.textContent = v.path;
  }
}

async function openVault() {
  try {
    const v = await api.vaultStatus();
    showVault(v);
    if (v.state === 'open') {
      unlocked = true;
      await show(current);
    } else {
      askPassphrase(v);
    }
  } catch (e) {
    const mode = byId('vault-mode');
    mode.textContent = 'Vault: cannot open';
    mode.classList.add('error');
    byId('view').replaceChildren();
    toast(e.message, 'error');
    byId('vault-path').textContent = e.message;
  }
}

/** @param {Extract<import('./api.js').VaultView, { state: 'locked' }>} v */
function askPassphrase(v) {
  const dialog = /** @type {HTMLDialogElement} */ (byId('unlock-dialog'));
  const form = /** @type {HTMLFormElement} */ (byId('unlock-form'));
  const creating = !v.exists;
  // Locked by hand or when idle: a keyring vault opens again with a click.
  const keyring = v.code === 'locked' && v.keyring;
  byId('unlock-title').textContent = creating
    ? 'Protect your new vault'
    : v.code === 'locked'
      ? 'OAuth Desk is locked'
      : 'Unlock the vault';
  byId('unlock-reason').textContent = creating
    ? 'No OS keyring is available to hold the vault key, so choose a passphrase of at least 8 characters. It cannot be recovered if lost.'
    : v.code === 'locked'
      ? `${lockedBecause}${keyring ? 'Unlock to go on.' : 'Type the vault passphrase to go on.'} Scripts asking the token agent are told it is locked meanwhile.`
      : v.code === 'key_missing'
        ? 'The OS keyring has no key for this vault. If it is protected by a passphrase, type it.'
        : 'No OS keyring is available. Type the vault passphrase.';
  byId('unlock-passphrase-row').hidden = keyring;
  byId('unlock-confirm-row').hidden = !creating;
  byId('unlock-submit').textContent = creating ? 'Create vault' : 'Unlock';
  const error = byId('unlock-error');
  error.textContent = '';
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    // Both fields are text inputs: FormData gives strings for them, never files.
    const pass = keyring ? '' : /** @type {string} */ (data.get('passphrase'));
    if (!pass && !keyring) {
      error.textContent = 'Type a passphrase.';
      return;
    }
    if (creating && pass !== data.get('confirm')) {
      error.textContent = 'The two passphrases differ.';
      return;
    }
    error.textContent = creating ? 'Creating the vault…' : 'Unlocking…';
    try {
      const opened = await api.unlockVault(pass);
      form.reset();
      dialog.close();
      showVault(opened);
      unlocked = true;
      await show(current);
    } catch (e) {
      const passphrase = e.fields?.find((f) => f.field === 'passphrase');
      error.textContent =
        e.code === 'wrong_key'
          ? 'That passphrase does not open this vault.'
          : passphrase
            ? `The passphrase ${passphrase.message}.`
            : e.message;
    }
  };
  // The vault is needed for everything: the dialog stays until it is unlocked.
  dialog.addEventListener('cancel', (ev) => ev.preventDefault());
  dialog.showModal();
  if (!keyring) byId('unlock-passphrase').focus();
}

let lockedBecause = '';

// Locked by hand or after idle minutes: the views go, the unlock dialog comes.
api.onEvent('vault-locked', (/** @type {{ why: string }} */ locked) => {
  unlocked = false;
  lockedBecause = locked.why === 'idle' ? 'Locked after a while without use. ' : 'Locked. ';
  for (const d of /** @type {NodeListOf<HTMLDialogElement>} */ (document.querySelectorAll('dialog[open]'))) d.close();
  byId('view').replaceChildren();
  openVault();
});

byId('lock-vault').addEventListener('click', () => api.lockVault());

// The agent that asks: a program wants a token of a provider that asks first.
/** @type {Map<number, HTMLDialogElement>} */
const questions = new Map();

/** @param {import('./api.js').Question} q */
function askAboutProgram(q) {
  if (questions.has(q.id)) return;
  const dialog = el('dialog', { class: 'confirm question', 'aria-labelledby': `question-${q.id}` });
  const answer = (/** @type {'once' | 'hours' | 'deny'} */ a) => {
    api.answerQuestion(q.id, a);
    dialog.close();
  };
  const deny = el('button', { type: 'button', class: 'secondary', onclick: () => answer('deny') }, 'Deny');
  // Allowing waits a second: a key already on its way, or input another program sends to the
  // window, does not answer a question the person has not read.
  const allow = [
    el('button', { type: 'button', class: 'secondary', onclick: () => answer('hours') }, 'Allow for 8 hours'),
    el('button', { type: 'button', class: 'primary', onclick: () => answer('once') }, 'Allow once'),
  ];
  for (const b of allow) b.disabled = true;
  setTimeout(() => allow.forEach((b) => (b.disabled = false)), 1000);
  const cut = (/** @type {string} */ t) => (t.length > 200 ? `${t.slice(0, 200)}…` : t);
  const program = `${visible(q.program)}${q.pid ? ` (pid ${q.pid})` : ''}`;
  dialog.append(
    el('h2', { id: `question-${q.id}` }, 'Allow a program to get a token?'),
    el('p', {}, el('code', { class: 'program' }, program)),
    el(
      'p',
      { class: 'muted' },
      `${q.remote ? 'From another machine, through an SSH forwarding of the agent: it' : 'It'} asks for the token of ${cut(visible(q.account))} at ${cut(visible(q.provider))}. It waits 30 seconds for your answer.`,
    ),
    el('div', { class: 'actions' }, deny, ...allow),
  );
  dialog.addEventListener('cancel', () => api.answerQuestion(q.id, 'deny'));
  dialog.addEventListener('close', () => {
    questions.delete(q.id);
    dialog.remove();
  });
  questions.set(q.id, dialog);
  document.body.append(dialog);
  dialog.showModal();
  deny.focus();
}

api.onEvent('agent-ask', (/** @type {import('./api.js').Question} */ q) => askAboutProgram(q));
api.onEvent('agent-ask-again', async () => {
  for (const q of await api.waitingQuestions()) askAboutProgram(q);
});
api.onEvent('agent-ask-done', (/** @type {number} */ id) => questions.get(id)?.close());

// A notification's "Sign in": the window is up already; the provider's sign-in opens.
api.onEvent('open-signin', async (/** @type {{ provider: string }} */ asked) => {
  if (!unlocked) return;
  const p = (await api.listProviders()).find((x) => x.name === asked.provider);
  if (p) openSignin(p);
});

// Use of the window holds the auto-lock off; told at most every 15 seconds.
let told = 0;
for (const kind of ['keydown', 'pointerdown', 'wheel']) {
  document.addEventListener(
    kind,
    () => {
      const now = Date.now();
      if (unlocked && now - told > 15000) {
        told = now;
        api.noteActivity();
      }
    },
    { passive: true, capture: true },
  );
}

document.addEventListener('click', (ev) => {
  const nav = /** @type {HTMLElement | null} */ (/** @type {Element} */ (ev.target).closest('[data-view]'));
  if (nav) show(nav.dataset.view);
});

document.addEventListener('keydown', (ev) => {
  if (ev.ctrlKey && !ev.altKey && !ev.metaKey && ev.key === 'l' && unlocked) {
    ev.preventDefault();
    api.lockVault();
  }
  if (ev.altKey && !ev.ctrlKey && !ev.metaKey && /^[1-4]$/.test(ev.key)) {
    ev.preventDefault();
    show(order[Number(ev.key) - 1]);
  }
});

// A sign-in or a refresh elsewhere changed the tokens: refresh what shows them, without a
// reload; a view that can update in place (the token table) does.
api.onEvent('tokens-changed', () => {
  const busy = document.querySelector('form.provider-form, dialog[open], .row-menu');
  if (!unlocked || !['tokens', 'providers', 'activity'].includes(current) || busy) return;
  /** @type {((view: HTMLElement) => Promise<void>) | undefined} */
  const update = 'update' in views[current] ? views[current].update : undefined;
  if (update) update(byId('view')).catch((e) => toast(e.message, 'error'));
  else show(current);
});

// Started on a view (OAUTH_DESK_START_VIEW), it opens there.
api
  .startView()
  .then((v) => {
    if (v && v in views) current = v;
  })
  .catch(() => {})
  .finally(() => {
    show(current);
    openVault();
  });
