-- Schema 14: where an exchanged token came from (RFC 8693), so that an account without a
-- refresh token is exchanged again, as it was first, once its token expires. The parties are
-- the accounts whose tokens went into the exchange; removing one ends the re-exchanging.
CREATE TABLE exchanged (
    token_id          INTEGER PRIMARY KEY REFERENCES tokens (id) ON DELETE CASCADE,
    subject_token_id  INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    actor_token_id    INTEGER REFERENCES tokens (id) ON DELETE CASCADE,
    audience          TEXT,
    resource          TEXT,
    scopes            TEXT NOT NULL DEFAULT '[]',  -- JSON array
    requested_type    TEXT NOT NULL
) STRICT;
