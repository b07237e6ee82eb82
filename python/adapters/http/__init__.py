"""Loopback HTTP: the health and control endpoint of a running engine (aiohttp)."""
