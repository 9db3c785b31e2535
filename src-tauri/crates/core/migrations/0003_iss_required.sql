-- Schema 3: whether the provider's metadata promises the RFC 9207 `iss` response parameter,
-- in which case a redirect without it is refused.
ALTER TABLE providers ADD COLUMN iss_required INTEGER NOT NULL DEFAULT 0 CHECK (iss_required IN (0, 1));
