// The activity log: what was done to which provider or token, and when. Never a secret.
import * as api from '../api.js';
import { el, empty, localTime, table, visible } from '../dom.js';

export const title = 'Activity';

let filter = '';

export async function render(view) {
  const entries = await api.listActivity();
  if (entries.length === 0) {
    view.append(
      empty({ title: 'Nothing has happened yet', text: 'What you do to providers and tokens is listed here.' }),
    );
    return;
  }
  const search = el('input', {
    id: 'activity-filter',
    type: 'search',
    placeholder: 'Action, provider, account or detail',
    value: filter,
  });
  const body = el('div');
  const draw = () => {
    const needle = filter.toLowerCase();
    const shown = entries.filter(
      (a) =>
        !needle || [a.action, a.provider, a.account, a.detail].some((f) => (f ?? '').toLowerCase().includes(needle)),
    );
    body.replaceChildren(
      shown.length
        ? table(
            [
              { label: 'When', value: (a) => localTime(a.at) },
              { label: 'What', value: (a) => a.action.replaceAll('_', ' ') },
              { label: 'Provider', value: (a) => visible(a.provider) },
              { label: 'Account', value: (a) => visible(a.account) },
              { label: 'Detail', value: (a) => visible(a.detail) },
            ],
            shown,
          )
        : el('p', { class: 'muted' }, 'Nothing matches.'),
    );
  };
  search.addEventListener('input', () => {
    filter = search.value;
    draw();
  });
  view.append(
    el(
      'div',
      { class: 'filters' },
      el('div', { class: 'field' }, el('label', { for: 'activity-filter' }, 'Filter'), search),
    ),
    body,
  );
  draw();
}
