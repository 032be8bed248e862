"""Giving freed heap memory back to the operating system (analyzer.memory)."""
from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from analyzer import memory, pose
from analyzer.landmarks import NUM_LANDMARKS
from analyzer.pose import detections, extract, swaps


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


# --------------------------------------------------------------------------- the pose stage's end
# (issue #7: a 10-minute clip's track assembly peaked at +329 MB above the model loop's RSS,
# before malloc_trim; bench/RESULTS.md, run I)


def _random_store(frames: int, seed: int = 0) -> tuple[detections.PoseStore, int, int]:
    """A pose store of one person seen in every frame, limbs moving at random."""
    rng = np.random.default_rng(seed)
    width, height = 1920, 1080
    store = detections.PoseStore()
    base = rng.uniform(0.3, 0.7, (NUM_LANDMARKS, 3))
    walk = np.cumsum(rng.normal(0.0, 0.004, (frames, NUM_LANDMARKS, 3)), axis=0)
    view = np.array([[width, height, 0.0, 0.0, 1.0]])
    for t in range(frames):
        normalised = (base + walk[t])[None]
        xy, z = detections.to_pixels(normalised, view, width)
        poses = detections.Poses(xy, z, normalised, np.ones((1, NUM_LANDMARKS)), np.ones((1, NUM_LANDMARKS)),
                            np.zeros(1, dtype=int), normalised, view)
        store.add(poses, np.zeros(1, dtype=int))
    return store, width, height


def test_track_assembly_transient_stays_near_the_track_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """_assemble_track fixes swaps in place and in blocks: its peak above what it starts
    from is the track itself plus a working set bounded by the block. The earlier code
    copied the track for the swap fix and built the Viterbi terms for the whole segment
    at once: 4.1 times the track's size at any length (measured at 4 000 and 12 000
    frames), +329 MB at 36 000. Here blocks of 256 frames over 3 000 stand for blocks of
    4 096 over a 10-minute clip (1.9 times the track at 12 000 frames, 1.5 at 36 000)."""
    import tracemalloc

    monkeypatch.setattr(swaps, "PATH_TERM_BLOCK_FRAMES", 256)
    frames = 3_000
    store, width, height = _random_store(frames)
    info = SimpleNamespace(width=width, height=height, fps=60.0)
    args = (list(range(frames)), [t / 60.0 for t in range(frames)], [False] * frames, [(0.0, 0.0)] * frames)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        track = extract._assemble_track(info, pose.DEFAULT_MODEL_PATH, *args, store, 0,  # type: ignore[arg-type]
                                     "test", True)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    track_bytes = sum(a.nbytes for a in (track.image_xy_px, track.image_z, track.world_xyz_m, track.visibility,
                                         track.presence))
    assert track.detected.all()
    assert peak < 2.0 * track_bytes, f"assembly peak {peak / 2**20:.0f} MB for a {track_bytes / 2**20:.0f} MB track"


def test_path_terms_in_blocks_are_bit_identical() -> None:
    rng = np.random.default_rng(3)
    for frames, cues in ((3, 3), (50, 5), (1001, 3)):
        pos = rng.normal(0.0, 40.0, (frames, 2, cues, 2))
        whole = swaps._path_terms(pos, block_frames=frames)
        for block in (1, 7, 256):
            blocked = swaps._path_terms(pos, block_frames=block)
            assert all(a.tobytes() == b.tobytes() for a, b in zip(whole, blocked))


def test_extract_pose_returns_the_freed_heap_before_assembling(monkeypatch: pytest.MonkeyPatch, repo_root: Any) -> None:
    """The model and decoder threads' freed memory goes back before the track is built
    (no frames are decoded here: only the order of the two calls is checked)."""
    from analyzer.video import probe_video

    info = probe_video(repo_root / "sample_videos" / "sprinter_balanced_60fps.mp4")
    calls: list[str] = []
    monkeypatch.setattr(extract, "iter_frames", lambda *a, **k: iter(()))
    monkeypatch.setattr(memory, "release_free_heap", lambda: calls.append("release") or True)
    assemble = extract._assemble_track
    monkeypatch.setattr(extract, "_assemble_track", lambda *a, **k: calls.append("assemble") or assemble(*a, **k))
    pose.extract_pose(info, progress=False)
    assert calls == ["release", "assemble"]
