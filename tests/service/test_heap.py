"""A started process keeps its start-up objects out of the garbage collector's full passes (see bench.streaming)."""

from __future__ import annotations

import gc
import weakref

import pytest

from agentkit_app.service import runtime


class Node:
    next: Node | None = None


def test_starting_freezes_the_start_up_heap_once_a_process(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(runtime, "_heap_frozen", False)
    try:
        runtime.freeze_startup_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000, "the modules and objects made so far are out of the full passes"
        runtime.freeze_startup_heap()
        assert gc.get_freeze_count() == frozen, (
            "a second start (another app of the process) freezes nothing more"
        )
        cycle = Node()
        cycle.next = cycle  # garbage only the cyclic collector can free
        gone = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert gone() is None, "what is made while serving is still collected"
    finally:
        gc.unfreeze()
