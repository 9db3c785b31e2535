// Small DOM helpers. Data always goes in through textContent, never innerHTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/**
 * A form field: its label, the control (or a row holding it and its buttons), a hint and the
 * slot its error goes in. The slot's id is the control's id + `-error`, which the tests and
 * screen readers (aria-describedby) find it by.
 * @param {object} o
 * @param {string} o.label
 * @param {HTMLElement} o.control the input, select or textarea; it must have its id
 * @param {Node} [o.row] what is shown in its place, when the control has buttons beside it
 * @param {string} [o.hint]
 * @param {string} [o.name] the field the core names in its errors (data-field on the wrapper)
 * @param {boolean} [o.required]
 * @param {boolean} [o.alert] the error is announced as soon as it appears (role=alert)
 * @returns {HTMLDivElement}
 */
export function field({ label, control, row = control, hint = '', name = '', required = false, alert = false }) {
  const id = control.id;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  if (required) control.setAttribute('aria-required', 'true');
  control.setAttribute('aria-describedby', `${hint ? hintId : ''} ${errorId}`.trim());
  /** @type {Record<string, string>} */
  const errorAttrs = { class: 'field-error', id: errorId };
  if (alert) errorAttrs.role = 'alert';
  /** @type {Record<string, string>} */
  const attrs = { class: 'field' };
  if (name) attrs['data-field'] = name;
  return /** @type {HTMLDivElement} */ (
    el(
      'div',
      attrs,
      el('label', required ? { for: id, class: 'required' } : { for: id }, label),
      row,
      hint ? el('p', { class: 'hint', id: hintId }, hint) : '',
      el('p', errorAttrs),
    )
  );
}

// The element of index.html with this id. The page is ours: a missing one is a bug, said by
// name here rather than as "null has no properties" wherever it is used.
/**
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no #${id}`);
  return node;
}

// The element under `root` that `selector` names, which the code built itself (a missing one is a bug).
/**
 * @param {ParentNode} root
 * @param {string} selector
 * @returns {HTMLElement}
 */
export function one(root, selector) {
  const node = root.querySelector(selector);
  if (!node) throw new Error(`no ${selector} here`);
  return /** @type {HTMLElement} */ (node);
}

/**
 * @param {{ title: string, text: string, actions?: Node[] }} o
 * @returns {HTMLElement}
 */
export function empty({ title, text, actions = [] }) {
  const template = /** @type {HTMLTemplateElement} */ (byId('tpl-empty'));
  const node = /** @type {HTMLElement} */ (one(template.content, '.empty').cloneNode(true));
  one(node, '.empty-title').textContent = title;
  one(node, '.empty-text').textContent = text;
  one(node, '.empty-actions').append(...actions);
  return node;
}

export function table(columns, rows) {
  const head = el('tr', {}, ...columns.map((c) => el('th', { scope: 'col' }, c.label)));
  const body = rows.map((r) => el('tr', {}, ...columns.map((c) => el('td', {}, c.value(r) ?? ''))));
  return el('table', { class: 'list' }, el('thead', {}, head), el('tbody', {}, ...body));
}

export function toast(message, kind = 'info') {
  const node = el('div', { class: `toast ${kind}` }, message);
  byId('toasts').append(node);
  setTimeout(() => node.remove(), 6000);
}

export function localTime(unix) {
  return unix == null ? '' : new Date(unix * 1000).toLocaleString();
}

// A time in a table cell: the hour today, the day otherwise (the whole one is its tooltip).
/** @param {number} unix */
export function shortTime(unix) {
  const at = new Date(unix * 1000);
  const today = new Date().toDateString() === at.toDateString();
  return today
    ? at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : at.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

// Bidi overrides, zero-width and control characters change how text reads without being seen:
// write them out as <U+XXXX>, as the CLI does.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
export function visible(text) {
  return String(text ?? '').replace(
    INVISIBLE,
    (c) => `<U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>`,
  );
}

// Asks before something is destroyed. Resolves true only on the explicit button; Escape,
// Cancel and closing the dialog all mean no. Cancel has the focus, so Enter does not destroy.
export function confirmDialog({ title, text, confirm, kind = 'danger', cancel: no = 'Cancel' }) {
  return new Promise((resolve) => {
    const dialog = el('dialog', {
      class: 'confirm',
      'aria-labelledby': 'confirm-title',
      'aria-describedby': 'confirm-text',
    });
    const cancel = el('button', { type: 'button', class: 'secondary' }, no);
    const ok = el('button', { type: 'button', class: kind }, confirm);
    dialog.append(
      el('h2', { id: 'confirm-title' }, title),
      el('p', { id: 'confirm-text', class: 'muted' }, text),
      el('div', { class: 'actions' }, cancel, ok),
    );
    let answer = false;
    cancel.addEventListener('click', () => dialog.close());
    ok.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

// Asks for one optional secret value before an action (an initial access token): resolves
// null when the person cancels, else the typed text ('' when left empty). The value is never
// shown unless asked, and the dialog leaves nothing behind.
/** @returns {Promise<string | null>} */
export function secretDialog({ title, text, label, confirm }) {
  return new Promise((resolve) => {
    const dialog = el('dialog', {
      class: 'confirm',
      'aria-labelledby': 'secret-title',
      'aria-describedby': 'secret-text',
    });
    const input = el('input', { type: 'password', id: 'secret-value', autocomplete: 'off' });
    const cancel = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const ok = el('button', { type: 'submit', class: 'primary' }, confirm);
    const form = el(
      'form',
      { method: 'dialog' },
      el('h2', { id: 'secret-title' }, title),
      el('p', { id: 'secret-text', class: 'muted' }, text),
      el('label', { for: 'secret-value' }, label),
      input,
      el('div', { class: 'actions' }, cancel, ok),
    );
    dialog.append(form);
    let answer = null;
    cancel.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      answer = input.value;
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      input.value = '';
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}
