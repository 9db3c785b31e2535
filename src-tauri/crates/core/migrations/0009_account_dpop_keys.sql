-- Schema 9: a DPoP key per account, where the provider is set so (RFC 9449): made at the
-- account's sign-in and kept with its token, which is bound to it. NULL: the provider's key.
ALTER TABLE providers ADD COLUMN dpop_per_account INTEGER NOT NULL DEFAULT 0
    CHECK (dpop_per_account IN (0, 1));
-- And the client authentication methods the provider's metadata offers, for the form, and
-- whether client assertions are addressed to the issuer (for a provider that asks for it).
ALTER TABLE providers ADD COLUMN auth_methods TEXT NOT NULL DEFAULT '[]';  -- JSON array
ALTER TABLE providers ADD COLUMN assertion_aud_issuer INTEGER NOT NULL DEFAULT 0
    CHECK (assertion_aud_issuer IN (0, 1));
ALTER TABLE tokens ADD COLUMN dpop_key_alg TEXT
    CHECK (dpop_key_alg IN ('ES256', 'RS256', 'PS256', 'EdDSA'));
ALTER TABLE tokens ADD COLUMN dpop_key TEXT
    CHECK ((dpop_key IS NULL) = (dpop_key_alg IS NULL));
