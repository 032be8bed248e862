"""Shared fixtures: where the project and the shared real clips live."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_VIDEOS = REPO_ROOT.parent / "shared" / "videos"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_videos() -> Path:
    """The folder of real clips filmed by others; the test is skipped when it is absent."""
    if not (SHARED_VIDEOS / "MANIFEST.tsv").is_file():
        pytest.skip("../shared/videos is not present (a user's clone has no shared/)")
    return SHARED_VIDEOS


def shared_clip(name: str) -> Path:
    """Path of one shared clip; skips the calling test when the clip is absent."""
    path = SHARED_VIDEOS / name
    if not path.is_file():
        pytest.skip(f"shared clip {name} is not present")
    return path
