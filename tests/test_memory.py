"""Giving freed heap memory back to the operating system (analyzer.memory)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from analyzer import memory


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS")


def test_release_free_heap_is_a_no_op_where_unavailable() -> None:
    assert memory.release_free_heap() in (True, False)
    if not sys.platform.startswith("linux"):
        assert memory.release_free_heap() is False


@pytest.mark.skipif(memory._malloc_trim() is None, reason="no glibc malloc_trim")
def test_release_free_heap_returns_what_was_freed() -> None:
    blocks = [np.ones(8192) for _ in range(2000)]  # 64 kB each: from the heap, not mmap; 128 MB
    last = blocks[-1]  # kept: the freed blocks below it cannot be trimmed from the heap's top
    held = _rss_mb()
    del blocks
    assert memory.release_free_heap() is True
    assert _rss_mb() < held - 64, "malloc_trim gave back less than half of 128 MB freed"
    assert last.sum() == 8192
