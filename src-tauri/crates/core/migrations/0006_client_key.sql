-- Schema 6: the client's signing key for private_key_jwt (RFC 7523): the algorithm it signs
-- with and the private JWK (kept only here, in the encrypted vault), and the algorithms the
-- provider's metadata accepts for client assertions.
ALTER TABLE providers ADD COLUMN client_key_alg TEXT
    CHECK (client_key_alg IN ('ES256', 'RS256', 'PS256', 'EdDSA'));
ALTER TABLE providers ADD COLUMN client_key TEXT
    CHECK ((client_key IS NULL) = (client_key_alg IS NULL));
ALTER TABLE providers ADD COLUMN assertion_algs TEXT NOT NULL DEFAULT '[]';  -- JSON array
