// The form to add or edit a provider: presets, discovery, errors beside each field as the user
// types. Validation is the core's: the form asks it on every change, so the window, the CLI and
// the REST API refuse exactly the same things.
import * as api from '../api.js';
import { setTitle } from '../app.js';
import { confirmDialog, el, field, secretDialog, toast, visible } from '../dom.js';

/** @typedef {import('../api.js').ProviderForm} ProviderForm */

const SECTIONS = [
  {
    title: 'Provider',
    fields: [
      {
        name: 'name',
        label: 'Name',
        required: true,
        hint: 'How this provider appears here and on the command line (oauth-desk token get NAME).',
      },
      {
        name: 'issuer',
        label: 'Issuer URL',
        type: 'url',
        placeholder: 'https://accounts.example.com',
        hint: 'Press Discover to fill the endpoints from its OpenID Connect or OAuth metadata.',
        discover: true,
      },
    ],
  },
  {
    title: 'Client',
    fields: [
      { name: 'client_id', label: 'Client ID', required: true, autocomplete: 'off' },
      {
        name: 'client_secret',
        label: 'Client secret',
        secret: true,
        hint: 'Leave empty for a public client. Stored encrypted; never shown again.',
      },
      {
        name: 'client_auth',
        label: 'Client authentication',
        options: [
          ['', 'Automatic (HTTP Basic with a secret, none without)'],
          ['basic', 'HTTP Basic (secret sent via header)'],
          ['post', 'Form body (secret sent via payload)'],
          ['none', 'None (public client)'],
          ['client_secret_jwt', 'Signed JWT (client_secret_jwt: the secret never travels)'],
          ['private_key_jwt', 'Private key JWT (private_key_jwt: signed with a key only this app holds)'],
          ['tls_client_auth', 'Certificate from a CA (tls_client_auth: mutual TLS, RFC 8705)'],
          ['self_signed_tls_client_auth', 'Self-signed certificate (mutual TLS; this app makes it)'],
        ],
      },
      {
        name: 'assertion_aud_issuer',
        label: 'Signed JWTs are addressed to',
        options: [
          ['false', 'The token endpoint (RFC 7523)'],
          ['true', 'The issuer (for providers that ask for it)'],
        ],
      },
      {
        name: 'dpop',
        label: 'Bind tokens to a key (DPoP)',
        options: [
          ['false', 'No: bearer tokens'],
          ['true', 'Yes (RFC 9449): a stolen token is useless without the key'],
        ],
        hint: 'The key is made here and never leaves the vault; the provider must support DPoP.',
      },
      {
        name: 'dpop_per_account',
        label: 'DPoP keys',
        options: [
          ['false', 'One key for every account of this provider'],
          ['true', 'A key of its own for each account, made at its sign-in'],
        ],
      },
    ],
  },
  {
    title: 'Endpoints',
    fields: [
      { name: 'authorization_url', label: 'Authorization endpoint', type: 'url', discovered: true },
      { name: 'token_url', label: 'Token endpoint', type: 'url', required: true, discovered: true },
      { name: 'refresh_url', label: 'Refresh endpoint', type: 'url', placeholder: 'Same as the token endpoint' },
      { name: 'revocation_url', label: 'Revocation endpoint', type: 'url', discovered: true },
      { name: 'userinfo_url', label: 'Userinfo endpoint', type: 'url', discovered: true },
      { name: 'device_authorization_url', label: 'Device authorization endpoint', type: 'url', discovered: true },
      { name: 'introspection_url', label: 'Introspection endpoint', type: 'url', discovered: true },
      { name: 'jwks_uri', label: 'JWKS URI', type: 'url', hint: 'The keys that sign ID tokens.', discovered: true },
      {
        name: 'mtls_token_url',
        label: 'Token endpoint for certificates (mTLS alias)',
        type: 'url',
        hint: 'RFC 8705: where a client with a certificate sends its token requests; set by discovery.',
      },
      {
        name: 'par_url',
        label: 'Pushed authorization request endpoint',
        type: 'url',
        hint: 'RFC 9126: where the authorization request is sent before the sign-in opens.',
        discovered: true,
      },
      {
        name: 'end_session_url',
        label: 'End-session endpoint',
        type: 'url',
        hint: 'OpenID Connect RP-Initiated Logout: where signing out ends the provider session too.',
        discovered: true,
      },
      {
        name: 'registration_url',
        label: 'Client registration endpoint',
        type: 'url',
        hint: 'RFC 7591: where OAuth Desk can register a client of its own (oauth-desk provider register).',
        discovered: true,
      },
    ],
  },
  {
    title: 'Authorization request',
    fields: [
      {
        name: 'scopes',
        label: 'Default scopes',
        placeholder: 'openid email offline_access',
        hint: 'Separated by spaces.',
      },
      {
        name: 'resources',
        label: 'Resources',
        placeholder: 'https://api.example.com/',
        hint: 'RFC 8707: the APIs the tokens are for, separated by spaces; asked for at each sign-in.',
      },
      {
        name: 'audience',
        label: 'Audience',
        placeholder: 'https://api.example.com',
        hint: 'For providers that ask for one (Auth0, Okta): the API the tokens are for.',
      },
      {
        name: 'extra_params',
        label: 'Extra parameters',
        multiline: true,
        placeholder: 'prompt=consent',
        hint: 'One key=value a line, added to the authorization request (prompt, access_type…).',
      },
      {
        name: 'par',
        label: 'Push the request first',
        options: [
          ['false', 'No: the browser carries the request'],
          ['true', 'Yes (RFC 9126): the browser carries only a reference'],
        ],
        hint: 'Some providers require it; discovery turns it on for them.',
      },
    ],
  },
  {
    title: 'Sign-in',
    fields: [
      {
        name: 'sign_in_with',
        label: 'Sign in with',
        options: [
          ['window', 'The in-app login window'],
          ['browser', 'The system browser'],
        ],
      },
      {
        name: 'ask_first',
        label: 'When another program asks the token agent for a token',
        options: [
          ['false', 'Hand it out (the program runs as you)'],
          ['true', 'Ask me first: allow once, for 8 hours, or deny'],
        ],
        hint: 'The token agent (oauth-desk token get) asks in the window. A passphrase vault always asks; with a keyring vault a program could still open the vault itself. Activity names each program.',
      },
      {
        name: 'redirect_port',
        label: 'Loopback port',
        type: 'number',
        hint: 'The redirect goes to http://127.0.0.1:PORT; 0 picks a free port at each sign-in.',
      },
      { name: 'redirect_path', label: 'Redirect path', placeholder: '/callback' },
      {
        name: 'redirect_url',
        label: 'Custom redirect URL',
        type: 'url',
        hint: 'Only for providers that cannot redirect to 127.0.0.1: the login window catches this URL.',
      },
      { name: 'color', label: 'Colour', placeholder: '#1f6feb', color: true },
    ],
  },
];
// The other endpoints' mutual-TLS aliases (RFC 8705 §5): set by discovery, kept as it gives them.
const MTLS_ALIASES = [
  'mtls_revocation_url',
  'mtls_introspection_url',
  'mtls_device_authorization_url',
  'mtls_par_url',
  'mtls_userinfo_url',
];
// The endpoints discovery fills: each says whether it was discovered or set by hand.
const DISCOVERED = SECTIONS.flatMap((s) => s.fields.filter((f) => f.discovered).map((f) => f.name));
const FIELD_NAMES = SECTIONS.flatMap((s) => s.fields.map((f) => f.name)).concat([
  'preset',
  'discovered',
  'iss_required',
  'assertion_algs',
  'auth_methods',
  'dpop_algs',
  'mtls_bound_tokens',
  ...MTLS_ALIASES,
]);

/**
 * Shows the form in the view, empty or filled from a preset (to add) or from `existing` (to
 * edit); `back` is called with the provider's name once it is saved or the form is left.
 * @param {HTMLElement} view
 * @param {{ existing?: { name: string, has_client_secret?: boolean, registered?: boolean } | null, presetId?: string | null, back: (name?: string | null) => Promise<void> }} o
 */
export async function showForm(view, { existing = null, presetId = null, back }) {
  const editing = existing?.name ?? null;
  const [values, presets] = await Promise.all([
    editing
      ? api.providerForm(editing)
      : Promise.resolve({ redirect_port: '0', redirect_path: '/callback', sign_in_with: 'window' }),
    api.listPresets(),
  ]);
  setTitle(editing ? `Edit ${visible(editing)}` : 'Add provider');

  const form = el('form', { class: 'provider-form', novalidate: '' });
  const touched = new Set();
  let submitted = false;
  let dirty = false;

  // Set by a preset or by discovery, not typed.
  form.append(
    el('input', { type: 'hidden', name: 'preset' }),
    el('input', { type: 'hidden', name: 'iss_required' }),
    el('input', { type: 'hidden', name: 'discovered' }),
    el('input', { type: 'hidden', name: 'assertion_algs' }),
    el('input', { type: 'hidden', name: 'auth_methods' }),
    el('input', { type: 'hidden', name: 'dpop_algs' }),
    el('input', { type: 'hidden', name: 'mtls_bound_tokens' }),
    el('input', { type: 'hidden', name: 'mtls_revocation_url' }),
    el('input', { type: 'hidden', name: 'mtls_introspection_url' }),
    el('input', { type: 'hidden', name: 'mtls_device_authorization_url' }),
    el('input', { type: 'hidden', name: 'mtls_par_url' }),
    el('input', { type: 'hidden', name: 'mtls_userinfo_url' }),
  );
  if (!editing)
    form.append(
      presetSection(presets, form, () => {
        dirty = true;
        check();
      }),
    );
  for (const section of SECTIONS) {
    const fieldset = el('fieldset', {}, el('legend', {}, section.title));
    for (const f of section.fields) fieldset.append(providerField(f, form, existing));
    form.append(fieldset);
    if (section.title === 'Client') form.append(keySection(form, existing));
  }
  const formError = el('p', { class: 'field-error', role: 'alert', id: 'form-error' });
  const cancel = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const save = el('button', { type: 'submit', class: 'primary' }, editing ? 'Save changes' : 'Save provider');
  // A new provider whose metadata names a registration endpoint: OAuth Desk can create its own
  // client there (RFC 7591) instead of one typed in.
  const register = el('button', { type: 'button', class: 'secondary', hidden: '' }, 'Register a new client');
  const showRegister = () => {
    register.hidden = Boolean(editing) || !form.elements.registration_url.value.trim();
  };
  form.append(formError, el('div', { class: 'actions sticky' }, cancel, register, save));
  fill(form, values);
  showRegister();

  // Errors beside each field, asked of the core as the user types (after a short pause).
  let timer = null;
  let seq = 0;
  const check = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++seq;
      try {
        // Files are read when the form is saved, not as it is typed: until then, a named file
        // stands for what it will give.
        const files = namedFiles(form);
        const errors = (await api.checkProvider(gather(form), editing)).filter((e) => !files.has(e.field));
        if (mine === seq) showErrors(form, errors, submitted ? null : touched);
      } catch (e) {
        if (mine === seq) formError.textContent = e.message;
      }
    }, 250);
  };
  form.addEventListener('input', (ev) => {
    if (ev.target.name) touched.add(ev.target.name);
    dirty = true;
    showRegister();
    check();
  });
  // Discovery and presets fill fields without an input event.
  form.addEventListener('filled', showRegister);
  form.addEventListener('filled', () => markSources(form));
  form.addEventListener('input', () => markSources(form));
  markSources(form);
  register.addEventListener('click', async () => {
    let host = '';
    try {
      host = new URL(form.elements.registration_url.value).host;
    } catch {
      host = form.elements.registration_url.value;
    }
    const token = await secretDialog({
      title: `Register a new client at ${visible(host)}?`,
      text: 'The provider gives OAuth Desk a client of its own, with the redirect, grants and key this form sets; its id and secret are kept in the vault. Some providers require an initial access token: paste it here, or leave it empty.',
      label: 'Initial access token (optional)',
      confirm: 'Register',
    });
    if (token === null) return;
    register.disabled = true;
    formError.textContent = '';
    try {
      const saved = await api.registerProvider(gather(form, { withFiles: true }), token || null);
      toast(`Registered a client at ${visible(host)} and saved ${visible(saved.name)}.`);
      await back(saved.name);
    } catch (e) {
      if (e.fields?.length) {
        showErrors(form, e.fields, null);
        form.querySelector('[aria-invalid="true"]')?.focus();
      } else {
        formError.textContent = e.message;
      }
    } finally {
      register.disabled = false;
    }
  });
  form.addEventListener('focusout', (ev) => {
    if (ev.target.name && ev.target.value) {
      touched.add(ev.target.name);
      check();
    }
  });

  const leave = async () => {
    if (
      dirty &&
      !(await confirmDialog({
        title: 'Discard your changes?',
        text: 'What you typed in this form will be lost.',
        confirm: 'Discard',
      }))
    )
      return;
    await back(editing);
  };
  cancel.addEventListener('click', leave);
  form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !document.querySelector('dialog[open]')) {
      ev.preventDefault();
      leave();
    }
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submitted = true;
    clearTimeout(timer);
    seq++;
    save.disabled = true;
    formError.textContent = '';
    try {
      const input = gather(form, { withFiles: true });
      const saved = editing ? await api.updateProvider(editing, input) : await api.addProvider(input);
      // A client OAuth Desk registered: offer to send the new settings to the provider too.
      if (
        editing &&
        existing?.registered &&
        (await confirmDialog({
          title: 'Update the registration at the provider too?',
          text: 'OAuth Desk registered this client. Sending the new settings keeps the provider’s copy of the client (redirect, grants, scopes, key) the same as this one.',
          confirm: 'Update registration',
          kind: 'primary',
          cancel: 'Not now',
        }))
      ) {
        try {
          await api.updateRegistration(saved.name);
        } catch (e) {
          toast(`Saved ${visible(saved.name)}, but the registration was not updated: ${e.message}`, 'error');
          await back(saved.name);
          return;
        }
      }
      // An endpoint moved to another host: say what was cleared and who must sign in again.
      if (saved.notice) toast(`Saved ${visible(saved.name)}: ${saved.notice}.`, 'error');
      else toast(`Saved ${visible(saved.name)}.`);
      await back(saved.name);
    } catch (e) {
      if (e.fields?.length) {
        showErrors(form, e.fields, null);
        form.querySelector('[aria-invalid="true"]')?.focus();
      } else {
        formError.textContent = e.message;
      }
    } finally {
      save.disabled = false;
    }
  });

  view.replaceChildren(form);
  form.querySelector(editing ? '#f-name' : '#preset-picker')?.focus();
  if (presetId) {
    const picker = form.querySelector('#preset-picker');
    picker.value = presetId;
    picker.dispatchEvent(new Event('change'));
    // A preset that needs nothing more fills the form at once; others wait for their values.
    if (!presets.find((p) => p.id === presetId)?.params.length) {
      [...form.querySelectorAll('button')].find((b) => b.textContent === 'Apply preset')?.click();
    }
  }
  if (editing) check();
}

// The client's signing key, for private_key_jwt, shown while that method is chosen (or a key
// is stored). Its private half never reaches the page: the core makes a new key when the form
// is saved, or reads a key file then; the page shows only the public JWK.
function keySection(form, existing) {
  const stored = existing?.client_key ?? null;
  const choice = el(
    'select',
    { id: 'f-client_key' },
    ...(stored ? [el('option', { value: 'keep' }, `Keep the stored ${stored.alg} key`)] : []),
    ...['ES256', 'RS256', 'PS256', 'EdDSA'].map((alg) =>
      el('option', { value: `generate:${alg}` }, `${stored ? 'Replace with' : 'Generate'} a new ${alg} key`),
    ),
    el('option', { value: 'file' }, 'Import a private key file (PEM, JWK, or a Google service-account key)'),
  );
  const file = el('input', {
    id: 'f-client_key_file',
    type: 'text',
    spellcheck: 'false',
    autocomplete: 'off',
    placeholder: '/path/to/client-key.pem',
  });
  // A Google service-account key file fills the client too: its token endpoint, its email.
  const fromAccount = el('button', { type: 'button', class: 'secondary' }, 'Fill from service-account file');
  fromAccount.addEventListener('click', async () => {
    const err = /** @type {HTMLElement} */ (form.querySelector('#f-client_key_file-error'));
    err.textContent = '';
    try {
      const { token_url, client_id, client_auth } = await api.serviceAccountForm(file.value.trim());
      fill(form, { token_url, client_id, client_auth });
      form.dispatchEvent(new Event('input'));
      toast(
        'Filled the token endpoint, the client ID and private_key_jwt from the key file. Its key is read again when you save.',
      );
    } catch (e) {
      err.textContent = e.message;
    }
  });
  const fileField = field({
    label: 'Key file',
    control: file,
    row: el('div', { class: 'input-row' }, file, fromAccount),
    hint: 'Read by the app when you save: PEM (PKCS#8, RSA or EC), a JWK, or a Google service-account JSON key file. Kept encrypted in the vault; the file is not kept.',
  });
  const showFile = () => (fileField.hidden = choice.value !== 'file');
  choice.addEventListener('change', showFile);
  showFile();
  const certFile = el('input', {
    id: 'f-client_cert',
    type: 'text',
    spellcheck: 'false',
    autocomplete: 'off',
    placeholder: '/path/to/client-cert.pem or .p12',
  });
  const certField = field({
    label: 'Certificate file',
    control: certFile,
    name: 'client_cert',
    hint: 'For tls_client_auth: the certificate the provider’s CA issued, in PEM (with its key, or import the key above) or PKCS#12. Self-signed certificates are made here.',
  });
  const set = el(
    'fieldset',
    { id: 'client-key' },
    el('legend', {}, 'Client key'),
    field({
      label: 'Client key',
      control: choice,
      name: 'client_key',
      hint: 'It signs private_key_jwt assertions, or proves the client’s certificate in TLS. Its private half never leaves the vault.',
    }),
    fileField,
    certField,
  );
  if (stored) set.append(publicKey(stored, existing.name));
  const cert = existing?.client_cert ?? null;
  if (cert)
    set.append(
      el(
        'p',
        { class: 'public-key' },
        `Certificate ${cert.subject}${cert.self_signed ? ' (self-signed)' : ''}, expires ${cert.not_after}, thumbprint `,
        el('code', {}, cert.thumbprint),
      ),
    );
  const auth = form.elements.namedItem('client_auth');
  const keyed = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];
  const showSet = () => {
    set.hidden = !keyed.includes(auth.value) && !stored;
    certField.hidden = auth.value !== 'tls_client_auth';
  };
  auth.addEventListener('change', showSet);
  // The form is filled after it is built: look again once the values are in.
  queueMicrotask(showSet);
  return set;
}

/** The public half of a stored key, with its thumbprint and a copy button. */
function publicKey(key, providerName) {
  const copy = el('button', { type: 'button', class: 'secondary' }, 'Copy public JWK');
  copy.addEventListener('click', async () => {
    try {
      await api.copyPublicKey(providerName);
      toast('Public JWK copied: paste it into the provider’s console.');
    } catch (e) {
      toast(e.message, 'error');
    }
  });
  return el(
    'div',
    { class: 'public-key' },
    el('p', {}, `${key.alg} key, thumbprint `, el('code', {}, key.thumbprint)),
    el('pre', { 'aria-label': 'Public JWK' }, JSON.stringify(key.jwk, null, 2)),
    el('div', { class: 'input-row' }, copy),
  );
}

// One field of SECTIONS: its control by kind (select, textarea, input), the secret's Show
// button, Discover beside the issuer and a colour picker beside the colour.
function providerField(f, form, existing) {
  const id = `f-${f.name}`;
  let control;
  if (f.options) {
    control = el('select', { id, name: f.name }, ...f.options.map(([v, t]) => el('option', { value: v }, t)));
  } else if (f.multiline) {
    control = el('textarea', { id, name: f.name, rows: '3', spellcheck: 'false' });
  } else {
    control = el('input', {
      id,
      name: f.name,
      type: f.secret ? 'password' : f.type === 'number' ? 'number' : 'text',
      spellcheck: 'false',
      autocomplete: f.secret ? 'new-password' : 'off',
    });
    if (f.type === 'number') {
      control.min = '0';
      control.max = '65535';
    }
    if (f.type === 'url') control.setAttribute('inputmode', 'url');
  }
  if (f.placeholder) control.placeholder = f.placeholder;
  if (f.secret && existing?.has_client_secret) control.placeholder = 'Stored (type a new one to replace it)';

  const row = el('div', { class: 'input-row' }, control);
  if (f.secret) {
    const toggle = el(
      'button',
      { type: 'button', class: 'secondary', 'aria-pressed': 'false', 'aria-controls': id },
      'Show',
    );
    toggle.addEventListener('click', () => {
      const show = control.type === 'password';
      control.type = show ? 'text' : 'password';
      toggle.textContent = show ? 'Hide' : 'Show';
      toggle.setAttribute('aria-pressed', String(show));
    });
    row.append(toggle);
  }
  if (f.discover) row.append(discoverButton(form, control, existing ? 'Discover again' : 'Discover'));
  if (f.color) {
    const picker = el('input', { type: 'color', 'aria-label': 'Pick a colour', tabindex: '-1' });
    picker.addEventListener('input', () => {
      control.value = picker.value;
      control.dispatchEvent(new Event('input', { bubbles: true }));
    });
    control.addEventListener('input', () => {
      if (/^#[0-9a-f]{6}$/i.test(control.value)) picker.value = control.value;
    });
    row.append(picker);
  }
  return field({ label: f.label, control, row, hint: f.hint, name: f.name, required: f.required });
}

function discoverButton(form, issuer, label) {
  const button = el('button', { type: 'button', class: 'secondary' }, label);
  button.addEventListener('click', async () => {
    const err = form.querySelector('#f-issuer-error');
    if (!issuer.value.trim()) {
      err.textContent = 'Type the issuer URL first, such as https://accounts.example.com';
      issuer.focus();
      return;
    }
    button.disabled = true;
    button.textContent = 'Discovering…';
    form.setAttribute('aria-busy', 'true');
    err.textContent = '';
    try {
      const { form: filled, disagreements } = await api.discoverProvider(gather(form));
      const before = endpointsOf(form);
      fill(form, filled);
      const open = offerChoices(form, disagreements);
      const changed = endpointsOf(form).filter((v, i) => v !== before[i]).length;
      const kept = form.querySelectorAll('.source.typed:not([hidden])').length;
      err.textContent = '';
      toast(
        (changed
          ? `Filled ${changed} endpoint${changed === 1 ? '' : 's'} from the issuer's metadata.`
          : 'The metadata matches the form.') +
          (kept ? ` Kept ${kept} endpoint${kept === 1 ? '' : 's'} set by hand.` : '') +
          (open
            ? ` Its two documents disagree on ${open === 1 ? 'one endpoint' : `${open} endpoints`}: choose below.`
            : ''),
      );
      form.querySelector('.choice')?.scrollIntoView({ block: 'center' });
      form.dispatchEvent(new Event('input'));
    } catch (e) {
      err.textContent = e.fields?.[0]?.message ?? e.message;
      issuer.setAttribute('aria-invalid', 'true');
    } finally {
      button.disabled = false;
      button.textContent = label;
      form.removeAttribute('aria-busy');
    }
  });
  return button;
}

// An endpoint the issuer's two metadata documents name differently: both are offered beside
// the field, and nothing is chosen for the person.
/**
 * @param {HTMLFormElement} form
 * @param {import('../api.js').Disagreement[]} disagreements
 * @returns {number} how many are left to choose
 */
function offerChoices(form, disagreements) {
  for (const old of form.querySelectorAll('.choice')) old.remove();
  let shown = 0;
  for (const d of disagreements) {
    const node = form.querySelector(`[data-field="${d.field}"]`);
    const control = form.elements[d.field];
    if (!node || !control || control.value.trim()) continue;
    const choice = el(
      'div',
      { class: 'choice', role: 'group', 'aria-label': 'Choose the endpoint' },
      el('p', { class: 'field-error' }, "The provider's two metadata documents disagree here: choose one."),
    );
    d.values.forEach((value, i) => {
      const doc = d.sources[i].includes('openid-configuration') ? 'OpenID configuration' : 'RFC 8414 metadata';
      const use = el('button', { type: 'button', class: 'secondary' }, `Use ${visible(value)} (${doc})`);
      use.addEventListener('click', () => {
        control.value = value;
        choice.remove();
        control.dispatchEvent(new Event('input', { bubbles: true }));
        control.focus();
      });
      choice.append(use);
    });
    control.addEventListener('input', () => choice.remove(), { once: true });
    node.append(choice);
    shown++;
  }
  return shown;
}

// Says beside each endpoint whether the provider's metadata gave it or a person set it (which
// discovering again keeps), once the provider was discovered.
/** @param {HTMLFormElement} form */
function markSources(form) {
  /** @type {Record<string, string>} */
  const discovered = {};
  const given = /** @type {HTMLInputElement} */ (form.elements.namedItem('discovered')).value;
  for (const line of given.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) discovered[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  const known = Object.keys(discovered).length > 0;
  for (const name of DISCOVERED) {
    const label = form.querySelector(`[data-field="${name}"] > label`);
    if (!label) continue;
    // Beside the label, not in it: the field's name stays what a screen reader reads.
    const next = label.nextElementSibling;
    const tag = next?.classList.contains('source') ? /** @type {HTMLElement} */ (next) : el('span', {});
    if (tag !== next) label.after(tag);
    const value = /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value.trim();
    const source = !known || !value ? '' : discovered[name] === value ? 'discovered' : 'set by hand';
    tag.textContent = source;
    tag.className = `source ${source === 'discovered' ? 'found' : 'typed'}`;
    tag.hidden = !source;
  }
}

function endpointsOf(form) {
  return DISCOVERED.map((n) => form.elements[n].value);
}

function presetSection(presets, form, changed) {
  const picker = el(
    'select',
    { id: 'preset-picker' },
    el('option', { value: '' }, 'None: enter the provider by hand'),
    ...presets.map((p) => el('option', { value: p.id }, p.label)),
  );
  const params = el('div', { class: 'preset-params' });
  const notes = el('p', { class: 'hint', id: 'preset-notes' });
  const apply = el('button', { type: 'button', class: 'secondary' }, 'Apply preset');
  const error = el('p', { class: 'field-error', id: 'preset-error', role: 'alert' });
  const actions = el('div', { class: 'input-row' }, apply);
  actions.hidden = true;
  picker.setAttribute('aria-describedby', 'preset-notes preset-error');

  picker.addEventListener('change', () => {
    const p = presets.find((x) => x.id === picker.value);
    params.replaceChildren(
      ...(p?.params ?? []).map((k) =>
        field({
          label: k.label,
          control: el('input', {
            id: `preset-${k.key}`,
            'data-param': k.key,
            type: 'text',
            placeholder: k.example,
            value: k.default ?? '',
            spellcheck: 'false',
          }),
        }),
      ),
    );
    notes.textContent = p?.notes ?? '';
    actions.hidden = !p;
    error.textContent = '';
  });
  apply.addEventListener('click', async () => {
    /** @type {Record<string, string>} */
    const values = {};
    for (const input of params.querySelectorAll('input[data-param]')) values[input.dataset.param] = input.value;
    for (const e of params.querySelectorAll('.field-error')) e.textContent = '';
    error.textContent = '';
    try {
      const filled = await api.applyPreset(picker.value, values);
      const secret = form.elements.client_secret.value;
      const clientId = form.elements.client_id.value;
      fill(form, { ...filled, client_id: clientId });
      form.elements.client_secret.value = secret;
      toast(
        `Filled from the ${presets.find((x) => x.id === picker.value).label} preset: review it, add the client ID and save.`,
      );
      changed();
      form.elements.client_id.focus();
    } catch (e) {
      for (const f of e.fields ?? []) {
        const slot = params.querySelector(`#preset-${f.field}-error`);
        if (slot) slot.textContent = f.message;
        else error.textContent = f.message;
      }
      if (!e.fields?.length) error.textContent = e.message;
    }
  });
  return el(
    'fieldset',
    { class: 'preset' },
    el('legend', {}, 'Start from a preset'),
    el('div', { class: 'field' }, el('label', { for: 'preset-picker' }, 'Preset'), picker, notes, error),
    params,
    actions,
  );
}

function fill(form, values) {
  for (const name of FIELD_NAMES) {
    if (name in values && form.elements[name]) form.elements[name].value = values[name] ?? '';
  }
  markMethods(form);
  const color = form.elements.color?.value;
  const picker = form.querySelector('input[type=color]');
  if (picker && /^#[0-9a-f]{6}$/i.test(color)) picker.value = color;
  form.dispatchEvent(new Event('filled'));
}

// The metadata's names of the client authentication methods (RFC 8414, RFC 8705).
const METADATA_METHOD = {
  basic: 'client_secret_basic',
  post: 'client_secret_post',
  none: 'none',
  client_secret_jwt: 'client_secret_jwt',
  private_key_jwt: 'private_key_jwt',
  tls_client_auth: 'tls_client_auth',
  self_signed_tls_client_auth: 'self_signed_tls_client_auth',
};

// Says beside each client authentication method whether the provider's metadata offers it
// (known once discovered): offered ones first in the person's eye, the others still choosable,
// since metadata can be incomplete.
function markMethods(form) {
  const offered = (form.elements.auth_methods?.value ?? '').split(' ').filter(Boolean);
  const select = /** @type {HTMLSelectElement | null} */ (form.elements.namedItem('client_auth'));
  if (!select) return;
  for (const option of select.options) {
    option.textContent = option.dataset.label ?? option.textContent;
    option.dataset.label = option.textContent ?? '';
    const name = METADATA_METHOD[/** @type {keyof typeof METADATA_METHOD} */ (option.value)];
    if (offered.length && name && !offered.includes(name)) option.textContent += ' — not offered by this provider';
  }
}

// The fields whose value a named file will give when the form is saved.
function namedFiles(form) {
  const named = new Set();
  const key = /** @type {HTMLSelectElement | null} */ (form.querySelector('#f-client_key'));
  if (!key || key.closest('fieldset')?.hidden) return named;
  const value = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (form.querySelector(id)).value.trim();
  if (key.value === 'file' && value('#f-client_key_file')) named.add('client_key');
  if (form.elements.client_auth.value === 'tls_client_auth' && value('#f-client_cert')) {
    named.add('client_cert').add('client_key');
  }
  return named;
}

// The form as the core reads it: every field as text; an empty secret is left out (kept), and
// so is the key unless a new one is asked for (generated, or read from a file by the app, on
// saving only: a file is not opened on every keystroke).
function gather(form, { withFiles = false } = {}) {
  /** @type {import('../api.js').ProviderSubmission} */
  const input = {};
  for (const name of FIELD_NAMES) input[name] = form.elements[name]?.value ?? '';
  const secret = form.elements.client_secret.value;
  if (secret) input.client_secret = secret;
  const key = /** @type {HTMLSelectElement | null} */ (form.querySelector('#f-client_key'));
  if (key && !key.closest('fieldset')?.hidden) {
    if (key.value.startsWith('generate:')) input.client_key = { generate: key.value.slice('generate:'.length) };
    const file = /** @type {HTMLInputElement} */ (form.querySelector('#f-client_key_file')).value.trim();
    if (withFiles && key.value === 'file' && file) input.client_key = { file };
    const cert = /** @type {HTMLInputElement} */ (form.querySelector('#f-client_cert')).value.trim();
    if (withFiles && cert && form.elements.client_auth.value === 'tls_client_auth') input.client_cert = { file: cert };
  }
  return input;
}

function showErrors(form, errors, onlyThese) {
  const byField = new Map();
  for (const e of errors) if (!byField.has(e.field)) byField.set(e.field, e.message);
  const unplaced = [];
  for (const [name, message] of byField) {
    if (!form.querySelector(`[data-field="${name}"]`)) unplaced.push(message);
  }
  for (const node of form.querySelectorAll('[data-field]')) {
    const name = node.dataset.field;
    const show = byField.has(name) && (!onlyThese || onlyThese.has(name));
    node.querySelector('.field-error').textContent = show ? byField.get(name) : '';
    const control = node.querySelector('input, select, textarea');
    if (show) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  }
  form.querySelector('#form-error').textContent = onlyThese ? '' : unplaced.join(' ');
}
