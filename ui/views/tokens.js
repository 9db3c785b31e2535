// The token table: every account's token with a live countdown; search, filters and sorting
// are done by the core in SQL, one page at a time, so a vault of 100,000 tokens stays quick.
import * as api from '../api.js';
import { confirmDialog, el, empty, localTime, shortTime, toast, visible } from '../dom.js';

export const title = 'Tokens';

// A page fills a large window (some 20 rows at 1600x1000) and little more: each row drawn is
// memory WebKit keeps, and its memory monitor reads all of it twice a minute while idle.
const PAGE = 25;
// Kept across re-renders (a refresh elsewhere re-renders the view).
const state = { search: '', provider: '', status: '', sort: 'provider', descending: false, offset: 0 };
let ticker = null;
const selected = new Set(); // "provider\naccount" of the rows ticked for a bulk refresh
const keyOf = (t) => `${t.provider}\n${t.account}`;

const STATUSES = [
  ['', 'Any status'],
  ['active', 'Active'],
  ['expiring', 'Expiring'],
  ['expired', 'Expired'],
  ['needs_signin', 'Needs sign-in'],
  ['revoked', 'Revoked'],
];
const COLUMNS = [
  [null, ''],
  ['provider', 'Provider'],
  ['account', 'Account'],
  ['status', 'Status'],
  ['expires_at', 'Expires'],
  [null, 'Scopes'],
  ['refreshed_at', 'Last refreshed'],
  [null, 'Actions'],
];

// Renders overlap (a change in the background while the person types a search): only the
// newest one's answer is drawn.
let renders = 0;

export async function render(view) {
  const mine = ++renders;
  const [page, providers] = await Promise.all([
    api.queryTokens({ ...state, provider: state.provider || null, status: state.status || null, limit: PAGE }),
    api.listProviders(),
  ]);
  if (mine !== renders) return;
  const filtering = state.search || state.provider || state.status;
  if (page.total === 0 && !filtering) {
    view.replaceChildren(
      empty({
        title: 'No tokens yet',
        text: 'Tokens appear here once you sign in to a provider. Add a provider first, then sign in with it.',
      }),
    );
    return;
  }
  const shape = shapeOf(providers);
  if (patch(view, shape, page)) return;
  const scroller = view.closest('main');
  const top = scroller?.scrollTop ?? 0;
  const same = view.querySelector('table.tokens')?.getAttribute('data-shape') === shape;
  const shown = table(view, page);
  shown.dataset.shape = shape;
  view.replaceChildren(toolbar(view, providers, page), shown);
  // The same query whose rows moved (a status changed under a sort by status): where it was.
  if (same && scroller) scroller.scrollTop = top;
  startTicker(view);
}

// Re-rendering patches the shown page where it can: a change in the background updates the
// table in place.
export const update = render;

/** Each row drawn, and the token (as JSON) it was drawn from. @type {WeakMap<HTMLElement, string>} */
const drawn = new WeakMap();

/** What a table shows beyond its rows: the query, and the providers to filter by. */
const shapeOf = (providers) => JSON.stringify([state, providers.map((p) => [p.name, p.color ?? null])]);

/**
 * The same page again (a refresh in the background, a row's action): only the rows whose
 * token changed are written, so the scroll, the focus and the search box stay as they were
 * and an idle window repaints nothing. False when the page is another (then it is drawn anew).
 * @param {HTMLElement} view
 */
function patch(view, shape, page) {
  const shown = /** @type {HTMLTableElement | null} */ (view.querySelector('table.tokens'));
  if (!shown || shown.dataset.shape !== shape) return false;
  const rows = [...shown.tBodies[0].rows];
  const same = rows.length === page.rows.length && rows.every((r, i) => r.dataset.key === keyOf(page.rows[i]));
  if (!same) return false;
  page.rows.forEach((t, i) => {
    if (drawn.get(rows[i]) === JSON.stringify(t)) return;
    const fresh = row(view, t);
    const active = document.activeElement;
    const focused = active && rows[i].contains(active) ? active.getAttribute('aria-label') : null;
    unwatch(rows[i]);
    rows[i].replaceWith(fresh);
    watch(fresh);
    if (focused)
      /** @type {HTMLElement | null} */ (fresh.querySelector(`[aria-label="${CSS.escape(focused)}"]`))?.focus();
  });
  const before = view.querySelector('.pager');
  const after = pager(view, page);
  if (before && before.textContent !== after.textContent) before.replaceWith(after);
  return true;
}

function toolbar(view, providers, page) {
  const rerender = () => {
    state.offset = 0;
    render(view);
  };
  const search = el('input', {
    id: 'tokens-search',
    type: 'search',
    placeholder: 'Provider or account',
    value: state.search,
    spellcheck: 'false',
  });
  let timer;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      state.search = search.value;
      state.offset = 0;
      await render(view);
      view.querySelector('#tokens-search')?.focus();
    }, 200);
  });
  const provider = el(
    'select',
    { id: 'tokens-provider' },
    el('option', { value: '' }, 'Every provider'),
    ...providers.map((p) => el('option', { value: p.name }, visible(p.name))),
  );
  provider.value = state.provider;
  provider.addEventListener('change', () => {
    state.provider = provider.value;
    rerender();
  });
  const status = el('select', { id: 'tokens-status' }, ...STATUSES.map(([v, t]) => el('option', { value: v }, t)));
  status.value = state.status;
  status.addEventListener('change', () => {
    state.status = status.value;
    rerender();
  });
  const refreshAll = el(
    'button',
    { type: 'button', class: 'secondary', id: 'bulk-refresh', onclick: () => bulkRefresh(view) },
    selected.size ? `Refresh selected (${selected.size})` : 'Refresh all',
  );
  const importButton = el(
    'button',
    { type: 'button', class: 'secondary', onclick: () => importDialog(view, providers) },
    'Import token',
  );
  return el(
    'div',
    { class: 'filters' },
    el('div', { class: 'field' }, el('label', { for: 'tokens-search' }, 'Search'), search),
    el('div', { class: 'field' }, el('label', { for: 'tokens-provider' }, 'Provider'), provider),
    el('div', { class: 'field' }, el('label', { for: 'tokens-status' }, 'Status'), status),
    el('div', { class: 'toolbar-actions' }, refreshAll, importButton),
    pager(view, page),
  );
}

// Where the page is in the whole, and the way to the pages before and after it.
function pager(view, page) {
  const shown =
    page.total === 0
      ? 'No tokens match.'
      : `Showing ${state.offset + 1}–${state.offset + page.rows.length} of ${page.total}`;
  const bar = el('div', { class: 'pager' }, el('span', { class: 'muted', role: 'status' }, shown));
  if (state.offset > 0)
    bar.append(
      el(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: () => {
            state.offset = Math.max(0, state.offset - PAGE);
            render(view);
          },
        },
        'Previous',
      ),
    );
  if (state.offset + page.rows.length < page.total)
    bar.append(
      el(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: () => {
            state.offset += PAGE;
            render(view);
          },
        },
        'Next',
      ),
    );
  return bar;
}

function table(view, page) {
  const head = el(
    'tr',
    {},
    ...COLUMNS.map(([key, label]) => {
      // The scopes give way first when the window is narrow (Details shows them).
      if (!key) return el('th', { scope: 'col', class: label === 'Scopes' ? 'scopes' : '' }, label);
      const active = state.sort === key;
      const button = el(
        'button',
        { type: 'button', class: 'sort' },
        label,
        active ? (state.descending ? ' ↓' : ' ↑') : '',
      );
      button.addEventListener('click', () => {
        state.descending = active ? !state.descending : false;
        state.sort = key;
        render(view);
      });
      const th = el('th', { scope: 'col' }, button);
      if (active) th.setAttribute('aria-sort', state.descending ? 'descending' : 'ascending');
      return th;
    }),
  );
  const rows = page.rows.map((t) => row(view, t));
  return el('table', { class: 'list tokens' }, el('thead', {}, head), el('tbody', {}, ...rows));
}

function row(view, t) {
  const swatch = el('span', { class: 'dot', 'aria-hidden': 'true' });
  if (t.color) swatch.style.setProperty('--swatch', t.color);
  const status = el('span', { class: `status ${t.status}` }, t.status.replace('_', ' '));
  const statusCell = el('td', {}, status);
  if (t.bound)
    statusCell.append(
      ' ',
      el(
        'span',
        {
          class: 'badge bound',
          title: `Bound to this app’s ${t.bound === 'DPoP' ? 'DPoP key' : 'client certificate'}: a copy of the token is useless without it`,
        },
        `${t.bound}-bound`,
      ),
    );
  if (t.last_error) statusCell.append(el('div', { class: 'row-error' }, t.last_error));
  const expires = el('td', { class: 'countdown' });
  const live = t.expires_at != null && t.status !== 'revoked';
  if (live) expires.dataset.expires = String(t.expires_at);
  const left = el('span', { class: 'left' });
  showLeft(left, t.status === 'revoked' ? '—' : countdown(t.expires_at));
  expires.append(left);
  if (t.expires_at != null) expires.title = localTime(t.expires_at);
  const lifebar = el('span', { class: 'lifebar', 'aria-hidden': 'true' }, el('span', {}));
  if (live) {
    expires.dataset.issued = String(t.issued_at);
    expires.append(lifebar);
    fillBar(lifebar, t.issued_at, t.expires_at);
  }
  const who = `${visible(t.account)} at ${visible(t.provider)}`;
  const copy = el(
    'button',
    {
      type: 'button',
      class: 'icon secondary',
      'aria-label': `Copy the access token of ${who}`,
      title: 'Copy the access token',
    },
    'Copy',
  );
  copy.disabled = t.status === 'revoked' || t.status === 'needs_signin';
  copy.addEventListener('click', () => copyToken(t));
  const more = el(
    'button',
    {
      type: 'button',
      class: 'icon secondary',
      'aria-label': `More actions for ${who}`,
      'aria-haspopup': 'menu',
      'aria-expanded': 'false',
      title: 'More actions',
    },
    '⋯',
  );
  more.addEventListener('click', () => rowMenu(view, t, more));
  const tick = el('input', { type: 'checkbox', 'aria-label': `Select ${who}` });
  tick.checked = selected.has(keyOf(t));
  tick.addEventListener('change', () => {
    if (tick.checked) selected.add(keyOf(t));
    else selected.delete(keyOf(t));
    updateBulkLabel(view);
  });
  // Long names are cut with an ellipsis; the whole name is in the tooltip and in Details.
  const clipped = (text) => el('span', { class: 'clip', title: text }, text);
  const tr = el(
    'tr',
    {},
    el('td', {}, tick),
    el('td', { class: 'name' }, swatch, clipped(visible(t.provider))),
    el('td', { class: 'name' }, clipped(visible(t.account))),
    statusCell,
    expires,
    el('td', { class: 'scopes' }, clipped(t.scopes.join(' '))),
    el(
      'td',
      { class: 'when', title: t.refreshed_at ? localTime(t.refreshed_at) : '' },
      t.refreshed_at ? shortTime(t.refreshed_at) : 'never',
    ),
    el('td', { class: 'row-actions' }, copy, more),
  );
  tr.dataset.key = keyOf(t);
  drawn.set(tr, JSON.stringify(t));
  return tr;
}

async function copyToken(t) {
  try {
    const secs = await api.copyAccessToken(t.provider, t.account);
    toast(
      secs > 0
        ? `Access token copied; the clipboard is cleared in ${secs} seconds.`
        : 'Access token copied. (Clearing the clipboard is off in Settings.)',
    );
  } catch (e) {
    toast(e.message, 'error');
  }
}

// The row's other actions, in a menu: Details, Refresh, Exchange, Sign out, Revoke. Arrow keys
// move between them, Escape closes it and gives the focus back.
function rowMenu(view, t, opener) {
  document.querySelector('.row-menu')?.remove();
  const who = `${visible(t.account)} at ${visible(t.provider)}`;
  const menu = el('div', { class: 'row-menu', role: 'menu', 'aria-label': `Actions for ${who}` });
  const close = (focus = true) => {
    menu.remove();
    opener.setAttribute('aria-expanded', 'false');
    document.removeEventListener('click', outside, true);
    if (focus) opener.focus();
  };
  const outside = (ev) => {
    if (!menu.contains(ev.target) && ev.target !== opener) close(false);
  };
  const item = (label, action, { disabled = false, danger = false } = {}) => {
    const b = el('button', { type: 'button', role: 'menuitem', class: danger ? 'danger-text' : '' }, label);
    b.disabled = disabled;
    b.addEventListener('click', () => {
      close();
      action();
    });
    return b;
  };
  menu.append(
    item('Details', () => detailsDialog(t)),
    item('Refresh', () => refreshRow(view, t), { disabled: !t.has_refresh_token || t.status === 'revoked' }),
    item('Exchange for another token…', () => exchangeDialog(view, t), { disabled: t.status === 'revoked' }),
    item('Sign out…', () => signOutDialog(view, t), { disabled: t.status === 'revoked' }),
    item('Revoke', () => revokeRow(view, t), { disabled: t.status === 'revoked', danger: true }),
  );
  menu.addEventListener('keydown', (ev) => {
    const items = [...menu.querySelectorAll('button:not([disabled])')];
    const at = items.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
    if (ev.key === 'Escape') {
      ev.preventDefault();
      close();
    } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const step = ev.key === 'ArrowDown' ? 1 : -1;
      /** @type {HTMLElement} */ (items[(at + step + items.length) % items.length]).focus();
    } else if (ev.key === 'Tab') {
      close(false);
    }
  });
  opener.setAttribute('aria-expanded', 'true');
  // Over the page, not inside the table (which clips): under the button, or above it when
  // the window ends first.
  document.body.append(menu);
  const at = opener.getBoundingClientRect();
  menu.style.right = `${Math.max(8, window.innerWidth - at.right)}px`;
  if (at.bottom + menu.offsetHeight + 8 > window.innerHeight) {
    menu.style.top = `${Math.max(8, at.top - menu.offsetHeight - 4)}px`;
  } else menu.style.top = `${at.bottom + 4}px`;
  window.addEventListener('resize', () => close(false), { once: true });
  document.addEventListener('click', outside, true);
  /** @type {HTMLElement | null} */ (menu.querySelector('button:not([disabled])'))?.focus();
}

async function refreshRow(view, t) {
  const who = `${visible(t.account)} at ${visible(t.provider)}`;
  try {
    const o = await api.refreshToken(t.provider, t.account);
    toast(`Refreshed ${who}${o.rotated ? ' (new refresh token)' : ''}.`);
  } catch (e) {
    toast(e.message, 'error');
  }
  await render(view);
}

async function revokeRow(view, t) {
  const who = `${visible(t.account)} at ${visible(t.provider)}`;
  const yes = await confirmDialog({
    title: `Revoke the token of ${visible(t.account)}?`,
    text: `${visible(t.provider)} will refuse it from now on, and it is wiped from the vault. Scripts that use it will need a new sign-in.`,
    confirm: 'Revoke token',
  });
  if (!yes) return;
  try {
    const outcome = await api.revokeToken(t.provider, t.account);
    toast(
      outcome === 'at_provider'
        ? `Revoked ${who}.`
        : `${visible(t.provider)} has no revocation endpoint: the token was forgotten here but NOT revoked.`,
      outcome === 'at_provider' ? 'info' : 'error',
    );
  } catch (e) {
    toast(e.message, 'error');
  }
  await render(view);
}

// Sign out (OpenID Connect RP-Initiated Logout): revoke, end the provider's session where it
// has an end-session endpoint (in the login window, which closes when the provider sends the
// person back), then keep the account as signed out or forget it.
function signOutDialog(view, t) {
  const who = `${visible(t.account)} at ${visible(t.provider)}`;
  const dialog = el('dialog', {
    class: 'confirm',
    'aria-labelledby': 'signout-title',
    'aria-describedby': 'signout-text',
  });
  const forget = el('input', { type: 'checkbox', id: 'signout-forget' });
  const status = el('p', { role: 'status', class: 'muted' });
  const cancel = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const ok = el('button', { type: 'button', class: 'danger' }, 'Sign out');
  dialog.append(
    el('h2', { id: 'signout-title' }, `Sign ${visible(t.account)} out?`),
    el(
      'p',
      { id: 'signout-text', class: 'muted' },
      `Its tokens are revoked at ${visible(t.provider)}. Where the provider can end its own session, a window opens to do so; the next sign-in then asks for the login again.`,
    ),
    el('label', { class: 'check' }, forget, ' Also forget the account here'),
    status,
    el('div', { class: 'actions' }, cancel, ok),
  );
  let waiting = false;
  cancel.addEventListener('click', () => {
    // Once asked, Cancel stops waiting for the provider; the tokens are revoked already.
    if (waiting) api.cancelSignOut();
    else dialog.close();
  });
  ok.addEventListener('click', async () => {
    ok.disabled = true;
    waiting = true;
    status.textContent = 'Signing out… (finish in the window that opens, if one does)';
    try {
      const o = await api.signOut(t.provider, t.account, forget.checked);
      dialog.close();
      toast(
        `Signed ${who} out: ${o.revoked_at_provider ? 'tokens revoked' : 'tokens forgotten (the provider cannot revoke)'}` +
          `${o.session_ended ? ', the provider’s session ended' : ''}${o.forgotten ? ', the account forgotten' : ''}.`,
      );
    } catch (e) {
      dialog.close();
      toast(e.message, 'error');
    }
    await render(view);
  });
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  cancel.focus();
}

// Token exchange (RFC 8693): this account's token (the subject) traded at a provider for one
// of its own, stored there as an account.
async function exchangeDialog(view, t) {
  let providers;
  try {
    providers = await api.listProviders();
  } catch (e) {
    toast(e.message, 'error');
    return;
  }
  const dialog = el('dialog', { class: 'details', 'aria-labelledby': 'exchange-title' });
  const at = el(
    'select',
    { id: 'exchange-provider' },
    ...providers.map((p) => el('option', { value: p.name }, visible(p.name))),
  );
  at.value = t.provider;
  const input = (id, placeholder = '') => el('input', { id, type: 'text', spellcheck: 'false', placeholder });
  const audience = input('exchange-audience', 'orders-api');
  const resource = input('exchange-resource', 'https://api.example.com/orders');
  const scopes = input('exchange-scopes', 'openid email');
  const account = input('exchange-account', `exchanged from ${t.provider} / ${t.account}`);
  const error = el('p', { class: 'field-error', role: 'alert' });
  const row = (id, label, control, hint = '') =>
    el(
      'div',
      { class: 'field' },
      el('label', { for: id }, label),
      control,
      hint ? el('p', { class: 'hint' }, hint) : '',
    );
  const form = el(
    'form',
    { method: 'dialog' },
    el('h2', { id: 'exchange-title' }, 'Exchange for another token'),
    el(
      'p',
      { class: 'muted' },
      `The token of ${visible(t.account)} at ${visible(t.provider)} is the subject (RFC 8693).`,
    ),
    row('exchange-provider', 'Exchange at', at, 'The provider whose token endpoint makes the new token.'),
    row('exchange-audience', 'Audience', audience),
    row('exchange-resource', 'Resource', resource),
    row('exchange-scopes', 'Scopes', scopes, 'Separated by spaces; empty asks for what the provider gives.'),
    row(
      'exchange-account',
      'Store as account',
      account,
      'Exchanged again when it expires, as it has no refresh token.',
    ),
    error,
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel'),
      el('button', { type: 'submit', class: 'primary' }, 'Exchange'),
    ),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      const got = await api.exchangeToken(at.value, {
        subject: { provider: t.provider, account: t.account },
        audience: audience.value,
        resource: resource.value,
        scopes: scopes.value.split(' ').filter(Boolean),
        account: account.value,
      });
      dialog.close();
      toast(`Exchanged: ${visible(got.account)} at ${visible(at.value)}.`);
      await render(view);
    } catch (e) {
      error.textContent = e.fields?.length ? e.fields.map((f) => `${f.field}: ${f.message}`).join('; ') : e.message;
    }
  });
  dialog.append(form);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  audience.focus();
}

// A countdown is as precise as it is useful at its distance from expiry, and written only as
// often as its text can change: seconds in the last minute either side of expiry, minutes in
// the last ten, five minutes ("~") up to a day ahead, hours beyond (and for a token an hour
// past). The cells move together on the clock's second, minute, five minutes or hour, so a
// value shown may lag its token by up to one step; the exact time is the cell's tooltip.
// Why so coarse: a repaint of an idle window costs WebKit (in software rendering) 5 to 9 ms,
// whatever it paints, more than all else the app does in a minute. Far tokens repaint each
// five minutes rather than each minute; a token's last ten minutes tick as before.
const DAY = 86400;
// Coming closer to expiry, the step gets finer at these distances (seconds).
const EDGES = [DAY, 600, 60];

/** The step (seconds) of a countdown `span` seconds from expiry, after it if `past`. */
function stepOf(span, past) {
  if (span < 60) return 1;
  if (span < 600) return 60;
  return span < 3600 || (span < DAY && !past) ? 300 : 3600;
}

/** "in ~1h 25m", "expired 3m ago": the time left or past, rounded down to its step. */
function countdown(expiresAt, nowMs = Date.now()) {
  if (expiresAt == null) return 'no expiry';
  const left = expiresAt - Math.floor(nowMs / 1000);
  const past = left <= 0;
  const span = Math.abs(left);
  const step = stepOf(span, past);
  const shown = span - (span % step);
  const about = step === 300 ? '~' : '';
  const [d, h, m] = [Math.floor(shown / DAY), Math.floor((shown % DAY) / 3600), Math.floor((shown % 3600) / 60)];
  const text =
    shown >= DAY
      ? past
        ? `${d}d`
        : `${d}d ${h}h`
      : shown >= 3600
        ? past
          ? `${h}h`
          : `${about}${h}h${m ? ` ${m}m` : ''}`
        : shown >= 60
          ? `${about}${m}m`
          : `${shown}s`;
  return past ? `expired ${text} ago` : `in ${text}`;
}

/** When (ms since the epoch) the countdown of a token expiring at `expiresAt` is next written. */
function nextWrite(expiresAt, nowMs) {
  // The whole second, as the text was written from: a write just past an edge still wakes
  // for the finer step.
  const now = Math.floor(nowMs / 1000);
  const left = expiresAt - now;
  const step = stepOf(Math.abs(left), left <= 0);
  let at = (Math.floor(now / step) + 1) * step;
  // Before expiry, a finer step may begin sooner: the first second past its edge.
  for (const edge of EDGES) if (left >= edge) at = Math.min(at, expiresAt - edge + 1);
  return at * 1000;
}

/**
 * Writes the cell's countdown and bar, each only if it changed, and says when (ms since the
 * epoch) it is next due.
 * @param {HTMLElement} c
 */
function tick(c) {
  const nowMs = Date.now();
  const expires = Number(c.dataset.expires);
  const text = countdown(expires, nowMs);
  showLeft(/** @type {HTMLElement} */ (c.querySelector('.left')), text);
  const bar = /** @type {HTMLElement | null} */ (c.querySelector('.lifebar'));
  if (bar) fillBar(bar, Number(c.dataset.issued), expires, nowMs);
  return nextWrite(expires, nowMs);
}

/**
 * Writes a countdown's text if it changed; a wider box once it says "expired ... ago".
 * @param {HTMLElement} left
 * @param {string} text
 */
function showLeft(left, text) {
  if (left.textContent === text) return;
  left.textContent = text;
  const past = text.startsWith('expired');
  if (left.classList.contains('past') !== past) left.classList.toggle('past', past);
}

/**
 * Sets the bar to the share of the lifetime left, in steps of 5% (4.5 px of its 90).
 * @param {HTMLElement} bar
 */
function fillBar(bar, issued, expires, nowMs = Date.now()) {
  const life = Math.max(1, expires - issued);
  const share = Math.min(1, Math.max(0, (expires - nowMs / 1000) / life));
  const percent = Math.round(share * 20) * 5;
  const inner = /** @type {HTMLElement} */ (bar.firstElementChild);
  const width = `${percent}%`;
  if (inner.style.width !== width) inner.style.width = width;
  const low = percent < 20 ? 'true' : 'false';
  if (bar.dataset.low !== low) bar.dataset.low = low;
}

// Only the countdowns on screen are kept (a page of 25 rows shows a dozen), by one timer set
// for the soonest change among them.
/** @type {IntersectionObserver | null} */
let watcher = null;
/** @type {Set<HTMLElement>} */
const onScreen = new Set();
let due = Infinity;

/** @param {number} at ms since the epoch */
function wakeAt(at, view) {
  if (at >= due) return;
  clearTimeout(ticker);
  due = at;
  // A few ms late rather than early: the second must have turned when it runs.
  ticker = setTimeout(() => runTicker(view), Math.max(0, at - Date.now()) + 5);
}

function runTicker(view) {
  due = Infinity;
  if (!view.querySelector('table.tokens')) {
    watcher?.disconnect();
    onScreen.clear();
    return;
  }
  let next = Infinity;
  for (const c of onScreen) if (c.isConnected) next = Math.min(next, tick(c));
  wakeAt(next, view);
}

function startTicker(view) {
  clearTimeout(ticker);
  due = Infinity;
  watcher?.disconnect();
  onScreen.clear();
  watcher = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const c = /** @type {HTMLElement} */ (e.target);
      if (e.isIntersecting) {
        onScreen.add(c);
        wakeAt(tick(c), view);
      } else onScreen.delete(c);
    }
  });
  for (const c of view.querySelectorAll('td.countdown[data-expires]')) watcher.observe(c);
}

/** A row drawn into the table: its countdown is kept too. @param {HTMLElement} tr */
function watch(tr) {
  const c = tr.querySelector('td.countdown[data-expires]');
  if (c) watcher?.observe(c);
}

/** A row leaving the table. @param {HTMLElement} tr */
function unwatch(tr) {
  const c = /** @type {HTMLElement | null} */ (tr.querySelector('td.countdown[data-expires]'));
  if (!c) return;
  watcher?.unobserve(c);
  onScreen.delete(c);
}

// ---- Details: claims, userinfo, introspection; the token itself only on request ----------

const TIME_CLAIMS = ['exp', 'iat', 'nbf', 'auth_time', 'updated_at'];

function claimsText(obj) {
  return JSON.stringify(
    obj,
    (k, v) => (TIME_CLAIMS.includes(k) && typeof v === 'number' ? `${v} (${localTime(v)})` : v),
    2,
  );
}

async function detailsDialog(t) {
  const who = `${visible(t.account)} at ${visible(t.provider)}`;
  const dialog = el('dialog', { class: 'details', 'aria-labelledby': 'details-title' });
  const body = el(
    'div',
    {},
    el(
      'p',
      { class: 'progress', role: 'status' },
      el('span', { class: 'spinner', 'aria-hidden': 'true' }),
      'Asking the provider…',
    ),
  );
  const close = el('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Close');
  // Trading this token for another (RFC 8693) starts here too, as from the row's menu.
  const exchange = el('button', { type: 'button', class: 'secondary' }, 'Exchange for another token…');
  exchange.disabled = t.status === 'revoked';
  exchange.addEventListener('click', () => {
    dialog.close();
    exchangeDialog(/** @type {HTMLElement} */ (document.getElementById('view')), t);
  });
  dialog.append(el('h2', { id: 'details-title' }, who), body, el('div', { class: 'actions' }, exchange, close));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();

  const masked = el('code', { class: 'secret', id: 'access-token-value' }, '••••••••••••••••');
  const reveal = el('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false' }, 'Reveal');
  reveal.addEventListener('click', async () => {
    if (reveal.getAttribute('aria-pressed') === 'true') {
      masked.textContent = '••••••••••••••••';
      reveal.textContent = 'Reveal';
      reveal.setAttribute('aria-pressed', 'false');
      return;
    }
    try {
      masked.textContent = await api.revealAccessToken(t.provider, t.account);
      reveal.textContent = 'Hide';
      reveal.setAttribute('aria-pressed', 'true');
    } catch (e) {
      toast(e.message, 'error');
    }
  });
  const copy = el('button', { type: 'button', class: 'secondary' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      const secs = await api.copyAccessToken(t.provider, t.account);
      toast(
        secs > 0
          ? `Access token copied; the clipboard is cleared in ${secs} seconds.`
          : 'Access token copied. (Clearing the clipboard is off in Settings.)',
      );
    } catch (e) {
      toast(e.message, 'error');
    }
  });
  const section = (title, content) => el('section', {}, el('h3', {}, title), content);
  const parts = [section('Access token', el('div', { class: 'input-row' }, masked, reveal, copy))];
  try {
    const d = await api.tokenDetails(t.provider, t.account);
    if (d.id_token)
      parts.push(
        section('ID token', el('pre', {}, `${claimsText(d.id_token.header)}\n${claimsText(d.id_token.claims)}`)),
      );
    if (d.access_token)
      parts.push(
        section(
          'Access token claims (JWT)',
          el('pre', {}, `${claimsText(d.access_token.header)}\n${claimsText(d.access_token.claims)}`),
        ),
      );
    if (d.bound_to)
      parts.push(
        section(
          'Bound to',
          el(
            'p',
            {},
            `The ${d.bound_to.kind} ${d.bound_to.kind === 'mTLS' ? 'certificate' : 'key'} of ${visible(t.provider)} (${d.bound_to.alg}, thumbprint `,
            el('code', {}, d.bound_to.thumbprint),
            '): every use needs a proof signed with it, which only this app can make.',
          ),
        ),
      );
    if (d.userinfo) parts.push(section('Userinfo', el('pre', {}, claimsText(d.userinfo))));
    if (d.introspection) parts.push(section('Introspection', el('pre', {}, claimsText(d.introspection))));
    for (const n of d.notes) parts.push(el('p', { class: 'muted' }, n));
  } catch (e) {
    parts.push(el('p', { class: 'field-error' }, e.message));
  }
  body.replaceChildren(...parts);
}

// ---- Bulk refresh, with progress and a summary -------------------------------------------

function updateBulkLabel(view) {
  const b = view.querySelector('#bulk-refresh');
  if (b) b.textContent = selected.size ? `Refresh selected (${selected.size})` : 'Refresh all';
}

async function bulkRefresh(view) {
  const page = await api.queryTokens({
    ...state,
    provider: state.provider || null,
    status: state.status || null,
    offset: 0,
    limit: 1000,
  });
  const rows = page.rows.filter(
    (t) => t.has_refresh_token && t.status !== 'revoked' && (!selected.size || selected.has(keyOf(t))),
  );
  selected.clear();
  if (!rows.length) {
    toast('No token here can be refreshed.');
    return;
  }
  const bar = el('progress', { max: String(rows.length), value: '0', 'aria-label': 'Refresh progress' });
  const label = el('p', { role: 'status' }, `Refreshing 0 of ${rows.length}…`);
  const dialog = el('dialog', { class: 'signin' }, el('h2', {}, 'Refreshing tokens'), label, bar);
  document.body.append(dialog);
  dialog.addEventListener('cancel', (ev) => ev.preventDefault());
  dialog.showModal();
  let ok = 0;
  const failed = [];
  for (const [i, t] of rows.entries()) {
    try {
      await api.refreshToken(t.provider, t.account);
      ok++;
    } catch (e) {
      failed.push(`${visible(t.account)} at ${visible(t.provider)}: ${e.message}`);
    }
    bar.value = i + 1;
    label.textContent = `Refreshing ${i + 1} of ${rows.length}…`;
  }
  dialog.close();
  dialog.remove();
  const plural = (n) => `${n} token${n === 1 ? '' : 's'}`;
  toast(
    failed.length
      ? `Refreshed ${ok} of ${plural(rows.length)}; ${failed.length} failed: ${failed.join('; ')}`
      : `Refreshed ${rows.length > 1 ? 'all ' : ''}${plural(ok)}.`,
    failed.length ? 'error' : 'info',
  );
  await render(view);
}

// ---- Import (the Mattermost "set user token") ----------------------------------------------

function importDialog(view, providers) {
  const dialog = el('dialog', { class: 'details', 'aria-labelledby': 'import-title' });
  const provider = el(
    'select',
    { id: 'import-provider' },
    ...providers.map((p) => el('option', { value: p.name }, visible(p.name))),
  );
  const account = el('input', { id: 'import-account', type: 'text', spellcheck: 'false' });
  const json = el('textarea', {
    id: 'import-json',
    rows: '6',
    spellcheck: 'false',
    placeholder: '{"access_token": "…", "refresh_token": "…", "expires_in": 3600, "scope": "openid"}',
  });
  const error = el('p', { class: 'field-error', role: 'alert' });
  const form = el(
    'form',
    { method: 'dialog' },
    el('h2', { id: 'import-title' }, 'Import a token'),
    el('div', { class: 'field' }, el('label', { for: 'import-provider' }, 'Provider'), provider),
    el('div', { class: 'field' }, el('label', { for: 'import-account' }, 'Account'), account),
    el('div', { class: 'field' }, el('label', { for: 'import-json' }, 'Token response (JSON)'), json),
    error,
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel'),
      el('button', { type: 'submit', class: 'primary' }, 'Import'),
    ),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      await api.importToken(provider.value, account.value, json.value);
      json.value = '';
      dialog.close();
      toast(`Imported the token of ${visible(account.value)}.`);
      await render(view);
    } catch (e) {
      error.textContent = e.fields?.length ? e.fields.map((f) => `${f.field}: ${f.message}`).join('; ') : e.message;
    }
  });
  dialog.append(form);
  dialog.addEventListener('close', () => {
    json.value = '';
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
  account.focus();
}
