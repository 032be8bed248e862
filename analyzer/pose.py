"""Pose extraction, offline: MediaPipe PoseLandmarker (Tasks API) over a video.

Stage two of the pipeline: :func:`extract_pose` runs BlazePose over the decoded frames
(:mod:`analyzer.video`), follows the runner when several people are in view, corrects
left/right label swaps (:func:`fix_left_right_swaps`) and returns a :class:`PoseTrack` of
plain numpy arrays, which :func:`save_pose_cache` / :func:`load_cached_pose` store as
``landmarks.npz`` keyed by :func:`pose_cache_key`.

Conventions
-----------
* Image landmarks ``image_xy_px``: upright full-resolution pixels (x right, y down),
  whatever size the model was fed (its output is normalised, so scaling back is exact).
* ``image_z``: MediaPipe's relative depth of each image landmark, origin at the mid-hip,
  smaller = nearer the camera, in the normalised units of x (multiply by ``image_width``
  for pixels).
* World landmarks ``world_xyz_m``: MediaPipe's metric 3D estimate, origin at the mid-hip
  (the mean of the two hip landmarks is ~0), axes aligned with the camera: x image-right,
  y image-down, z away from the camera (checked on real clips: each world axis correlates
  >= 0.98 with the matching hip-centred image coordinate, world z with ``image_z``).
* Times and frame indices are those of :mod:`analyzer.video`. Repeated frames
  (``is_repeat``) are not re-run through the model: they carry the landmarks of the
  image they repeat.
* Small runners: BlazePose's person detector sees the whole picture shrunk to 224x224,
  where a sprinter a quarter of a wide frame's height is too small to find. Besides the
  whole frame, :func:`extract_pose` therefore looks in square tiles and in a window that
  follows the runner (on the shared sprint-start clips this took the runner's detection
  in the first 3 s from 0-80% to 82-100%).
* Not detected: NaN coordinates, 0 visibility and presence, ``detected`` False.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sys
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import atomic, memory
from .landmarks import ARM_PARTS, INDEX, LEG_PARTS, MIRROR, NUM_LANDMARKS, longer_leg_length, side_index
from .signals import quiet_nan_warnings
from .video import VideoInfo, iter_frames

__all__ = [
    "DEFAULT_MODEL_PATH",
    "DEFAULT_MAX_SIDE_PX",
    "PoseModelError",
    "PoseTrack",
    "SwapCorrection",
    "SWAP_GROUPS",
    "check_model",
    "create_landmarker",
    "extract_pose",
    "extract_pose_cached",
    "fix_left_right_swaps",
    "link_people",
    "pose_cache_key",
    "video_content_id",
    "load_cached_pose",
    "save_pose_cache",
]

#: The embedded BlazePose full model (Apache-2.0, see models/LICENSE-mediapipe.txt).
DEFAULT_MODEL_PATH: Path = Path(__file__).resolve().parent / "models" / "pose_landmarker_full.task"
#: Frames are downscaled to this longer side before the model (it sees 256x256 crops;
#: decoding cost, not accuracy, grows with size beyond this).
DEFAULT_MAX_SIDE_PX = 1280
#: Bump when anything here changes the landmarks a cache would hold.
CACHE_VERSION = 6
_REQUIRED_TFLITE = ("pose_detector.tflite", "pose_landmarks_detector.tflite")

_HIPS = np.array([INDEX["left_hip"], INDEX["right_hip"]])
#: The knees, ankles, heels and toes of both sides: what a leg collapse misplaces.
_LOWER_LEGS = np.array([side_index(s, p) for s in ("left", "right") for p in ("knee", "ankle", "heel", "foot_index")])

#: Limb groups whose left/right labels :func:`fix_left_right_swaps` checks, as the
#: runner's *left* landmark indices (the right ones are their ``MIRROR``).
SWAP_GROUPS: dict[str, tuple[int, ...]] = {
    "legs": tuple(side_index("left", p) for p in LEG_PARTS),
    "arms": tuple(side_index("left", p) for p in ARM_PARTS),
}


#: Per limb group, the (left) landmarks whose paths, relative to the mid-hip, decide its
#: labels: the feet for the legs and the elbow and hand for the arms, the parts that stay
#: apart through most of a stride (the hips and shoulders nearly coincide in a side view).
SWAP_CUES: dict[str, tuple[int, ...]] = {
    "legs": tuple(side_index("left", p) for p in ("ankle", "heel", "foot_index")),
    "arms": tuple(side_index("left", p) for p in ("elbow", "wrist", "pinky", "index", "thumb")),
}
#: The legs' cues where the sampling is fine (:data:`FINE_STEP_TO_SEPARATION`): the knees
#: too. The knees pass each other when the feet are apart and the other way round, so
#: together they never all coincide. On the 11 rendered clips at 60 and 120 fps (pose model
#: included) the knees with :data:`FINE_PATH` and :func:`collapsed_leg_frames` took the hip
#: flexion RMS median from 18.9 to 7.8 deg. At 30 fps they did not help (a rendered clip's
#: hip error grew from 17 to 24 deg, and a real 30 fps sprint start, hato72 movie1_a4, read
#: 128 steps/min instead of 189), so coarser segments keep the feet alone.
FINE_LEG_CUES: tuple[int, ...] = tuple(side_index("left", p) for p in ("knee", "ankle", "heel", "foot_index"))
#: Sampling too coarse for the nearest path: the cue landmarks move, frame to frame, more
#: than this share of the distance between the left and right ones (medians over the
#: segment). Feet: synthetic runner at 4.5 steps/s 0.12 at 60 fps, 0.24 at 30 fps, 0.66
#: at 10 fps; rendered samples 0.13 (60 fps) and 0.29 (30 fps); real clips 0.07-0.39,
#: except 30 fps sprint starts with a small runner (hato72 movie2_b10, b11: 0.52, 0.66).
MAX_STEP_TO_SEPARATION = 0.5
#: Sampling fine enough for the legs' :data:`FINE_PATH`: the feet move less than this share
#: of their separation per picture (see :data:`MAX_STEP_TO_SEPARATION` for the figures:
#: 60 fps and above for a sprinter).
FINE_STEP_TO_SEPARATION = 0.2
#: A frame whose legs the model drew on top of each other: the largest left-right distance
#: among the knees, ankles, heels and toes is under this share of the frame's longer leg
#: (hip-knee-ankle path, image pixels). A sprinter's legs at speed never come that close
#: from the side: the rendered sprinter's truth never reads below 0.42 on a tracking
#: camera (0.21 on the pans, where the clip's runner size doubles), because the swing foot
#: is high when the knees pass each other; slower real runners' legs do, hence
#: :data:`COLLAPSE_NOTCH`. See :func:`collapsed_leg_frames`.
COLLAPSED_LEG_SEPARATION = 0.2
#: Longest run of collapsed frames (seconds) treated as the model's mistake; longer runs are
#: a runner standing side-on, left alone.
COLLAPSED_LEG_MAX_RUN_S = 0.05
#: A collapse is a notch: the frames on either side of the run have at least this many
#: times its largest separation. Real runners' legs come close for longer (sprint starts,
#: small far runners: hato72's clips have 10-70 % of frames under the separation limit);
#: with the notch, 0-27 frames per real clip are left out (0-11 on side views, checked by
#: eye on pauldess1: the model drew both legs on the stance leg while the swing foot was
#: clearly behind).
COLLAPSE_NOTCH = 2.0


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
        consecutive frames, counted per limb group).
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
        """Read a track written by :meth:`to_npz` (no pickles). Raises on a missing field."""
        with np.load(path, allow_pickle=False) as z:
            kwargs: dict[str, Any] = {}
            for f in fields(cls):
                arr = z[f.name]
                if f.type in ("int", int):
                    kwargs[f.name] = int(arr)
                elif f.type in ("str", str):
                    kwargs[f.name] = str(arr)
                else:
                    kwargs[f.name] = np.array(arr)
        return cls(**kwargs)


# --------------------------------------------------------------------------- the model


def check_model(model_path: str | os.PathLike[str] | None = None) -> Path:
    """Return the model path after checking it is a pose ``.task`` bundle.

    Raises:
        PoseModelError: missing file, not a zip, or lacking the two pose ``.tflite`` files.
    """
    path = Path(model_path) if model_path is not None else DEFAULT_MODEL_PATH
    name = f"'{path.name}'"
    if not path.is_file():
        raise PoseModelError(f"pose model {name} not found ({path})")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError):
        raise PoseModelError(f"pose model {name} is not a MediaPipe .task file (not a zip bundle)") from None
    missing = [n for n in _REQUIRED_TFLITE if n not in names]
    if missing:
        raise PoseModelError(f"pose model {name} is not a pose landmarker .task (lacks {', '.join(missing)})")
    return path


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send the process's file descriptor 2 to /dev/null inside the block.

    MediaPipe's C++ core logs start-up chatter (XNNPACK delegate, "Feedback manager ...")
    straight to fd 2, past Python's sys.stderr and ignoring GLOG/absl environment variables;
    it would tear through progress bars. Python-level errors raised inside still propagate.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (some embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def create_landmarker(model_path: Path, num_poses: int, mode: str = "video") -> Any:
    """A MediaPipe PoseLandmarker (``mode`` ``"video"`` or ``"image"``); use it as a context manager.

    VIDEO-mode landmarkers track people between calls and need strictly increasing
    timestamps over their whole life, so :func:`extract_pose` creates its own per video.
    """
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE,
        num_poses=int(num_poses),
        output_segmentation_masks=False,
    )
    try:
        with native_stderr_silenced():
            return vision.PoseLandmarker.create_from_options(options)
    except Exception as exc:  # noqa: BLE001 - MediaPipe raises bare RuntimeErrors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PoseModelError(f"pose model '{model_path.name}' cannot be loaded by MediaPipe: {first}") from None


@dataclass
class _Poses:
    """Poses seen in one frame: D people, upright full-resolution image coordinates.

    ``source`` says which pass found each pose: 0 whole frame, 1 runner window, 2 search tile.
    ``normalised`` and ``view`` are what ``xy`` and ``z`` are computed from (see
    :func:`_pixels`), kept so that :class:`_PoseStore` can store float32 and rebuild them
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
    def empty(cls) -> _Poses:
        return cls(np.zeros((0, NUM_LANDMARKS, 2)), np.zeros((0, NUM_LANDMARKS)), np.zeros((0, NUM_LANDMARKS, 3)),
                   np.zeros((0, NUM_LANDMARKS)), np.zeros((0, NUM_LANDMARKS)), np.zeros(0, dtype=int),
                   np.zeros((0, NUM_LANDMARKS, 3)), np.zeros((0, 5)))

    @classmethod
    def concat(cls, parts: Sequence[_Poses]) -> _Poses:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def take(self, keep: np.ndarray) -> _Poses:
        return _Poses(*(getattr(self, f.name)[keep] for f in fields(self)))

    def __len__(self) -> int:
        return int(self.xy.shape[0])


@dataclass(frozen=True)
class _View:
    """A rectangle of the model-input frame fed to the model: origin and size in its pixels."""

    x0: int
    y0: int
    w: int
    h: int

    def crop(self, image: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(image[self.y0:self.y0 + self.h, self.x0:self.x0 + self.w])


def _result_to_poses(result: Any, view: _View, frame_scale: float, full_width: int, source: int) -> _Poses:
    """MediaPipe result on *view* -> full-resolution :class:`_Poses`."""
    n = len(result.pose_landmarks)
    if n == 0:
        return _Poses.empty()
    a = np.array([[(p.x, p.y, p.z,
                    np.nan if p.visibility is None else p.visibility,
                    np.nan if p.presence is None else p.presence) for p in pose]
                  for pose in result.pose_landmarks], dtype=float)  # (n, 33, 5)
    world = np.array([[(p.x, p.y, p.z) for p in pose] for pose in result.pose_world_landmarks], dtype=float)
    views = np.tile(np.array([view.w, view.h, view.x0, view.y0, frame_scale], dtype=float), (n, 1))
    xy, z = _pixels(a[..., :3], views, full_width)
    return _Poses(xy, z, world.reshape(n, NUM_LANDMARKS, 3), np.nan_to_num(a[..., 3]), np.nan_to_num(a[..., 4]),
                  np.full(n, source, dtype=int), a[..., :3], views)


def _pixels(normalised: np.ndarray, views: np.ndarray, full_width: int) -> tuple[np.ndarray, np.ndarray]:
    """Upright full-resolution pixels (D, 33, 2) and z (D, 33) from the model's normalised
    (D, 33, 3) landmarks in their views (D, 5: width, height, x0, y0, frame scale)."""
    v = views[:, None, :]
    xy = (normalised[..., :2] * v[..., 0:2] + v[..., 2:4]) / v[..., 4:5]
    z = normalised[..., 2] * v[..., 0] / v[..., 4] / full_width
    return xy, z


class _PoseStore:
    """Every frame's poses until the runner is known, compactly.

    One row per pose in chunks of preallocated arrays: the model's own numbers in float32
    (MediaPipe's landmarks are float32, so this is exact) and the view in float64, from
    which :func:`_pixels` rebuilds ``xy`` and ``z`` bit for bit; person id and source as
    small integers. A repeated frame shares the rows of the frame it repeats. About 1.1 KB
    per pose instead of 2.9 KB per frame in per-frame objects.
    """

    def __init__(self, chunk_rows: int = 1024) -> None:
        self.chunk_rows = chunk_rows
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.rows = 0
        self.first: list[int] = []  # per frame: its first row
        self.count: list[int] = []  # per frame: its number of poses

    def add(self, poses: _Poses, ids: np.ndarray) -> None:
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
        xy, z = _pixels(a[None, :, 0:3], views[r:r + 1], full_width)
        return xy[0], z[0], a[:, 3:6], a[:, 6], a[:, 7], int(source[r])


def _dedupe(poses: _Poses) -> _Poses:
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
    centres = poses.xy[:, _HIPS].mean(axis=1)

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


# --------------------------------------------------------------------------- people


def _body_size(xy: np.ndarray) -> np.ndarray:
    """Diagonal of the landmarks' bounding box, (...) from (..., 33, 2); NaN where absent."""
    with quiet_nan_warnings():
        return np.linalg.norm(np.nanmax(xy, axis=-2) - np.nanmin(xy, axis=-2), axis=-1)


@dataclass
class _Person:
    """A person being linked over time (image pixels, per-frame units)."""

    last_t: int
    centre: np.ndarray  # hip centre
    velocity: np.ndarray  # per frame
    size: float  # landmark bounding-box diagonal
    relative: np.ndarray  # (33, 2) landmarks minus hip centre
    pan: np.ndarray  # cumulative background shift at last_t
    travel: float = 0.0  # summed hip motion against the background, body sizes, weighted
    limbs: float = 0.0  # summed mean landmark motion relative to the hip, body sizes, weighted
    frames: int = 1

    @property
    def activity(self) -> float:
        return self.travel + self.limbs


#: Leg landmarks (hips to toes), whose visibility weighs how much a pose's motion counts.
_LEGS = np.arange(INDEX["left_hip"], NUM_LANDMARKS)


class _Linker:
    """Online linking of per-frame poses into people (see :func:`link_people`).

    Each person's *activity* (travel + limb motion) is summed as it is linked, every step
    weighted by the mean visibility v of the pose's leg landmarks, as clip((v - 0.4) / 0.3,
    0, 1): a "person" the model imagines in trees or railings jitters with legs it rates
    invisible (v about 0.3-0.4 on the shared clips, against 0.65-0.9 for real runners,
    crouched ones included) and must not out-score a runner.
    """

    def __init__(self, gate: float = 0.6, gate_growth: float = 0.05, max_gap: int = 15,
                 size_ratio: float = 1.6) -> None:
        self.gate, self.gate_growth, self.max_gap, self.size_ratio = gate, gate_growth, max_gap, size_ratio
        self.people: dict[int, _Person] = {}  # everyone ever seen, by id
        self._pan = np.zeros(2)

    def live(self, t: int) -> list[int]:
        return [pid for pid, p in self.people.items() if t - p.last_t <= self.max_gap]

    def predict(self, pid: int, t: int) -> tuple[np.ndarray, float]:
        """Predicted hip centre (constant velocity) and size of person *pid* at frame *t*."""
        p = self.people[pid]
        return p.centre + p.velocity * (t - p.last_t), p.size

    def matches(self, pid: int, t: int, xy: np.ndarray) -> np.ndarray:
        """(D,) bool: which poses *xy* (D, 33, 2) lie within person *pid*'s gate at frame *t*."""
        return np.isfinite(self._distances(pid, t, xy))

    def _distances(self, pid: int, t: int, xy: np.ndarray) -> np.ndarray:
        """Hip-centre distance from the prediction in the person's body sizes; inf outside the gates."""
        pred, size = self.predict(pid, t)
        centre = xy[:, _HIPS].mean(axis=1)
        dist = np.linalg.norm(centre - pred, axis=-1) / size
        ratio = _body_size(xy) / size
        gap = t - self.people[pid].last_t
        ok = (dist <= self.gate + self.gate_growth * (gap - 1)) & (ratio <= self.size_ratio) & \
            (ratio >= 1.0 / self.size_ratio)
        return np.where(ok, dist, np.inf)

    def advance(self, shift: np.ndarray | tuple[float, float]) -> None:
        """Account for a frame that is not linked (a repeated picture): the camera's pan only."""
        self._pan = self._pan + np.asarray(shift, dtype=float)

    def update(self, t: int, xy: np.ndarray, visibility: np.ndarray | None = None,
               shift: np.ndarray | tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
        """Link poses *xy* (D, 33, 2) of frame *t* (frames in increasing order); return their ids."""
        from scipy.optimize import linear_sum_assignment

        self.advance(shift)
        ids = np.full(xy.shape[0], -1, dtype=int)
        if xy.shape[0] == 0:
            return ids
        vis = np.ones(xy.shape[:2]) if visibility is None else np.asarray(visibility, dtype=float)
        weight = np.clip((vis[:, _LEGS].mean(axis=1) - 0.4) / 0.3, 0.0, 1.0)
        people = self.live(t)
        if people:
            cost = np.stack([self._distances(pid, t, xy) for pid in people])
            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e6))
            for r, c in zip(rows, cols):
                if np.isfinite(cost[r, c]):
                    ids[c] = people[r]
                    self._continue(people[r], t, xy[c], float(weight[c]))
        for k in np.flatnonzero(ids < 0):
            pid = len(self.people)
            centre = xy[k, _HIPS].mean(axis=0)
            self.people[pid] = _Person(t, centre, np.zeros(2), float(_body_size(xy[k])),
                                       xy[k] - centre, self._pan.copy())
            ids[k] = pid
        return ids

    def _continue(self, pid: int, t: int, xy: np.ndarray, weight: float) -> None:
        p = self.people[pid]
        centre = xy[_HIPS].mean(axis=0)
        size = float(_body_size(xy))
        gap = t - p.last_t
        p.travel += weight * float(np.linalg.norm((centre - p.centre) - (self._pan - p.pan))) / p.size
        # over a gap (missed or repeated frames) this is the gap's motion, which is what a
        # clip with each picture held three times must count
        p.limbs += weight * float(np.nanmean(np.linalg.norm((xy - centre) - p.relative, axis=-1))) / p.size
        p.velocity = 0.5 * p.velocity + 0.5 * (centre - p.centre) / gap
        p.centre, p.size, p.relative, p.pan = centre, 0.8 * p.size + 0.2 * size, xy - centre, self._pan.copy()
        p.last_t = t
        p.frames += 1

    def most_active(self, among: Sequence[int] | None = None) -> int | None:
        """The most active person (ties: seen more often, then more recently)."""
        pool = list(self.people) if among is None else list(among)
        if not pool:
            return None
        return max(pool, key=lambda pid: (self.people[pid].activity, self.people[pid].frames, self.people[pid].last_t))


def link_people(xy: np.ndarray, background_shift: np.ndarray | None = None, visibility: np.ndarray | None = None,
                *, gate: float = 0.6, gate_growth: float = 0.05, max_gap: int = 15,
                size_ratio: float = 1.6) -> np.ndarray:
    """Link per-frame poses into people over time.

    Args:
        xy: (N, K, 33, 2) image landmarks of up to K poses per frame (NaN = no pose).
        background_shift: (N, 2) global picture shift per frame (camera pan), or None.
        visibility: (N, K, 33) landmark visibility (weighs activity only), or None.
        gate: largest distance, in the person's body sizes (landmark bounding-box
            diagonals), between a pose's hip centre and the person's predicted hip centre
            (constant velocity) for the pose to continue that person.
        gate_growth: added to *gate* per frame the person has been missing.
        max_gap: frames a person may be missing and still be continued.
        size_ratio: a pose whose body size differs from the person's by more than this
            factor (either way) cannot continue that person.

    Returns:
        (N, K) int person id per pose (-1 where no pose), ids numbered from 0 in order of
        first appearance. Assignment per frame is optimal (Hungarian) within the gates.
    """
    linker = _Linker(gate, gate_growth, max_gap, size_ratio)
    ids = np.full(xy.shape[:2], -1, dtype=int)
    shifts = np.zeros((xy.shape[0], 2)) if background_shift is None else np.asarray(background_shift, float)
    for t in range(xy.shape[0]):
        valid = np.flatnonzero(np.isfinite(xy[t]).all(axis=(-1, -2)))
        vis = None if visibility is None else visibility[t, valid]
        ids[t, valid] = linker.update(t, xy[t, valid], vis, shifts[t])
    return ids


def _describe_choice(linker: _Linker, runner: int, n_frames: int) -> str:
    if runner < 0:
        return "nobody was detected"
    p = linker.people[runner]
    text = (f"followed the person who moved the most: seen in {p.frames} of {n_frames} frames, "
            f"travelled {p.travel:.1f} body sizes against the background, limb motion {p.limbs:.1f}")
    others = sorted((q for q in linker.people.values() if q is not p), key=lambda q: -q.activity)
    if others:
        o = others[0]
        text += (f"; {len(others)} other person track(s), the most active seen in {o.frames} frames "
                 f"with travel {o.travel:.1f} and limb motion {o.limbs:.1f}")
    else:
        text += "; nobody else was detected"
    return text


# --------------------------------------------------------------------------- left/right swaps


class SwapCorrection(NamedTuple):
    """Result of :func:`fix_left_right_swaps`: corrected copies and what was changed."""

    image_xy: np.ndarray
    image_z: np.ndarray | None
    world_xyz: np.ndarray | None
    visibility: np.ndarray | None
    presence: np.ndarray | None
    swapped: np.ndarray  # (N, G) bool: frame's labels of group g were swapped back
    episodes: int  # runs of consecutive swapped frames, summed over groups
    legs_collapsed: np.ndarray  # (N,) bool: frames left out of the legs' pass


def _swap_sides(a: np.ndarray, frames: np.ndarray, left: np.ndarray, right: np.ndarray) -> None:
    """In place: exchange landmarks *left* and *right* on *frames* of array (N, 33, ...)."""
    if frames.size == 0:
        return
    rows = frames[:, None]
    a[rows, left], a[rows, right] = a[rows, right], a[rows, left]


class SwapModel(NamedTuple):
    """Weights of :func:`_viterbi_swaps`' costs, each term in units of its median over the
    segment with the model's labels: the labelled paths' frame-to-frame displacement and
    acceleration, a change of labelling between consecutive frames, and one frame with
    exchanged labels."""

    displacement: float
    acceleration: float
    switch: float
    state: float


#: Dense sampling: the nearest path (it undoes the model's single wrong frames and
#: flickering runs), with a little smoothness so that limbs passing close to each other
#: still pass rather than bounce off each other, and no switch cost (a switch cost would
#: rather leave a flicker alone or stretch it into a long wrong episode).
NEAREST_PATH = SwapModel(displacement=1.0, acceleration=0.3, switch=0.0, state=0.3)
#: Fine sampling of the legs (the feet move less than :data:`FINE_STEP_TO_SEPARATION` of
#: their separation between pictures: 60 fps and above for a sprinter): the nearest path of
#: the knees and feet (:data:`FINE_LEG_CUES`), judged across collapsed frames, with half
#: the smoothness. Between such close pictures a landmark's acceleration is mostly the
#: model's jitter, and at 0.3 it carried the path through the model's own swaps beside a
#: leg crossing: on 14 rendered clips, pose model included, hip flexion RMS median 10.1
#: and 8.6 deg (left, right) against 8.1 and 7.4 with this, and ``swing_lag`` F1 0.38
#: against 0.54. The cost: a mislabelled run of 16 frames or more at 60 fps (a step's
#: length) is moved to the legs' nearest crossings rather than undone (sine-curve runner,
#: ``tests/test_pose.py``); the model's own runs on those clips are at most 9 frames.
FINE_PATH = NEAREST_PATH._replace(acceleration=0.15)
#: Coarse sampling (the limbs move more than :data:`MAX_STEP_TO_SEPARATION` of their
#: separation between pictures, where the nearest path means little): smoothness alone,
#: with a switch cost, which fixes only clear episodes. These are the weights of the
#: previous labelling (then over whole limbs), checked frame by frame on pauldess1 at
#: 25 fps, where the episodes found gave its 13-frame contacts; on movie2_b11 they keep
#: the 3 steps that no correction at all loses.
SMOOTH_PATH = SwapModel(displacement=0.0, acceleration=1.0, switch=3.0, state=1.0)


#: Frames per block in :func:`_path_terms`. Its intermediates are (2, 2, 2, block, 2, J, 2)
#: float64: about 10 MB per temporary for the arms' five cue landmarks at 4 096 frames,
#: where the whole segment's at once were about 30 MB per 10 000 frames (about 145 MB of
#: transient for the arms of a 10-minute 60 fps clip, on top of the pose stage).
PATH_TERM_BLOCK_FRAMES = 4096


def _path_terms(pos: np.ndarray, block_frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The labelled paths' displacement and acceleration terms of :func:`_viterbi_swaps`.

    *pos* (M, 2, J, 2) as there, M >= 3. Returns ``disp`` (2, 2, M-1): ``disp[a, b, t]``
    from frame t in state a to frame t+1 in state b, and ``acc`` (2, 2, 2, M-2):
    ``acc[c, a, b, t]`` over frames (t, t+1, t+2) in states (c, a, b); each the mean over
    the two sides and J landmarks of a Euclidean norm (pixels per frame, per frame squared).
    Computed *block_frames* (default :data:`PATH_TERM_BLOCK_FRAMES`) frames at a time, so
    that the transient stays bounded whatever the segment's length; every element goes
    through the same operations as when computed at once, so the result is bit-identical
    (tested).
    """
    m = pos.shape[0]
    states = np.stack([pos, pos[:, ::-1]])  # (2, M, 2, J, 2)
    disp = np.empty((2, 2, m - 1))
    acc = np.empty((2, 2, 2, m - 2))
    step = max(1, int(PATH_TERM_BLOCK_FRAMES if block_frames is None else block_frames))
    for lo in range(0, m - 1, step):
        hi = min(lo + step, m - 1)
        disp[..., lo:hi] = np.linalg.norm(states[None, :, lo + 1:hi + 1] - states[:, None, lo:hi],
                                          axis=-1).mean(axis=(-1, -2))
    for lo in range(0, m - 2, step):
        hi = min(lo + step, m - 2)
        x0 = states[:, None, None, lo:hi]
        x1 = states[None, :, None, lo + 1:hi + 1]
        x2 = states[None, None, :, lo + 2:hi + 2]
        acc[..., lo:hi] = np.linalg.norm(x2 - 2 * x1 + x0, axis=-1).mean(axis=(-1, -2))
    return disp, acc


def _viterbi_swaps(pos: np.ndarray, model: SwapModel) -> np.ndarray:
    """Labelling (M,) bool of one limb group over M frames of one continuous segment.

    *pos* (M, 2, J, 2): [left, right] cue landmarks relative to the mid-hip. Each frame
    either keeps its labels (state 0) or exchanges them (state 1). The labelling minimises
    the weighted sum (:class:`SwapModel`) of the labelled paths' displacements and
    accelerations (mean over the J landmarks, each in units of its median with the model's
    labels, which keeps the pass conservative where motion is coarsely sampled), the
    changes of state and the frames in state 1. The segment's first and last frames have
    a neighbour on one side only, so they are exchanged only at a cost of at least one
    median term.
    """
    m = pos.shape[0]
    if m < 3:
        return np.zeros(m, dtype=bool)
    disp, acc = _path_terms(pos)
    disp = model.displacement * disp / (float(np.median(disp[0, 0])) or 1.0)
    triple = model.acceleration * acc / (float(np.median(acc[0, 0, 0])) or 1.0) + disp[None, :, :, 1:]
    unary = np.zeros((m, 2))
    unary[:, 1] = model.state
    unary[[0, -1], 1] = max(model.state, 1.0)
    switch = np.array([[0.0, 1.0], [1.0, 0.0]]) * model.switch  # [from, to]
    # cost[a, b]: best total with frame t+1 in state a and frame t+2 in state b
    cost = unary[0][:, None] + unary[1][None, :] + disp[:, :, 0] + switch
    back = np.zeros((m - 2, 2, 2), dtype=np.int8)
    for t in range(m - 2):
        total = cost[:, :, None] + triple[:, :, :, t] + switch[None, :, :]  # (c, a, b)
        back[t] = np.argmin(total, axis=0)
        cost = np.min(total, axis=0) + unary[t + 2][None, :]
    a, b = np.unravel_index(int(np.argmin(cost)), cost.shape)
    out = np.zeros(m, dtype=bool)
    out[-1], out[-2] = bool(b), bool(a)
    for t in range(m - 3, -1, -1):
        c = back[t, a, b]
        out[t] = bool(c)
        a, b = c, a
    return out


def collapsed_leg_frames(image_xy: np.ndarray, max_run_frames: int) -> np.ndarray:
    """Frames (N,) bool where the model drew both legs on top of each other, briefly.

    A frame is low where the largest left-right image distance among the knees, ankles,
    heels and toes is under :data:`COLLAPSED_LEG_SEPARATION` of the frame's longer leg
    (hip-knee-ankle path). A run of at most *max_run_frames* low frames is a collapse when
    the frames on either side of it are at least :data:`COLLAPSE_NOTCH` times further
    apart (a notch, not legs that stay close). BlazePose does this for single frames
    beside the legs' crossing in side views and often puts the labels back the other way
    round after it: the collapsed frame sits where a real crossing would, so the path
    alone cannot tell a swap from a crossing across it (the rendered lag sample's frames
    23 and 25, then 26-30 swapped). Runs touching the ends of the clip are not judged.

    Args:
        image_xy: (N, 33, 2) image landmarks (pixels); NaN where not detected.
        max_run_frames: longest run counted as a collapse (frames); 0 finds none.
    """
    left, right = _LOWER_LEGS[:4], _LOWER_LEGS[4:]
    with quiet_nan_warnings():
        separation = np.linalg.norm(image_xy[:, left] - image_xy[:, right], axis=-1).max(axis=-1)
        ratio = separation / longer_leg_length(image_xy)
    low = ratio < COLLAPSED_LEG_SEPARATION
    out = np.zeros(low.shape, dtype=bool)
    padded = np.concatenate([[False], low, [False]])
    starts = np.flatnonzero(padded[1:] & ~padded[:-1])
    ends = np.flatnonzero(~padded[1:] & padded[:-1])
    n = ratio.shape[0]
    for a, b in zip(starts, ends):
        if b - a > max_run_frames or a == 0 or b == n:
            continue
        deepest = ratio[a:b].max()
        if ratio[a - 1] >= COLLAPSE_NOTCH * deepest and ratio[b] >= COLLAPSE_NOTCH * deepest:
            out[a:b] = True
    return out


def _swap_model_for(step_to_separation: float) -> SwapModel:
    """:data:`NEAREST_PATH` where the cue landmarks move, frame to frame, less than
    :data:`MAX_STEP_TO_SEPARATION` of their left-right separation
    (:func:`_step_to_separation`), else :data:`SMOOTH_PATH`."""
    return NEAREST_PATH if step_to_separation < MAX_STEP_TO_SEPARATION else SMOOTH_PATH


def _step_to_separation(pos: np.ndarray) -> float:
    """The cue landmarks' frame-to-frame movement as a share of their left-right separation
    (medians over the segment; infinite below two frames). *pos* as in :func:`_viterbi_swaps`."""
    if pos.shape[0] < 2:
        return float("inf")
    step = np.median(np.linalg.norm(np.diff(pos, axis=0), axis=-1).mean(axis=-1))
    separation = np.median(np.linalg.norm(pos[:, 0] - pos[:, 1], axis=-1).mean(axis=-1))
    return float(step / separation) if separation > 0 else float("inf")


def _cue_paths(xy: np.ndarray, mid_hip: np.ndarray, frames: np.ndarray, cue_left: np.ndarray) -> np.ndarray:
    """(M, 2, J, 2) [left, right] cue landmarks of *frames* relative to the mid-hip."""
    rows = frames[:, None]
    mirror = np.asarray(MIRROR)
    return np.stack([xy[rows, cue_left] - mid_hip[frames], xy[rows, mirror[cue_left]] - mid_hip[frames]], axis=1)


def fix_left_right_swaps(image_xy: np.ndarray, image_z: np.ndarray | None = None,
                         world_xyz: np.ndarray | None = None, visibility: np.ndarray | None = None,
                         presence: np.ndarray | None = None, *, is_repeat: np.ndarray | None = None,
                         max_gap: int = 2, max_collapsed_run: int = 0) -> SwapCorrection:
    """Detect and undo left/right label swaps of the legs and arms by temporal continuity.

    Pure: the inputs are not modified. For each limb group (:data:`SWAP_GROUPS`) and each
    segment of detected frames (gaps of more than *max_gap* missing frames split
    segments), a two-state Viterbi pass (:func:`_viterbi_swaps`) chooses per frame
    whether the group's left and right labels are exchanged so that the group's cue
    landmarks (:data:`SWAP_CUES`) take the nearest path from frame to frame that still
    passes where limbs pass each other (:data:`NEAREST_PATH`; :data:`SMOOTH_PATH` where the
    sampling is coarse). BlazePose's swaps in side views are near/far
    confusions: the model keeps calling the near leg by one name (its depth goes with the
    label, so depth cannot tell) but now and then puts that name on the far leg, for
    single frames or flickering runs. Repeated frames
    (*is_repeat*) show the same picture as the frame before, so they are left out of that
    pass and instead take the labelling that is closer to the (corrected) previous frame.
    Whatever is swapped in the image is swapped identically in ``image_z``,
    ``world_xyz``, ``visibility`` and ``presence``. Where the legs are finely sampled (60
    fps and above for a sprinter; :data:`FINE_PATH`), the knees join the feet as cues and
    frames where the model drew both legs on top of each other (:func:`collapsed_leg_frames`,
    runs of at most *max_collapsed_run*) are left out of the legs' pass, so that the path is
    judged across them; they say nothing about which leg is which.

    Measured on eight rendered clips against their truth (30, 60 and 120 fps; tracking,
    panning and static cameras), through the whole pipeline, both labellings applied to the
    same pose output: leg angular momentum r 0.62-0.90 (median 0.80) and hip flexion RMS
    6-25 deg, against 0.30-0.68 (median 0.60) and 13-38 deg with the previous labelling
    (whole limbs, by acceleration alone, with a switch cost); arms r median 0.85 against 0.70.
    Without the acceleration term (nearest path alone) one 60 fps clip's legs came out
    better (r 0.87 against 0.68), the other seven the same, but a simple runner drawn from
    sine curves had its legs exchanged at every crossing at 30 fps; an acceleration weight
    of 0.5 or more brought back wrong whole-step episodes on the rendered clips; a state
    penalty of 0.3 or 0.5 gave the same legs. Where the sampling is coarse (a real 30 fps
    sprint start: hato72 movie2_b11, feet moving 0.66 of their separation per picture) the
    nearest path means little and the smooth-path model decides (:func:`_swap_model_for`).
    Later (14 rendered clips, the same way): with the knees among the cues, collapsed
    frames left out and :data:`FINE_PATH` where the legs are finely sampled (60 fps and
    above), leg momentum r median 0.88 and 0.89 (left, right) and hip flexion RMS median
    8.1 and 7.4 deg, against 0.74, 0.76 and 18.7, 19.6 deg before; the remaining large
    errors are on 30 fps and panned clips.

    Args:
        image_xy: (N, 33, 2) image landmarks; NaN rows are frames without a person.
        image_z, world_xyz, visibility, presence: (N, 33[, 3]) companions, or None.
        is_repeat: (N,) bool, frames repeating the previous picture.
        max_gap: longest run of missing frames a segment bridges.
        max_collapsed_run: longest run of collapsed-leg frames left out (0: none).

    Returns:
        :class:`SwapCorrection` with corrected copies, the (N, G) swapped mask and the
        number of swap episodes (runs of consecutive corrected frames, per group).
    """
    xy = np.array(image_xy, dtype=float, copy=True)
    companions = [None if a is None else np.array(a, copy=True) for a in (image_z, world_xyz, visibility, presence)]
    swapped, episodes, collapsed = _fix_swaps_in_place(xy, companions, is_repeat=is_repeat, max_gap=max_gap,
                                                       collapsed_legs=collapsed_leg_frames(xy, max_collapsed_run))
    return SwapCorrection(xy, *companions, swapped=swapped, episodes=episodes, legs_collapsed=collapsed)


def _fix_swaps_in_place(xy: np.ndarray, companions: Sequence[np.ndarray | None], *,
                        is_repeat: np.ndarray | None = None, max_gap: int = 2,
                        collapsed_legs: np.ndarray | None = None) -> tuple[np.ndarray, int, np.ndarray]:
    """:func:`fix_left_right_swaps` on arrays the caller owns, corrected in place (no copies:
    :func:`_assemble_track` holds the only reference to a long clip's track, 2.1 KB per
    frame). *xy* (N, 33, 2) float64, *companions* (N, 33[, 3]) or None; *collapsed_legs*
    (N,) frames that finely sampled segments judge the legs across. Returns the (N, G)
    swapped mask, the number of episodes and the (N,) collapsed frames so left out."""
    n = xy.shape[0]
    repeat = np.zeros(n, dtype=bool) if is_repeat is None else np.asarray(is_repeat, dtype=bool)
    detected = np.isfinite(xy).all(axis=(-1, -2))

    swapped = np.zeros((n, len(SWAP_GROUPS)), dtype=bool)
    collapsed = np.zeros(n, dtype=bool) if collapsed_legs is None else np.asarray(collapsed_legs, dtype=bool)
    left_out = np.zeros(n, dtype=bool)
    mirror = np.asarray(MIRROR)
    mid_hip = xy[:, _HIPS].mean(axis=1, keepdims=True)  # the same whichever hip is which
    usable = np.flatnonzero(detected & ~repeat)  # distinct pictures, split where over max_gap are missing
    segments = np.split(usable, np.flatnonzero(np.diff(usable) > max_gap + 1) + 1) if usable.size else []
    for g, (name, left_t) in enumerate(SWAP_GROUPS.items()):
        left = np.asarray(left_t)
        right = mirror[left]
        # 1) distinct pictures: Viterbi per continuous segment
        for seg in segments:
            pos = _cue_paths(xy, mid_hip, seg, np.asarray(SWAP_CUES[name]))
            step_to_separation = _step_to_separation(pos)
            if name == "legs" and step_to_separation < FINE_STEP_TO_SEPARATION:
                judged = seg[~collapsed[seg]]
                left_out[seg] = collapsed[seg]
                swapped[judged, g] = _viterbi_swaps(_cue_paths(xy, mid_hip, judged, np.asarray(FINE_LEG_CUES)),
                                                    FINE_PATH)
            else:
                swapped[seg, g] = _viterbi_swaps(pos, _swap_model_for(step_to_separation))
        _swap_sides(xy, np.flatnonzero(swapped[:, g]), left, right)
        # 2) repeated pictures: follow the frame they repeat
        for t in np.flatnonzero(detected & repeat):
            if t == 0 or not detected[t - 1]:
                continue
            keep = np.linalg.norm(xy[t, left] - xy[t - 1, left], axis=-1).sum() + \
                np.linalg.norm(xy[t, right] - xy[t - 1, right], axis=-1).sum()
            swap = np.linalg.norm(xy[t, right] - xy[t - 1, left], axis=-1).sum() + \
                np.linalg.norm(xy[t, left] - xy[t - 1, right], axis=-1).sum()
            if swap < keep:
                swapped[t, g] = True
                _swap_sides(xy, np.array([t]), left, right)
        for arr in companions:
            if arr is not None:
                _swap_sides(arr, np.flatnonzero(swapped[:, g]), left, right)

    padded = np.pad(swapped, ((1, 0), (0, 0)))
    return swapped, int(np.sum(padded[1:] & ~padded[:-1])), left_out


# --------------------------------------------------------------------------- extraction


def _progress_bar(progress: Any, total: int, desc: str, position: int | None) -> tuple[Any, bool]:
    """(bar, owned): a tqdm bar, the caller's tqdm-like object, or a no-op."""
    if progress is False or progress is None:
        return _NoBar(), True
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=desc, unit="frame", position=position,
                   leave=position is None, disable=None, dynamic_ncols=True, file=sys.stderr)
        return bar, True
    if hasattr(progress, "reset"):
        progress.reset(total=total)
    if hasattr(progress, "set_description"):
        progress.set_description(desc)
    return progress, False


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _expected_frames(info: VideoInfo, start_s: float | None, end_s: float | None) -> int:
    times = info.frame_time(np.arange(info.frame_count))
    lo = -np.inf if start_s is None else start_s - 1e-9
    hi = np.inf if end_s is None else end_s - 1e-9
    return int(np.count_nonzero((times >= lo) & (times < hi)))


def _square_tiles(width: int, height: int) -> list[_View]:
    """Overlapping squares (side = the shorter image side) covering a wide or tall frame.

    BlazePose's person detector sees the whole input letterboxed to 224x224, so in a wide
    frame a small runner shrinks below what it can find; squares of the short side keep
    the detector's scale at that of a square frame. A near-square frame is one tile.
    """
    side, long_side = min(width, height), max(width, height)
    if long_side < 1.25 * side:
        return [_View(0, 0, width, height)]
    count = int(math.ceil((long_side - side) / (0.75 * side))) + 1
    starts = np.round(np.linspace(0, long_side - side, count)).astype(int)
    if width >= height:
        return [_View(int(x), 0, side, side) for x in starts]
    return [_View(0, int(y), side, side) for y in starts]


def _runner_window(centre: np.ndarray, size: float, width: int, height: int) -> _View:
    """A square around a person (hip *centre*, bounding-box diagonal *size*, model-image px)."""
    side = int(np.clip(32 * round(2.2 * size / 32), 192, min(width, height)))
    x0 = int(np.clip(round(centre[0] - side / 2), 0, width - side))
    y0 = int(np.clip(round(centre[1] - side / 2), 0, height - side))
    return _View(x0, y0, side, side)


class _Landmarkers:
    """The PoseLandmarkers one video needs, created on first use and closed together."""

    def __init__(self, model: Path, max_people: int) -> None:
        self.model, self.max_people = model, max_people
        self._stack = contextlib.ExitStack()
        self._made: dict[str, Any] = {}
        self._last_ms: dict[str, int] = {}

    def __enter__(self) -> _Landmarkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _get(self, role: str) -> Any:
        if role not in self._made:
            num, mode = {"frame": (self.max_people, "video"), "runner": (1, "video"),
                         "search": (self.max_people, "image")}[role]
            self._made[role] = self._stack.enter_context(create_landmarker(self.model, num, mode))
        return self._made[role]

    def detect(self, role: str, image: np.ndarray, time_s: float) -> Any:
        import mediapipe as mp

        mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=image)
        first_use = role not in self._made
        landmarker = self._get(role)
        # The native graph logs its set-up on the first inference (see native_stderr_silenced).
        with native_stderr_silenced() if first_use else contextlib.nullcontext():
            if role == "search":
                return landmarker.detect(mp_image)
            # VIDEO mode: integer ms, strictly increasing over this landmarker's life
            ts = max(int(round(time_s * 1000.0)), self._last_ms.get(role, -1) + 1)
            self._last_ms[role] = ts
            return landmarker.detect_for_video(mp_image, ts)


def extract_pose(info: VideoInfo, *, model_path: str | os.PathLike[str] | None = None,
                 start_s: float | None = None, end_s: float | None = None, max_people: int = 3,
                 progress: bool | Any = True, progress_position: int | None = None,
                 max_side_px: int | None = DEFAULT_MAX_SIDE_PX, prefetch: int = 8,
                 fix_swaps: bool = True) -> PoseTrack:
    """Run BlazePose over a video (or a ``start_s``..``end_s`` part) and follow the runner.

    Per distinct picture (repeated frames reuse the previous result):

    1. the whole frame goes to a VIDEO-mode landmarker looking for up to *max_people*
       (every other picture only while step 2 holds the most active person);
    2. if the current runner candidate (the most active person so far) is not among those
       poses, a second VIDEO-mode landmarker looks in a square window around where the
       candidate is predicted (small, distant runners that step 1 misses);
    3. twice a second, and every few frames while nobody is seen, an IMAGE-mode
       landmarker searches overlapping square tiles of the frame (see
       :func:`_square_tiles`), which finds people too small for step 1.

    Poses are de-duplicated, linked into people over time (:func:`link_people`'s rules)
    and the person who moved the most (hip travel against the background plus limb
    motion) is followed; frames where that person is not found are "not detected",
    never filled with someone else. Left/right swaps are then corrected
    (:func:`fix_left_right_swaps`). All landmarkers are closed before returning.

    Args:
        info: from :func:`analyzer.video.probe_video`.
        model_path: a pose landmarker ``.task``; None for the embedded full model.
        start_s, end_s: the analysed range (``start_s <= time_s < end_s``).
        max_people: poses per frame the model looks for.
        progress: True for a tqdm bar on stderr (silent when not a terminal), False for
            none, or a tqdm-like object to update (batch runs).
        progress_position: tqdm ``position`` of the bar (one line per worker).
        max_side_px: downscale frames to this longer side for the model (None: never).
        prefetch: decoded frames queued by the reader thread (0: decode inline).
        fix_swaps: correct left/right label swaps.

    Raises:
        PoseModelError: the model file is missing or not a pose ``.task``.
        analyzer.video.VideoError: the video cannot be decoded.
    """
    model = check_model(model_path)
    k_max = max(1, int(max_people))
    rate = info.container_fps if info.container_fps > 0 else 30.0
    search_every = max(1, int(round(rate / 2)))  # frames between routine searches
    search_when_lost = max(1, int(round(rate / 6)))  # ... and while nobody is seen
    linker = _Linker(max_gap=max(2, int(round(0.5 * rate))))
    bar, owned = _progress_bar(progress, _expected_frames(info, start_s, end_s), info.path.name, progress_position)

    index: list[int] = []
    times: list[float] = []
    repeats: list[bool] = []
    shifts: list[tuple[float, float]] = []
    store = _PoseStore()
    try:
        with _Landmarkers(model, k_max) as models:
            previous: _Poses | None = None
            last_search = -search_every
            window_for: int | None = None  # whom the runner window followed last
            window_missed: dict[int, int] = {}  # person -> last frame the window did not find them
            window_held = False  # the window found its person in the last distinct picture
            distinct = 0
            for t, frame in enumerate(iter_frames(info, start_s, end_s, max_side_px=max_side_px,
                                                  prefetch=prefetch)):
                if frame.is_repeat and previous is not None:
                    # the same picture: the same poses and people, and nothing moved
                    linker.advance(frame.background_shift_px)
                    store.repeat()
                else:
                    # while the window holds the most active person (a small runner), the whole
                    # frame is looked at every other picture only (it cannot see that runner
                    # well; it is there for the others)
                    distinct += 1
                    skip_whole = (window_held and distinct % 2 == 0
                                  and window_for == linker.most_active(linker.live(t)))
                    poses, searched, window_for = _detect_frame(
                        models, frame.image_rgb, frame.time_s, frame.scale, info.width, linker, window_for,
                        window_missed, search_when_lost, t, last_search, search_every, search_when_lost,
                        skip_whole)
                    last_search = t if searched else last_search
                    previous = poses
                    frame_ids = linker.update(t, poses.xy, poses.vis, frame.background_shift_px)
                    # the window stays with whoever it found, even if it was sent for another
                    found_by_window = frame_ids[poses.source == 1]
                    window_held = found_by_window.size > 0
                    window_for = int(found_by_window[0]) if window_held else window_for
                    store.add(poses, frame_ids)
                index.append(frame.index)
                times.append(frame.time_s)
                repeats.append(frame.is_repeat)
                shifts.append(frame.background_shift_px)
                bar.update(1)
    finally:
        if owned:
            bar.close()

    # The landmarkers are closed and the reader thread has stopped: the memory their
    # threads freed (about 170 MB on a 1080p clip, in their own malloc arenas, which this
    # thread's allocations cannot reuse) goes back before the track is assembled on top.
    memory.release_free_heap()
    most_active = linker.most_active()
    runner = -1 if most_active is None else most_active
    return _assemble_track(info, model, index, times, repeats, shifts, store, runner,
                           _describe_choice(linker, runner, len(index)), fix_swaps)


def _detect_frame(models: _Landmarkers, image: np.ndarray, time_s: float, scale: float, full_width: int,
                  linker: _Linker, window_for: int | None, window_missed: dict[int, int], retry: int,
                  t: int, last_search: int, search_every: int, search_when_lost: int,
                  skip_whole: bool = False) -> tuple[_Poses, bool, int | None]:
    """Steps 1-3 of :func:`extract_pose` on one picture.

    Returns the de-duplicated poses (closer views first: runner window, search tiles,
    whole frame), whether the tiles were searched, and whom the runner window followed
    (None when it found nobody). The window goes to the most active live person who is
    small in the frame (body size under half the shorter side: the whole-frame pass sees
    such people coarsely) or whom the whole-frame pass did not see; it keeps its previous
    person while that one still qualifies, so that its tracking holds. A person the
    window did not find is not looked for again for *retry* frames (*window_missed*,
    updated here), so a phantom cannot hold the window while the runner waits. With
    *skip_whole* the whole-frame pass is left out (the caller does so on every other
    picture while the window holds its person).
    """
    h, w = image.shape[:2]
    whole = _View(0, 0, w, h)
    found = [_Poses.empty() if skip_whole else
             _result_to_poses(models.detect("frame", image, time_s), whole, scale, full_width, 0)]
    small = 0.5 * min(h, w) / scale
    wanted = [pid for pid in linker.live(t)
              if (linker.people[pid].size < small or not linker.matches(pid, t, found[0].xy).any())
              and t - window_missed.get(pid, -retry - 1) > retry]
    target = window_for if window_for in wanted else linker.most_active(wanted)
    if target is not None:
        centre, size = linker.predict(target, t)
        view = _runner_window(centre * scale, size * scale, w, h)
        in_window = _result_to_poses(models.detect("runner", view.crop(image), time_s), view, scale, full_width, 1)
        found.insert(0, in_window)
        if not linker.matches(target, t, in_window.xy).any():
            window_missed[target] = t
            target = None
    anyone = sum(len(p) for p in found) > 0
    tiles = _square_tiles(w, h)
    due = t - last_search >= (search_every if anyone else search_when_lost)
    searched = len(tiles) > 1 and due
    if searched:
        for view in tiles:
            found.insert(-1, _result_to_poses(models.detect("search", view.crop(image), time_s), view, scale,
                                              full_width, 2))
    poses = _Poses.concat(found)
    # a pose whose hips lie outside the picture is no runner we could analyse (the
    # whole-frame pass can keep tracking a phantom just beyond the edge)
    hips = poses.xy[:, _HIPS].mean(axis=1) * scale
    inside = np.all((hips >= 0) & (hips <= (w, h)), axis=1)
    return _dedupe(poses.take(np.flatnonzero(inside))), searched, target


def _assemble_track(info: VideoInfo, model: Path, index: Sequence[int], times: Sequence[float],
                    repeats: Sequence[bool], shifts: Sequence[tuple[float, float]], store: _PoseStore,
                    runner: int, description: str, fix_swaps: bool) -> PoseTrack:
    n = len(index)
    xy = np.full((n, NUM_LANDMARKS, 2), np.nan)
    z = np.full((n, NUM_LANDMARKS), np.nan)
    world = np.full((n, NUM_LANDMARKS, 3), np.nan)
    vis = np.zeros((n, NUM_LANDMARKS))
    pres = np.zeros((n, NUM_LANDMARKS))
    detected = np.zeros(n, dtype=bool)
    source = np.full(n, -1, dtype=np.int8)
    for t in range(n):
        row = store.find(t, runner) if runner >= 0 else None
        if row is not None:
            xy[t], z[t], world[t], vis[t], pres[t], source[t] = store.pose(row, info.width)
            detected[t] = True
    is_repeat = np.asarray(repeats, dtype=bool).reshape(n)
    counts = np.array(store.count, dtype=np.int64).reshape(n)

    swap_fixed = np.zeros((n, len(SWAP_GROUPS)), dtype=bool)
    collapsed = np.zeros(n, dtype=bool)
    episodes = 0
    if fix_swaps and n:  # in place: these arrays are ours (fix_left_right_swaps would copy them)
        collapsed = collapsed_leg_frames(xy, max(1, round(COLLAPSED_LEG_MAX_RUN_S * info.fps)))
        swap_fixed, episodes, collapsed = _fix_swaps_in_place(xy, (z, world, vis, pres), is_repeat=is_repeat,
                                                              collapsed_legs=collapsed)
        vis[np.ix_(collapsed, _LOWER_LEGS)] = 0.0

    return PoseTrack(
        frame_index=np.asarray(index, dtype=np.int64).reshape(n),
        time_s=np.asarray(times, dtype=float).reshape(n),
        is_repeat=is_repeat,
        background_shift_px=np.asarray(shifts, dtype=float).reshape(n, 2),
        image_xy_px=xy, image_z=z, world_xyz_m=world, visibility=vis, presence=pres,
        detected=detected,
        people_count=counts,
        swap_fixed=swap_fixed,
        pose_source=source,
        legs_collapsed=collapsed,
        image_width=int(info.width), image_height=int(info.height),
        model_name=model.name,
        num_people_max=int(counts.max(initial=0)),
        followed_person=description,
        left_right_swaps_fixed=episodes,
    )


# --------------------------------------------------------------------------- cache


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
                        max_side_px: int | None = DEFAULT_MAX_SIDE_PX, **kwargs: Any) -> tuple[PoseTrack, bool]:
    """:func:`extract_pose` through the ``landmarks.npz`` cache: (track, loaded_from_cache)."""
    model = check_model(model_path)
    settings = {
        "start_s": start_s, "end_s": end_s, "max_people": int(max_people), "max_side_px": max_side_px,
        "fps": info.fps if info.fps_overridden else None, "fps_source": info.fps_source,
    }
    key = pose_cache_key(info.path, model, settings)
    cached = load_cached_pose(npz_path, key)
    if cached is not None:
        return cached, True
    track = extract_pose(info, model_path=model, start_s=start_s, end_s=end_s, max_people=max_people,
                         max_side_px=max_side_px, **kwargs)
    save_pose_cache(track, npz_path, key)
    return track, False

