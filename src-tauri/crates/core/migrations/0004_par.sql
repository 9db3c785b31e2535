-- Schema 4: pushed authorization requests (RFC 9126): the endpoint they go to, and whether the
-- provider's sign-ins push them (it requires them, or the user chose to).
ALTER TABLE providers ADD COLUMN par_url TEXT;
ALTER TABLE providers ADD COLUMN par INTEGER NOT NULL DEFAULT 0 CHECK (par IN (0, 1));
