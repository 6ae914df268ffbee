from cdc_sync.metrics.activity import SLOT_S, SLOTS, Activity


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_counts_latencies_and_lag_become_charts_and_a_report() -> None:
    clock = Clock()
    activity = Activity("applied", clock)
    activity.count("APP.A", 50, [20.0, 40.0], weight=25)
    activity.lag("APP.A", 7)
    clock.now += SLOT_S
    activity.count("APP.B", 10, [300.0], weight=10)
    activity.note("APP.B", "sweep_s", 1.5)
    clock.now += SLOT_S

    history = activity.history()
    throughput, lag, latency = history.charts
    assert [c.title for c in history.charts] == ["throughput", "lag", "change → searchable"]
    a = next(s for s in throughput.series if s.name == "APP.A")
    assert len(a.points) == SLOTS and a.points[-2:] == [50 / SLOT_S, 0.0]
    assert a.points[0] is None  # before the service started
    assert next(s for s in lag.series if s.name == "APP.A").points[-2:] == [7, 7]
    p50 = next(s for s in latency.series if s.name == "p50").points
    assert p50[-3] is None and 15 <= (p50[-2] or 0) <= 45 and 250 <= (p50[-1] or 0) <= 300

    report = activity.report()
    assert report["APP.A"]["applied"] == 50
    assert report["APP.A"]["last_applied_at"] == 1_000_000.0
    assert report["APP.B"]["notes"] == {"sweep_s": 1.5}
    assert sum(float(v) for k, v in report["APP.B"]["latency"].items() if k != "sum") == 10


def test_recent_latency_forgets_old_slots_but_totals_keep_everything() -> None:
    clock = Clock()
    activity = Activity("applied", clock)
    activity.count("T", 1, [5.0])
    clock.now += 600
    activity.count("T", 1, [50.0])
    assert activity.recent_latency("T").total == 1
    assert activity.latency_totals()["T"].total == 2


def test_relay_counts_published_without_latency_charts() -> None:
    activity = Activity("published", Clock())
    activity.count("T", 3)
    assert [c.title for c in activity.history().charts] == ["throughput"]
    assert activity.report()["T"] == {"published": 3, "last_published_at": 1_000_000.0, "notes": {}}
