"""Application services: they orchestrate the domain and the Rust core, and do no I/O."""
