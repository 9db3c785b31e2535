// The OpenID provider OAuth Desk's tests sign in against: oidc-provider on 127.0.0.1.
// It prints one JSON line {"issuer": ...} on stdout once it listens; its notices go to stderr.
//
// Environment: IDP_PORT (default 0: any free port), IDP_ACCESS_TTL (seconds, default 3600),
// IDP_ROTATE_REFRESH ("0" to keep refresh tokens; default rotate), IDP_REQUIRE_PAR ("1": every
// authorization request must be pushed first, RFC 9126, and the metadata says so),
// IDP_DPOP_NONCE ("1": every DPoP proof must carry a nonce the provider gave, RFC 9449 §8),
// IDP_TLS_KEY, IDP_TLS_CERT and IDP_TLS_CLIENT_CA (PEM files: HTTPS, asking every client for a
// certificate, which the CA's verify for tls_client_auth; mutual TLS, RFC 8705), IDP_MTLS_ALIASES
// ("1": the metadata names mTLS aliases of the endpoints on https://localhost:PORT),
// IDP_REGISTRATION_TOKEN (registering a client takes this initial access token, RFC 7591 §3),
// IDP_SPLIT_METADATA ("1": the OpenID configuration leaves out the revocation, introspection
// and device endpoints, which only the RFC 8414 metadata names, as several real providers do),
// IDP_METADATA_DISAGREE ("1": the RFC 8414 metadata names another revocation endpoint).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';
import Store from './store.mjs';

console.info = (...args) => console.error(...args);
console.warn = (...args) => console.error(...args);

const accessTtl = Number(process.env.IDP_ACCESS_TTL || 3600);
const rotate = process.env.IDP_ROTATE_REFRESH !== '0';
const requirePar = process.env.IDP_REQUIRE_PAR === '1';
const dpopNonce = process.env.IDP_DPOP_NONCE === '1';
const tls = process.env.IDP_TLS_CERT
  ? {
      key: fs.readFileSync(process.env.IDP_TLS_KEY),
      cert: fs.readFileSync(process.env.IDP_TLS_CERT),
      ca: fs.readFileSync(process.env.IDP_TLS_CLIENT_CA),
      // Asked, not required: the verdict is oidc-provider's, per client (certificateAuthorized).
      requestCert: true,
      rejectUnauthorized: false,
    }
  : null;
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const splitMetadata = process.env.IDP_SPLIT_METADATA === '1';
const disagreeingMetadata = process.env.IDP_METADATA_DISAGREE === '1';
const OIDC_PATH = '/.well-known/openid-configuration';
const RFC8414_PATH = '/.well-known/oauth-authorization-server';
// Asked of the provider itself for the whole document, past the split below.
const FULL = 'x-test-full-metadata';

// Client assertions: every algorithm OAuth Desk signs with, and none other.
const assertionAlgs = ['HS256', 'ES256', 'RS256', 'PS256', 'EdDSA'];

// Native clients accept any port on a loopback redirect URI (RFC 8252 §7.3).
const common = {
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
  // Where a sign-out sends the person back (RP-Initiated Logout), on any loopback port.
  post_logout_redirect_uris: ['http://127.0.0.1/signed-out'],
  response_types: ['code'],
  scope: 'openid offline_access profile email api:read',
};

const clients = [
  { ...common, client_id: 'desk-basic', client_secret: 'desk-basic-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token', DEVICE, 'client_credentials', EXCHANGE] },
  { ...common, client_id: 'desk-post', client_secret: 'desk-post-secret',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token', DEVICE, 'client_credentials'] },
  // The secret is only an HMAC key here (RFC 7523): it never travels.
  { ...common, client_id: 'desk-jwt', client_secret: 'desk-jwt-secret-of-at-least-32-bytes',
    token_endpoint_auth_method: 'client_secret_jwt',
    grant_types: ['authorization_code', 'refresh_token', DEVICE, 'client_credentials'] },
  { ...common, client_id: 'desk-public', token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', DEVICE] },
];

const configuration = {
  adapter: Store,
  clients,
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api:read'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  pkce: { required: () => true },
  enabledJWA: { clientAuthSigningAlgValues: assertionAlgs },
  clientAuthMethods: [
    'none', 'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt',
    'tls_client_auth', 'self_signed_tls_client_auth',
  ],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    clientCredentials: { enabled: true },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: requirePar },
    dPoP: {
      enabled: true,
      nonceSecret: dpopNonce ? crypto.randomBytes(32) : undefined,
      requireNonce: () => dpopNonce,
    },
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      selfSignedTlsClientAuth: true,
      tlsClientAuth: true,
      getCertificate(ctx) {
        const peer = ctx.socket.getPeerCertificate?.();
        return peer && peer.raw ? new crypto.X509Certificate(peer.raw) : undefined;
      },
      certificateAuthorized: (ctx) => ctx.socket.authorized === true,
      certificateSubjectMatches(ctx, property, expected) {
        const peer = ctx.socket.getPeerCertificate();
        return property === 'tls_client_auth_subject_dn' && `CN=${peer.subject.CN}` === expected;
      },
    },
    // Dynamic registration (RFC 7591): open, or with IDP_REGISTRATION_TOKEN only for a request
    // that carries that initial access token; and its management (RFC 7592), which rotates the
    // registration access token at each update.
    registration: { enabled: true, initialAccessToken: process.env.IDP_REGISTRATION_TOKEN || false },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
    // Resource indicators (RFC 8707): every resource under https://api.test/ is a resource
    // server taking api:read, whose opaque access tokens name it as their audience; any other
    // resource is refused (invalid_target). Without a resource, tokens are as before.
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => {
        if (!resource.startsWith('https://api.test/')) throw new errors.InvalidTarget();
        return { scope: 'api:read', audience: resource, accessTokenFormat: 'opaque' };
      },
    },
  },
  // Refresh tokens for every client allowed the grant, without the offline_access + consent dance.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: rotate,
  ttl: {
    AccessToken: accessTtl,
    ClientCredentials: accessTtl,
    IdToken: 3600,
    DeviceCode: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
    RefreshToken: 86400,
  },
  cookies: { keys: ['oauth-desk-test-cookie-key'] },
  // The login name becomes the subject; the tests sign in as whoever they like.
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    async claims() {
      return { sub, email: `${sub}@example.test`, email_verified: true, preferred_username: sub, name: sub };
    },
  }),
};

const server = tls ? https.createServer(tls) : http.createServer();
server.listen(Number(process.env.IDP_PORT || 0), '127.0.0.1', () => {
  const port = server.address().port;
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  if (process.env.IDP_MTLS_ALIASES === '1') {
    const alias = `https://localhost:${port}`;
    configuration.discovery = {
      mtls_endpoint_aliases: {
        token_endpoint: `${alias}/token`,
        revocation_endpoint: `${alias}/token/revocation`,
        introspection_endpoint: `${alias}/token/introspection`,
        userinfo_endpoint: `${alias}/me`,
      },
    };
  }
  const provider = new Provider(issuer, configuration);
  // Token exchange (RFC 8693): the subject (and the actor) must be active access tokens of
  // this provider. What each exchange received is kept for the tests (GET /test/exchanges);
  // IDP_EXCHANGE_ISSUED_TYPE makes the answer name that issued_token_type instead.
  const exchanges = [];
  provider.registerGrantType(EXCHANGE, async (ctx) => {
    const { params, client } = ctx.oidc;
    const found = async (value, what) => {
      const token = value && await provider.AccessToken.find(value);
      if (!token || token.isExpired) throw new errors.InvalidGrant(`${what} is not an active access token`);
      return token;
    };
    const subject = await found(params.subject_token, 'subject_token');
    const actor = params.actor_token ? await found(params.actor_token, 'actor_token') : null;
    exchanges.push({
      client: client.clientId,
      subject: subject.accountId,
      subject_token_type: params.subject_token_type,
      actor: actor?.accountId ?? null,
      actor_token_type: params.actor_token_type ?? null,
      audience: params.audience ?? null,
      resource: params.resource ?? null,
      scope: params.scope ?? null,
      requested_token_type: params.requested_token_type ?? null,
    });
    const scope = params.scope || 'openid';
    const grant = new provider.Grant({ accountId: subject.accountId, clientId: client.clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    const token = new provider.AccessToken({ accountId: subject.accountId, client, grantId, scope, gty: 'token_exchange' });
    const value = await token.save();
    ctx.body = {
      access_token: value,
      issued_token_type: process.env.IDP_EXCHANGE_ISSUED_TYPE || 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope,
    };
  }, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'audience', 'resource', 'scope', 'requested_token_type']);
  // The JWT bearer grant (RFC 7523 §2.1): an assertion signed with a key the client registered,
  // issued by the client, addressed to the token endpoint, about the account it names. What
  // each one claimed is kept for the tests (GET /test/assertions).
  const assertions = [];
  provider.registerGrantType(JWT_BEARER, async (ctx) => {
    const { params, client } = ctx.oidc;
    let claims;
    try {
      const keys = jose.createLocalJWKSet({ keys: client.jwks?.keys ?? [] });
      ({ payload: claims } = await jose.jwtVerify(params.assertion ?? '', keys, {
        issuer: client.clientId,
        audience: `${issuer}/token`,
        maxTokenAge: '10m',
      }));
    } catch (e) {
      throw new errors.InvalidGrant(`the assertion does not check out: ${e.code ?? e.message}`);
    }
    assertions.push({ client: client.clientId, sub: claims.sub, scope: claims.scope ?? null, jti: claims.jti ?? null });
    const scope = params.scope || 'openid';
    const grant = new provider.Grant({ accountId: claims.sub, clientId: client.clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    const token = new provider.AccessToken({ accountId: claims.sub, client, grantId, scope, gty: 'jwt_bearer' });
    const value = await token.save();
    ctx.body = { access_token: value, token_type: 'Bearer', expires_in: token.expiration, scope };
  }, ['assertion', 'scope']);
  // Successful grants by type, so that tests can count the requests a feature makes
  // (GET /test/grants -> {"refresh_token": 1, ...}).
  const grants = {};
  provider.on('grant.success', (ctx) => {
    const type = ctx.oidc.params.grant_type;
    grants[type] = (grants[type] || 0) + 1;
  });
  // Requests by path, so that tests can count retries (GET /test/requests -> {"/token": 2}).
  const requests = {};
  const handle = provider.callback();
  server.on('request', (req, res) => {
    if (req.method === 'GET' && req.url.startsWith('/test/')) {
      res.setHeader('content-type', 'application/json');
      const answers = { '/test/grants': grants, '/test/exchanges': exchanges, '/test/assertions': assertions };
      res.end(JSON.stringify(answers[req.url] ?? requests));
      return;
    }
    const path = new URL(req.url, issuer).pathname;
    requests[path] = (requests[path] || 0) + 1;
    if ((splitMetadata || disagreeingMetadata) && !req.headers[FULL]
        && (path === OIDC_PATH || path === RFC8414_PATH)) {
      http.get(`${issuer}${OIDC_PATH}`, { headers: { [FULL]: '1' } }, (full) => {
        let body = '';
        full.on('data', (chunk) => { body += chunk; });
        full.on('end', () => {
          const doc = JSON.parse(body);
          if (path === OIDC_PATH && splitMetadata) {
            for (const key of ['revocation_endpoint', 'introspection_endpoint',
              'device_authorization_endpoint']) delete doc[key];
          }
          if (path === RFC8414_PATH && disagreeingMetadata) {
            doc.revocation_endpoint = `${issuer}/other/revocation`;
          }
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(doc));
        });
      });
      return;
    }
    // And by host, for the tests of aliases on another host name (GET /test/requests ->
    // {"localhost/token": 1}).
    const host = `${(req.headers.host || '').split(':')[0]}${path}`;
    requests[host] = (requests[host] || 0) + 1;
    handle(req, res);
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// Exit with the test that started us, even when it dies without a word.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
