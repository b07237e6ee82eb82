"""The `quantx` command line (a driving adapter)."""
