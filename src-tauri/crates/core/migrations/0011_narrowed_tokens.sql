-- Schema 11: tokens narrowed from an account's grant (RFC 6749 §6: a refresh asking for fewer
-- scopes; RFC 8707: for one resource), kept beside the account's own token, which they never
-- replace. One for each set of scopes and resource asked for; gone with the account.
CREATE TABLE narrowed_tokens (
    token_id     INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    scope        TEXT    NOT NULL,  -- the scopes asked for, sorted, separated by spaces
    resource     TEXT    NOT NULL DEFAULT '',
    access_token TEXT    NOT NULL,
    token_type   TEXT,
    expires_at   INTEGER,
    obtained_at  INTEGER NOT NULL,
    PRIMARY KEY (token_id, scope, resource)
) STRICT;
