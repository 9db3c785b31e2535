-- Schema 1: providers, tokens (one row per provider and account), activity.
-- Times are Unix seconds (INTEGER) so that expiry filters and sorts stay in SQL.

CREATE TABLE providers (
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
    client_auth              TEXT    NOT NULL DEFAULT 'basic' CHECK (client_auth IN ('basic', 'post', 'none')),
    scopes                   TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
    extra_params             TEXT    NOT NULL DEFAULT '{}',  -- JSON object of strings
    redirect_port            INTEGER NOT NULL DEFAULT 0 CHECK (redirect_port BETWEEN 0 AND 65535),
    redirect_path            TEXT    NOT NULL DEFAULT '/callback',
    redirect_url             TEXT,
    sign_in_with             TEXT    NOT NULL DEFAULT 'window' CHECK (sign_in_with IN ('window', 'browser')),
    color                    TEXT,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL
) STRICT;

CREATE TABLE tokens (
    id            INTEGER PRIMARY KEY,
    provider_id   INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    account       TEXT    NOT NULL,
    subject       TEXT,
    access_token  TEXT,
    token_type    TEXT,
    refresh_token TEXT,
    id_token      TEXT,
    scopes        TEXT    NOT NULL DEFAULT '[]',
    expires_at    INTEGER,
    obtained_at   INTEGER NOT NULL,
    refreshed_at  INTEGER,
    status        TEXT    NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'expired', 'needs_signin', 'revoked')),
    last_error    TEXT,
    UNIQUE (provider_id, account)
) STRICT;

CREATE INDEX tokens_by_expiry ON tokens (expires_at);

-- What was done to which provider or token, and when. Never a secret.
CREATE TABLE activity (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    action   TEXT    NOT NULL,
    provider TEXT,
    account  TEXT,
    detail   TEXT
) STRICT;

CREATE INDEX activity_by_time ON activity (at);
