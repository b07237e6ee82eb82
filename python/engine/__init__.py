"""quantx's hexagon: domain, ports and services, with the Rust core in `engine._core`.

Kept empty on purpose: importing `engine` must stay cheap and free of side effects.
"""
