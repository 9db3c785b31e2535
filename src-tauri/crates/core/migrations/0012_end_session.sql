-- Schema 12: the provider's end-session endpoint (OpenID Connect RP-Initiated Logout 1.0),
-- where a sign-out ends the provider's session after the tokens are revoked.
ALTER TABLE providers ADD COLUMN end_session_url TEXT;
