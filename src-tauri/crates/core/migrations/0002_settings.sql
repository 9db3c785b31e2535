-- Schema 2: settings (refresh window, clipboard delay, REST API, proxy), one value a key, as JSON.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
