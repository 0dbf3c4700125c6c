"""Rate limits (app/ratelimit.py) in memory and in Redis: counted per address and per subject,
shared by every web process on Redis, and let through again once the window has passed."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from app.clock import FixedClock
from app.ratelimit import RateLimits
from tests.conftest import service_url


@pytest.fixture(params=["memory", "redis"])
def store_url(request: pytest.FixtureRequest, limits_follow_clock: FixedClock) -> Iterator[str]:
    if request.param == "memory":
        yield "memory://"
        return
    url = service_url("TEST_BROKER_URL")
    RateLimits(url).storage.reset()
    yield url
    RateLimits(url).storage.reset()


def test_the_limit_counts_per_address_and_per_subject(store_url: str) -> None:
    limit = RateLimits(store_url).limit("track", 3, timedelta(minutes=15))
    for _ in range(3):
        assert not limit.refused("10.0.0.1", "PBG-2026-000001")
        limit.hit("10.0.0.1", "PBG-2026-000001")
    assert limit.refused("10.0.0.1", "PBG-2026-000001")
    assert limit.refused("10.0.0.1", "PBG-2026-000002")  # the address has used its guesses
    assert limit.refused("10.0.0.2", "PBG-2026-000001")  # so has the number
    assert not limit.refused("10.0.0.2", "PBG-2026-000002")


def test_scopes_never_count_each_others_hits(store_url: str) -> None:
    limits = RateLimits(store_url)
    for _ in range(5):
        limits.limit("track", 5, timedelta(minutes=15)).hit("10.0.0.1", "kasir")
    assert limits.limit("track", 5, timedelta(minutes=15)).refused("10.0.0.1", "kasir")
    assert not limits.limit("sign-in", 5, timedelta(minutes=15)).refused("10.0.0.1", "kasir")


def test_the_window_moves(store_url: str, limits_follow_clock: FixedClock) -> None:
    clock = limits_follow_clock
    limit = RateLimits(store_url).limit("sign-in", 2, timedelta(minutes=15))
    limit.hit("10.0.0.1", "kasir")
    clock.advance(minutes=10)
    limit.hit("10.0.0.1", "kasir")
    assert limit.refused("10.0.0.1", "kasir")
    clock.advance(minutes=6)  # the first hit is 16 minutes old: one left in the window
    assert not limit.refused("10.0.0.1", "kasir")
    limit.hit("10.0.0.1", "kasir")
    assert limit.refused("10.0.0.1", "kasir")


def test_every_web_process_counts_the_same_hits_on_redis(store_url: str) -> None:
    first, second = RateLimits(store_url), RateLimits(store_url)  # as two processes would make them
    for _ in range(2):
        first.limit("sign-in", 2, timedelta(minutes=15)).hit("10.0.0.1", "kasir")
    shared = second.limit("sign-in", 2, timedelta(minutes=15)).refused("10.0.0.1", "kasir")
    # memory:// is one process's memory: the reason production sets a redis:// URL.
    assert shared is store_url.startswith("redis")
