"""Store adapters: the journal's homes. `sqlite` is the default (one file, many runs,
read models and `RunReader`); `memory` is the test double; `codec` and `readmodel` are
storage-neutral, for PostgreSQL later."""
