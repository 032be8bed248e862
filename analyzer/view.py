"""Camera view and scene checks: side, front, back or oblique; a panning camera; running at all.

The counterbalance analysis needs a side view: forward and vertical motion in the image
plane. Other views still get their numbers computed, but the report says plainly that
they cannot be trusted, and no step is flagged.

Cues (all from the pose, cheap and vectorised):

* **Width ratio**: the left-right separation of shoulders and hips in the image, over the
  torso's length. Near 0 from the side (the far shoulder hides behind the near one),
  about 0.6-0.9 from the front or back. Measured on frames with a roughly upright trunk
  only (:func:`upright_frames`): a sprinter crouched in the blocks reads as wide from any view.
* **Front or back**: MediaPipe's world z grows away from the camera; the nose is nearer
  the camera than the ears when the runner faces it.
* **Panning camera**: the background's frame-to-frame shift (from the video stage).
* **Running in place / walking**: the feet barely sweep fore-aft relative to the pelvis, or
  the steps show no flight and long contacts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analyzer.landmarks import HIPS, INDEX, SIDES, side_index

#: Width ratio below which the view is a side view, and above which it is front/back.
#: Measured on the shared clips (upright frames, first 20 s): side views 0.066-0.225 (sprint starts
#: included), synthetic samples 0.10-0.24, front and back views 0.48-0.55 (docs/METHOD.md, section 8).
#: A rendered sprinter reads 0.11 square to the camera, 0.13 at 15 deg off, 0.23 at 30 and 0.31-0.33
#: at 45 (a 3/4 view): views up to about 40 deg off square pass as side.
SIDE_MAX_WIDTH_RATIO = 0.30
FRONTAL_MIN_WIDTH_RATIO = 0.45
#: Trunk lean from the image vertical (deg) above which a frame is left out of the width ratio:
#: the set position and crouch of a block start (70-100 deg on the shared sprint starts) read
#: 0.4-0.6 from the side, whereas running, even the first steps out of the blocks, leans less.
UPRIGHT_MAX_LEAN_DEG = 60.0
#: Upright frames needed to use them alone; with fewer, every frame counts.
MIN_UPRIGHT_FRAMES = 10
#: Median background shift (as a fraction of image width per second) above which the camera moves.
MOVING_CAMERA_MIN_SHIFT_WIDTHS_PER_S = 0.04
#: Fore-aft foot sweep relative to the pelvis (fraction of leg length) below which there is no running stride.
MIN_STRIDE_SWEEP = 0.35


@dataclass(frozen=True)
class ViewAssessment:
    """What the camera shows.

    Attributes:
        view: ``side``, ``front``, ``back``, ``oblique`` or ``unknown``.
        camera_moving: the camera pans or travels (background moves).
        width_ratio: median shoulder/hip image separation over torso length.
        background_speed_widths_per_s: median background motion (image widths per second).
        stride_sweep: fore-aft sweep of the feet relative to the pelvis, over leg length.
        warnings: problems with the clip, as plain sentences, most serious first.
        notes: facts worth knowing that are not problems (e.g. a moving camera).
    """

    view: str
    camera_moving: bool
    width_ratio: float
    background_speed_widths_per_s: float
    stride_sweep: float
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def counterbalance_trusted(self) -> bool:
        return self.view == "side"


def _pair_separation(image_xy_px: np.ndarray, part: str) -> np.ndarray:
    left, right = (image_xy_px[:, side_index(s, part)] for s in SIDES)
    return np.abs(left[:, 0] - right[:, 0])


def _torso_vector(image_xy_px: np.ndarray) -> np.ndarray:
    """(N, 2) mid-hip to mid-shoulder vector in image pixels (y down)."""
    mid_shoulder = image_xy_px[:, [INDEX["left_shoulder"], INDEX["right_shoulder"]]].mean(axis=1)
    mid_hip = image_xy_px[:, HIPS].mean(axis=1)
    return mid_shoulder - mid_hip


def trunk_lean_deg(image_xy_px: np.ndarray) -> np.ndarray:
    """(N,) angle of the mid-hip to mid-shoulder line from the image's upward vertical (deg).

    0 for an upright trunk, 90 for a horizontal one, above 90 when the shoulders are below
    the hips; NaN where a shoulder or hip is missing.
    """
    torso = _torso_vector(image_xy_px)
    return np.degrees(np.arctan2(np.abs(torso[:, 0]), -torso[:, 1]))


def upright_frames(image_xy_px: np.ndarray, max_lean_deg: float = UPRIGHT_MAX_LEAN_DEG) -> np.ndarray:
    """(N,) True where the trunk leans less than *max_lean_deg* from vertical (NaN: False)."""
    lean = trunk_lean_deg(image_xy_px)
    return np.isfinite(lean) & (lean < max_lean_deg)


def width_ratio(image_xy_px: np.ndarray) -> float:
    """Median (shoulder + hip) left-right image separation over the torso's image length.

    Over the upright frames (:func:`upright_frames`) when there are at least
    :data:`MIN_UPRIGHT_FRAMES` with a finite ratio, else over every frame.
    """
    torso = np.linalg.norm(_torso_vector(image_xy_px), axis=-1)
    separation = 0.5 * (_pair_separation(image_xy_px, "shoulder") + _pair_separation(image_xy_px, "hip"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = separation / torso
    finite = np.isfinite(ratio)
    upright = finite & upright_frames(image_xy_px)
    ratio = ratio[upright] if np.count_nonzero(upright) >= MIN_UPRIGHT_FRAMES else ratio[finite]
    return float(np.median(ratio)) if ratio.size else float("nan")


def faces_camera(world_xyz_m: np.ndarray) -> float:
    """Share of frames in which the nose is nearer the camera than the ears (world z)."""
    ears = world_xyz_m[:, [INDEX["left_ear"], INDEX["right_ear"]], 2].mean(axis=1)
    nose = world_xyz_m[:, INDEX["nose"], 2]
    ok = np.isfinite(ears) & np.isfinite(nose)
    return float(np.mean(nose[ok] < ears[ok])) if ok.any() else float("nan")


def stride_sweep(image_xy_px: np.ndarray) -> float:
    """Fore-aft range (5th-95th percentile) of the ankles relative to the pelvis, over leg length."""
    mid_hip = image_xy_px[:, HIPS].mean(axis=1)
    sweeps, legs = [], []
    for side in SIDES:
        ankle = image_xy_px[:, side_index(side, "ankle")]
        rel = ankle[:, 0] - mid_hip[:, 0]
        rel = rel[np.isfinite(rel)]
        if rel.size > 5:
            sweeps.append(np.percentile(rel, 95) - np.percentile(rel, 5))
        hip, knee = image_xy_px[:, side_index(side, "hip")], image_xy_px[:, side_index(side, "knee")]
        legs.append(np.linalg.norm(knee - hip, axis=-1) + np.linalg.norm(ankle - knee, axis=-1))
    leg = np.nanpercentile(np.concatenate(legs), 90) if np.isfinite(np.concatenate(legs)).any() else np.nan
    if not sweeps or not np.isfinite(leg) or leg <= 0:
        return float("nan")
    return float(max(sweeps) / leg)


def assess_view(
    image_xy_px: np.ndarray,
    world_xyz_m: np.ndarray,
    time_s: np.ndarray,
    *,
    image_width_px: int,
    background_shift_px: np.ndarray | None = None,
) -> ViewAssessment:
    """Classify the camera view and check the clip shows running from a usable camera.

    Args:
        image_xy_px: (N, 33, 2) upright image landmarks (NaN where not detected).
        world_xyz_m: (N, 33, 3) MediaPipe world landmarks.
        time_s: (N,) frame times (s).
        image_width_px: frame width.
        background_shift_px: (N, 2) frame-to-frame background shift from the video stage.
    """
    ratio = width_ratio(image_xy_px)
    warnings: list[str] = []
    if not np.isfinite(ratio):
        view = "unknown"
    elif ratio <= SIDE_MAX_WIDTH_RATIO:
        view = "side"
    elif ratio >= FRONTAL_MIN_WIDTH_RATIO:
        view = "front" if faces_camera(world_xyz_m) >= 0.5 else "back"
    else:
        view = "oblique"
    if view != "side":
        what = {"unknown": "could not be determined", "oblique": "is oblique (between side and front)"}.get(view, f"is from the {view}")
        warnings.append(
            f"The camera view {what}: the counterbalance analysis needs a side view, so its numbers here are "
            "not reliable and no step is flagged. Film from the side, square to the running direction."
        )

    speed = 0.0
    if background_shift_px is not None and len(time_s) > 1:
        shift = np.linalg.norm(np.asarray(background_shift_px, dtype=float), axis=-1)
        dt = np.diff(time_s, prepend=time_s[0])
        rate = np.where(dt > 0, shift / np.where(dt > 0, dt, 1.0), np.nan)
        rate = rate[np.isfinite(rate)]
        speed = float(np.median(rate) / image_width_px) if rate.size else 0.0
    moving = speed > MOVING_CAMERA_MIN_SHIFT_WIDTHS_PER_S
    notes: list[str] = []
    if moving:
        notes.append(
            "The camera moves (pans or travels with the runner): step length and running speed are not measured, "
            "and timing comes from the runner's own motion only."
        )

    sweep = stride_sweep(image_xy_px)
    if view == "side" and np.isfinite(sweep) and sweep < MIN_STRIDE_SWEEP:
        warnings.append(
            "The feet hardly travel fore and aft relative to the hips: this does not look like running "
            "(standing, walking on the spot or running in place), so the step analysis is not meaningful."
        )
    return ViewAssessment(view, bool(moving), ratio, speed, sweep, warnings, notes)
