"""Backoff delays: capped, exponential, jittered into the upper half, seeded; the
exchange's own Retry-After wins when longer; a budget of retries then giving up. Token
bucket: requests wait exactly as long as their weight takes to refill."""

from __future__ import annotations

import random

import pytest

from adapters.exchanges.backoff import BackoffPolicy
from adapters.exchanges.ratelimit import TokenBucket


def test_delays_double_up_to_the_cap_and_stay_in_the_upper_half() -> None:
    policy = BackoffPolicy()  # 1 s to 60 s, doubling
    assert [policy.ceiling(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert policy.ceiling(10_000) == 60  # no float overflow on a long outage
    rng = random.Random(7)
    for n in range(12):
        d = policy.delay(n, rng)
        assert policy.ceiling(n) / 2 <= d <= policy.ceiling(n)


def test_the_same_seed_gives_the_same_delays_and_retry_after_wins_when_longer() -> None:
    policy = BackoffPolicy(initial_s=0.5, max_s=8.0)
    a = [policy.delay(n, random.Random(1)) for n in range(6)]
    b = [policy.delay(n, random.Random(1)) for n in range(6)]
    assert a == b
    assert policy.delay(0, random.Random(1), retry_after_s=30.0) == 30.0
    assert policy.delay(5, random.Random(1), retry_after_s=0.1) >= 4.0


def test_it_gives_up_after_max_retries_and_refuses_bad_settings_by_name() -> None:
    policy = BackoffPolicy(max_retries=3)
    assert [policy.gives_up(n) for n in range(5)] == [False, False, False, False, True]
    with pytest.raises(ValueError, match="initial_s 0 is out of range"):
        BackoffPolicy(initial_s=0)
    with pytest.raises(ValueError, match=r"factor 0\.5 is below 1"):
        BackoffPolicy(factor=0.5)
    with pytest.raises(ValueError, match="max_retries -1 is negative"):
        BackoffPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="attempt -1 is negative"):
        policy.ceiling(-1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_makes_requests_wait_for_their_weight_to_refill() -> None:
    clock = Clock()
    bucket = TokenBucket.per_minute(60, clock)  # 60 a minute: one token a second
    assert [bucket.take(20) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.headroom == 0.0
    assert bucket.take(5) == pytest.approx(5.0)  # in debt: wait for 5 tokens
    assert bucket.take(1) == pytest.approx(6.0)  # behind the first in the queue
    clock.now += 6.0
    assert bucket.headroom == pytest.approx(0.0)
    clock.now += 1_000.0
    assert bucket.headroom == 1.0  # never above capacity
    with pytest.raises(ValueError, match="weight 61 cannot be taken"):
        bucket.take(61)
    with pytest.raises(ValueError, match="is not usable"):
        TokenBucket(0, 1, clock)
