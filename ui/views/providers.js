import * as api from '../api.js';
import { empty, table } from '../dom.js';

export const title = 'Providers';

export async function render(view) {
  const providers = await api.listProviders();
  if (providers.length === 0) {
    view.append(empty({
      title: 'Add your first provider',
      text: 'A provider is the OAuth 2.0 or OpenID Connect server you sign in with: '
        + 'its client ID and endpoints, or just its issuer URL to discover them. '
        + 'Once it is here, sign in to get tokens.',
    }));
    return;
  }
  view.append(table([
    { label: 'Name', value: (p) => p.name },
    { label: 'Token endpoint', value: (p) => hostOf(p.token_url) },
    { label: 'Client ID', value: (p) => p.client_id },
    { label: 'Accounts', value: (p) => String(p.accounts) },
  ], providers));
}

function hostOf(url) {
  try { return new URL(url).host; } catch { return url ?? ''; }
}
