"""Rate limits on guessing and on sending: sign-in, tracking PINs, complaints.

Counted by the ``limits`` library in the store named by ``PTSP_RATELIMIT_STORAGE_URL``:
``memory://`` in the embedded demo (one process), Redis in production so that every web
process counts the same attempts. Every limit is a moving window: a key is refused once it
has ``max_hits`` hits within the last ``window``, and is let through again as they age out.

A limit counts per *kind of key* (``client``: the requesting address; ``subject``: a user name
or a file number), so one busy address never locks out a subject it did not touch, and a
subject guessed at from many addresses is still protected.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported on first use: `limits` costs ~80 ms at import, which CLI commands and workers never need
    from limits import RateLimitItem
    from limits.storage import Storage
    from limits.strategies import MovingWindowRateLimiter

KEY_PREFIX = "ptsp-limits"


class RateLimits:
    """The store and strategy every limit of one application shares (made on first use)."""

    def __init__(self, storage_url: str) -> None:
        self.storage_url = storage_url

    @functools.cached_property
    def storage(self) -> Storage:
        from limits.storage import Storage, storage_from_string

        options = {} if self.storage_url.startswith("memory") else {"key_prefix": KEY_PREFIX}
        storage = storage_from_string(self.storage_url, **options)
        if not isinstance(storage, Storage):  # an asyncio store (async+redis://): not for Flask's threads
            raise ValueError(f"{self.storage_url!r} is not a synchronous store")
        return storage

    @functools.cached_property
    def strategy(self) -> MovingWindowRateLimiter:
        from limits.strategies import MovingWindowRateLimiter

        return MovingWindowRateLimiter(self.storage)

    def limit(self, scope: str, max_hits: int, window: timedelta) -> Limit:
        """At most ``max_hits`` per ``window`` for each key of ``scope`` ("sign-in", "track", ...)."""
        from limits import RateLimitItemPerSecond

        return Limit(self, scope, RateLimitItemPerSecond(max_hits, int(window.total_seconds())))


@dataclass(frozen=True)
class Limit:
    limits: RateLimits
    scope: str
    item: RateLimitItem

    def refused(self, client: str, subject: str) -> bool:
        """True when ``client`` or ``subject`` has used up its hits for now."""
        strategy = self.limits.strategy
        client, subject = _keys(client, subject)
        return not (strategy.test(self.item, self.scope, "client", client)
                    and strategy.test(self.item, self.scope, "subject", subject))

    def hit(self, client: str, subject: str) -> None:
        """Count one attempt (a failed guess, a complaint sent) of ``client`` at ``subject``."""
        strategy = self.limits.strategy
        client, subject = _keys(client, subject)
        strategy.hit(self.item, self.scope, "client", client)
        strategy.hit(self.item, self.scope, "subject", subject)


def _keys(client: str, subject: str) -> tuple[str, str]:
    # Whatever a visitor typed is a key: bounded, so a long one costs no more memory than a short one.
    return client[:64], subject[:200]
