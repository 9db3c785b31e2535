-- Schema 7: DPoP (RFC 9449). Whether the provider's tokens are bound to a key of OAuth Desk's,
-- the algorithms its metadata accepts for proofs, and that key (a private JWK, kept only
-- here). A token's binding is its token_type (DPoP), to the provider's DPoP key.
ALTER TABLE providers ADD COLUMN dpop INTEGER NOT NULL DEFAULT 0 CHECK (dpop IN (0, 1));
ALTER TABLE providers ADD COLUMN dpop_algs TEXT NOT NULL DEFAULT '[]';  -- JSON array
ALTER TABLE providers ADD COLUMN dpop_key_alg TEXT
    CHECK (dpop_key_alg IN ('ES256', 'RS256', 'PS256', 'EdDSA'));
ALTER TABLE providers ADD COLUMN dpop_key TEXT
    CHECK ((dpop_key IS NULL) = (dpop_key_alg IS NULL));
