"""Store adapters: the journal's homes (memory for tests; SQLite and PostgreSQL later)."""
