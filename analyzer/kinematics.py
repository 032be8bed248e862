"""Kinematics: landmarks in the runner frame (metres) and joint angles (degrees).

Two entry points share everything downstream:

* :func:`from_pose` turns a video's pose (image pixels, MediaPipe world landmarks,
  visibility) into 3D points in the runner frame: forward and vertical from the image
  (what a side camera measures well), scaled to metres, and the medio-lateral axis from
  a depth model (docs/METHOD.md, section 4, "Depth").
* :func:`from_points` takes points that are already in the runner frame (the synthetic
  sprinter's exact landmarks), so every later stage can be fed the truth directly.

Axes (docs/METHOD.md, section 1): x forward (direction of travel), y up, z to the
runner's right. Angles follow docs/METHOD.md, section 3.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats

from analyzer import signals
from analyzer.landmarks import HIPS, INDEX, NUM_LANDMARKS, SIDES, leg_lengths, longer_leg_length, side_index
from analyzer.segments import HALF_WIDTH_FRACTION, de_leva

DepthMethod = Literal["anthropometric", "measured"]

#: Landmarks with visibility below this are treated as missing before conditioning.
DEFAULT_MIN_VISIBILITY = 0.1
#: The tilt correction is limited to this (radians); a larger apparent tilt is a view problem.
MAX_TILT_RAD = np.deg2rad(15.0)

_LEG_PARTS = ("hip", "knee", "ankle", "heel", "foot_index")
_ARM_PARTS = ("shoulder", "elbow", "wrist", "pinky", "index", "thumb")


@dataclass(frozen=True)
class RunnerFrame:
    """How image pixels map onto the runner frame.

    Attributes:
        direction: +1 when the runner faces/travels toward the image's right, -1 toward its left.
        tilt_rad: angle of the ground line in the image (positive: ground rises to the right);
            image coordinates are rotated by ``-tilt_rad`` about the picture's centre to level them.
        m_per_px: metres per pixel at the runner's distance (the median over frames when
            :attr:`scale_follows_distance`).
        scale_source: ``"height"`` (from the athlete's height) or ``"world_landmarks"``
            (from the pose model's metric world landmarks).
        height_m: the athlete's stature used (given, or estimated from the world landmarks).
        m_per_px_by_frame: (N,) metres per pixel of each frame; all equal to :attr:`m_per_px`
            unless the scale follows the runner's distance.
        scale_follows_distance: the runner's size in the picture changes through the clip (a
            runner coming toward or going away from the camera, or a panning camera whose
            distance to the runner changes), so each frame has its own scale
            (docs/METHOD.md, section 4, "Scale").
        origin_px: the picture's centre (x, y), from which pixel positions are measured.
    """

    direction: int
    tilt_rad: float
    m_per_px: float
    scale_source: str
    height_m: float
    m_per_px_by_frame: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)
    scale_follows_distance: bool = False
    origin_px: tuple[float, float] = (0.0, 0.0)

    @property
    def scale_ratio(self) -> np.ndarray | None:
        """(N,) each frame's metres per pixel over :attr:`m_per_px` where the scale follows the
        runner's distance (:attr:`scale_follows_distance`); None with one scale for the clip."""
        if not (self.scale_follows_distance and self.m_per_px_by_frame.size):
            return None
        return self.m_per_px_by_frame / self.m_per_px

    @property
    def m_per_px_range(self) -> tuple[float, float]:
        """5th and 95th percentiles of the frames' metres per pixel (equal with one scale)."""
        if not self.m_per_px_by_frame.size:
            return self.m_per_px, self.m_per_px
        low, high = np.percentile(self.m_per_px_by_frame, [5, 95])
        return float(low), float(high)


@dataclass(frozen=True)
class Kinematics:
    """Conditioned 3D landmarks in the runner frame and the joint angles.

    Attributes:
        time_s: (N,) frame times (s).
        points_m: (N, 33, 3) landmarks in the runner frame (m), NaN where unknown.
        valid: (N,) frames where the whole body is known.
        sample_rate_hz: rate of independent samples (distinct images) (Hz).
        cutoff_hz: low-pass cutoff applied to every landmark coordinate (Hz).
        angles_deg: joint and segment angles (docs/METHOD.md section 3), each (N,).
        depth_method: how z was obtained (``"anthropometric"`` or ``"measured"``).
        frame: the image-to-runner mapping, or None when points were given in the runner frame.
        height_m: the stature used (m).
        image_outliers: (N, 33) landmarks set aside as standing off their smooth image path
            (:func:`analyzer.signals.outliers_from_smooth`), or None for points given in the
            runner frame.
        toeoff_points_m: (N, 33, 3) the hips, heels and toes (:data:`TOEOFF_LANDMARKS`; the
            other landmarks NaN) conditioned as ``points_m`` but low-passed at
            :func:`analyzer.signals.toeoff_cutoff_hz`, from which toe-offs are read; None
            where the points were not conditioned (exact input).
        toeoff_cutoff_hz: the low-pass cutoff of ``toeoff_points_m`` (Hz; NaN without them).
    """

    time_s: np.ndarray
    points_m: np.ndarray
    valid: np.ndarray
    sample_rate_hz: float
    cutoff_hz: float
    angles_deg: dict[str, np.ndarray]
    depth_method: str
    frame: RunnerFrame | None = None
    height_m: float = field(default=float("nan"))
    image_outliers: np.ndarray | None = None
    toeoff_points_m: np.ndarray | None = None
    toeoff_cutoff_hz: float = float("nan")

    @property
    def yaw_observable(self) -> bool:
        """Whether rotations about the vertical (pelvis, thorax yaw) are measured.

        Not with the anthropometric depth model: a side camera sees the shoulder and hip
        lines end-on, and their yaw would come from the far shoulder's and hip's image
        position, which the pose model guesses.
        """
        return self.depth_method != "anthropometric"

    def point(self, name: str) -> np.ndarray:
        """(N, 3) trajectory of one landmark by name."""
        return self.points_m[:, INDEX[name]]


# ---------------------------------------------------------------------------------------
# Image geometry: direction of travel, ground tilt, scale
# ---------------------------------------------------------------------------------------

def _median_finite(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


#: The body's facing (:func:`estimate_direction`) is clear beyond this many leg lengths: the
#: renders read 0.23-0.66 and the shared sprint clips 0.44-0.66 (knees and toes ahead).
FACING_CLEAR_LEG_LENGTHS = 0.1


def estimate_direction(image_xy_px: np.ndarray) -> int:
    """+1 if the runner faces the image's right, -1 if its left.

    Two cues, each in units of the runner's leg length:

    * facing: where the body points, which also works on a treadmill or with a panning
      camera: knees bend forward (the knee lies ahead of the hip-ankle line) and the toes
      lie ahead of the ankle (medians over the clip);
    * travel: the hips crossing the image between the clip's first and last tenth (a static
      camera), which decides where it exceeds two leg lengths, unless the facing is clear
      (:data:`FACING_CLEAR_LEG_LENGTHS`) and says the other way: a few frames of another
      detection at either end can fake a crossing (a 30 fps pan render read 4 leg lengths
      the wrong way and was analysed mirrored; docs/METHOD.md, section 4), the facing medians
      are not moved by them.
    """
    legs = leg_lengths(image_xy_px)
    leg = np.nanmedian(legs) if np.isfinite(legs).any() else np.nan
    votes = []
    for side in SIDES:
        hip, knee, ankle, toe = (image_xy_px[:, side_index(side, p), 0] for p in ("hip", "knee", "ankle", "foot_index"))
        votes.append(knee - 0.5 * (hip + ankle))
        votes.append(toe - ankle)
    facing = np.nansum([_median_finite(v) for v in votes if np.isfinite(v).any()])
    hip_x = np.nanmean(image_xy_px[:, HIPS, 0], axis=1)
    finite = np.flatnonzero(np.isfinite(hip_x))
    if finite.size >= 2 and np.isfinite(leg) and leg > 0:
        edge = max(1, finite.size // 10)
        travel = np.median(hip_x[finite[-edge:]]) - np.median(hip_x[finite[:edge]])
        facing_clear = np.isfinite(facing) and abs(facing) > FACING_CLEAR_LEG_LENGTHS * leg
        if abs(travel) > 2.0 * leg and not (facing_clear and np.sign(facing) != np.sign(travel)):
            return 1 if travel > 0 else -1
    if np.isfinite(facing) and facing != 0:
        return 1 if facing > 0 else -1
    return 1


def lowest_foot_point_px(image_xy_px: np.ndarray) -> np.ndarray:
    """(N, 2) the lowest (largest image y) heel or toe point of either foot per frame."""
    feet = [side_index(s, p) for s in SIDES for p in ("heel", "foot_index")]
    pts = image_xy_px[:, feet]  # (N, 4, 2)
    y = np.where(np.isfinite(pts[..., 1]), pts[..., 1], -np.inf)
    pick = np.argmax(y, axis=1)
    out = pts[np.arange(pts.shape[0]), pick]
    out[~np.isfinite(y.max(axis=1))] = np.nan
    return out


def estimate_tilt_rad(image_xy_px: np.ndarray, image_width_px: float, camera_moving: bool) -> float:
    """Angle of the ground line in the image, from where the feet touch it.

    The lowest foot point of each frame traces the ground during contacts; the local
    maxima of its image y (the contacts) are fitted with a Theil-Sen line. Only a static
    camera with the runner crossing at least a quarter of the frame gives a usable line;
    otherwise the image horizontal is assumed (tilt 0).
    """
    if camera_moving:
        return 0.0
    low = lowest_foot_point_px(image_xy_px)
    ok = np.isfinite(low).all(axis=1)
    if ok.sum() < 10:
        return 0.0
    x, y = low[ok, 0], low[ok, 1]
    # Contacts: samples within the lowest band of a sliding neighbourhood.
    order = np.argsort(x)
    x, y = x[order], y[order]
    bins = np.linspace(x.min(), x.max(), 13)
    which = np.clip(np.digitize(x, bins) - 1, 0, len(bins) - 2)
    keep_x, keep_y = [], []
    for b in np.unique(which):
        members = which == b
        if members.sum() >= 2:
            cut = np.quantile(y[members], 0.8)
            keep_x.append(x[members][y[members] >= cut])
            keep_y.append(y[members][y[members] >= cut])
    if not keep_x:
        return 0.0
    gx, gy = np.concatenate(keep_x), np.concatenate(keep_y)
    if np.ptp(gx) < 0.25 * image_width_px:
        return 0.0
    slope = stats.theilslopes(gy, gx).slope
    # Image y points down: a ground line whose y decreases to the right rises to the right.
    tilt = float(np.arctan(-slope))
    return float(np.clip(tilt, -MAX_TILT_RAD, MAX_TILT_RAD))


#: Thigh + shank length as a fraction of stature (de Leva 1996 reference lengths).
def _leg_length_fraction(sex: str) -> float:
    p = de_leva(sex)  # type: ignore[arg-type]
    return p["thigh"].length_fraction + p["shank"].length_fraction


#: The scale follows the runner's distance when the extended legs' length in the picture
#: changes by more than this factor through the clip (95th over 5th percentile of
#: :func:`extended_leg_length_px`). The shared side views read 1.03-1.39 (pose noise, sprint
#: starts whose legs stay bent, a panning phone); pans that follow the rendered sprinter from
#: 6-9 m read 1.65-2.07 (its size about doubles), and shared front and back views of runners
#: coming toward or going away 2.6-3.7 (docs/METHOD.md, section 4, "Scale").
SCALE_VARIATION_LIMIT = 1.5
#: Window of :func:`extended_leg_length_px` (s): longer than a stride (0.45 s sprinting, 0.7 s
#: jogging), so that every window holds frames with a leg extended.
SCALE_WINDOW_S = 1.0
#: Fewer legs than this in a window give no length there (filled from the neighbours).
_MIN_LEGS_PER_WINDOW = 5


def extended_leg_length_px(image_xy_px: np.ndarray, time_s: np.ndarray, window_s: float = SCALE_WINDOW_S) -> np.ndarray:
    """(N,) the runner's extended-leg length in pixels around each frame.

    The longer side's hip-knee-ankle length is shortened by knee flexion and by
    foreshortening, never lengthened, so its 90th percentile within a window of *window_s*
    centred on a frame is the extended leg at that moment's distance from the camera. While
    the runner's size in the picture changes, a window's percentile leans toward its larger
    end (by ~13 % for a size growing by a third per second), so a second pass first scales
    each window's lengths to its centre with the growth rate the first pass found. Computed at
    centres a quarter window apart and interpolated between them (and held beyond the first
    and last); NaN when no window has enough legs.

    Args:
        image_xy_px: (N, 33, 2) image positions (px), NaN where unknown.
        time_s: (N,) frame times (s).
        window_s: window length (s).
    """
    return _windowed_extended_length(longer_leg_length(image_xy_px), np.asarray(time_s, dtype=float), window_s)


def _windowed_extended_length(longer: np.ndarray, time_s: np.ndarray, window_s: float) -> np.ndarray:
    """:func:`extended_leg_length_px` from the frames' longer-leg lengths *longer* (N,)."""
    n = longer.size
    out = np.full(n, np.nan)
    if n == 0:
        return out
    dt = float(np.median(np.diff(time_s))) if n > 1 else 1.0
    half = max(1, int(round(0.5 * window_s / dt)))
    centres = np.arange(0, n, max(1, half // 2))
    members = centres[:, None] + np.arange(-half, half + 1)[None, :]
    inside = (members >= 0) & (members < n)
    windows = longer[np.clip(members, 0, n - 1)]
    windows[~inside] = np.nan
    enough = np.isfinite(windows).sum(axis=1) >= _MIN_LEGS_PER_WINDOW
    if not enough.any():
        return out
    centres, windows = centres[enough], windows[enough]
    offsets_s = time_s[np.clip(members[enough], 0, n - 1)] - time_s[centres][:, None]
    first = np.nanpercentile(windows, 90, axis=1)
    growth_per_s = np.gradient(np.log(first), time_s[centres]) if centres.size > 1 else np.zeros(1)
    levels = np.nanpercentile(windows * np.exp(-growth_per_s[:, None] * offsets_s), 90, axis=1)
    return np.interp(np.arange(n), centres, levels)


@dataclass(frozen=True)
class Scale:
    """Metres per pixel and where they came from (:func:`estimate_scale`).

    Attributes:
        m_per_px_by_frame: (N,) metres per pixel of each frame.
        source: ``"height"`` or ``"world_landmarks"``.
        height_m: the stature used (given, or estimated from the world landmarks).
        follows_distance: each frame has its own scale (the runner's size in the picture changes).
    """

    m_per_px_by_frame: np.ndarray
    source: str
    height_m: float
    follows_distance: bool

    @property
    def m_per_px(self) -> float:
        """The clip's typical scale: the median over frames."""
        return float(np.median(self.m_per_px_by_frame))


def estimate_scale(
    image_xy_px: np.ndarray,
    world_xyz_m: np.ndarray,
    *,
    height_m: float | None,
    sex: str,
    time_s: np.ndarray | None = None,
) -> Scale:
    """Metres per pixel, frame by frame, its source, and the stature used.

    With the athlete's height: the legs (hip-knee-ankle) are the body's longest rigid
    chain and lie in the image plane of a side view; their image length (the 90th
    percentile over frames of the longer side, since foreshortening only shortens)
    equals de Leva's thigh + shank fraction of stature. Without it: the same chain in
    MediaPipe's metric world landmarks gives metres per pixel directly, and the stature
    is estimated from it. When the legs' length in the picture changes through the clip by
    more than :data:`SCALE_VARIATION_LIMIT` (the runner's distance to the camera changes),
    the image length is taken frame by frame (:func:`extended_leg_length_px`) instead of
    once for the clip.

    Args:
        image_xy_px: (N, 33, 2) image positions (px).
        world_xyz_m: (N, 33, 3) MediaPipe world landmarks (m).
        height_m: the athlete's stature if known.
        sex: de Leva table for the leg-length fraction.
        time_s: (N,) frame times (s); without them the scale is one for the clip.

    Raises:
        ValueError: when the legs are never seen.
    """
    longer_px = longer_leg_length(image_xy_px)
    legs_px_ref = np.nanpercentile(longer_px, 90) if np.isfinite(longer_px).any() else np.nan
    if not np.isfinite(legs_px_ref) or legs_px_ref <= 0:
        raise ValueError("the runner's legs are never fully visible, so no scale can be set")
    fraction = _leg_length_fraction(sex)
    if height_m is not None:
        legs_m, source, stature = fraction * height_m, "height", float(height_m)
    else:
        legs_m = float(np.nanpercentile(longer_leg_length(world_xyz_m), 90))
        source, stature = "world_landmarks", legs_m / fraction
    n = longer_px.size
    by_frame_px = np.full(n, legs_px_ref)
    follows = False
    if time_s is not None and n > 1:
        track_px = _windowed_extended_length(longer_px, np.asarray(time_s, dtype=float), SCALE_WINDOW_S)
        seen = np.isfinite(longer_px) & np.isfinite(track_px)
        if seen.sum() >= _MIN_LEGS_PER_WINDOW:
            low, high = np.percentile(track_px[seen], [5, 95])
            if low > 0 and high / low > SCALE_VARIATION_LIMIT:
                by_frame_px, follows = track_px, True
    return Scale(legs_m / by_frame_px, source, float(stature), follows)


# ---------------------------------------------------------------------------------------
# Depth (medio-lateral axis)
# ---------------------------------------------------------------------------------------

def _lateral_sign() -> np.ndarray:
    """(33,) -1 for the runner's left landmarks, +1 for right, 0 for midline ones."""
    sign = np.zeros(NUM_LANDMARKS)
    for i, name in enumerate(INDEX):
        if name.startswith("left") or name == "mouth_left":
            sign[i] = -1.0
        elif name.startswith("right") or name == "mouth_right":
            sign[i] = 1.0
    return sign


def anthropometric_half_widths_m(height_m: float) -> np.ndarray:
    """(33,) distance of each landmark from the body's midline in the depth model (m).

    Legs (hip to toe) lie in the sagittal plane through the hip joint centre, arms in the
    plane through the shoulder joint centre; face landmarks sit at half of the head's
    width (their mass is counted in the head's centre, on the midline).
    """
    width = np.zeros(NUM_LANDMARKS)
    for side in SIDES:
        for part in _LEG_PARTS:
            width[side_index(side, part)] = HALF_WIDTH_FRACTION["hip"] * height_m
        for part in _ARM_PARTS:
            width[side_index(side, part)] = HALF_WIDTH_FRACTION["shoulder"] * height_m
        for part in ("eye_inner", "eye", "eye_outer", "ear"):
            width[side_index(side, part)] = 0.04 * height_m
    width[INDEX["mouth_left"]] = width[INDEX["mouth_right"]] = 0.015 * height_m
    return width


def lateral_positions_m(
    world_xyz_m: np.ndarray, direction: int, height_m: float, method: DepthMethod
) -> np.ndarray:
    """(N, 33) z (to the runner's right) of every landmark, by the chosen depth model.

    ``"measured"`` takes the pose model's own depth: MediaPipe's world z grows away from
    the camera, and a runner travelling toward the image's right shows the camera their
    right side, so ``z_right = -direction * z_world``.
    ``"anthropometric"`` places each landmark at its side's anthropometric half-width
    (docs/METHOD.md, section 4, where the choice is justified with measurements).
    """
    if method == "measured":
        return -direction * world_xyz_m[..., 2]
    if method == "anthropometric":
        z = _lateral_sign() * anthropometric_half_widths_m(height_m)
        return np.broadcast_to(z, world_xyz_m.shape[:2]).copy()
    raise ValueError(f"unknown depth method {method!r}")


# ---------------------------------------------------------------------------------------
# Pose -> runner frame
# ---------------------------------------------------------------------------------------

def image_to_runner_plane(image_xy_px: np.ndarray, frame: RunnerFrame) -> np.ndarray:
    """(N, 33, 2) forward and up positions (m) from upright image pixels."""
    out = np.empty(np.shape(image_xy_px)[:-1] + (2,))
    _runner_plane_into(image_xy_px, frame, out[..., 0], out[..., 1])
    return out


def _runner_plane_into(image_xy_px: np.ndarray, frame: RunnerFrame, forward: np.ndarray, up: np.ndarray) -> None:
    """:func:`image_to_runner_plane` written into *forward* and *up* (views of a larger array).

    Pixels are measured from the picture's centre (the camera's axis), so that a scale that
    follows the runner's distance keeps the ground where it is: a level camera at height h
    sees the ground (h·f/Z) px below its centre, which is h metres at (Z/f) m per px.
    """
    c, s = np.cos(-frame.tilt_rad), np.sin(-frame.tilt_rad)
    x = image_xy_px[..., 0] - frame.origin_px[0]
    y_up = frame.origin_px[1] - image_xy_px[..., 1]
    np.multiply(c, x, out=forward)
    forward -= s * y_up
    np.multiply(s, x, out=up)
    up += c * y_up
    scale = frame.m_per_px_by_frame if frame.m_per_px_by_frame.size else np.asarray(frame.m_per_px)
    scale = scale.reshape(scale.shape + (1,) * (forward.ndim - scale.ndim))  # (N, 1) over the landmarks
    forward *= frame.direction
    forward *= scale
    up *= scale


def from_pose(
    image_xy_px: np.ndarray,
    world_xyz_m: np.ndarray,
    visibility: np.ndarray,
    time_s: np.ndarray,
    *,
    image_width_px: float,
    image_height_px: float,
    is_repeat: np.ndarray | None = None,
    height_m: float | None = None,
    sex: str = "male",
    camera_moving: bool = False,
    depth: DepthMethod = "anthropometric",
    min_visibility: float = DEFAULT_MIN_VISIBILITY,
    cutoff_hz: float | None = None,
) -> Kinematics:
    """Runner-frame kinematics from a video's pose.

    Args:
        image_xy_px: (N, 33, 2) upright image pixels (NaN where not detected).
        world_xyz_m: (N, 33, 3) MediaPipe world landmarks (m).
        visibility: (N, 33) MediaPipe visibility in [0, 1].
        time_s: (N,) frame times (s).
        image_width_px: frame width (for the ground-line fit and the picture's centre).
        image_height_px: frame height (the picture's centre).
        is_repeat: (N,) frames that repeat the previous image; their samples are dropped
            and re-created by interpolation between distinct images.
        height_m: the athlete's stature if known (sets the scale); else estimated.
        sex: de Leva table used for the leg-length fraction.
        camera_moving: a panning camera (no ground-line fit).
        depth: depth model for the medio-lateral axis.
        min_visibility: landmarks below this visibility are treated as missing.
        cutoff_hz: low-pass cutoff; default from the distinct-image rate.
    """
    time_s = np.asarray(time_s, dtype=float)
    image_xy = np.array(image_xy_px, dtype=float)
    world = np.array(world_xyz_m, dtype=float)
    hidden = ~(np.asarray(visibility) >= min_visibility)
    if is_repeat is not None:
        hidden |= np.asarray(is_repeat, dtype=bool)[:, None]
    image_xy[hidden] = np.nan
    sample_rate = distinct_sample_rate_hz(time_s, is_repeat)
    cutoff = signals.default_cutoff_hz(sample_rate) if cutoff_hz is None else float(cutoff_hz)
    max_gap_s = _max_gap_s(sample_rate)
    outliers = image_outliers(image_xy, time_s, cutoff_hz=cutoff, max_gap_s=max_gap_s)
    image_xy[outliers] = np.nan
    hidden |= outliers
    world[hidden] = np.nan

    direction = estimate_direction(image_xy)
    tilt = estimate_tilt_rad(image_xy, image_width_px, camera_moving)
    scale = estimate_scale(image_xy, world, height_m=height_m, sex=sex, time_s=time_s)
    used_height = scale.height_m
    frame = RunnerFrame(direction, tilt, scale.m_per_px, scale.source, used_height,
                        m_per_px_by_frame=scale.m_per_px_by_frame, scale_follows_distance=scale.follows_distance,
                        origin_px=(0.5 * image_width_px, 0.5 * image_height_px))

    # The runner-frame points are written in place and each input freed once used, so that
    # a long clip holds few (N, 33, k) arrays at once (10 minutes at 60 fps: 28 MB for k = 3).
    z = lateral_positions_m(world, direction, used_height, depth)
    del world
    points = np.empty(image_xy.shape[:2] + (3,))
    points[..., 2] = z
    del z
    _runner_plane_into(image_xy, frame, points[..., 0], points[..., 1])
    del image_xy
    points[..., 2][~np.isfinite(points[..., 0])] = np.nan
    kinematics = from_points(points, time_s, sample_rate_hz=sample_rate, cutoff_hz=cutoff,
                             depth_method=depth, frame=frame, height_m=used_height)
    return dataclasses.replace(kinematics, image_outliers=outliers)


#: A pose landmark is set aside where it stands off its smooth image path by more than this
#: many times its own noise SD (:func:`analyzer.signals.outliers_from_smooth`). Chosen on the
#: 22 rendered clips (pose model included, docs/METHOD.md section 4, "Filtering").
IMAGE_OUTLIER_SIGMAS = 6.0
#: The noise SD (pixels) below which no landmark is judged: a pose model locates a
#: landmark no better than about a pixel, and exact input must keep its sharp turns.
IMAGE_NOISE_FLOOR_PX = 1.0
#: Landmarks :func:`image_outliers` does not judge: the ankles, heels and toes. At a
#: touchdown the foot stops within a frame or two; on the rendered sprinter's exact image
#: points that leaves a low-pass path by up to 15 px, and on real 30 fps sprint starts
#: judging the feet removed the contacts themselves (movie1_a7 of the shared clips: 5 steps
#: found, then none).
OUTLIER_EXEMPT = np.array([side_index(side, part) for side in SIDES for part in ("ankle", "heel", "foot_index")])


def image_outliers(image_xy_px: np.ndarray, time_s: np.ndarray, *, cutoff_hz: float,
                   max_gap_s: float, n_sigmas: float = IMAGE_OUTLIER_SIGMAS,
                   noise_floor_px: float = IMAGE_NOISE_FLOOR_PX) -> np.ndarray:
    """(N, 33) pose landmarks that stand off their smooth path in the image.

    Judged in image pixels, where the pose model's error lives (the runner-frame depth is
    modelled, not measured), over the frames' own time base; *image_xy_px* is (N, 33, 2)
    with NaN where missing (hidden or repeated images), *cutoff_hz* the low-pass cutoff of
    every signal (the path is drawn with the same filter that later smooths the points).
    The feet (:data:`OUTLIER_EXEMPT`) are not judged: their sudden stop at touchdown is real
    motion that no low-pass path follows.
    """
    time_s = np.asarray(time_s, dtype=float)
    outliers = np.zeros(image_xy_px.shape[:2], dtype=bool)
    if time_s.size < 4:
        return outliers
    judged = np.setdiff1d(np.arange(NUM_LANDMARKS), OUTLIER_EXEMPT)
    outliers[:, judged] = signals.outliers_from_smooth(image_xy_px[:, judged], time_s, cutoff_hz=cutoff_hz,
                                                       n_sigmas=n_sigmas, min_sigma=noise_floor_px, max_gap_s=max_gap_s)
    return outliers


def _max_gap_s(sample_rate_hz: float) -> float:
    """Longest gap bridged by interpolation (s): 0.1 s, or 2.5 distinct images when sparser."""
    return max(signals.DEFAULT_MAX_GAP_S, 2.5 / sample_rate_hz)


def distinct_sample_rate_hz(time_s: np.ndarray, is_repeat: np.ndarray | None = None) -> float:
    """Rate of distinct images (Hz): frames per second, less repeated images."""
    time_s = np.asarray(time_s, dtype=float)
    if time_s.size < 2:
        return float("nan")
    duration = time_s[-1] - time_s[0]
    distinct = time_s.size if is_repeat is None else int(np.count_nonzero(~np.asarray(is_repeat, dtype=bool)))
    return float((distinct - 1) / duration) if duration > 0 else float("nan")


def from_points(
    points_m: np.ndarray,
    time_s: np.ndarray,
    *,
    sample_rate_hz: float | None = None,
    cutoff_hz: float | None = None,
    condition: bool = True,
    depth_method: str = "measured",
    frame: RunnerFrame | None = None,
    height_m: float = float("nan"),
) -> Kinematics:
    """Kinematics from landmarks already in the runner frame.

    Args:
        points_m: (N, 33, 3) landmarks in the runner frame (m), NaN where missing.
        time_s: (N,) sample times (s).
        sample_rate_hz: rate of independent samples; default from *time_s*.
        cutoff_hz: low-pass cutoff (Hz); default :func:`analyzer.signals.default_cutoff_hz`.
        condition: apply outlier rejection, gap filling and the low-pass (False for exact input).
    """
    time_s = np.asarray(time_s, dtype=float)
    if sample_rate_hz is None or not np.isfinite(sample_rate_hz):
        sample_rate_hz = distinct_sample_rate_hz(time_s)
    cutoff = signals.default_cutoff_hz(sample_rate_hz) if cutoff_hz is None else float(cutoff_hz)
    points = np.asarray(points_m, dtype=float)
    toeoff_points, toeoff_cutoff = None, float("nan")
    if condition:
        # Outliers and gaps are handled once; the toe-offs' landmarks are low-passed twice.
        cleaned = signals.clean(points, time_s, sample_rate_hz=sample_rate_hz, max_gap_s=_max_gap_s(sample_rate_hz)).values
        toeoff_cutoff = max(cutoff, signals.toeoff_cutoff_hz(sample_rate_hz))
        toeoff_points = np.full_like(cleaned, np.nan)
        toeoff_points[:, TOEOFF_LANDMARKS] = signals.lowpass_rows(cleaned[:, TOEOFF_LANDMARKS], time_s, toeoff_cutoff,
                                                                    sample_rate_hz)
        points = signals.lowpass_rows(cleaned, time_s, cutoff, sample_rate_hz)
        del cleaned
    valid = np.isfinite(points[:, _BODY_LANDMARKS]).all(axis=(1, 2))
    return Kinematics(time_s, points, valid, float(sample_rate_hz), cutoff, joint_angles_deg(points),
                      depth_method, frame, float(height_m), toeoff_points_m=toeoff_points,
                      toeoff_cutoff_hz=toeoff_cutoff)


#: The landmarks toe-offs are read from (:attr:`Kinematics.toeoff_points_m`): each foot's
#: lowest point and its position under the pelvis.
TOEOFF_LANDMARKS = [INDEX[f"{s}_{p}"] for s in SIDES for p in ("hip", "heel", "foot_index")]
_BODY_LANDMARKS = [INDEX[f"{s}_{p}"] for s in SIDES for p in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "foot_index")]


# ---------------------------------------------------------------------------------------
# Angles (docs/METHOD.md section 3)
# ---------------------------------------------------------------------------------------

def sagittal_angle_deg(vector: np.ndarray) -> np.ndarray:
    """θ(v) = atan2(v_x, -v_y) in degrees: angle from straight down, positive forward."""
    return np.degrees(np.arctan2(vector[..., 0], -vector[..., 1]))


def wrap_deg(angle: np.ndarray) -> np.ndarray:
    """Wrap degrees to (-180, 180]."""
    return 180.0 - np.mod(180.0 - angle, 360.0)


def yaw_deg(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Rotation of the left-to-right line about the vertical: atan2((R-L)_x, (R-L)_z), degrees.

    Positive when the right point is ahead: counter-clockwise from above, the sign of H.
    """
    d = right - left
    return np.degrees(np.arctan2(d[..., 0], d[..., 2]))


def joint_angles_deg(points_m: np.ndarray) -> dict[str, np.ndarray]:
    """Every joint and segment angle of docs/METHOD.md section 3, keyed by output column."""
    p = lambda name: points_m[:, INDEX[name]]  # noqa: E731
    mid_shoulder = 0.5 * (p("left_shoulder") + p("right_shoulder"))
    mid_hip = 0.5 * (p("left_hip") + p("right_hip"))
    trunk_down = sagittal_angle_deg(mid_hip - mid_shoulder)
    angles: dict[str, np.ndarray] = {}
    thigh = {}
    for side in SIDES:
        s = lambda part: p(f"{side}_{part}")  # noqa: E731
        thigh[side] = sagittal_angle_deg(s("knee") - s("hip"))
        shank = sagittal_angle_deg(s("ankle") - s("knee"))
        foot = sagittal_angle_deg(s("foot_index") - s("heel"))
        upper_arm = sagittal_angle_deg(s("elbow") - s("shoulder"))
        forearm = sagittal_angle_deg(s("wrist") - s("elbow"))
        angles[f"hip_flexion_{side}_deg"] = wrap_deg(thigh[side] - trunk_down)
        angles[f"knee_flexion_{side}_deg"] = wrap_deg(thigh[side] - shank)
        angles[f"ankle_dorsiflexion_{side}_deg"] = wrap_deg(foot - shank - 90.0)
        angles[f"shoulder_flexion_{side}_deg"] = wrap_deg(upper_arm - trunk_down)
        angles[f"elbow_flexion_{side}_deg"] = wrap_deg(forearm - upper_arm)
        angles[f"thigh_angle_{side}_deg"] = wrap_deg(thigh[side])
    trunk_up = mid_shoulder - mid_hip
    angles["trunk_lean_deg"] = np.degrees(np.arctan2(trunk_up[:, 0], trunk_up[:, 1]))
    angles["inter_thigh_angle_deg"] = np.abs(wrap_deg(thigh["left"] - thigh["right"]))
    angles["pelvis_rotation_deg"] = yaw_deg(p("left_hip"), p("right_hip"))
    angles["thorax_rotation_deg"] = yaw_deg(p("left_shoulder"), p("right_shoulder"))
    return angles


ANGLE_COLUMNS: tuple[str, ...] = tuple(joint_angles_deg(np.zeros((1, NUM_LANDMARKS, 3))).keys())
