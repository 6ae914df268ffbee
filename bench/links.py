"""A slow link to the stack's Meilisearch for benches: tests/faults/proxy.py in front of it,
as the slow-link tests use it (`slow_link` there: 0-200 ms added to every request, 503 to
one document write in ten)."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]


def proxy_module() -> ModuleType:
    """tests/faults/proxy.py of this checkout, loaded by path (the code measured may be
    another checkout's, on PYTHONPATH)."""
    spec = importlib.util.spec_from_file_location("bench_proxy", ROOT / "tests/faults/proxy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_proxy"] = module
    spec.loader.exec_module(module)
    return module


@contextmanager
def slow_link(seed: int) -> Iterator[str]:
    """The URL of Meilisearch through the slow link, for as long as the context lasts."""
    proxy = proxy_module()
    where = urlsplit(os.environ["MEILI_URL"])
    assert where.hostname and where.port
    with proxy.HttpProxy(where.hostname, where.port) as link:
        proxy.slow_link(link, seed)
        yield f"http://{link.address}"
