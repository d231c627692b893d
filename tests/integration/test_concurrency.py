"""A burst of concurrent requests at one app process never runs its database pool dry: requests wait for one of
the pool's connections (web.db_slots) instead of failing after the pool's timeout."""

from __future__ import annotations

import threading

from sqlalchemy import event

from reviewapp.db import create_db_engine, writer_engine
from reviewapp.web import POOL_RESERVE
from tests.conftest import PASSWORD


def test_sixty_concurrent_requests_on_a_small_pool_all_succeed(app, settings, client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("zhangsan")
    # A pool of 6 connections that gives up after 2 s: before the request slots, a burst like this one had its
    # finished handlers keep their connections while they waited for the event loop, the session lookups of new
    # requests took the rest, and requests failed with the pool's timeout.
    small = create_db_engine(settings, pool_size=3, max_overflow=3, pool_timeout=2)
    app.state.engine, app.state.writer_engine = small, writer_engine(small)
    peak = [0]

    @event.listens_for(small, "checkout")
    def _checked_out(*_args: object) -> None:
        peak[0] = max(peak[0], small.pool.checkedout())

    page = client.get("/login")
    signed_in = client.post(
        "/login",
        data={"username": "zhangsan", "password": PASSWORD, "_csrf_token": client.csrf()},
        follow_redirects=False,
    )
    assert page.status_code == 200 and signed_in.status_code == 303, signed_in.text[:300]
    failures: list[str] = []

    def fetch() -> None:
        try:
            response = client.get("/")
            if response.status_code != 200 or response.url.path != "/":
                failures.append(f"{response.status_code}: {response.text[:200]}")
        except Exception as exc:  # noqa: BLE001 - every failure is counted
            failures.append(repr(exc))

    threads = [threading.Thread(target=fetch) for _ in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    small.dispose()
    assert failures == [], f"{len(failures)} of 60 requests failed: {failures[:3]}"
    assert peak[0] <= 6 - POOL_RESERVE, f"{peak[0]} connections checked out at once"
