// The sign-in dialog: pick how (login window or browser, device code, client credentials),
// then follow it to the end. The outcome comes as the `signin-finished` event; whatever the
// provider said is shown as text.
import * as api from '../api.js';
import { el, toast, visible } from '../dom.js';

const waiting = new Map(); // sign-in id -> handler of its outcome
const early = new Map(); // outcomes that arrived before their start call returned

api.onEvent('signin-finished', (outcome) => {
  const handler = waiting.get(outcome.id);
  waiting.delete(outcome.id);
  if (handler) handler(outcome);
  else early.set(outcome.id, outcome);
});

// Follows sign-in `id` to its end; its outcome may already be here (a window closed at once).
function await_(id, handler) {
  if (early.has(id)) {
    const outcome = early.get(id);
    early.delete(id);
    handler(outcome);
  } else {
    waiting.set(id, handler);
  }
}

function report(outcome) {
  if (outcome.signed_in) {
    const s = outcome.signed_in;
    toast(`${s.replaced ? 'Signed in again' : 'Signed in'} to ${visible(s.provider)} as ${visible(s.account)}.`);
  } else if (outcome.error?.code !== 'cancelled') {
    toast(`Sign-in to ${visible(outcome.provider)} failed: ${outcome.error?.message}`, 'error');
  }
}

export function openSignin(p) {
  const name = visible(p.name);
  const dialog = el('dialog', { class: 'signin', 'aria-labelledby': 'signin-title' });
  const body = el('div', { class: 'signin-body' });
  dialog.append(el('h2', { id: 'signin-title' }, `Sign in to ${name}`), body);
  document.body.append(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  dialog.showModal();
  choose(p, dialog, body);
}

function choose(p, dialog, body) {
  const methods = [];
  if (p.authorization_url) {
    methods.push(['code', p.sign_in_with === 'browser' ? 'In the system browser' : 'In a login window']);
  }
  if (p.device_authorization_url) methods.push(['device', 'With a device code']);
  if (p.has_client_secret) methods.push(['client_credentials', 'As the client itself (client credentials)']);
  if (p.client_key && p.client_auth === 'private_key_jwt')
    methods.push(['jwt_bearer', 'As a service account (JWT bearer)']);
  if (methods.length === 0) {
    body.replaceChildren(
      el(
        'p',
        {},
        'This provider has no authorization or device endpoint and no client secret, so there is no way to sign in yet. Edit it first.',
      ),
      el(
        'div',
        { class: 'actions' },
        el('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Close'),
      ),
    );
    return;
  }
  const method = el('select', { id: 'signin-method' }, ...methods.map(([v, t]) => el('option', { value: v }, t)));
  const account = el('input', {
    id: 'signin-account',
    type: 'text',
    spellcheck: 'false',
    placeholder: 'From the provider (email or user name)',
  });
  // What this sign-in asks tokens for, when not the provider's own (RFC 8707, an audience).
  const resources = el('input', {
    id: 'signin-resources',
    type: 'text',
    spellcheck: 'false',
    placeholder: p.resources.join(' ') || 'https://api.example.com/',
  });
  const audience = el('input', {
    id: 'signin-audience',
    type: 'text',
    spellcheck: 'false',
    placeholder: p.audience ?? '',
  });
  const target = el(
    'details',
    { class: 'target' },
    el('summary', {}, 'Resource and audience'),
    el('div', { class: 'field' }, el('label', { for: 'signin-resources' }, 'Resources'), resources),
    el('div', { class: 'field' }, el('label', { for: 'signin-audience' }, 'Audience'), audience),
    el('p', { class: 'hint' }, 'Empty: the provider’s own. Resources are separated by spaces (RFC 8707).'),
  );
  const start = el('button', { type: 'submit', class: 'primary' }, 'Start sign-in');
  const form = el(
    'form',
    { method: 'dialog' },
    el('div', { class: 'field' }, el('label', { for: 'signin-method' }, 'How'), method),
    el(
      'div',
      { class: 'field' },
      el('label', { for: 'signin-account' }, 'Account label'),
      account,
      el(
        'p',
        { class: 'hint' },
        'Optional: a name for this account. Signing in again with the same account replaces its token.',
      ),
    ),
    target,
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel'),
      start,
    ),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const label = account.value.trim() || null;
    /** @type {import('../api.js').Target} */
    const asked = { resources: resources.value.split(' ').filter(Boolean), audience: audience.value.trim() || null };
    const flows = { code: codeFlow, device: deviceFlow, client_credentials: clientCredentials, jwt_bearer: jwtBearer };
    flows[method.value](p, dialog, body, label, asked);
  });
  body.replaceChildren(form);
  method.focus();
}

function progress(body, text, ...buttons) {
  body.replaceChildren(
    el('p', { class: 'progress', role: 'status' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), text),
    el('div', { class: 'actions' }, ...buttons),
  );
}

function outcomeInDialog(dialog, body, outcome) {
  if (outcome.signed_in) {
    report(outcome);
    dialog.close();
    return;
  }
  if (outcome.error?.code === 'cancelled') {
    dialog.close();
    return;
  }
  body.replaceChildren(
    el('p', { class: 'field-error', role: 'alert' }, outcome.error?.message ?? 'The sign-in failed.'),
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Close'),
    ),
  );
}

async function codeFlow(p, dialog, body, account, target) {
  progress(body, 'Opening the sign-in…');
  let started;
  try {
    started = await api.startSignin(p.name, account, target);
  } catch (e) {
    outcomeInDialog(dialog, body, { error: e });
    return;
  }
  const cancel = el(
    'button',
    { type: 'button', class: 'secondary', onclick: () => api.cancelSignin(started.id) },
    'Cancel sign-in',
  );
  dialog.addEventListener('cancel', () => api.cancelSignin(started.id));
  if (started.method === 'browser') {
    progress(body, 'Sign in in your browser; this dialog closes when you are done.', cancel);
  } else if (p.redirect_url) {
    // A custom redirect URL reaches only the login window: the browser could not finish.
    progress(body, 'Sign in in the login window. It closes by itself when you are done.', cancel);
  } else {
    const browser = el('button', { type: 'button', class: 'secondary' }, 'Open in browser instead');
    browser.addEventListener('click', async () => {
      try {
        await api.openSigninInBrowser(started.id);
        progress(body, 'Sign in in your browser; this dialog closes when you are done.', cancel);
      } catch (e) {
        toast(e.message, 'error');
      }
    });
    progress(body, 'Sign in in the login window. It closes by itself when you are done.', browser, cancel);
  }
  await_(started.id, (outcome) => outcomeInDialog(dialog, body, outcome));
}

async function deviceFlow(p, dialog, body, account, target) {
  progress(body, 'Asking the provider for a code…');
  let started;
  try {
    started = await api.startDeviceSignin(p.name, account, target);
  } catch (e) {
    outcomeInDialog(dialog, body, { error: e });
    return;
  }
  dialog.addEventListener('cancel', () => api.cancelSignin(started.id));
  body.replaceChildren(
    el(
      'p',
      {},
      'Enter this code at ',
      el('span', { class: 'mono' }, started.verification_uri),
      ' (opened in a login window), on this or any other device:',
    ),
    el('p', { class: 'user-code', 'aria-label': 'Code' }, started.user_code),
    el(
      'p',
      { class: 'progress', role: 'status' },
      el('span', { class: 'spinner', 'aria-hidden': 'true' }),
      `Waiting for approval; the code expires in ${Math.ceil(started.expires_in / 60)} minutes.`,
    ),
    el(
      'div',
      { class: 'actions' },
      el(
        'button',
        { type: 'button', class: 'secondary', onclick: () => api.cancelSignin(started.id) },
        'Cancel sign-in',
      ),
    ),
  );
  await_(started.id, (outcome) => outcomeInDialog(dialog, body, outcome));
}

async function clientCredentials(p, dialog, body, account, target) {
  await direct(dialog, body, () => api.signinClientCredentials(p.name, account, target));
}

async function jwtBearer(p, dialog, body, account, target) {
  await direct(dialog, body, () => api.signinJwtBearer(p.name, account, target));
}

// A grant with nobody to wait for: one request to the token endpoint.
async function direct(dialog, body, ask) {
  progress(body, 'Asking the token endpoint…');
  try {
    const signedIn = await ask();
    report({ signed_in: signedIn });
    dialog.close();
  } catch (e) {
    outcomeInDialog(dialog, body, { error: e });
  }
}
