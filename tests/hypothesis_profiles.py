"""Hypothesis settings profiles, chosen by the HYPOTHESIS_PROFILE environment variable.

`ci` (default) is derandomized, so a commit's CI outcome does not depend on the seed;
`deep` draws fresh random examples, many more of them, for bug hunting. Loaded by
tests/conftest.py, so every test module gets it."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "deep",
    max_examples=3_000,
    stateful_step_count=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=10, stateful_step_count=20, deadline=None)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
