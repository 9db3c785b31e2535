-- Schema 10: dynamic client registration (RFC 7591, RFC 7592). The provider's registration
-- endpoint, as discovered or typed; and, for a client OAuth Desk registered itself, where its
-- registration is managed and the token that manages it (a secret: in this encrypted file
-- only, and only ever sent to that address).
ALTER TABLE providers ADD COLUMN registration_url TEXT;
CREATE TABLE registrations (
    provider_id INTEGER PRIMARY KEY REFERENCES providers(id) ON DELETE CASCADE,
    client_uri TEXT NOT NULL,
    access_token TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
