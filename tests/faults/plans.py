"""Fault plans drawn from a seed: which fault, how long, how often per request.

The plan is a pure function of the seed (the test id names it), so a failing run is
replayed with the same faults in the same order; only their timing against the
services' own pace varies.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from cdc_sync.events.model import ChangeEvent
from tests.faults.ledger import Ledger
from tests.faults.proxy import HttpProxy, Rule, TcpProxy
from tests.integration.consumer_support import Stream, produce, wait_for

HTTP_FAULTS = ("503", "429", "reset_before", "reset_after", "hold", "down", "stall", "delay")
TCP_FAULTS = ("reset", "down", "stall", "delay")
TOO_MANY = json.dumps({"message": "Too many requests", "code": "too_many_requests"}).encode()


@dataclass(frozen=True)
class Episode:
    fault: str
    seconds: float
    chance: float
    """Share of requests hit (HTTP rules)."""
    hold_s: float
    then_healthy_s: float

    def __str__(self) -> str:
        return f"{self.fault} {self.seconds:.1f}s (p={self.chance:.2f}, hold={self.hold_s:.1f}s)"


def plan(seed: int, episodes: int, faults: tuple[str, ...]) -> list[Episode]:
    """`episodes` faults; every fault kind once before any repeats, in a seeded order."""
    rng = random.Random(seed)
    kinds: list[str] = []
    while len(kinds) < episodes:
        kinds += rng.sample(faults, len(faults))
    return [
        Episode(
            fault,
            seconds=round(rng.uniform(0.5, 2.5), 2),
            chance=round(rng.uniform(0.3, 1.0), 2),
            hold_s=rng.choice([0.5, 3.0]),
            then_healthy_s=round(rng.uniform(0.2, 1.0), 2),
        )
        for fault in kinds[:episodes]
    ]


def play(proxy: TcpProxy, episode: Episode) -> None:
    """Switch the episode's fault on, wait, switch everything off, wait healthy."""
    if isinstance(proxy, HttpProxy) and episode.fault in ("503", "429"):
        status, body = (503, b"Service Unavailable") if episode.fault == "503" else (429, TOO_MANY)
        proxy.add(Rule("answer", status=status, body=body, chance=episode.chance))
    elif isinstance(proxy, HttpProxy) and episode.fault in ("reset_before", "reset_after"):
        proxy.add(Rule(episode.fault, chance=episode.chance))  # type: ignore[arg-type]
    elif isinstance(proxy, HttpProxy) and episode.fault == "hold":
        proxy.add(Rule("hold", hold_s=episode.hold_s, chance=episode.chance))
    elif episode.fault == "down":
        proxy.refuse()
        proxy.reset()
    elif episode.fault == "reset":
        proxy.reset()
    elif episode.fault == "stall":
        proxy.stall()
    elif episode.fault == "delay":
        proxy.delay(0.2)
    else:
        raise ValueError(f"unknown fault {episode.fault}")
    time.sleep(episode.seconds)
    proxy.heal()
    time.sleep(episode.then_healthy_s)


def stream_through(
    proxy: TcpProxy,
    episodes: list[Episode],
    events: list[ChangeEvent],
    bootstrap: str,
    prefix: str,
    caught_up: Callable[[], bool],
    stream: Stream,
    ledger: Ledger,
) -> None:
    """Produce `events` (into `stream` and `ledger`) in one burst per episode and one more,
    each episode played after its burst, the first once the consumer has started (faults at
    start-up have their own tests); return once the consumer caught up."""
    size = len(events) // (len(episodes) + 1) + 1
    for i, start in enumerate(range(0, len(events), size)):
        burst = events[start : start + size]
        produce(bootstrap, prefix, burst, stream)
        ledger.add(stream, burst, prefix)
        if i == 0:
            wait_for(caught_up, 60, "the consumer to start")
        if i < len(episodes):
            play(proxy, episodes[i])
    wait_for(caught_up, 120, f"the consumer to catch up after {', '.join(map(str, episodes))}")
