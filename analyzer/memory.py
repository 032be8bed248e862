"""Returning freed heap memory to the operating system between the pipeline's stages.

glibc's ``malloc`` keeps memory freed by a program in its heaps (one per thread that
allocated) for reuse instead of giving it back. After the pose stage, whose model threads
allocate a lot and then exit with the landmarkers, that is about 165 MB (measured on a
10 s 1080p60 clip): resident for the rest of the run although nothing uses it, under the
analysis of a long clip. ``malloc_trim(0)`` gives it back. Elsewhere (macOS, Windows,
musl) there is no such call and nothing is done.
"""
from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library this process runs on
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_heap() -> bool:
    """Give the C heap's free memory back to the operating system; False where not possible."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
