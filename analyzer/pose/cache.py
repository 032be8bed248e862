"""The pose cache: ``landmarks.npz`` keyed by the video's and the model's content and the settings."""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..landmarks import NUM_LANDMARKS
from ..video import VideoInfo
from . import flip
from .extract import DEFAULT_MAX_SIDE_PX, extract_pose
from .model import DEFAULT_MODEL_PATH, check_model
from .track import PoseTrack

#: Bump when anything in this package changes the landmarks a cache would hold.
CACHE_VERSION = 8


def _file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def video_content_id(video_path: str | os.PathLike[str]) -> str:
    """The SHA-256 of the video file's bytes: what names the video in the pose cache's key
    (and the stills cache's, :mod:`analyzer.stillcache`), whatever the file is called."""
    return _file_sha256(video_path)


def mediapipe_version() -> str:
    """The installed MediaPipe's version, read from its package metadata: importing
    MediaPipe only for ``__version__`` would cost a cached re-analysis about half a second."""
    import importlib.metadata

    try:
        return importlib.metadata.version("mediapipe")
    except importlib.metadata.PackageNotFoundError:  # not installed as a distribution
        import mediapipe

        return str(mediapipe.__version__)


def pose_cache_key(video_path: str | os.PathLike[str], model_path: str | os.PathLike[str] | None,
                   settings: Mapping[str, Any]) -> str:
    """SHA-256 naming one pose result: the video's content, the model's content, the settings.

    *settings* are those that change the pose (start/end, fps override, max_side_px,
    max_people, ...); they are JSON-encoded with sorted keys. The MediaPipe version and
    :data:`CACHE_VERSION` are included, so an upgrade never reuses stale landmarks.
    """
    h = hashlib.sha256()
    h.update(b"sprint-analyzer pose cache\0")
    h.update(f"v{CACHE_VERSION} mediapipe {mediapipe_version()}\0".encode())
    h.update(video_content_id(video_path).encode() + b"\0")
    h.update(_file_sha256(model_path if model_path is not None else DEFAULT_MODEL_PATH).encode() + b"\0")
    h.update(json.dumps(dict(settings), sort_keys=True, default=str).encode())
    return h.hexdigest()


def save_pose_cache(track: PoseTrack, npz_path: str | os.PathLike[str], key: str) -> None:
    """Store *track* with its cache *key* inside (atomic write)."""
    track.to_npz(npz_path, extra={"cache_key": key})


def load_cached_pose(npz_path: str | os.PathLike[str], key: str) -> PoseTrack | None:
    """The cached track if *npz_path* holds one stored under *key*; None on any mismatch or damage."""
    path = Path(npz_path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if "extra__cache_key" not in z.files or str(z["extra__cache_key"]) != key:
                return None
        track = PoseTrack.from_npz(path)
    except Exception:  # noqa: BLE001 - a damaged cache is simply recomputed
        return None
    n = track.num_frames
    shapes_ok = (track.image_xy_px.shape == (n, NUM_LANDMARKS, 2)
                 and track.world_xyz_m.shape == (n, NUM_LANDMARKS, 3)
                 and track.visibility.shape == (n, NUM_LANDMARKS)
                 and track.time_s.shape == (n,) and track.detected.shape == (n,))
    return track if shapes_ok else None


def extract_pose_cached(info: VideoInfo, npz_path: str | os.PathLike[str], *,
                        model_path: str | os.PathLike[str] | None = None, start_s: float | None = None,
                        end_s: float | None = None, max_people: int = 3,
                        max_side_px: int | None = DEFAULT_MAX_SIDE_PX, flip_test: bool | None = None,
                        **kwargs: Any) -> tuple[PoseTrack, bool]:
    """:func:`extract_pose` through the ``landmarks.npz`` cache: (track, loaded_from_cache).

    Where the automatic flip test (``flip_test=None``) keeps one pass (the legs finely
    sampled: :func:`analyzer.pose.flip.flip_test_wanted` is False), its track *is* the one
    pass, so it is stored under the one-pass key and read back under either setting: a clip
    posed with ``flip_test=False`` is not posed again for the automatic setting, nor the other
    way round.
    """
    model = check_model(model_path)
    settings = {
        "start_s": start_s, "end_s": end_s, "max_people": int(max_people), "max_side_px": max_side_px,
        "fps": info.fps if info.fps_overridden else None, "fps_source": info.fps_source,
    }
    one_pass_key = pose_cache_key(info.path, model, settings)
    # "off" adds nothing to the settings: the landmarks cached before the option stay valid
    key = one_pass_key if flip_test is False else pose_cache_key(
        info.path, model, settings | {"flip_test": "auto" if flip_test is None else True,
                                      "flip_merge": flip.MERGE_VERSION})
    cached = load_cached_pose(npz_path, key)
    if cached is not None:
        return cached, True
    if flip_test is None:
        one_pass = load_cached_pose(npz_path, one_pass_key)
        if one_pass is not None and not flip.flip_test_wanted(one_pass):
            return one_pass, True
    track = extract_pose(info, model_path=model, start_s=start_s, end_s=end_s, max_people=max_people,
                         max_side_px=max_side_px, flip_test=flip_test, **kwargs)
    kept_one_pass = flip_test is None and not flip.flip_test_wanted(track)
    save_pose_cache(track, npz_path, one_pass_key if kept_one_pass else key)
    return track, False
