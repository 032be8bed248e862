"""Render the synthetic sprinter to video frames, and encode them as a phone would.

The pose model sees these frames, so they must look like a person on a track, not like a
stick figure. The scene has two kinds of geometry, each drawn the way that suits it:

* **Scenery** is a set of textured planes: the ground ``y = 0`` (a running track with lane
  lines, markings and grass) and a vertical backdrop on the far side of the track (a
  stand full of spectators, a tree line or a plain wall), with sky above. Each pixel's
  viewing ray is intersected with the planes (vectorised over the whole image) and the
  procedural textures are sampled with ``cv2.remap``. The ground texture is prefiltered
  along the depth axis at several levels and each pixel reads the level that matches its
  footprint, so far lane lines do not shimmer. A static camera's scenery is drawn once;
  a camera panning from a fixed place sees a cylindrical panorama, drawn once and shifted
  by the camera's azimuth each frame; a camera travelling alongside re-reads the textures
  at its displacement; any other camera motion re-casts the rays. Either way the
  background moves exactly as the camera does (the analyzer estimates camera motion
  from it).
* **People** are unions of *round cones* (two spheres and the cone tangent to both; a
  sphere and a capsule are special cases) for the limbs, neck and face, and *ellipsoids*
  for the ribcage, abdomen, pelvis and cranium, listed in one table that serves left and
  right. A round cone is rasterised in screen space from the exact 2-D signed distance to
  its projected outline, which gives anti-aliased edges (one-pixel coverage ramp), a
  surface normal (cylinder across the part, sphere at its caps) for Lambert plus specular
  shading, and a per-pixel depth for a z-buffer; an ellipsoid is ray-cast exactly. Parts
  are drawn far-to-near and z-tested, so the far arm and leg pass behind the trunk and the
  near ones in front; parts beyond the body's mid-plane, seen from the camera, are also
  darkened (the far limbs are in the body's shade).

A soft contact shadow on the ground, a little lens blur, vignetting and sensor noise are
added last; optional motion blur averages sub-frame renders over a shutter interval.

Coordinates are the runner frame of docs/METHOD.md (x forward, y up, z to the runner's
right; metres) and pixels are those of :class:`~analyzer.synthetic.camera.CameraTrack`
(origin at the image's top-left corner, so pixel *(i, j)* has its centre at
*(i + 0.5, j + 0.5)*).
"""
from __future__ import annotations

import dataclasses
import math
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from analyzer.atomic import atomic_path
from analyzer.landmarks import INDEX, NUM_LANDMARKS, SIDES
from analyzer.synthetic.camera import CameraTrack

__all__ = [
    "JOINT_NAMES",
    "Outfit",
    "RenderBody",
    "RenderOptions",
    "RenderedFrame",
    "SceneRenderer",
    "render_frames",
    "write_video",
]

RGB = tuple[int, int, int]

#: Joints a body must provide (runner frame, metres, one (N, 3) array each).
JOINT_NAMES: tuple[str, ...] = ("head_top", "neck", "pelvis", "chest") + tuple(
    f"{side}_{part}"
    for side in SIDES
    for part in ("shoulder", "elbow", "wrist", "hand", "hip", "knee", "ankle", "heel", "toe", "ball")
)

#: Distance beyond the body's mid-plane (fraction of stature) over which far-side
#: darkening ramps in: about the hip joint's distance from the midline.
_FAR_SIDE_WIDTH = 0.05
#: Stature for which the radii in the part table are given; a body's radii scale with
#: its own height.
REFERENCE_HEIGHT_M = 1.78
#: Height of the vertex (head top) above the ear canals for the reference head.
_HEAD_TOP_ABOVE_EARS_M = 0.13


# --------------------------------------------------------------------------------------
# Inputs and options
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderBody:
    """One person's motion, exactly as the renderer needs it.

    Attributes:
        joints_m: every name in :data:`JOINT_NAMES` mapped to an (N, 3) array of positions in
            the runner frame. ``heel``, ``toe`` (tip) and ``ball`` are points on the shoe's
            surface (back of the heel, tip, sole under the ball of the foot); ``head_top``
            is the vertex; the others are joint centres (``hand`` is the third metacarpal
            head, ``neck`` the base of the neck (mid-shoulder will do), ``pelvis`` mid-hip,
            ``chest`` mid-shoulder).
        landmarks_m: (N, 33, 3) BlazePose landmarks in the same frame. The face landmarks
            (nose, ears) turn the head; ``index``, ``pinky`` and ``thumb`` shape the hands.
        height_m: standing height; limb thickness scales with it.
    """

    joints_m: Mapping[str, np.ndarray]
    landmarks_m: np.ndarray
    height_m: float

    def __post_init__(self) -> None:
        missing = [name for name in JOINT_NAMES if name not in self.joints_m]
        if missing:
            raise ValueError(f"RenderBody.joints_m lacks {missing}")
        n = self.landmarks_m.shape[0]
        if self.landmarks_m.shape != (n, NUM_LANDMARKS, 3):
            raise ValueError(f"landmarks_m must be (N, {NUM_LANDMARKS}, 3), got {self.landmarks_m.shape}")
        for name in JOINT_NAMES:
            if np.shape(self.joints_m[name]) != (n, 3):
                raise ValueError(f"joints_m[{name!r}] must be ({n}, 3), got {np.shape(self.joints_m[name])}")
        if not self.height_m > 0:
            raise ValueError("height_m must be positive")

    @property
    def num_frames(self) -> int:
        return int(self.landmarks_m.shape[0])


@dataclass(frozen=True)
class Outfit:
    """Colours of one person (sRGB, 0-255)."""

    skin: RGB = (186, 128, 94)
    hair: RGB = (38, 28, 22)
    shirt: RGB = (28, 78, 178)
    shorts: RGB = (26, 26, 34)
    shoes: RGB = (232, 92, 36)
    sole: RGB = (236, 236, 230)


_JOGGER_OUTFIT = Outfit(skin=(232, 190, 160), hair=(120, 84, 50), shirt=(196, 58, 52),
                        shorts=(60, 64, 80), shoes=(245, 245, 245), sole=(70, 70, 70))


@dataclass(frozen=True)
class RenderOptions:
    """How a clip looks.

    Attributes:
        width_px, height_px: output size. ``None`` uses the camera's size (or, if the other
            side is given, keeps its aspect ratio); otherwise the camera is rescaled to it
            (same aspect ratio required), so projected pixel coordinates scale by
            ``width_px / camera.width_px``.
        background: ``"stadium"`` (stands full of spectators behind advertising boards),
            ``"park"`` (hedge and tree line under the sky) or ``"plain"`` (a low wall with
            posters); the track is the same in all three.
        noise_sigma: standard deviation of the Gaussian sensor noise, in 8-bit levels.
        lens_blur_px: Gaussian blur (sigma, pixels) applied to the whole frame; 0 disables.
        vignette: relative darkening of the image corners (0 disables).
        motion_blur_samples: sub-frame renders averaged per frame; 1 disables motion blur.
        shutter_fraction: exposure time as a fraction of the frame interval (for motion blur).
        second_person: draw a smaller, slower jogger behind the runner (farther from the
            camera). It is drawn before the runner and never over it.
        second_person_depth_m: how much farther from the camera than the runner the jogger
            runs (its lane), metres.
        second_person_speed: the jogger's speed and cadence as a fraction of the runner's.
        second_person_scale: the jogger's size relative to the runner.
        second_person_phase: where in the runner's motion the jogger's (slowed) motion
            starts, as a fraction of the clip (0-1).
        second_person_lead_m: the jogger's forward offset from the runner at mid-clip.
        outfit, second_outfit: colours of the runner and of the jogger.
        light_direction: direction toward the sun as (forward, up, toward the camera);
            the third component follows the camera's side of the track.
        far_side_darkening: how much darker a part is drawn whose axis lies beyond the
            pelvis, away from the camera, by a hip half-width (5% of stature) or more; the
            far arm and leg are in the body's shade.
        lanes, runner_lane, lane_width_m: the track; the runner runs along z = 0 in the
            middle of lane ``runner_lane`` (lane 1 is the inside lane, on the far side).
        seed: seeds the scenery (spectators, boards, trees, texture grain) and the noise.
    """

    width_px: int | None = None
    height_px: int | None = None
    background: Literal["stadium", "park", "plain"] = "stadium"
    noise_sigma: float = 2.0
    lens_blur_px: float = 0.6
    vignette: float = 0.18
    motion_blur_samples: int = 1
    shutter_fraction: float = 0.5
    second_person: bool = False
    second_person_depth_m: float = 6.0
    second_person_speed: float = 0.45
    second_person_scale: float = 0.95
    second_person_phase: float = 0.3
    second_person_lead_m: float = -2.5
    outfit: Outfit = field(default_factory=Outfit)
    second_outfit: Outfit = field(default_factory=lambda: _JOGGER_OUTFIT)
    light_direction: tuple[float, float, float] = (0.35, 0.8, 0.5)
    far_side_darkening: float = 0.35
    lanes: int = 8
    runner_lane: int = 4
    lane_width_m: float = 1.22
    seed: int = 0

    def __post_init__(self) -> None:
        if self.background not in ("stadium", "park", "plain"):
            raise ValueError(f"unknown background {self.background!r}")
        if self.motion_blur_samples < 1:
            raise ValueError("motion_blur_samples must be >= 1")
        if not 0.0 < self.shutter_fraction <= 1.0:
            raise ValueError("shutter_fraction must be in (0, 1]")
        if not 0.0 < self.second_person_speed <= 1.0:
            raise ValueError("second_person_speed must be in (0, 1]")
        if not 1 <= self.runner_lane <= self.lanes:
            raise ValueError("runner_lane must be one of the lanes")


@dataclass(frozen=True)
class RenderedFrame:
    """One output frame and what the runner covers in it.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        runner_alpha: (H, W) float32 in [0, 1], the main runner's coverage of each pixel
            (before lens blur and noise; averaged over sub-frames with motion blur).
    """

    image: np.ndarray
    runner_alpha: np.ndarray


# --------------------------------------------------------------------------------------
# The body as round cones and ellipsoids
# --------------------------------------------------------------------------------------

_MATERIALS: tuple[str, ...] = ("skin", "hair", "shirt", "shorts", "shoes", "sole", "eye", "lips")
_MAT = {name: i for i, name in enumerate(_MATERIALS)}
#: Specular strength per material (sweaty skin shines a little; cloth hardly).
_SPECULAR = np.array([0.10, 0.05, 0.04, 0.03, 0.08, 0.02, 0.25, 0.06], dtype=np.float32)

Bands = tuple[tuple[str, float], ...]
_SKIN: Bands = (("skin", 1.0),)


@dataclass(frozen=True)
class _Cone:
    """A round cone from point ``a`` (radius ``ra``) to point ``b`` (radius ``rb``).

    Radii are metres for the reference stature. ``bands`` colours the part along its
    length: ``(material, s_end)`` pairs with s = 0 at ``a`` and 1 at ``b``. ``head`` parts
    scale with the head rather than the body; ``hair`` parts show hair where the surface
    faces up and back. ``{s}`` in a name expands to ``left`` and ``right``.
    """

    a: str
    b: str
    ra: float
    rb: float
    bands: Bands = _SKIN
    head: bool = False
    hair: bool = False


@dataclass(frozen=True)
class _Ellipsoid:
    """An ellipsoid centred on point ``centre`` with semi-axes (forward, up, right) in metres
    along the body frame ``frame``; ``bands`` run along its up axis (s = 0 bottom, 1 top)."""

    centre: str
    frame: str
    semi: tuple[float, float, float]
    bands: Bands = _SKIN
    head: bool = False
    hair: bool = False


_Shape = _Cone | _Ellipsoid

_SHIRT: Bands = (("shirt", 1.0),)
_SHORTS: Bands = (("shorts", 1.0),)
_SHOE: Bands = (("shoes", 1.0),)
_SOLE: Bands = (("sole", 1.0),)
_PARTS: tuple[_Shape, ...] = (
    # Trunk: ribcage, abdomen and pelvis as ellipsoids; buttocks, deltoids, trapezius, neck.
    _Ellipsoid("ribcage_c", "thorax", (0.118, 0.200, 0.160), _SHIRT),
    _Ellipsoid("abdomen_c", "thorax", (0.100, 0.170, 0.132), (("shorts", 0.2), ("shirt", 1.0))),
    _Ellipsoid("pelvis_c", "pelvis", (0.105, 0.125, 0.158), _SHORTS),
    _Cone("{s}_glute", "{s}_glute", 0.072, 0.072, _SHORTS),
    _Cone("{s}_shoulder", "{s}_deltoid", 0.062, 0.056),
    _Cone("{s}_shoulder", "neck", 0.045, 0.056, _SHIRT),
    _Cone("neck", "neck_top", 0.053, 0.049),
    # Head: cranium with hair, face down to the chin, nose, ears, eyes, brows, mouth.
    _Ellipsoid("cranium", "head", (0.100, 0.097, 0.079), head=True, hair=True),
    _Cone("face", "chin", 0.066, 0.036, head=True),
    _Cone("nose_root", "nose_tip", 0.010, 0.014, head=True),
    _Cone("{s}_ear_c", "{s}_ear_c", 0.021, 0.021, head=True),
    _Cone("{s}_eye_c", "{s}_eye_c", 0.0075, 0.0075, (("eye", 1.0),), head=True),
    _Cone("{s}_brow_in", "{s}_brow_out", 0.0045, 0.0045, (("hair", 1.0),), head=True),
    _Cone("mouth_l", "mouth_r", 0.006, 0.006, (("lips", 1.0),), head=True),
    # Arm: upper arm, forearm, palm, fingers, thumb.
    _Cone("{s}_shoulder", "{s}_elbow", 0.060, 0.044),
    _Cone("{s}_elbow", "{s}_wrist", 0.047, 0.031),
    _Cone("{s}_wrist", "{s}_hand", 0.026, 0.029),
    _Cone("{s}_hand", "{s}_fingertip", 0.021, 0.014),
    _Cone("{s}_wrist", "{s}_thumb", 0.014, 0.011),
    # Leg: thigh (shorts at the top), knee to calf, calf to ankle.
    _Cone("{s}_hip", "{s}_knee", 0.104, 0.060, (("shorts", 0.36), ("skin", 1.0))),
    _Cone("{s}_knee", "{s}_calf", 0.058, 0.066),
    _Cone("{s}_calf", "{s}_ankle", 0.066, 0.036),
    # Shoe: upper from the ankle over the heel to the toe, and a pale sole under it.
    _Cone("{s}_ankle", "{s}_heel_c", 0.036, 0.036, _SHOE),
    _Cone("{s}_heel_c", "{s}_ball_c", 0.036, 0.031, _SHOE),
    _Cone("{s}_ball_c", "{s}_toe_c", 0.031, 0.022, _SHOE),
    _Cone("{s}_heel_s", "{s}_ball_s", 0.030, 0.026, _SOLE),
    _Cone("{s}_ball_s", "{s}_toe_s", 0.026, 0.018, _SOLE),
)


def _expand_parts(parts: Iterable[_Shape]) -> tuple[_Shape, ...]:
    """One entry per side for every part whose point names contain ``{s}``."""
    out: list[_Shape] = []
    for part in parts:
        if isinstance(part, _Cone) and "{s}" in part.a + part.b:
            out.extend(dataclasses.replace(part, a=part.a.format(s=side), b=part.b.format(s=side)) for side in SIDES)
        elif isinstance(part, _Ellipsoid) and "{s}" in part.centre:
            out.extend(dataclasses.replace(part, centre=part.centre.format(s=side)) for side in SIDES)
        else:
            out.append(part)
    return tuple(out)


_ALL_PARTS = _expand_parts(_PARTS)
_CONES: tuple[_Cone, ...] = tuple(p for p in _ALL_PARTS if isinstance(p, _Cone))
_ELLIPSOIDS: tuple[_Ellipsoid, ...] = tuple(p for p in _ALL_PARTS if isinstance(p, _Ellipsoid))
_FRAMES: tuple[str, ...] = ("thorax", "pelvis", "head")
#: Points that cast the soft contact shadow on the ground.
_SHADOW_CASTERS: tuple[str, ...] = ("pelvis_c",) + tuple(
    f"{side}_{part}" for side in SIDES for part in ("knee", "ankle", "heel_s", "ball_s", "toe_s", "wrist")
)

#: Head-frame points (forward, up, right) of the reference head, metres from the midpoint
#: of the ear canals; the sign of ``right`` is taken per side (+ right, - left).
_HEAD_POINTS: dict[str, tuple[float, float, float]] = {
    "cranium": (-0.010, 0.036, 0.0),
    "face": (0.040, -0.006, 0.0),
    "chin": (0.070, -0.082, 0.0),
    "nose_root": (0.098, 0.022, 0.0),
    "mouth_l": (0.100, -0.052, -0.020),
    "mouth_r": (0.100, -0.052, 0.020),
    "neck_top": (-0.018, -0.055, 0.0),
}
_HEAD_SIDE_POINTS: dict[str, tuple[float, float, float]] = {
    "ear_c": (-0.006, 0.0, 0.073),
    "eye_c": (0.094, 0.024, 0.032),
    "brow_in": (0.101, 0.043, 0.016),
    "brow_out": (0.093, 0.045, 0.045),
}
#: Direction (forward, up) about which the hair cap is centred, and the cap's extent
#: (cosine of its half-angle, negative = more than a hemisphere).
_HAIR_AXIS = (-0.55, 0.835)
_HAIR_COS = -0.2


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _reject(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Component of ``v`` perpendicular to the unit vector ``axis`` (row-wise)."""
    return v - np.sum(v * axis, axis=-1, keepdims=True) * axis


def _frame(up: np.ndarray, right_hint: np.ndarray) -> np.ndarray:
    """(N, 3, 3) orthonormal frames with columns (forward, up, right), right-handed."""
    up = _unit(up)
    right = _unit(_reject(right_hint, up))
    return np.stack([np.cross(up, right), up, right], axis=-1)


@dataclass
class _Figure:
    """A body prepared for drawing: named points and body frames over time, part sizes."""

    points: np.ndarray          # (N, P, 3) runner frame
    frames: np.ndarray          # (N, F, 3, 3) columns (forward, up, right)
    cone_points: np.ndarray     # (C, 2) point indices of each cone's ends
    cone_radii: np.ndarray      # (C, 2) metres
    ell_centre: np.ndarray      # (E,) point index
    ell_frame: np.ndarray       # (E,) frame index
    ell_semi: np.ndarray        # (E, 3) metres
    hair_dir: np.ndarray        # (N, 3) world direction of the hair cap's axis
    casters: np.ndarray         # (K,) point indices that cast the contact shadow
    albedo: np.ndarray          # (M, 3) float32
    pelvis: np.ndarray          # (N, 3)


def _figure_points(body: RenderBody) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray, float]:
    """Every point the part table names (N, 3), the body frames, the hair axis, the head scale."""
    j = {name: np.asarray(body.joints_m[name], dtype=float) for name in JOINT_NAMES}
    lm = np.asarray(body.landmarks_m, dtype=float)
    pts: dict[str, np.ndarray] = dict(j)
    s = body.height_m / REFERENCE_HEIGHT_M

    # Head frame: origin between the ears, up toward the vertex, forward toward the nose
    # (its part square to up), right = forward x up.
    ears = 0.5 * (lm[:, INDEX["left_ear"]] + lm[:, INDEX["right_ear"]])
    up = _unit(j["head_top"] - ears)
    fwd = _unit(_reject(lm[:, INDEX["nose"]] - ears, up))
    head = _frame(up, np.cross(fwd, up))
    head_scale = float(np.median(np.linalg.norm(j["head_top"] - ears, axis=-1))) / _HEAD_TOP_ABOVE_EARS_M
    head_scale = float(np.clip(head_scale, 0.8 * s, 1.25 * s))

    def head_point(f: float, u: float, r: float) -> np.ndarray:
        return ears + head_scale * (head @ np.array([f, u, r]))

    for name, (f, u, r) in _HEAD_POINTS.items():
        pts[name] = head_point(f, u, r)
    for name, (f, u, r) in _HEAD_SIDE_POINTS.items():
        for side, sign in (("left", -1.0), ("right", 1.0)):
            pts[f"{side}_{name}"] = head_point(f, u, sign * r)
    nose = lm[:, INDEX["nose"]]
    pts["nose_tip"] = nose - head_scale * 0.014 * _unit(nose - pts["nose_root"])
    hair_dir = head @ np.array([_HAIR_AXIS[0], _HAIR_AXIS[1], 0.0])

    # Trunk: thorax frame (up the trunk, right along the shoulders), pelvis frame (hips).
    trunk = j["chest"] - j["pelvis"]
    thorax = _frame(trunk, j["right_shoulder"] - j["left_shoulder"])
    pelvis = _frame(trunk, j["right_hip"] - j["left_hip"])
    t_fwd = thorax[..., 0]
    pts["ribcage_c"] = j["pelvis"] + 0.66 * trunk + 0.012 * s * t_fwd
    pts["abdomen_c"] = j["pelvis"] + 0.30 * trunk + 0.004 * s * t_fwd
    pts["pelvis_c"] = j["pelvis"] + 0.02 * trunk - 0.012 * s * pelvis[..., 0]

    for side in SIDES:
        def p(part: str) -> np.ndarray:
            return j[f"{side}_{part}"]

        # Deltoid: from the shoulder a third of the way down the upper arm.
        pts[f"{side}_deltoid"] = p("shoulder") + 0.33 * (p("elbow") - p("shoulder"))
        # Buttock: behind the hip joint, toward the midline.
        pts[f"{side}_glute"] = 0.75 * p("hip") + 0.25 * j["pelvis"] - 0.05 * s * pelvis[..., 0]
        # Hand: fingers toward the index and little finger landmarks; thumb landmark.
        pts[f"{side}_fingertip"] = 0.5 * (lm[:, INDEX[f"{side}_index"]] + lm[:, INDEX[f"{side}_pinky"]])
        pts[f"{side}_thumb"] = lm[:, INDEX[f"{side}_thumb"]]
        # Foot frame: along the sole (heel to toe) and up toward the ankle.
        along = _unit(p("toe") - p("heel"))
        foot_up = _unit(_reject(p("ankle") - p("heel"), along))
        # Calf: a third of the way down the shank, bulging backward.
        shank = _unit(p("ankle") - p("knee"))
        back = -_unit(_reject(along, shank))
        pts[f"{side}_calf"] = p("knee") + 0.33 * (p("ankle") - p("knee")) + 0.012 * s * back
        # Sole spheres touch the surface landmarks; the shoe upper sits on the sole.
        pts[f"{side}_heel_s"] = p("heel") + s * 0.030 * (0.75 * along + 0.66 * foot_up)
        pts[f"{side}_ball_s"] = p("ball") + s * 0.026 * foot_up
        pts[f"{side}_toe_s"] = p("toe") + s * 0.018 * (-0.8 * along + 0.6 * foot_up)
        lift = s * 0.012 * foot_up
        pts[f"{side}_heel_c"] = pts[f"{side}_heel_s"] + lift + s * 0.004 * along
        pts[f"{side}_ball_c"] = pts[f"{side}_ball_s"] + lift
        pts[f"{side}_toe_c"] = pts[f"{side}_toe_s"] + 0.7 * lift - s * 0.002 * along
    frames = {"thorax": thorax, "pelvis": pelvis, "head": head}
    return pts, frames, hair_dir, head_scale


def _build_figure(body: RenderBody, outfit: Outfit) -> _Figure:
    pts, frames, hair_dir, head_scale = _figure_points(body)
    body_scale = body.height_m / REFERENCE_HEIGHT_M
    names = sorted({n for c in _CONES for n in (c.a, c.b)} | {e.centre for e in _ELLIPSOIDS})
    index = {n: i for i, n in enumerate(names)}

    def scale(part: _Shape) -> float:
        return head_scale if part.head else body_scale

    albedo = np.array(
        [outfit.skin, outfit.hair, outfit.shirt, outfit.shorts, outfit.shoes, outfit.sole,
         (24, 18, 16), (150, 70, 70)],
        dtype=np.float32,
    )
    return _Figure(
        points=np.stack([pts[n] for n in names], axis=1),
        frames=np.stack([frames[f] for f in _FRAMES], axis=1),
        cone_points=np.array([[index[c.a], index[c.b]] for c in _CONES], dtype=np.intp).reshape(-1, 2),
        cone_radii=np.array([[c.ra * scale(c), c.rb * scale(c)] for c in _CONES], dtype=float).reshape(-1, 2),
        ell_centre=np.array([index[e.centre] for e in _ELLIPSOIDS], dtype=np.intp),
        ell_frame=np.array([_FRAMES.index(e.frame) for e in _ELLIPSOIDS], dtype=np.intp),
        ell_semi=np.array([np.array(e.semi) * scale(e) for e in _ELLIPSOIDS], dtype=float).reshape(-1, 3),
        hair_dir=hair_dir,
        casters=np.array([index[n] for n in _SHADOW_CASTERS], dtype=np.intp),
        albedo=albedo,
        pelvis=np.asarray(body.joints_m["pelvis"], dtype=float),
    )


def _jogger(body: RenderBody, options: RenderOptions, far_sign: float) -> RenderBody:
    """The second person: the runner's own motion, slowed, scaled and moved to a far lane."""
    n = body.num_frames
    rate = options.second_person_speed
    scale = options.second_person_scale
    frames = np.arange(n, dtype=float)
    tau = options.second_person_phase * (n - 1) * (1.0 - rate) + rate * frames
    pelvis = np.asarray(body.joints_m["pelvis"], dtype=float)
    pelvis_tau = _interp_frames(pelvis, tau)
    step = (pelvis[-1, 0] - pelvis[0, 0]) / max(n - 1, 1)
    mid = 0.5 * (n - 1)
    x_mid = float(np.interp(mid, frames, pelvis[:, 0]))
    new_pelvis = np.stack(
        [
            x_mid + options.second_person_lead_m + rate * step * (frames - mid),
            scale * pelvis_tau[:, 1],
            np.full(n, far_sign * options.second_person_depth_m),
        ],
        axis=-1,
    )

    def move(arr: np.ndarray) -> np.ndarray:
        arr = np.asarray(arr, dtype=float)
        shape = (n,) + (1,) * (arr.ndim - 2) + (3,)
        rel = _interp_frames(arr, tau) - pelvis_tau.reshape(shape)
        return new_pelvis.reshape(shape) + scale * rel

    joints = {name: move(body.joints_m[name]) for name in JOINT_NAMES}
    return RenderBody(joints, move(body.landmarks_m), scale * body.height_m)


# --------------------------------------------------------------------------------------
# Rasterising round cones and ellipsoids
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shading:
    """Per-sample lighting in camera coordinates (x right, y down, z forward)."""

    light: np.ndarray      # (3,) unit vector toward the light
    half: np.ndarray       # (3,) unit half-vector between light and viewer
    hair: np.ndarray       # (3,) hair-cap axis
    far_width: float       # metres beyond the body's mid-plane at which darkening is full
    far_dark: float
    ambient: float = 0.42
    diffuse: float = 0.68


@dataclass
class _Target:
    """What parts are drawn into: colour (H, W, 3) float32, z-buffer, optional coverage."""

    canvas: np.ndarray
    zbuf: np.ndarray
    cover: np.ndarray | None


def _box(target: _Target, lo: np.ndarray, hi: np.ndarray) -> tuple[slice, slice] | None:
    """Image slices covering the pixel-coordinate box [lo, hi] plus a pixel, or None."""
    height, width = target.zbuf.shape
    x0, y0 = max(0, int(math.floor(lo[0])) - 1), max(0, int(math.floor(lo[1])) - 1)
    x1, y1 = min(width, int(math.ceil(hi[0])) + 2), min(height, int(math.ceil(hi[1])) + 2)
    if x0 >= x1 or y0 >= y1:
        return None
    return slice(y0, y1), slice(x0, x1)


def _composite(target: _Target, box: tuple[slice, slice], cov: np.ndarray, depth: np.ndarray,
               axis_far: np.ndarray | float, normal: tuple[np.ndarray, np.ndarray, np.ndarray],
               s: np.ndarray, part: _Shape, albedo: np.ndarray, shade: _Shading) -> None:
    """Shade one part's pixels and blend them in where they are nearer than the z-buffer.

    ``cov`` is the pixel coverage (anti-aliasing), ``depth`` the surface depth (z-test),
    ``axis_far`` how far the part's axis or centre lies beyond the body's mid-plane as seen
    from the camera (metres; far-side darkening), ``normal`` the unit surface normal in
    camera coordinates, ``s`` the position along the part that selects its colour band.
    """
    zreg = target.zbuf[box]
    cov = np.where(depth < zreg, cov, np.float32(0.0))
    nx, ny, nz = normal
    if len(part.bands) == 1:
        mat: np.ndarray | int = _MAT[part.bands[0][0]]
    else:
        ends = np.array([e for _, e in part.bands], dtype=np.float32)
        ids = np.array([_MAT[m] for m, _ in part.bands])
        mat = ids[np.minimum(np.searchsorted(ends, s), len(ids) - 1)]
    if part.hair:
        cap = nx * shade.hair[0] + ny * shade.hair[1] + nz * shade.hair[2]
        mat = np.where(cap > _HAIR_COS, _MAT["hair"], mat)
    lambert = np.maximum(nx * shade.light[0] + ny * shade.light[1] + nz * shade.light[2], 0.0)
    spec = np.maximum(nx * shade.half[0] + ny * shade.half[1] + nz * shade.half[2], 0.0) ** 24
    far = 1.0 - shade.far_dark * np.clip(axis_far / shade.far_width, 0.0, 1.0)
    light = (shade.ambient + shade.diffuse * lambert) * far
    colour = albedo[mat] * light[..., None] + (255.0 * _SPECULAR[mat] * far * spec)[..., None]
    region = target.canvas[box]
    region += cov[..., None] * (colour - region)
    np.copyto(zreg, depth, where=cov >= 0.5)
    if target.cover is not None:
        creg = target.cover[box]
        creg += cov * (1.0 - creg)


def _raster_cone(target: _Target, a: np.ndarray, b: np.ndarray, r_px: tuple[float, float],
                 depth: tuple[float, float], r_m: tuple[float, float], far: tuple[float, float],
                 part: _Cone, albedo: np.ndarray, shade: _Shading) -> None:
    """Draw a round cone from its projected axis ``a``-``b`` (pixels) and end radii.

    The outline is the convex hull of the two end circles; its exact signed distance gives
    coverage. Across the part the normal turns like a cylinder's (a sphere's at the caps)
    and the depth is the axis depth less the radius times the normal's view component.
    """
    ra, rb = r_px
    box = _box(target, np.minimum(a - ra, b - rb), np.maximum(a + ra, b + rb))
    if box is None:
        return
    ys, xs = box
    gx = (np.arange(xs.start, xs.stop, dtype=np.float32) + 0.5 - np.float32(a[0]))[None, :]
    gy = (np.arange(ys.start, ys.stop, dtype=np.float32) + 0.5 - np.float32(a[1]))[:, None]
    dx, dy = float(b[0] - a[0]), float(b[1] - a[1])
    length = math.hypot(dx, dy)
    eps = np.float32(1e-6)
    if length <= abs(ra - rb) + 1e-3:
        # One end's sphere contains the other: draw the larger sphere.
        at_b = rb > ra
        px, py = (gx - np.float32(dx), gy - np.float32(dy)) if at_b else (gx, gy)
        dist = np.sqrt(px * px + py * py) + eps
        sd = dist - np.float32(max(ra, rb))
        grad_x, grad_y = px / dist, py / dist
        s = np.full_like(sd, 1.0 if at_b else 0.0)
    else:
        ex, ey = np.float32(dx / length), np.float32(dy / length)
        u = gx * ex + gy * ey                      # along the axis
        v = gy * ex - gx * ey                      # across it
        sin_t = (ra - rb) / length
        cos_t = math.sqrt(1.0 - sin_t * sin_t)
        av = np.abs(v)
        t = u * np.float32(cos_t) - av * np.float32(sin_t)   # along the tangent line
        span = np.float32(length * cos_t)
        dist_a = np.sqrt(u * u + v * v) + eps
        ub = u - np.float32(length)
        dist_b = np.sqrt(ub * ub + v * v) + eps
        in_a, in_b = t < 0, t > span
        side = u * np.float32(sin_t) + av * np.float32(cos_t) - np.float32(ra)
        sd = np.where(in_a, dist_a - np.float32(ra), np.where(in_b, dist_b - np.float32(rb), side))
        gu = np.where(in_a, u / dist_a, np.where(in_b, ub / dist_b, np.float32(sin_t)))
        gv = np.where(in_a, v / dist_a, np.where(in_b, v / dist_b, np.sign(v) * np.float32(cos_t)))
        grad_x = gu * ex - gv * ey
        grad_y = gu * ey + gv * ex
        s = np.clip(t / span, 0.0, 1.0)
    cov = np.clip(np.float32(0.5) - sd, 0.0, 1.0)
    if not cov.any():
        return
    r_loc = np.float32(ra) + np.float32(rb - ra) * s
    q = np.clip(1.0 + sd / np.maximum(r_loc, eps), 0.0, 1.0)   # 0 on the axis, 1 on the outline
    toward = np.sqrt(1.0 - q * q)
    d = np.float32(depth[0]) + np.float32(depth[1] - depth[0]) * s
    d = d - (np.float32(r_m[0]) + np.float32(r_m[1] - r_m[0]) * s) * toward
    axis_far = np.float32(far[0]) + np.float32(far[1] - far[0]) * s
    _composite(target, box, cov, d, axis_far, (grad_x * q, grad_y * q, -toward), s, part, albedo, shade)


def _raster_ellipsoid(target: _Target, centre: np.ndarray, axes: np.ndarray, focal: float, far: float,
                      part: _Ellipsoid, albedo: np.ndarray, shade: _Shading) -> None:
    """Ray-cast an ellipsoid given in camera coordinates: centre (3,), axes (3, 3) whose
    columns are the semi-axis vectors (forward, up, right).

    Each pixel's ray x = t d, d = ((u - cx) / f, (v - cy) / f, 1), is mapped into the unit
    sphere's space by M = axes^-1; the hit is the smaller root of |M(t d - c)|^2 = 1 (t is
    then the hit's depth), the normal is M^T M (x - c). Coverage comes from the ray's
    distance to the sphere's centre in that space (1 on the outline) over its per-pixel
    gradient: the signed distance to the outline in pixels.
    """
    height, width = target.zbuf.shape
    corners = centre + np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)]) @ axes.T
    if np.any(corners[:, 2] < 0.05):
        return
    proj = focal * corners[:, :2] / corners[:, 2:] + np.array([width, height]) / 2.0
    box = _box(target, proj.min(axis=0), proj.max(axis=0))
    if box is None:
        return
    ys, xs = box
    rx = ((np.arange(xs.start, xs.stop) + 0.5 - width / 2.0) / focal).astype(np.float32)[None, :]
    ry = ((np.arange(ys.start, ys.stop) + 0.5 - height / 2.0) / focal).astype(np.float32)[:, None]
    m = np.linalg.inv(axes).astype(np.float32)
    o = -(m @ centre).astype(np.float32)                           # camera centre in unit space
    dp = [m[i, 0] * rx + m[i, 1] * ry + m[i, 2] for i in range(3)]  # ray direction in unit space
    a = dp[0] * dp[0] + dp[1] * dp[1] + dp[2] * dp[2]
    half_b = o[0] * dp[0] + o[1] * dp[1] + o[2] * dp[2]
    oo = np.float32(o @ o)
    miss2 = np.maximum(oo - half_b * half_b / a, 0.0)              # squared ray-centre distance
    miss = np.sqrt(miss2)
    gy_, gx_ = np.gradient(miss) if min(miss.shape) > 1 else (np.ones_like(miss), np.ones_like(miss))
    slope = np.maximum(np.hypot(gx_, gy_), np.float32(1e-4))
    cov = np.clip(np.float32(0.5) + (1.0 - miss) / slope, 0.0, 1.0)
    if not cov.any():
        return
    t = (-half_b - np.sqrt(np.maximum(half_b * half_b - a * (oo - 1.0), 0.0))) / a
    hit = [o[i] + t * dp[i] for i in range(3)]                     # unit-space hit point
    n = [m[0, i] * hit[0] + m[1, i] * hit[1] + m[2, i] * hit[2] for i in range(3)]
    norm = np.sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]) + np.float32(1e-9)
    s = np.clip(0.5 * (hit[1] + 1.0), 0.0, 1.0)
    _composite(target, box, cov, t, far, (n[0] / norm, n[1] / norm, n[2] / norm), s, part, albedo, shade)


# --------------------------------------------------------------------------------------
# Scenery: textured ground and backdrop planes
# --------------------------------------------------------------------------------------

_TEXEL_M = 0.02
_GROUND_PERIOD_M = 20.0
_WALL_PERIOD_M = 40.0
_GROUND_NEAR_M = -16.0          # nearest ground row of the texture (toward the camera)
_GROUND_LEVELS = 6
_WALL_DISTANCE_M = {"stadium": 25.0, "park": 38.0, "plain": 20.0}
_SKY_HORIZON = np.array([206, 220, 234], dtype=np.float32)
_SKY_ZENITH = np.array([92, 146, 214], dtype=np.float32)
_BOARD_WORDS = ("VELOX", "KESTREL", "NORDA", "ARC 9", "SPRINTA", "HALCYON", "TEMPO", "OKAPI",
                "LUMEN", "FJORD", "PIVOT", "QUILL")


def _grain(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Texture grain: per-texel noise plus a softer blotchy component, (h, w, 1) float32."""
    fine = rng.normal(0.0, sigma, shape).astype(np.float32)
    coarse = cv2.GaussianBlur(rng.normal(0.0, sigma * 4.0, shape).astype(np.float32), (0, 0), 6.0)
    return (fine + coarse)[..., None]


def _ground_texture(options: RenderOptions, wall_distance: float, rng: np.random.Generator) -> np.ndarray:
    """Ground colours over (distance beyond the running line, forward), uint8 (rows, cols, 3).

    Rows run from ``_GROUND_NEAR_M`` (toward the camera) to the backdrop; columns over one
    ``_GROUND_PERIOD_M`` of x. Lane 1 is on the far side, so the infield grass lies
    between the track and the backdrop.
    """
    rows = int(round((wall_distance - _GROUND_NEAR_M) / _TEXEL_M))
    cols = int(round(_GROUND_PERIOD_M / _TEXEL_M))
    w = _GROUND_NEAR_M + (np.arange(rows) + 0.5) * _TEXEL_M            # metres beyond the line
    x = (np.arange(cols) + 0.5) * _TEXEL_M
    lane = options.lane_width_m
    inner_edge = (options.runner_lane - 0.5) * lane                      # far edge of lane 1
    outer_edge = inner_edge - options.lanes * lane
    tartan = np.array([172, 66, 50], np.float32)
    grass = np.array([74, 128, 58], np.float32)
    tex = np.empty((rows, cols, 3), np.float32)
    on_track = (w >= outer_edge - 1.5) & (w <= inner_edge)
    tex[:] = np.where(on_track[:, None, None], tartan, grass)
    # Mowing stripes on the grass (every 4 m of x), brighter and darker.
    stripes = np.where((np.floor(x / 4.0) % 2) == 0, 1.07, 0.93).astype(np.float32)
    grass_rows = ~on_track
    tex[grass_rows] *= stripes[None, :, None]
    tex += _grain(rng, (rows, cols), 5.0) * np.where(on_track, 1.0, 1.8)[:, None, None]

    def row(wm: float) -> int:
        return int(round((wm - _GROUND_NEAR_M) / _TEXEL_M))

    def col(xm: float) -> int:
        return int(round(xm / _TEXEL_M))

    white = (236, 236, 230)
    line_half = 0.025
    for k in range(options.lanes + 1):
        wl = inner_edge - k * lane
        tex[row(wl - line_half):row(wl + line_half)] = white
    # Raised kerb on the inside edge.
    tex[row(inner_edge):row(inner_edge + 0.06)] = (210, 212, 215)
    # A line across all lanes (start/finish style) and hurdle marks on the lane lines.
    across = slice(row(outer_edge), row(inner_edge))
    tex[across, col(0.2):col(0.25)] = white
    mark_colours = ((238, 206, 40), (40, 110, 210), (40, 160, 80), (236, 236, 230))
    for i, xm in enumerate(np.arange(2.5, _GROUND_PERIOD_M, 5.0)):
        colour = mark_colours[i % len(mark_colours)]
        for k in range(options.lanes + 1):
            wl = inner_edge - k * lane
            tex[row(wl - 0.1):row(wl + 0.1), col(xm):col(xm + 0.05)] = colour
    # Lane numbers painted near the line (lying on the ground).
    font = cv2.FONT_HERSHEY_DUPLEX
    canvas = np.ascontiguousarray(np.clip(tex, 0, 255).astype(np.uint8))
    for k in range(1, options.lanes + 1):
        centre = inner_edge - (k - 0.5) * lane
        org = (col(1.0), row(centre) + 18)      # digits ~36 texels tall, centred on the lane
        cv2.putText(canvas, str(k), org, font, 1.6, white, 4, cv2.LINE_AA)
    # Pad one wrapped column so bilinear sampling is seamless across the period.
    return np.concatenate([canvas, canvas[:, :1]], axis=1)


def _ground_levels(texture: np.ndarray) -> list[np.ndarray]:
    """The ground texture prefiltered along its rows' axis (depth) at doubling widths."""
    levels = [texture]
    for level in range(1, _GROUND_LEVELS):
        sigma = 0.45 * 2.0**level
        levels.append(cv2.GaussianBlur(texture, (1, 0), sigmaX=0.01, sigmaY=sigma,
                                       borderType=cv2.BORDER_REPLICATE))
    return levels


def _spectator(canvas: np.ndarray, x: int, base: int, rng: np.random.Generator, px_per_m: float) -> None:
    """A seated spectator (shirt, head, maybe hair) on a periodic RGBA texture.

    ``x`` is the column, ``base`` the seat row; copies one period left and right keep the
    texture seamless where it wraps.
    """
    shirts = ((200, 40, 40), (240, 240, 240), (30, 60, 150), (250, 200, 40), (40, 40, 40),
              (60, 140, 70), (230, 120, 30), (120, 60, 150), (90, 170, 220))
    skins = ((232, 190, 160), (196, 140, 105), (150, 100, 70), (100, 66, 46), (222, 176, 140))
    torso_w = int(rng.uniform(0.16, 0.22) * px_per_m)
    torso_h = int(rng.uniform(0.22, 0.3) * px_per_m)
    head_r = int(rng.uniform(0.09, 0.11) * px_per_m)
    shirt = tuple(int(c) for c in np.array(shirts[rng.integers(len(shirts))]) * rng.uniform(0.8, 1.05))
    skin = skins[rng.integers(len(skins))]
    hair = (int(rng.integers(20, 120)),) * 2 + (int(rng.integers(10, 60)),) if rng.random() < 0.5 else None
    head_y = base - torso_h - head_r + 2
    period = canvas.shape[1]
    for cx in (x - period, x, x + period):
        cv2.ellipse(canvas, (cx, base), (torso_w, torso_h), 0, 180, 360, (*shirt, 255), -1, cv2.LINE_AA)
        cv2.circle(canvas, (cx, head_y), head_r, (*skin, 255), -1, cv2.LINE_AA)
        if hair is not None:
            cv2.ellipse(canvas, (cx, head_y - head_r // 3), (head_r, int(head_r * 0.75)), 0, 180, 360,
                        (*hair, 255), -1, cv2.LINE_AA)


def _boards(canvas: np.ndarray, top: int, bottom: int, rng: np.random.Generator, px_per_m: float) -> None:
    """Advertising boards with made-up names along the bottom of a backdrop texture."""
    palette = ((20, 40, 120), (200, 30, 40), (250, 250, 250), (20, 120, 70), (240, 190, 20), (30, 30, 30))
    cols = canvas.shape[1]
    # Board widths of 4-8 m, stretched to tile the texture's period exactly.
    widths = [rng.uniform(4.0, 8.0)]
    while sum(widths) < cols / px_per_m:
        widths.append(rng.uniform(4.0, 8.0))
    edges = np.round(np.concatenate([[0.0], np.cumsum(widths)]) * cols / sum(widths)).astype(int)
    for x, x_end in zip(edges[:-1], edges[1:]):
        bg = palette[rng.integers(len(palette))]
        fg = (250, 250, 250) if sum(bg) < 450 else (20, 20, 40)
        cv2.rectangle(canvas, (int(x), top), (int(x_end) - 1, bottom), (*bg, 255), -1)
        word = _BOARD_WORDS[rng.integers(len(_BOARD_WORDS))]
        scale = (bottom - top) / 34.0
        (tw, th), _ = cv2.getTextSize(word, cv2.FONT_HERSHEY_DUPLEX, scale, 3)
        if tw < x_end - x - 10:
            org = (int(x + (x_end - x - tw) // 2), (top + bottom + th) // 2)
            cv2.putText(canvas, word, org, cv2.FONT_HERSHEY_DUPLEX, scale, (*fg, 255), 3, cv2.LINE_AA)
        cv2.line(canvas, (int(x), top), (int(x), bottom), (60, 60, 60, 255), 2)


def _backdrop_texture(style: str, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """The far backdrop over (height, forward), RGBA uint8 (alpha 0 = sky); and its top (m)."""
    px_per_m = 1.0 / _TEXEL_M
    cols = int(round(_WALL_PERIOD_M / _TEXEL_M))
    top_m = {"stadium": 11.0, "park": 12.0, "plain": 3.2}[style]
    rows = int(round(top_m / _TEXEL_M))
    tex = np.zeros((rows, cols, 4), np.uint8)

    def row(ym: float) -> int:
        return int(round((top_m - ym) * px_per_m))

    if style == "stadium":
        tex[row(10.2):, :] = (70, 72, 80, 255)
        rise, top_tier = 0.42, 9.6
        tiers = np.arange(1.35, top_tier - rise, rise)                 # seat levels (m)
        section = _WALL_PERIOD_M / 4                                  # blocks tile the period
        aisle = 1.1
        for y in tiers:
            tex[row(y + rise):row(y), :, :3] = (88, 92, 104)          # riser
            tex[row(y) - 6:row(y), :, :3] = (150, 150, 150)           # step edge
        for k in range(4):                                            # seat blocks, two colours
            x0, x1 = int(k * section * px_per_m), int(((k + 1) * section - aisle) * px_per_m)
            seat = (30, 80, 170) if k % 2 == 0 else (180, 40, 40)
            for y in tiers:
                cv2.rectangle(tex, (x0, row(y + 0.3)), (x1, row(y + 0.06)), (*seat, 255), -1)
            cv2.rectangle(tex, (x1, row(top_tier)), (int((k + 1) * section * px_per_m), row(tiers[0])),
                          (140, 140, 136, 255), -1)                   # aisle stairs
        seats = np.arange(0.3, _WALL_PERIOD_M, 0.55)
        for y in tiers:
            for xm in seats + rng.uniform(-0.08, 0.08, seats.size):
                if (xm % section) > section - aisle - 0.2 or rng.random() > 0.72:
                    continue
                _spectator(tex, int(xm * px_per_m), row(y + 0.08), rng, px_per_m)
        # Shade under the roof: darker toward the top of the stand.
        ys = np.linspace(top_m, 0.0, rows)
        dim = np.clip(1.0 - 0.07 * np.maximum(ys - 4.0, 0.0), 0.55, 1.0).astype(np.float32)
        tex[..., :3] = np.clip(tex[..., :3] * dim[:, None, None], 0, 255).astype(np.uint8)
        tex[row(11.0):row(10.2), :] = (196, 198, 204, 255)          # roof fascia
        tex[row(1.25):row(1.0), :] = (48, 48, 52, 255)              # rail
        _boards(tex, row(1.0), row(0.0) - 1, rng, px_per_m)
    elif style == "park":
        greens = ((46, 92, 40), (62, 110, 48), (38, 76, 34), (80, 120, 56), (54, 100, 62))
        for _ in range(26):
            xc = rng.uniform(0, _WALL_PERIOD_M)
            trunk_top = rng.uniform(2.5, 4.5)
            for dx in (-_WALL_PERIOD_M, 0.0, _WALL_PERIOD_M):       # draw across the wrap
                xp = int((xc + dx) * px_per_m)
                cv2.rectangle(tex, (xp - 8, row(trunk_top)), (xp + 8, row(0.0) - 1), (84, 62, 44, 255), -1)
            for _ in range(int(rng.integers(6, 12))):
                cx = xc + rng.normal(0, 1.2)
                cy = trunk_top + rng.uniform(0.5, 5.0)
                rad = int(rng.uniform(0.8, 2.2) * px_per_m)
                colour = greens[rng.integers(len(greens))]
                for dx in (-_WALL_PERIOD_M, 0.0, _WALL_PERIOD_M):
                    cv2.circle(tex, (int((cx + dx) * px_per_m), row(cy)), rad, (*colour, 255), -1, cv2.LINE_AA)
        tex[row(1.5):, :] = (44, 84, 40, 255)                        # hedge
        for xm in np.arange(0.0, _WALL_PERIOD_M, 2.5):               # fence posts
            xp = int(xm * px_per_m)
            cv2.rectangle(tex, (xp - 3, row(1.7)), (xp + 3, rows - 1), (150, 150, 150, 255), -1)
        cv2.line(tex, (0, row(1.6)), (cols - 1, row(1.6)), (150, 150, 150, 255), 3, cv2.LINE_AA)
    else:  # plain
        tex[:, :] = (196, 194, 186, 255)
        tex[row(0.35):, :] = (120, 118, 114, 255)
        x = 0.5
        while x < _WALL_PERIOD_M - 2.0:
            w_m = rng.uniform(1.0, 2.5)
            colour = tuple(int(c) for c in rng.integers(40, 230, 3))
            cv2.rectangle(tex, (int(x * px_per_m), row(2.6)), (int((x + w_m) * px_per_m), row(0.8)), (*colour, 255), -1)
            x += w_m + rng.uniform(0.8, 3.0)
    opaque = tex[..., 3:] > 0
    grain = _grain(rng, (rows, cols), 4.0)
    tex[..., :3] = np.where(opaque, np.clip(tex[..., :3] + grain, 0, 255), tex[..., :3]).astype(np.uint8)
    return np.concatenate([tex, tex[:, :1]], axis=1), top_m


@dataclass
class _ScenePlan:
    """Where each viewing ray lands, computed once; colours follow for any forward shift.

    A camera that only moves along x (with a fixed orientation and height) sees the same
    ground and backdrop points shifted by its own displacement, so only the textures'
    x coordinates change from frame to frame.
    """

    sky: np.ndarray                      # (h, w, 3) float32 sky colour, 0 where the ground is seen
    ground_rows: slice                   # image rows that see the ground
    wall_rows: slice                     # image rows that see the backdrop
    wall_x: np.ndarray                   # (rows, w) float32 world x of the backdrop hit
    wall_v: np.ndarray                   # (rows, w) float32 backdrop texture row (-10 off it)
    ground_x: np.ndarray                 # (h, w) float32 world x of the ground hit
    ground_v: np.ndarray                 # (h, w) float32 ground texture row
    levels: list[tuple[int, slice, np.ndarray]]   # (level, rows within ground_rows, weights)


class _Scenery:
    """Textured ground and backdrop planes under a sky, shaded along viewing rays."""

    def __init__(self, options: RenderOptions, camera_z: float):
        rng = np.random.default_rng([options.seed, 0x5CE4E])
        self.far_sign = -1.0 if camera_z > 0 else 1.0      # +z is far when the camera is on the left
        self.text_sign = -self.far_sign                     # +x is image-right when the camera is on the right
        self.wall_distance = _WALL_DISTANCE_M[options.background]
        self.ground = _ground_levels(_ground_texture(options, self.wall_distance, rng))
        self.wall, self.wall_top = _backdrop_texture(options.background, rng)

    def plan(self, d: np.ndarray, origin: np.ndarray, pixel_angle: float) -> _ScenePlan:
        """Intersect rays along world directions ``d`` (h, w, 3) from ``origin`` with the scene.

        ``pixel_angle`` is the angular size of one pixel (radians); it selects how strongly
        the ground texture is prefiltered.
        """
        h, w = d.shape[:2]
        d = d.astype(np.float32) / np.linalg.norm(d, axis=-1, keepdims=True).astype(np.float32)
        dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
        cx, cy, cz = (np.float32(c) for c in origin)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_ground = np.where(dy < -1e-7, -cy / dy, np.inf).astype(np.float32)
            t_wall = ((np.float32(self.far_sign * self.wall_distance) - cz) / dz).astype(np.float32)
        t_wall = np.where(t_wall > 0, t_wall, np.inf)
        ground = t_ground < t_wall
        wall = ~ground & np.isfinite(t_wall)

        # Sky: a gradient with elevation.
        k = np.clip(dy / np.float32(0.55), 0.0, 1.0) ** np.float32(0.7)
        sky = _SKY_HORIZON + (_SKY_ZENITH - _SKY_HORIZON) * k[..., None]

        # Backdrop hits (only the rows that see it).
        rows = np.flatnonzero(wall.any(axis=1))
        wall_rows = slice(rows[0], rows[-1] + 1) if rows.size else slice(0, 0)
        tw = np.where(wall[wall_rows], t_wall[wall_rows], np.float32(0.0))
        wall_x = cx + tw * dx[wall_rows]
        wall_y = cy + tw * dy[wall_rows]
        wall_v = np.where(wall[wall_rows], (np.float32(self.wall_top) - wall_y) / np.float32(_TEXEL_M),
                          np.float32(-10.0))

        # Ground hits, and the prefiltered level matching each pixel's footprint along
        # depth: a ray at elevation e hit at distance t moves t*da/sin(e) radially and t*da
        # sideways when it turns by da; the z (depth) component of that is the footprint.
        tg = np.where(ground, t_ground, np.float32(0.0))
        ground_x = cx + tg * dx
        ground_v = (np.float32(self.far_sign) * (cz + tg * dz) - np.float32(_GROUND_NEAR_M)) / np.float32(_TEXEL_M)
        horiz = np.sqrt(dx * dx + dz * dz) + np.float32(1e-9)
        with np.errstate(divide="ignore", invalid="ignore"):
            foot = tg * np.float32(pixel_angle) * np.maximum(np.abs(dz) / (horiz * np.abs(dy)), np.abs(dx) / horiz)
        level = np.where(ground, np.log2(np.maximum(foot / np.float32(_TEXEL_M), 1.0)), np.float32(np.nan))
        level = np.minimum(level, np.float32(_GROUND_LEVELS - 1))
        # Rows that need each level (levels vary slowly, mostly along image rows); tent
        # weights between neighbouring levels, zero off the ground.
        rows = np.flatnonzero(ground.any(axis=1))
        ground_rows = slice(rows[0], rows[-1] + 1) if rows.size else slice(0, 0)
        level = level[ground_rows]
        levels = []
        if rows.size:
            row_lo, row_hi = np.fmin.reduce(level, axis=1), np.fmax.reduce(level, axis=1)
            for lev in range(_GROUND_LEVELS):
                rows = np.flatnonzero((row_lo < lev + 1) & (row_hi > lev - 1))
                if rows.size:
                    band = slice(rows[0], rows[-1] + 1)
                    weight = np.nan_to_num(np.clip(1.0 - np.abs(level[band] - lev), 0.0, 1.0), nan=0.0)
                    levels.append((lev, band, weight[..., None].astype(np.float32)))
        sky = np.where(ground[..., None], np.float32(0.0), sky).astype(np.float32)
        return _ScenePlan(sky, ground_rows, wall_rows, wall_x, wall_v, ground_x,
                          ground_v.astype(np.float32), levels)

    def compose(self, plan: _ScenePlan, shift_x: float = 0.0) -> np.ndarray:
        """The colours (h, w, 3) float32 of a plan, the camera moved ``shift_x`` along x."""
        image = plan.sky.copy()                              # zero where the ground is seen
        if plan.wall_rows.stop > plan.wall_rows.start:
            map_u = _wrap_texels(np.float32(self.text_sign) * (plan.wall_x + np.float32(shift_x)), _WALL_PERIOD_M)
            rgba = cv2.remap(self.wall, map_u, plan.wall_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                             borderValue=(0, 0, 0, 0)).astype(np.float32)
            part = image[plan.wall_rows]
            part += (rgba[..., 3:] / np.float32(255.0)) * (rgba[..., :3] - part)
        if plan.levels:
            rows = plan.ground_rows
            # Mirrored for a camera on the left, so painted lane numbers read left to right.
            map_u = _wrap_texels(np.float32(self.text_sign) * (plan.ground_x[rows] + np.float32(shift_x)),
                                 _GROUND_PERIOD_M)
            for lev, band, weight in plan.levels:            # weights: 0 off the ground, sum 1 on it
                sample = cv2.remap(self.ground[lev], map_u[band], plan.ground_v[rows][band], cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
                image[rows][band] += weight * sample
        return image


def _wrap_texels(x_m: np.ndarray, period_m: float) -> np.ndarray:
    """Texel coordinates of positions ``x_m`` in a texture repeating every ``period_m``.

    ``floor`` arithmetic rather than ``np.mod``, which is some 50 times slower on float32.
    """
    n = np.float32(period_m / _TEXEL_M)
    u = x_m * np.float32(1.0 / _TEXEL_M)
    u -= np.floor(u * np.float32(1.0 / n)) * n
    return u


class _Backdrop:
    """The scenery for every sub-frame sample of a camera, computed as cheaply as it allows.

    * a static camera: one image;
    * a camera that only turns about the vertical axis from a fixed position (a pan, as
      ``side_camera(pan=True)`` makes): a cylindrical panorama (azimuth x tan(elevation))
      rendered once, from which each frame is resampled by shifting its azimuth;
    * a camera that only travels along x with a fixed orientation (``track=True``): the
      rays are intersected once and each frame re-reads the textures shifted by the
      camera's displacement;
    * any other motion: rays cast afresh every frame.
    """

    _PANORAMA_OVERSAMPLING = 1.25

    def __init__(self, scenery: _Scenery, camera: CameraTrack):
        self.scenery = scenery
        self.camera = camera
        w, h, f = camera.width_px, camera.height_px, camera.focal_px
        u = (np.arange(w, dtype=np.float32) + 0.5 - w / 2.0) / np.float32(f)
        v = (np.arange(h, dtype=np.float32) + 0.5 - h / 2.0) / np.float32(f)
        self.rays = np.stack(np.broadcast_arrays(u[None, :], v[:, None], np.float32(1.0)), axis=-1)
        self.rotations = camera.rotation()
        pos = camera.position_m
        same_rotation = bool(np.ptp(self.rotations, axis=0).max() < 1e-9)
        self._image: np.ndarray | None = None
        self._plan: _ScenePlan | None = None
        if same_rotation and np.ptp(pos, axis=0).max() < 1e-9:
            self.mode = "static"
        elif same_rotation and np.ptp(pos[:, 1:], axis=0).max() < 1e-9:
            self.mode = "track"
        else:
            self.mode = "rays"
            if np.ptp(pos, axis=0).max() < 1e-9:
                # R_n = R_0 Y with Y a rotation about world y  <=>  (R_0^T R_n)[1, 1] == 1.
                rel = np.einsum("ji,njk->nik", self.rotations[0], self.rotations)
                if np.all(np.abs(rel[:, 1, 1] - 1.0) < 1e-9):
                    self._init_panorama()

    def _world_dirs(self, sample: int) -> np.ndarray:
        return (self.rays.reshape(-1, 3) @ self.rotations[sample].astype(np.float32)).reshape(self.rays.shape)

    def _init_panorama(self) -> None:
        axis = self.rotations[:, 2, :]                                   # optical axes (world)
        azimuth = np.unwrap(np.arctan2(axis[:, 0], axis[:, 2]))
        d0 = self._world_dirs(0)
        theta0 = np.arctan2(d0[..., 0], d0[..., 2]) - azimuth[0]
        theta0 = (theta0 + np.pi) % (2.0 * np.pi) - np.pi
        tan_el = d0[..., 1] / np.hypot(d0[..., 0], d0[..., 2])
        delta = azimuth - azimuth[0]
        k = self._PANORAMA_OVERSAMPLING * self.camera.focal_px          # pixels per radian / per unit tan
        th_lo, th_hi = theta0.min() + delta.min() - 3.0 / k, theta0.max() + delta.max() + 3.0 / k
        if th_hi - th_lo > 1.5 * np.pi:
            return                                                       # too wide a sweep: cast rays
        el_lo, el_hi = tan_el.min() - 3.0 / k, tan_el.max() + 3.0 / k
        cols, rows = int(math.ceil((th_hi - th_lo) * k)), int(math.ceil((el_hi - el_lo) * k))
        th = azimuth[0] + th_lo + (np.arange(cols, dtype=np.float64) + 0.5) / k
        el = el_hi - (np.arange(rows, dtype=np.float64) + 0.5) / k
        dirs = np.stack(np.broadcast_arrays(np.sin(th)[None, :], el[:, None], np.cos(th)[None, :]), axis=-1)
        origin = self.camera.position_m[0]
        pano = self.scenery.compose(self.scenery.plan(dirs, origin, 1.0 / k))
        self._pano = np.clip(pano + 0.5, 0, 255).astype(np.uint8)
        self._map_x = ((theta0 - th_lo) * k - 0.5).astype(np.float32)
        self._map_y = ((el_hi - tan_el) * k - 0.5).astype(np.float32)
        self._shift_px = (delta * k).astype(np.float32)
        self.mode = "panorama"

    def image(self, sample: int) -> np.ndarray:
        """The scenery seen in sub-frame ``sample``, (H, W, 3) float32."""
        pixel_angle = 1.0 / self.camera.focal_px
        pos = self.camera.position_m
        if self.mode == "panorama":
            out = cv2.remap(self._pano, self._map_x + self._shift_px[sample], self._map_y, cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
            return out.astype(np.float32)
        if self.mode == "rays":
            return self.scenery.compose(self.scenery.plan(self._world_dirs(sample), pos[sample], pixel_angle))
        if self._plan is None:
            self._plan = self.scenery.plan(self._world_dirs(0), pos[0], pixel_angle)
        if self.mode == "static":
            if self._image is None:
                self._image = self.scenery.compose(self._plan)
            return self._image.copy()
        return self.scenery.compose(self._plan, float(pos[sample, 0] - pos[0, 0]))


def _contact_shadow(image: np.ndarray, camera: CameraTrack, rotation: np.ndarray, sample: int,
                    points: np.ndarray, light_world: np.ndarray, scale: float) -> None:
    """Darken the ground under a body with soft blobs below its points (in place).

    Each point casts a Gaussian blob on the ground, shifted a little away from the light,
    wider and fainter the higher the point is. Pixels are mapped to the ground by
    intersecting their rays with y = 0, inside the image box the blobs cover.
    """
    heights = np.maximum(points[:, 1], 0.0)
    shift = heights[:, None] * (light_world[[0, 2]] / max(light_world[1], 0.2))
    centres = points[:, [0, 2]] - 0.3 * shift
    sigma = scale * (0.07 + 0.22 * heights)
    amp = 0.35 * np.exp(-heights / (0.35 * scale))
    keep = amp > 0.01
    centres, sigma, amp = centres[keep], sigma[keep], amp[keep]
    if amp.size == 0:
        return
    ext = 3.0 * sigma
    corners = np.concatenate([
        np.stack([centres[:, 0] + sx * ext, np.zeros_like(ext), centres[:, 1] + sz * ext], axis=-1)
        for sx in (-1, 1) for sz in (-1, 1)
    ])
    origin = camera.position_m[sample]
    cam = (corners - origin) @ rotation.T
    if np.any(cam[:, 2] < 0.1):
        return
    xy = camera.focal_px * cam[:, :2] / cam[:, 2:] + np.array([camera.width_px, camera.height_px]) / 2.0
    h, w = image.shape[:2]
    x0, y0 = np.maximum(np.floor(xy.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(xy.max(axis=0)).astype(int) + 1, [w, h])
    if x0 >= x1 or y0 >= y1:
        return
    u = (np.arange(x0, x1) + 0.5 - w / 2.0) / camera.focal_px
    v = (np.arange(y0, y1) + 0.5 - h / 2.0) / camera.focal_px
    rays = np.stack(np.broadcast_arrays(u[None, :], v[:, None], 1.0), axis=-1) @ rotation
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(rays[..., 1] < -1e-9, -origin[1] / rays[..., 1], np.nan)
    gx = (origin[0] + t * rays[..., 0]).astype(np.float32)
    gz = (origin[2] + t * rays[..., 2]).astype(np.float32)
    dark = np.zeros(gx.shape, np.float32)
    for (px, pz), sg, am in zip(centres, sigma, amp):
        dark += np.float32(am) * np.exp(-((gx - np.float32(px)) ** 2 + (gz - np.float32(pz)) ** 2) / np.float32(2.0 * sg * sg))
    dark = np.nan_to_num(np.minimum(dark, 0.6), nan=0.0)
    image[y0:y1, x0:x1] *= (1.0 - dark)[..., None]


# --------------------------------------------------------------------------------------
# The renderer
# --------------------------------------------------------------------------------------


def _interp_frames(arr: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Linear interpolation of per-frame arrays (N, ...) at fractional frame indices."""
    n = arr.shape[0]
    tau = np.clip(tau, 0.0, n - 1.0)
    i0 = np.minimum(np.floor(tau).astype(np.intp), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (tau - i0).reshape((-1,) + (1,) * (arr.ndim - 1))
    return arr[i0] * (1.0 - w) + arr[i1] * w


def _scaled_camera(camera: CameraTrack, options: RenderOptions) -> CameraTrack:
    """The camera rescaled to the output size the options ask for (one side may be None)."""
    aspect = camera.height_px / camera.width_px
    width = options.width_px or (round(options.height_px / aspect) if options.height_px else camera.width_px)
    height = options.height_px or round(width * aspect)
    if (width, height) == (camera.width_px, camera.height_px):
        return camera
    sx, sy = width / camera.width_px, height / camera.height_px
    if abs(sx - sy) > 1e-3 * max(sx, sy):
        raise ValueError("RenderOptions size must keep the camera's aspect ratio")
    return dataclasses.replace(camera, focal_px=camera.focal_px * sx, width_px=width, height_px=height)


class _Projected:
    """A figure's parts in camera terms for every sub-frame sample, and their draw order."""

    def __init__(self, figure: _Figure, tau: np.ndarray, camera: CameraTrack):
        self.figure = figure
        self.world = _interp_frames(figure.points, tau)
        self.xy, self.depth = camera.project(self.world)
        rot = camera.rotation()                                                    # (S, 3, 3)
        ia, ib = figure.cone_points[:, 0], figure.cone_points[:, 1]
        da, db = self.depth[:, ia], self.depth[:, ib]
        self.cone_r_px = camera.focal_px * figure.cone_radii[None] / np.maximum(np.stack([da, db], axis=-1), 1e-3)
        cam_pts = camera.to_camera(self.world)
        self.ell_centre = cam_pts[:, figure.ell_centre]                            # (S, E, 3)
        frames_world = _interp_frames(figure.frames, tau)
        frames = np.einsum("sij,sfjk->sfik", rot, frames_world)
        # Re-orthonormalise after interpolation (sub-frame samples blend two frames).
        q, r = np.linalg.qr(frames)
        frames = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
        self.ell_axes = frames[:, figure.ell_frame] * figure.ell_semi[None, :, None, :]   # (S, E, 3, 3)
        # Far-to-near order over all parts: cones first in the index space, then ellipsoids.
        cone_key = 0.5 * (da + db) - figure.cone_radii.mean(axis=1)[None]
        ell_key = self.ell_centre[..., 2] - figure.ell_semi.mean(axis=1)[None]
        self.order = np.argsort(-np.concatenate([cone_key, ell_key], axis=1), axis=1)
        self.hair_cam = np.einsum("sij,sj->si", rot, _interp_frames(figure.hair_dir, tau))
        # Far side: distance beyond the sagittal plane through the pelvis along the body's
        # right axis, signed and weighted by how squarely the camera looks at that axis
        # (+-1 side-on, 0 head-on, so the shade fades out smoothly as the body turns).
        pelvis = _interp_frames(figure.pelvis, tau)
        right = _unit(frames_world[:, _FRAMES.index("pelvis"), :, 2])
        facing = np.sum(right * _unit(pelvis - camera.position_m), axis=-1)
        self.farness = np.einsum("spk,sk->sp", self.world - pelvis[:, None], right) * facing[:, None]

    def draw(self, target: _Target, sample: int, focal: float, shade: _Shading) -> None:
        fig = self.figure
        n_cones = len(_CONES)
        xy, depth, r_px, far = self.xy[sample], self.depth[sample], self.cone_r_px[sample], self.farness[sample]
        for k in self.order[sample]:
            if k < n_cones:
                ia, ib = fig.cone_points[k]
                if depth[ia] < 0.1 or depth[ib] < 0.1:
                    continue
                _raster_cone(target, xy[ia], xy[ib], (float(r_px[k, 0]), float(r_px[k, 1])),
                             (float(depth[ia]), float(depth[ib])),
                             (float(fig.cone_radii[k, 0]), float(fig.cone_radii[k, 1])),
                             (float(far[ia]), float(far[ib])), _CONES[k], fig.albedo, shade)
            else:
                e = k - n_cones
                _raster_ellipsoid(target, self.ell_centre[sample, e], self.ell_axes[sample, e], focal,
                                  float(far[fig.ell_centre[e]]), _ELLIPSOIDS[e], fig.albedo, shade)


class SceneRenderer:
    """Renders a body (and optionally a background jogger) through a camera, frame by frame.

    Frames can be rendered in any order; each depends only on the inputs, the options and
    its index (noise is seeded per frame), so rendering is deterministic.

    Attributes:
        camera: the camera frames are rendered through (rescaled to the output size).
        width, height: output size in pixels; num_frames: the body's and camera's N.
    """

    def __init__(self, body: RenderBody, camera: CameraTrack, options: RenderOptions | None = None):
        options = options or RenderOptions()
        if camera.num_frames != body.num_frames:
            raise ValueError(f"camera has {camera.num_frames} frames, body {body.num_frames}")
        self.options = options
        self.camera = _scaled_camera(camera, options)
        self.width, self.height = self.camera.width_px, self.camera.height_px
        self.num_frames = body.num_frames
        cam = self.camera
        camera_z = float(np.mean(cam.position_m[:, 2]))
        scenery = _Scenery(options, camera_z)
        far_sign = scenery.far_sign

        # Sub-frame sample times (fractional frame indices), S per frame.
        s = options.motion_blur_samples
        offsets = options.shutter_fraction * ((np.arange(s) + 0.5) / s - 0.5) if s > 1 else np.zeros(1)
        self._tau = (np.arange(self.num_frames)[:, None] + offsets[None, :]).ravel()
        self._samples = s
        self._cam = CameraTrack(_interp_frames(cam.position_m, self._tau), _interp_frames(cam.look_at_m, self._tau),
                                cam.focal_px, cam.width_px, cam.height_px, cam.up)
        self._rotations = self._cam.rotation()
        self._backdrop = _Backdrop(scenery, self._cam)

        lx, ly, lc = options.light_direction
        self._light_world = _unit(np.array([lx, ly, -lc * far_sign], dtype=float))

        self._figures: list[tuple[_Figure, _Projected, float, bool]] = []
        if options.second_person:
            jog = _jogger(body, options, far_sign)
            fig = _build_figure(jog, options.second_outfit)
            self._figures.append((fig, _Projected(fig, self._tau, self._cam), jog.height_m, False))
        fig = _build_figure(body, options.outfit)
        self._figures.append((fig, _Projected(fig, self._tau, self._cam), body.height_m, True))

        yy, xx = np.mgrid[0:self.height, 0:self.width].astype(np.float32)
        r2 = ((xx + 0.5 - self.width / 2) ** 2 + (yy + 0.5 - self.height / 2) ** 2) / (
            (self.width / 2) ** 2 + (self.height / 2) ** 2)
        self._vignette = np.repeat((1.0 - options.vignette * r2 ** 1.5)[..., None], 3, axis=2).astype(np.float32)

    def __len__(self) -> int:
        return self.num_frames

    def _render_sample(self, sample: int) -> tuple[np.ndarray, np.ndarray]:
        image = self._backdrop.image(sample)
        cover = np.zeros((self.height, self.width), np.float32)
        rot = self._rotations[sample]
        light = rot @ self._light_world
        half = _unit(light + np.array([0.0, 0.0, -1.0]))
        for fig, proj, height_m, _ in self._figures:
            _contact_shadow(image, self._cam, rot, sample, proj.world[sample, fig.casters], self._light_world,
                            height_m / REFERENCE_HEIGHT_M)
        for fig, proj, height_m, is_runner in self._figures:
            # A fresh z-buffer per person: the runner is always drawn over the jogger.
            zbuf = np.full((self.height, self.width), np.inf, np.float32)
            shade = _Shading(
                light=light.astype(np.float32), half=half.astype(np.float32),
                hair=proj.hair_cam[sample].astype(np.float32),
                far_width=_FAR_SIDE_WIDTH * height_m,
                far_dark=self.options.far_side_darkening,
            )
            proj.draw(_Target(image, zbuf, cover if is_runner else None), sample, self._cam.focal_px, shade)
        return image, cover

    def render(self, index: int) -> RenderedFrame:
        """Frame ``index`` (0-based) as RGB uint8 and the runner's coverage."""
        if not 0 <= index < self.num_frames:
            raise IndexError(index)
        s = self._samples
        image, cover = self._render_sample(index * s)
        for k in range(1, s):
            im_k, cov_k = self._render_sample(index * s + k)
            image += im_k
            cover += cov_k
        if s > 1:
            image *= 1.0 / s
            cover *= 1.0 / s
        opts = self.options
        if opts.lens_blur_px > 0:
            image = cv2.GaussianBlur(image, (0, 0), opts.lens_blur_px)
        if opts.vignette > 0:
            image = cv2.multiply(image, self._vignette)
        # Add noise, round and saturate to uint8 in one pass.
        return RenderedFrame(cv2.add(image, self._noise(index), dtype=cv2.CV_8U), cover)

    def _noise(self, index: int) -> np.ndarray:
        """Sensor noise for frame ``index``: Gaussian, seeded by (seed, index), (H, W, 3).

        Like a phone's processed noise it is mostly luminance (one value shared by R, G and
        B, 8/9 of the variance) with a little colour noise, and correlated over about two
        pixels: it is drawn at half resolution and upsampled bilinearly. The exact 2x
        upsampling averages with weights (3/4, 1/4) per axis, which scales the standard
        deviation by 5/8; that is undone here, so each pixel's sigma is ``noise_sigma``.
        """
        sigma = self.options.noise_sigma
        if sigma <= 0:
            return np.zeros((self.height, self.width, 3), np.float32)
        half = np.empty(((self.height + 1) // 2, (self.width + 1) // 2, 4), np.float32)
        chroma, luma = sigma / 3.0, sigma * math.sqrt(8.0) / 3.0
        cv2.setRNGSeed(int(np.random.SeedSequence([self.options.seed, index]).generate_state(1)[0] & 0x7FFFFFFF))
        # Per-channel mean and sigma: a bare scalar would fill channel 0 only.
        cv2.randn(half, (0.0,) * 4, (chroma / 0.625,) * 3 + (luma / 0.625,))
        rgb = half[..., :3] + half[..., 3:]          # before upsampling, which is linear
        full = cv2.resize(rgb, (2 * half.shape[1], 2 * half.shape[0]), interpolation=cv2.INTER_LINEAR)
        return full[:self.height, :self.width]

    def __iter__(self) -> Iterator[RenderedFrame]:
        for index in range(self.num_frames):
            yield self.render(index)


def render_frames(body: RenderBody, camera: CameraTrack, options: RenderOptions | None = None) -> Iterator[np.ndarray]:
    """RGB uint8 frames (H, W, 3) of ``body`` seen through ``camera``, one per camera frame."""
    for frame in SceneRenderer(body, camera, options):
        yield frame.image


# --------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------


def _ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def write_video(
    frames: Iterable[np.ndarray],
    path: str | Path,
    fps: float,
    *,
    rotation_deg: int = 0,
    crf: int = 18,
    preset: str = "fast",
) -> int:
    """Encode RGB uint8 frames to an H.264 MP4 (libx264, yuv420p, +faststart), atomically.

    Args:
        frames: (H, W, 3) uint8 RGB frames *as stored* (all the same, even, size).
        path: output file; written to a temporary file beside it and renamed on success.
        fps: frame rate, written as a rational with a denominator of at most 1001 (so
            ``30000 / 1001`` stays exact).
        rotation_deg: clockwise rotation a player must apply to show the clip upright:
            0, 90, 180 or 270, as a phone records it (90: held upright, the stored frames
            are landscape and the picture is portrait). Written as the MP4 display matrix;
            OpenCV reports it as ``CAP_PROP_ORIENTATION_META`` and, with
            ``CAP_PROP_ORIENTATION_AUTO`` (its default), returns upright frames. To film
            such a clip, render through a camera rolled so that the world's "up" points to
            the stored picture's left (``CameraTrack.up`` = the world direction that should
            appear on the viewer's right, e.g. ``(-1, 0, 0)`` for ``side_camera(side="left")``).
        crf, preset: libx264 quality and speed.

    Returns:
        The number of frames written.

    Raises:
        ValueError: bad frames, size, rate or rotation (nothing is written).
        RuntimeError: ffmpeg failed (its message is included; nothing is written).

    Notes:
        With this ffmpeg (9.x) the display matrix must be set by the *input* option
        ``-display_rotation`` (counter-clockwise degrees, hence ``-rotation_deg``) together
        with ``-noautorotate``; without the latter ffmpeg turns the pixels instead of
        tagging them, and the legacy ``-metadata:s:v rotate=`` tag is silently ignored.
    """
    rotation = int(rotation_deg) % 360
    if rotation not in (0, 90, 180, 270):
        raise ValueError("rotation_deg must be a multiple of 90")
    rate = Fraction(fps).limit_denominator(1001)
    if rate <= 0:
        raise ValueError("fps must be positive")
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise ValueError("no frames to write")
    if first.dtype != np.uint8 or first.ndim != 3 or first.shape[2] != 3:
        raise ValueError(f"frames must be (H, W, 3) uint8, got {first.shape} {first.dtype}")
    height, width = first.shape[:2]
    if width % 2 or height % 2:
        raise ValueError(f"yuv420p needs an even frame size, got {width}x{height}")

    rotate_args = ["-noautorotate", "-display_rotation", str(-rotation)] if rotation else []
    count = 0
    with atomic_path(path) as tmp, tempfile.TemporaryFile() as log:
        cmd = [
            _ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            *rotate_args,
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
            "-framerate", f"{rate.numerator}/{rate.denominator}", "-i", "pipe:0",
            "-an", "-c:v", "libx264", "-preset", preset, "-crf", str(int(crf)),
            "-pix_fmt", "yuv420p", "-movflags", "+faststart",
            str(tmp),
        ]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        assert proc.stdin is not None
        broken = False
        try:
            for frame in _chain(first, it):
                if frame.shape != first.shape or frame.dtype != np.uint8:
                    raise ValueError(f"frame {count} is {frame.shape} {frame.dtype}, expected {first.shape} uint8")
                proc.stdin.write(np.ascontiguousarray(frame).data)
                count += 1
            proc.stdin.close()
        except BrokenPipeError:
            broken = True                       # ffmpeg exited early; its log says why
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        rc = proc.wait()
        if rc != 0 or broken:
            log.seek(0)
            raise RuntimeError(f"ffmpeg failed ({rc}): {log.read().decode(errors='replace').strip()}")
    return count


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest
