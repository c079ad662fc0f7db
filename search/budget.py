"""A search's work budget: a deadline and a cancellation check that long loops call cheaply.

A request past its time, or whose client has gone, stops at the next check instead of running
on and holding a worker; the web layer maps `SearchTimeout` and `SearchCancelled` to statuses.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class SearchTimeout(Exception):
    """A search ran past its time budget; the user should narrow it."""

    code = "timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"查询超过了 {seconds:g} 秒的时间限制，请缩小范围（更具体的词、筛选条件或更少的 OR）"
        )
        self.message = str(self)


class SearchCancelled(Exception):
    """The client that asked for a search is gone; nobody will read the answer."""


class Budget:
    """Deadline (seconds from now, None for none) plus an optional `cancelled()` probe.

    `check()` is cheap (a clock read); the cancellation probe, which may ask the server, is
    called at most every `probe_every` seconds.
    """

    def __init__(
        self,
        seconds: float | None = None,
        cancelled: Callable[[], bool] | None = None,
        probe_every: float = 0.05,
    ) -> None:
        self.seconds = seconds
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.cancelled = cancelled
        self.probe_every = probe_every
        self._next_probe = 0.0

    def check(self) -> None:
        """Raise SearchTimeout past the deadline, SearchCancelled when the client is gone."""
        if self.deadline is None and self.cancelled is None:
            return
        now = time.monotonic()
        if self.deadline is not None and now > self.deadline:
            raise SearchTimeout(self.seconds or 0.0)
        if self.cancelled is not None and now >= self._next_probe:
            self._next_probe = now + self.probe_every
            if self.cancelled():
                raise SearchCancelled()

    def remaining(self) -> float | None:
        """Seconds left, or None without a deadline."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())


UNLIMITED = Budget()
