import * as api from '../api.js';
import { empty, localTime, table } from '../dom.js';

export const title = 'Activity';

export async function render(view) {
  const entries = await api.listActivity();
  if (entries.length === 0) {
    view.append(empty({ title: 'Nothing has happened yet', text: 'What you do to providers and tokens is listed here.' }));
    return;
  }
  view.append(table([
    { label: 'When', value: (a) => localTime(a.at) },
    { label: 'What', value: (a) => a.action.replaceAll('_', ' ') },
    { label: 'Provider', value: (a) => a.provider },
    { label: 'Account', value: (a) => a.account },
    { label: 'Detail', value: (a) => a.detail },
  ], entries));
}
