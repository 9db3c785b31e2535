-- Schema 8: mutual-TLS client authentication (RFC 8705). The client's certificate chain (PEM,
-- public; its private key is client_key), the endpoints' mTLS aliases from the metadata's
-- mtls_endpoint_aliases, and whether its tokens are bound to the certificate.
ALTER TABLE providers ADD COLUMN client_cert TEXT;
ALTER TABLE providers ADD COLUMN mtls_token_url TEXT;
ALTER TABLE providers ADD COLUMN mtls_revocation_url TEXT;
ALTER TABLE providers ADD COLUMN mtls_introspection_url TEXT;
ALTER TABLE providers ADD COLUMN mtls_device_authorization_url TEXT;
ALTER TABLE providers ADD COLUMN mtls_par_url TEXT;
ALTER TABLE providers ADD COLUMN mtls_userinfo_url TEXT;
ALTER TABLE providers ADD COLUMN mtls_bound_tokens INTEGER NOT NULL DEFAULT 0
    CHECK (mtls_bound_tokens IN (0, 1));
