"""The body as round cones and ellipsoids: one table of parts serves left and right, scaled to
the body's stature, and the figure's per-frame points and part frames."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from analyzer.landmarks import INDEX, SIDES

from .options import HEAD_TOP_ABOVE_EARS_M, JOINT_NAMES, REFERENCE_HEIGHT_M, Outfit, RenderBody, RenderOptions


_MATERIALS: tuple[str, ...] = ("skin", "hair", "shirt", "shorts", "shoes", "sole", "eye", "lips")
MAT = {name: i for i, name in enumerate(_MATERIALS)}
#: Specular strength per material (sweaty skin shines a little; cloth hardly).
SPECULAR = np.array([0.10, 0.05, 0.04, 0.03, 0.08, 0.02, 0.25, 0.06], dtype=np.float32)

Bands = tuple[tuple[str, float], ...]
_SKIN: Bands = (("skin", 1.0),)


@dataclass(frozen=True)
class Cone:
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
class Ellipsoid:
    """An ellipsoid centred on point ``centre`` with semi-axes (forward, up, right) in metres
    along the body frame ``frame``; ``bands`` run along its up axis (s = 0 bottom, 1 top)."""

    centre: str
    frame: str
    semi: tuple[float, float, float]
    bands: Bands = _SKIN
    head: bool = False
    hair: bool = False


Shape = Cone | Ellipsoid

_SHIRT: Bands = (("shirt", 1.0),)
_SHORTS: Bands = (("shorts", 1.0),)
_SHOE: Bands = (("shoes", 1.0),)
_SOLE: Bands = (("sole", 1.0),)
_PARTS: tuple[Shape, ...] = (
    # Trunk: ribcage, abdomen and pelvis as ellipsoids; buttocks, deltoids, trapezius, neck.
    Ellipsoid("ribcage_c", "thorax", (0.118, 0.200, 0.160), _SHIRT),
    Ellipsoid("abdomen_c", "thorax", (0.100, 0.170, 0.132), (("shorts", 0.2), ("shirt", 1.0))),
    Ellipsoid("pelvis_c", "pelvis", (0.105, 0.125, 0.158), _SHORTS),
    Cone("{s}_glute", "{s}_glute", 0.072, 0.072, _SHORTS),
    Cone("{s}_shoulder", "{s}_deltoid", 0.062, 0.056),
    Cone("{s}_shoulder", "neck", 0.045, 0.056, _SHIRT),
    Cone("neck", "neck_top", 0.053, 0.049),
    # Head: cranium with hair, face down to the chin, nose, ears, eyes, brows, mouth.
    Ellipsoid("cranium", "head", (0.100, 0.097, 0.079), head=True, hair=True),
    Cone("face", "chin", 0.066, 0.036, head=True),
    Cone("nose_root", "nose_tip", 0.010, 0.014, head=True),
    Cone("{s}_ear_c", "{s}_ear_c", 0.021, 0.021, head=True),
    Cone("{s}_eye_c", "{s}_eye_c", 0.0075, 0.0075, (("eye", 1.0),), head=True),
    Cone("{s}_brow_in", "{s}_brow_out", 0.0045, 0.0045, (("hair", 1.0),), head=True),
    Cone("mouth_l", "mouth_r", 0.006, 0.006, (("lips", 1.0),), head=True),
    # Arm: upper arm, forearm, palm, fingers, thumb.
    Cone("{s}_shoulder", "{s}_elbow", 0.060, 0.044),
    Cone("{s}_elbow", "{s}_wrist", 0.047, 0.031),
    Cone("{s}_wrist", "{s}_hand", 0.026, 0.029),
    Cone("{s}_hand", "{s}_fingertip", 0.021, 0.014),
    Cone("{s}_wrist", "{s}_thumb", 0.014, 0.011),
    # Leg: thigh (shorts at the top), knee to calf, calf to ankle.
    Cone("{s}_hip", "{s}_knee", 0.104, 0.060, (("shorts", 0.36), ("skin", 1.0))),
    Cone("{s}_knee", "{s}_calf", 0.058, 0.066),
    Cone("{s}_calf", "{s}_ankle", 0.066, 0.036),
    # Shoe: upper from the ankle over the heel to the toe, and a pale sole under it.
    Cone("{s}_ankle", "{s}_heel_c", 0.036, 0.036, _SHOE),
    Cone("{s}_heel_c", "{s}_ball_c", 0.036, 0.031, _SHOE),
    Cone("{s}_ball_c", "{s}_toe_c", 0.031, 0.022, _SHOE),
    Cone("{s}_heel_s", "{s}_ball_s", 0.030, 0.026, _SOLE),
    Cone("{s}_ball_s", "{s}_toe_s", 0.026, 0.018, _SOLE),
)


def _expand_parts(parts: Iterable[Shape]) -> tuple[Shape, ...]:
    """One entry per side for every part whose point names contain ``{s}``."""
    out: list[Shape] = []
    for part in parts:
        if isinstance(part, Cone) and "{s}" in part.a + part.b:
            out.extend(dataclasses.replace(part, a=part.a.format(s=side), b=part.b.format(s=side)) for side in SIDES)
        elif isinstance(part, Ellipsoid) and "{s}" in part.centre:
            out.extend(dataclasses.replace(part, centre=part.centre.format(s=side)) for side in SIDES)
        else:
            out.append(part)
    return tuple(out)


_ALL_PARTS = _expand_parts(_PARTS)
CONES: tuple[Cone, ...] = tuple(p for p in _ALL_PARTS if isinstance(p, Cone))
ELLIPSOIDS: tuple[Ellipsoid, ...] = tuple(p for p in _ALL_PARTS if isinstance(p, Ellipsoid))
FRAMES: tuple[str, ...] = ("thorax", "pelvis", "head")
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
HAIR_COS = -0.2


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _reject(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Component of ``v`` perpendicular to the unit vector ``axis`` (row-wise)."""
    return v - np.sum(v * axis, axis=-1, keepdims=True) * axis


def _frame(up: np.ndarray, right_hint: np.ndarray) -> np.ndarray:
    """(N, 3, 3) orthonormal frames with columns (forward, up, right), right-handed."""
    up = unit(up)
    right = unit(_reject(right_hint, up))
    return np.stack([np.cross(up, right), up, right], axis=-1)


@dataclass
class Figure:
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
    up = unit(j["head_top"] - ears)
    fwd = unit(_reject(lm[:, INDEX["nose"]] - ears, up))
    head = _frame(up, np.cross(fwd, up))
    head_scale = float(np.median(np.linalg.norm(j["head_top"] - ears, axis=-1))) / HEAD_TOP_ABOVE_EARS_M
    head_scale = float(np.clip(head_scale, 0.8 * s, 1.25 * s))

    def head_point(f: float, u: float, r: float) -> np.ndarray:
        return ears + head_scale * (head @ np.array([f, u, r]))

    for name, (f, u, r) in _HEAD_POINTS.items():
        pts[name] = head_point(f, u, r)
    for name, (f, u, r) in _HEAD_SIDE_POINTS.items():
        for side, sign in (("left", -1.0), ("right", 1.0)):
            pts[f"{side}_{name}"] = head_point(f, u, sign * r)
    nose = lm[:, INDEX["nose"]]
    pts["nose_tip"] = nose - head_scale * 0.014 * unit(nose - pts["nose_root"])
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
        along = unit(p("toe") - p("heel"))
        foot_up = unit(_reject(p("ankle") - p("heel"), along))
        # Calf: a third of the way down the shank, bulging backward.
        shank = unit(p("ankle") - p("knee"))
        back = -unit(_reject(along, shank))
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


def build_figure(body: RenderBody, outfit: Outfit) -> Figure:
    pts, frames, hair_dir, head_scale = _figure_points(body)
    body_scale = body.height_m / REFERENCE_HEIGHT_M
    names = sorted({n for c in CONES for n in (c.a, c.b)} | {e.centre for e in ELLIPSOIDS})
    index = {n: i for i, n in enumerate(names)}

    def scale(part: Shape) -> float:
        return head_scale if part.head else body_scale

    albedo = np.array(
        [outfit.skin, outfit.hair, outfit.shirt, outfit.shorts, outfit.shoes, outfit.sole,
         (24, 18, 16), (150, 70, 70)],
        dtype=np.float32,
    )
    return Figure(
        points=np.stack([pts[n] for n in names], axis=1),
        frames=np.stack([frames[f] for f in FRAMES], axis=1),
        cone_points=np.array([[index[c.a], index[c.b]] for c in CONES], dtype=np.intp).reshape(-1, 2),
        cone_radii=np.array([[c.ra * scale(c), c.rb * scale(c)] for c in CONES], dtype=float).reshape(-1, 2),
        ell_centre=np.array([index[e.centre] for e in ELLIPSOIDS], dtype=np.intp),
        ell_frame=np.array([FRAMES.index(e.frame) for e in ELLIPSOIDS], dtype=np.intp),
        ell_semi=np.array([np.array(e.semi) * scale(e) for e in ELLIPSOIDS], dtype=float).reshape(-1, 3),
        hair_dir=hair_dir,
        casters=np.array([index[n] for n in _SHADOW_CASTERS], dtype=np.intp),
        albedo=albedo,
        pelvis=np.asarray(body.joints_m["pelvis"], dtype=float),
    )


def jogger(body: RenderBody, options: RenderOptions, far_sign: float) -> RenderBody:
    """The second person: the runner's own motion, slowed, scaled and moved to a far lane."""
    n = body.num_frames
    rate = options.second_person_speed
    scale = options.second_person_scale
    frames = np.arange(n, dtype=float)
    tau = options.second_person_phase * (n - 1) * (1.0 - rate) + rate * frames
    pelvis = np.asarray(body.joints_m["pelvis"], dtype=float)
    pelvis_tau = interp_frames(pelvis, tau)
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
        rel = interp_frames(arr, tau) - pelvis_tau.reshape(shape)
        return new_pelvis.reshape(shape) + scale * rel

    joints = {name: move(body.joints_m[name]) for name in JOINT_NAMES}
    return RenderBody(joints, move(body.landmarks_m), scale * body.height_m)


def interp_frames(arr: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Linear interpolation of per-frame arrays (N, ...) at fractional frame indices."""
    n = arr.shape[0]
    tau = np.clip(tau, 0.0, n - 1.0)
    i0 = np.minimum(np.floor(tau).astype(np.intp), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (tau - i0).reshape((-1,) + (1,) * (arr.ndim - 1))
    return arr[i0] * (1.0 - w) + arr[i1] * w
