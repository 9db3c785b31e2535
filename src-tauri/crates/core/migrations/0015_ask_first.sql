-- Schema 15: a provider may ask before another program gets one of its tokens through the
-- token agent (the window's prompt: allow once, for 8 hours, or deny).
ALTER TABLE providers ADD COLUMN ask_first INTEGER NOT NULL DEFAULT 0 CHECK (ask_first IN (0, 1));
