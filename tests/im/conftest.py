"""Fixtures for the im tests: a recorded backoff sleep and a client factory over MockTransport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from imfakes import FakeService, MakeClient, Sleeps, secret_conn

from roamtui.im.client import Connection, ImClient
from roamtui.im.limiter import RateLimiter


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def make_client(sleeps: Sleeps) -> AsyncIterator[MakeClient]:
    """``make_client(service, conn=..., **ImClient kwargs)``; closed after the test."""
    made: list[ImClient] = []

    def make(service: FakeService, conn: Connection | None = None, **kw: Any) -> ImClient:
        kw.setdefault("limiter", RateLimiter(200))
        kw.setdefault("sleep", sleeps)
        client = ImClient(conn or secret_conn(), transport=httpx.MockTransport(service), **kw)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
