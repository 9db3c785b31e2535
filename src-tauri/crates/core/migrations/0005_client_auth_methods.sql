-- Schema 5: client authentication by signed assertion (RFC 7523, OIDC Core §9) and by
-- certificate (RFC 8705) next to basic, post and none. SQLite cannot change a CHECK in place,
-- so the providers table is rebuilt (https://sqlite.org/lang_altertable.html, "otheralter"):
-- the runner turns foreign keys off around this migration, so that dropping the old table
-- does not take the tokens with it, and checks them before it commits.

CREATE TABLE providers_new (
    id                       INTEGER PRIMARY KEY,
    name                     TEXT    NOT NULL UNIQUE,
    preset                   TEXT,
    issuer                   TEXT,
    authorization_url        TEXT,
    token_url                TEXT,
    refresh_url              TEXT,
    revocation_url           TEXT,
    userinfo_url             TEXT,
    device_authorization_url TEXT,
    introspection_url        TEXT,
    jwks_uri                 TEXT,
    client_id                TEXT    NOT NULL,
    client_secret            TEXT,
    client_auth              TEXT    NOT NULL DEFAULT 'basic' CHECK (client_auth IN (
        'basic', 'post', 'none', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth',
        'self_signed_tls_client_auth')),
    scopes                   TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
    extra_params             TEXT    NOT NULL DEFAULT '{}',  -- JSON object of strings
    redirect_port            INTEGER NOT NULL DEFAULT 0 CHECK (redirect_port BETWEEN 0 AND 65535),
    redirect_path            TEXT    NOT NULL DEFAULT '/callback',
    redirect_url             TEXT,
    sign_in_with             TEXT    NOT NULL DEFAULT 'window' CHECK (sign_in_with IN ('window', 'browser')),
    color                    TEXT,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    iss_required             INTEGER NOT NULL DEFAULT 0 CHECK (iss_required IN (0, 1)),
    par_url                  TEXT,
    par                      INTEGER NOT NULL DEFAULT 0 CHECK (par IN (0, 1))
) STRICT;

INSERT INTO providers_new (
    id, name, preset, issuer, authorization_url, token_url, refresh_url, revocation_url,
    userinfo_url, device_authorization_url, introspection_url, jwks_uri, client_id,
    client_secret, client_auth, scopes, extra_params, redirect_port, redirect_path,
    redirect_url, sign_in_with, color, created_at, updated_at, iss_required, par_url, par)
SELECT
    id, name, preset, issuer, authorization_url, token_url, refresh_url, revocation_url,
    userinfo_url, device_authorization_url, introspection_url, jwks_uri, client_id,
    client_secret, client_auth, scopes, extra_params, redirect_port, redirect_path,
    redirect_url, sign_in_with, color, created_at, updated_at, iss_required, par_url, par
FROM providers;

DROP TABLE providers;
ALTER TABLE providers_new RENAME TO providers;
