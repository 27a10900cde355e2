"""SQLite writers take turns through the writer queue (an flock beside the database): a second
writer waits for the first to finish instead of polling SQLite's lock, and one that waits too
long is the 503 of a locked database, not a 500."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from database import UNAVAILABLE_ERRORS, WriterQueue


@pytest.fixture
def writers(app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL orders writers with row locks")
    return app.extensions["database"].writer_sessionmaker


def test_a_second_writer_waits_for_the_first_to_finish(writers):
    first = writers()
    first.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: holds the turn
    order = []

    def second_writer():
        other = writers()
        other.execute(text("SELECT 1"))
        order.append("second began")
        other.rollback()
        other.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.3)
    order.append("first done")
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert order == ["first done", "second began"]


def test_a_writer_that_gets_no_turn_in_time_is_unavailable_not_an_error(tmp_path):
    queue = WriterQueue(str(tmp_path / "db-writers"), timeout_s=0.2)
    holder, waiter = {}, {}
    queue.acquire(holder)
    with pytest.raises(OperationalError) as refused:
        queue.acquire(waiter)
    assert isinstance(refused.value, UNAVAILABLE_ERRORS) and "no turn to write" in str(refused.value)
    WriterQueue.release(holder)
    queue.acquire(waiter)  # free again
    for info in (holder, waiter):
        WriterQueue.close(info)
