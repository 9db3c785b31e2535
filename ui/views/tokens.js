import * as api from '../api.js';
import { empty, localTime, table } from '../dom.js';

export const title = 'Tokens';

export async function render(view) {
  const tokens = await api.listTokens();
  if (tokens.length === 0) {
    view.append(empty({
      title: 'No tokens yet',
      text: 'Tokens appear here once you sign in to a provider. Add a provider first, then sign in with it.',
    }));
    return;
  }
  view.append(table([
    { label: 'Provider', value: (t) => t.provider },
    { label: 'Account', value: (t) => t.account },
    { label: 'Status', value: (t) => t.status.replace('_', ' ') },
    { label: 'Expires', value: (t) => localTime(t.expires_at) },
    { label: 'Scopes', value: (t) => t.scopes.join(' ') },
  ], tokens));
}
