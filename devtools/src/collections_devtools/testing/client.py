"""The in-process test client's type, spelled once: Litestar's client is generic in the app."""

from __future__ import annotations

from typing import TypeAlias

from litestar import Litestar
from litestar.testing import AsyncTestClient

TestClient: TypeAlias = AsyncTestClient[Litestar]
