"""The fault suite: real servers behind fault-injecting proxies, or stopped and restarted.

Every test here is marked ``faults`` (run them alone with ``dev/test -m faults``) and
``stack``. Tests that draw their faults at random take a ``seed`` (in the test id), so
a failing run is reproduced with the same id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.faults.proxy import HttpProxy

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.stack)


@pytest.fixture
def meili_proxy(stack: dict[str, str]) -> Iterator[HttpProxy]:
    """An HTTP fault proxy in front of the stack's Meilisearch (no fault switched on)."""
    where = urlsplit(stack["MEILI_URL"])
    assert where.hostname and where.port
    with HttpProxy(where.hostname, where.port) as proxy:
        yield proxy
    assert not proxy.errors, proxy.errors
