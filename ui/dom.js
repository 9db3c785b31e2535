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

export function empty({ title, text, actions = [] }) {
  const node = document.getElementById('tpl-empty').content.firstElementChild.cloneNode(true);
  node.querySelector('.empty-title').textContent = title;
  node.querySelector('.empty-text').textContent = text;
  node.querySelector('.empty-actions').append(...actions);
  return node;
}

export function table(columns, rows) {
  const head = el('tr', {}, ...columns.map((c) => el('th', { scope: 'col' }, c.label)));
  const body = rows.map((r) => el('tr', {}, ...columns.map((c) => el('td', {}, c.value(r) ?? ''))));
  return el('table', { class: 'list' }, el('thead', {}, head), el('tbody', {}, ...body));
}

export function toast(message, kind = 'info') {
  const node = el('div', { class: `toast ${kind}` }, message);
  document.getElementById('toasts').append(node);
  setTimeout(() => node.remove(), 6000);
}

export function localTime(unix) {
  return unix == null ? '' : new Date(unix * 1000).toLocaleString();
}
