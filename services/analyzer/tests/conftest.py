"""The analyzer's tests retry as configured but never sleep between attempts.

stamina's test mode drops every backoff (exponential or a server's Retry-After) and keeps each
chain's own ``max_attempts`` (``cap``: never more than it asks for). A test that measures the
wait itself is marked ``real_backoff``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina

_MORE_ATTEMPTS_THAN_ANY_CHAIN = 100


@pytest.fixture(autouse=True)
def _instant_retries(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("real_backoff") is not None:
        yield
        return
    with stamina.set_testing(True, attempts=_MORE_ATTEMPTS_THAN_ANY_CHAIN, cap=True):
        yield
