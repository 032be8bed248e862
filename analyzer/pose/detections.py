"""One picture's poses: the model's output in full-resolution pixels, de-duplicated across the
views the model was shown, and stored compactly until the runner is known."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..landmarks import HIPS, NUM_LANDMARKS


@dataclass
class Poses:
    """Poses seen in one frame: D people, upright full-resolution image coordinates.

    ``source`` says which pass found each pose: 0 whole frame, 1 runner window, 2 search tile.
    ``normalised`` and ``view`` are what ``xy`` and ``z`` are computed from (see
    :func:`to_pixels`), kept so that :class:`PoseStore` can store float32 and rebuild them
    exactly.
    """

    xy: np.ndarray  # (D, 33, 2) px
    z: np.ndarray  # (D, 33), normalised by the full image width
    world: np.ndarray  # (D, 33, 3) m
    vis: np.ndarray  # (D, 33)
    pres: np.ndarray  # (D, 33)
    source: np.ndarray  # (D,) int
    normalised: np.ndarray  # (D, 33, 3) the model's x, y, z in its input view
    view: np.ndarray  # (D, 5) the view's width, height, x0, y0 and the frame's scale

    @classmethod
    def empty(cls) -> Poses:
        return cls(np.zeros((0, NUM_LANDMARKS, 2)), np.zeros((0, NUM_LANDMARKS)), np.zeros((0, NUM_LANDMARKS, 3)),
                   np.zeros((0, NUM_LANDMARKS)), np.zeros((0, NUM_LANDMARKS)), np.zeros(0, dtype=int),
                   np.zeros((0, NUM_LANDMARKS, 3)), np.zeros((0, 5)))

    @classmethod
    def concat(cls, parts: Sequence[Poses]) -> Poses:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def take(self, keep: np.ndarray) -> Poses:
        return Poses(*(getattr(self, f.name)[keep] for f in fields(self)))

    def __len__(self) -> int:
        return int(self.xy.shape[0])


@dataclass(frozen=True)
class View:
    """A rectangle of the model-input frame fed to the model: origin and size in its pixels."""

    x0: int
    y0: int
    w: int
    h: int

    def crop(self, image: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(image[self.y0:self.y0 + self.h, self.x0:self.x0 + self.w])


def result_to_poses(result: Any, view: View, frame_scale: float, full_width: int, source: int) -> Poses:
    """MediaPipe result on *view* -> full-resolution :class:`Poses`."""
    n = len(result.pose_landmarks)
    if n == 0:
        return Poses.empty()
    a = np.array([[(p.x, p.y, p.z,
                    np.nan if p.visibility is None else p.visibility,
                    np.nan if p.presence is None else p.presence) for p in pose]
                  for pose in result.pose_landmarks], dtype=float)  # (n, 33, 5)
    world = np.array([[(p.x, p.y, p.z) for p in pose] for pose in result.pose_world_landmarks], dtype=float)
    views = np.tile(np.array([view.w, view.h, view.x0, view.y0, frame_scale], dtype=float), (n, 1))
    xy, z = to_pixels(a[..., :3], views, full_width)
    return Poses(xy, z, world.reshape(n, NUM_LANDMARKS, 3), np.nan_to_num(a[..., 3]), np.nan_to_num(a[..., 4]),
                  np.full(n, source, dtype=int), a[..., :3], views)


def to_pixels(normalised: np.ndarray, views: np.ndarray, full_width: int) -> tuple[np.ndarray, np.ndarray]:
    """Upright full-resolution pixels (D, 33, 2) and z (D, 33) from the model's normalised
    (D, 33, 3) landmarks in their views (D, 5: width, height, x0, y0, frame scale)."""
    v = views[:, None, :]
    xy = (normalised[..., :2] * v[..., 0:2] + v[..., 2:4]) / v[..., 4:5]
    z = normalised[..., 2] * v[..., 0] / v[..., 4] / full_width
    return xy, z


class PoseStore:
    """Every frame's poses until the runner is known, compactly.

    One row per pose in chunks of preallocated arrays: the model's own numbers in float32
    (MediaPipe's landmarks are float32, so this is exact) and the view in float64, from
    which :func:`to_pixels` rebuilds ``xy`` and ``z`` bit for bit; person id and source as
    small integers. A repeated frame shares the rows of the frame it repeats. About 1.1 KB
    per pose instead of 2.9 KB per frame in per-frame objects.
    """

    def __init__(self, chunk_rows: int = 1024) -> None:
        self.chunk_rows = chunk_rows
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.rows = 0
        self.first: list[int] = []  # per frame: its first row
        self.count: list[int] = []  # per frame: its number of poses

    def add(self, poses: Poses, ids: np.ndarray) -> None:
        """The next frame's poses and their person ids."""
        self.first.append(self.rows)
        self.count.append(len(poses))
        for k in range(len(poses)):
            c, r = divmod(self.rows, self.chunk_rows)
            if c == len(self._chunks):
                m = self.chunk_rows
                self._chunks.append((np.empty((m, NUM_LANDMARKS, 8), np.float32), np.empty((m, 5)),
                                     np.empty(m, np.int32), np.empty(m, np.int8)))
            values, views, person, source = self._chunks[c]
            values[r, :, 0:3] = poses.normalised[k]
            values[r, :, 3:6] = poses.world[k]
            values[r, :, 6] = poses.vis[k]
            values[r, :, 7] = poses.pres[k]
            views[r], person[r], source[r] = poses.view[k], ids[k], poses.source[k]
            self.rows += 1

    def repeat(self) -> None:
        """The next frame repeats the previous one's picture: the same poses and people."""
        self.first.append(self.first[-1])
        self.count.append(self.count[-1])

    def __len__(self) -> int:
        return len(self.first)

    def find(self, t: int, person: int) -> int | None:
        """The row of *person*'s pose in frame *t* (the first, if several), or None."""
        for row in range(self.first[t], self.first[t] + self.count[t]):
            c, r = divmod(row, self.chunk_rows)
            if self._chunks[c][2][r] == person:
                return row
        return None

    def pose(self, row: int, full_width: int) -> tuple[np.ndarray, ...]:
        """xy (33, 2), z (33,), world (33, 3), vis (33,), pres (33,), source of one row, in float64."""
        c, r = divmod(row, self.chunk_rows)
        values, views, _, source = self._chunks[c]
        a = values[r].astype(float)
        xy, z = to_pixels(a[None, :, 0:3], views[r:r + 1], full_width)
        return xy[0], z[0], a[:, 3:6], a[:, 6], a[:, 7], int(source[r])


def dedupe(poses: Poses) -> Poses:
    """Keep one pose per person when two passes or two tiles saw the same person.

    Two poses show the same person when either's hip centre lies inside the other's
    landmark box or the boxes overlap by more than half (IoU). Of such poses the one the
    model is surer of (mean visibility x mean presence) is kept, ties going to the earlier
    (callers list the closer views first). Sureness decides because a close view is not
    always the better one: a runner window that started on a poor pose keeps tracking it,
    with low-visibility legs, while the whole frame sees the same large runner clearly.
    """
    n = len(poses)
    quality = poses.vis.mean(axis=1) * poses.pres.mean(axis=1)
    order = sorted(range(n), key=lambda k: (-round(float(quality[k]), 3), k))
    boxes = [_bbox(poses.xy[k]) for k in range(n)]
    centres = poses.xy[:, HIPS].mean(axis=1)

    def inside(k: int, j: int) -> bool:
        return bool(np.all(centres[k] >= boxes[j][:2]) and np.all(centres[k] <= boxes[j][2:]))

    keep: list[int] = []
    for k in order:
        if all(not inside(k, j) and not inside(j, k) and _iou(boxes[k], boxes[j]) <= 0.5 for j in keep):
            keep.append(k)
    return poses.take(np.array(sorted(keep), dtype=int))


def _bbox(xy: np.ndarray) -> np.ndarray:
    return np.concatenate([np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    lo, hi = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    inter = float(np.prod(np.clip(hi - lo, 0, None)))
    union = float(np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter)
    return inter / union if union > 0 else 0.0
