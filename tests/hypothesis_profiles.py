"""Hypothesis settings profiles, chosen by the HYPOTHESIS_PROFILE environment variable.

`ci` (default) keeps the whole suite fast; `deep` is for long hunting runs. Imported at
the top of every Hypothesis test module (tests/conftest.py belongs to another part)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
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
