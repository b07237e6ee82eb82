"""Driving and driven adapters of quantx: files, CLI and everything else that does I/O."""
