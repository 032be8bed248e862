"""The pose stage's result: :class:`PoseTrack`, the followed runner's landmarks over time."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any

import numpy as np

from .. import atomic


class PoseModelError(Exception):
    """A pose model file that cannot be used; ``str(err)`` is one plain line."""


# --------------------------------------------------------------------------- the track


@dataclass
class PoseTrack:
    """The followed person's pose over the N decoded frames of the analysed range.

    Arrays (N = frames):
        frame_index (N,) int; time_s (N,) float; is_repeat (N,) bool;
        background_shift_px (N, 2) float: global picture shift vs the previous frame;
        image_xy_px (N, 33, 2): upright image pixels; image_z (N, 33): relative depth;
        world_xyz_m (N, 33, 3): metres, mid-hip origin, x right, y down, z away;
        visibility, presence (N, 33); detected (N,) bool;
        people_count (N,) int: poses the model returned in the frame (after de-duplication);
        swap_fixed (N, len(SWAP_GROUPS)) bool: frames whose labels were swapped back,
        columns in ``SWAP_GROUPS`` order (legs, arms);
        pose_source (N,) int: which pass found the followed pose: 0 whole frame, 1 runner
        window, 2 search tile, -1 not detected (see :func:`extract_pose`);
        legs_collapsed (N,) bool: frames where the model drew both legs on top of each other
        (:func:`collapsed_leg_frames`) in finely sampled stretches (:data:`FINE_PATH`); their
        knees, ankles, heels and toes have visibility 0, so that the analysis treats them as
        missing and bridges them.
    Scalars:
        image_width, image_height: upright full-resolution size; model_name;
        num_people_max: most poses in one frame; followed_person: which person was
        followed and why; left_right_swaps_fixed: corrected swap episodes (runs of
        consecutive frames, counted per limb group); flip_test: whether the pose merges a
        second pass over the mirrored frames (:mod:`analyzer.pose.flip`).
    """

    frame_index: np.ndarray
    time_s: np.ndarray
    is_repeat: np.ndarray
    background_shift_px: np.ndarray
    image_xy_px: np.ndarray
    image_z: np.ndarray
    world_xyz_m: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    detected: np.ndarray
    people_count: np.ndarray
    swap_fixed: np.ndarray
    pose_source: np.ndarray
    legs_collapsed: np.ndarray
    image_width: int
    image_height: int
    model_name: str
    num_people_max: int
    followed_person: str
    left_right_swaps_fixed: int
    flip_test: bool = False

    @property
    def num_frames(self) -> int:
        return int(self.frame_index.shape[0])

    @property
    def detected_fraction(self) -> float:
        """Fraction of frames in which the followed person was found (0 for no frames)."""
        return float(np.mean(self.detected)) if self.num_frames else 0.0

    def to_npz(self, path: str | os.PathLike[str], extra: Mapping[str, Any] | None = None) -> None:
        """Write every field (plus *extra* scalars/arrays) to a compressed ``.npz``, atomically."""
        data: dict[str, np.ndarray] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            data[f.name] = np.asarray(value) if isinstance(value, np.ndarray) else np.array(value)
        for key, value in (extra or {}).items():
            data[f"extra__{key}"] = np.asarray(value)
        with atomic.atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **data)
                fh.flush()
                os.fsync(fh.fileno())

    @classmethod
    def from_npz(cls, path: str | os.PathLike[str]) -> PoseTrack:
        """Read a track written by :meth:`to_npz` (no pickles). Raises on a missing field without a default."""
        with np.load(path, allow_pickle=False) as z:
            kwargs: dict[str, Any] = {}
            for f in fields(cls):
                if f.name not in z.files and f.default is not MISSING:
                    continue  # a field added since the file was written keeps its default
                arr = z[f.name]
                if f.type in ("int", int):
                    kwargs[f.name] = int(arr)
                elif f.type in ("bool", bool):
                    kwargs[f.name] = bool(arr)
                elif f.type in ("str", str):
                    kwargs[f.name] = str(arr)
                else:
                    kwargs[f.name] = np.array(arr)
        return cls(**kwargs)
