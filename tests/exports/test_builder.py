"""The build pauses the cyclic garbage collector while it runs, and only while it runs."""
from __future__ import annotations

import gc

from scoring.exports.builder import _collector_paused


def test_the_collector_is_off_while_any_build_runs_and_restored_after_the_last():
    assert gc.isenabled()
    with _collector_paused():
        assert not gc.isenabled()
        with _collector_paused():  # a second build at the same time (another worker thread)
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first is still running
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with _collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
