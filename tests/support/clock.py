"""A hand-moved clock: leases, pacing, polling intervals and idle expiry are tested without waiting."""

from __future__ import annotations


class HandClock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
