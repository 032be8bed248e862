"""Ground truth for the synthetic sprinter: what a perfect analyzer would report.

Computed from the exact model (:mod:`analyzer.synthetic.motion`) with code that is independent
of the analyzer's own kinematics and momentum code (``analyzer.momentum`` is never imported).
It reads only the de Leva *table* from :mod:`analyzer.segments`.

Definitions (runner frame and signs of docs/METHOD.md):

* **Segments** (:data:`~analyzer.synthetic.motion.SEGMENT_ENDPOINTS`): de Leva's endpoints on
  the model's exact geometry. Head: vertex (``head_top``) to the mid-gonion point (the model's
  head has both, so de Leva's head CoM fraction applies as published); trunk: mid-shoulder to
  mid-hip joint centres; upper arm, forearm, hand (wrist to 3rd metacarpal head); thigh, shank
  (knee to ankle joint centre), foot (back of the heel to the toe tip). Mass = de Leva fraction
  x body mass (sex-specific); CoM at de Leva's fraction of the *instantaneous* endpoint
  distance; inertia about the CoM ``m L^2 [r_t^2 (1 - e e^T) + r_l^2 e e^T]`` with ``e`` the
  unit endpoint axis, ``r_l`` de Leva's longitudinal radius and ``r_t`` the mean of the two
  transverse radii (as ``analyzer.segments`` advises).
* **Angular velocity** of every segment from its world rotation matrix (``motion.segment_rotations``):
  ``[ω]x = Ṙ Rᵀ``. The trunk's spin about its long axis is the mean of the model's pelvis and
  thorax yaw rates (the ``trunk`` frame turns by the mean of the two yaw angles about the
  leaning trunk axis), which is the rigid-body rotation closest to the twisting trunk.
* **Velocities**: central differences of the model itself re-sampled at ``t ± h`` (h = 0.1 ms,
  far finer than any frame interval), i.e. the continuous-time model's velocities at the frame
  times, not differences between frames.
* **Angular momentum** about the vertical through the whole-body CoM, per segment:
  remote ``m_i [(r_i - r_c) × (v_i - v_c)]_y`` and local ``(I_i ω_i)_y``.
  Groups: ``{side}_arm`` (upper arm + forearm + hand), ``arms``, ``torso`` (trunk + head),
  ``{side}_leg`` (thigh + shank + foot), ``legs``, ``whole_body``, and per frame ``push_leg`` /
  ``swing_leg`` by the step roles (NaN before the first touchdown).
* **Joint angles**: docs/METHOD.md section 3, from the exact landmarks.
* **Image truth**: the 33 landmarks projected through the given camera (pixels, depth).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analyzer.atomic import atomic_path, write_text
from analyzer.landmarks import INDEX, SIDES
from analyzer.segments import de_leva
from analyzer.synthetic.camera import CameraTrack
from analyzer.synthetic.motion import SEGMENT_ENDPOINTS, SprinterMotion, SprinterParams, StepFault, simulate

#: Finite-difference half-step for velocities (s).
VELOCITY_STEP_S = 1e-4

#: Group name -> member segments.
GROUPS: dict[str, tuple[str, ...]] = {
    **{f"{s}_arm": (f"{s}_upper_arm", f"{s}_forearm", f"{s}_hand") for s in SIDES},
    "arms": tuple(f"{s}_{p}" for s in SIDES for p in ("upper_arm", "forearm", "hand")),
    "torso": ("trunk", "head"),
    **{f"{s}_leg": (f"{s}_thigh", f"{s}_shank", f"{s}_foot") for s in SIDES},
    "legs": tuple(f"{s}_{p}" for s in SIDES for p in ("thigh", "shank", "foot")),
    "whole_body": tuple(SEGMENT_ENDPOINTS),
}

#: Joint-angle columns of docs/METHOD.md section 3.
ANGLE_COLUMNS: tuple[str, ...] = tuple(
    f"{name}_{s}_deg"
    for name in ("hip_flexion", "knee_flexion", "ankle_dorsiflexion", "shoulder_flexion", "elbow_flexion", "thigh_angle")
    for s in SIDES
) + ("trunk_lean_deg", "inter_thigh_angle_deg", "pelvis_rotation_deg", "thorax_rotation_deg")


@dataclass
class GroundTruth:
    """Per-frame truth for one synthetic clip.

    Attributes:
        time_s: (N,) frame times.
        com_m, com_velocity_m_s: (N, 3) whole-body centre of mass and its velocity.
        segment_mass_kg: segment -> mass.
        H_remote_kg_m2_s, H_local_kg_m2_s: segment -> (N,) the two terms of its vertical-axis
            angular momentum about the whole-body CoM.
        group_H_kg_m2_s: group (see :data:`GROUPS`, plus ``push_leg`` and ``swing_leg``) -> (N,).
        group_H_heading_kg_m2_s: the same with the whole-body yaw removed: each segment's
            ``H_i - ψ̇ (m_i ρ_i² + I_i,yy)``, i.e. the momentum of the group's motion relative to the
            model's heading frame. The injected faults act on this part exactly.
        yaw_inertia_kg_m2: (N,) whole-body moment of inertia about the vertical through the CoM.
        yaw_rate_rad_s: (N,) the model's whole-body yaw rate ψ̇.
        joint_angles_deg: METHOD section 3 column -> (N,).
        step_index: (N,) step containing each frame (-1 before the first touchdown).
        push_leg, swing_leg: (N,) ``"left"``, ``"right"`` or ``""`` before the first touchdown.
        events: ``{"touchdown_s": {side: [...]}, "toe_off_s": {side: [...]}}`` inside the clip.
        steps: one dict per step (fields of :class:`~analyzer.synthetic.motion.Step`,
            including the injected fault ``swing_delay_ms`` / ``swing_amplitude_scale``).
        params: the :class:`SprinterParams` as a JSON-ready dict (:func:`params_from_dict` inverts it).
        landmarks_m: (N, 33, 3) exact landmarks in the runner frame.
        image_xy_px, image_depth_m: (N, 33, 2) and (N, 33) through the camera, or None.
    """

    time_s: np.ndarray
    com_m: np.ndarray
    com_velocity_m_s: np.ndarray
    segment_mass_kg: dict[str, float]
    H_remote_kg_m2_s: dict[str, np.ndarray]
    H_local_kg_m2_s: dict[str, np.ndarray]
    group_H_kg_m2_s: dict[str, np.ndarray]
    group_H_heading_kg_m2_s: dict[str, np.ndarray]
    yaw_inertia_kg_m2: np.ndarray
    yaw_rate_rad_s: np.ndarray
    joint_angles_deg: dict[str, np.ndarray]
    step_index: np.ndarray
    push_leg: np.ndarray
    swing_leg: np.ndarray
    events: dict
    steps: list[dict]
    params: dict
    landmarks_m: np.ndarray
    image_xy_px: np.ndarray | None = None
    image_depth_m: np.ndarray | None = None

    def segment_H_kg_m2_s(self, segment: str) -> np.ndarray:
        """Remote + local vertical-axis momentum of one segment."""
        return self.H_remote_kg_m2_s[segment] + self.H_local_kg_m2_s[segment]


# --------------------------------------------------------------------------------------------
# Momentum
# --------------------------------------------------------------------------------------------


def _segment_points(motion: SprinterMotion, fractions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment CoMs (S, N, 3) and endpoint axes distal - proximal (S, N, 3)."""
    names = tuple(SEGMENT_ENDPOINTS)
    prox = np.stack([motion.joints_m[SEGMENT_ENDPOINTS[s][0]] for s in names])
    dist = np.stack([motion.joints_m[SEGMENT_ENDPOINTS[s][1]] for s in names])
    return prox + fractions[:, None, None] * (dist - prox), dist - prox


def _angular_velocity(r_lo: np.ndarray, r_mid: np.ndarray, r_hi: np.ndarray, h: float) -> np.ndarray:
    """ω (…, 3) from rotation matrices at t - h, t, t + h: the axial vector of Ṙ Rᵀ."""
    w = np.einsum("...ij,...kj->...ik", (r_hi - r_lo) / (2.0 * h), r_mid)
    w = 0.5 * (w - np.swapaxes(w, -1, -2))
    return np.stack([w[..., 2, 1], w[..., 0, 2], w[..., 1, 0]], axis=-1)


def _momentum(
    motions: tuple[SprinterMotion, SprinterMotion, SprinterMotion], params: SprinterParams, h: float
) -> tuple[np.ndarray, np.ndarray, dict[str, float], dict[str, np.ndarray], dict[str, np.ndarray]]:
    names = tuple(SEGMENT_ENDPOINTS)
    table = de_leva(params.sex)
    rows = [table[SEGMENT_ENDPOINTS[s][2]] for s in names]
    mass = np.array([r.mass_fraction for r in rows]) * params.mass_kg
    frac = np.array([r.com_fraction for r in rows])
    r_t = np.array([r.r_transverse_mean for r in rows])
    r_l = np.array([r.r_longitudinal for r in rows])

    lo, mid, hi = motions
    com_lo, _ = _segment_points(lo, frac)
    com, axis = _segment_points(mid, frac)
    com_hi, _ = _segment_points(hi, frac)
    vel = (com_hi - com_lo) / (2.0 * h)
    total = mass.sum()
    body_com = np.tensordot(mass, com, axes=1) / total
    body_vel = np.tensordot(mass, vel, axes=1) / total
    rel, rel_v = com - body_com, vel - body_vel
    remote = mass[:, None] * (rel[..., 2] * rel_v[..., 0] - rel[..., 0] * rel_v[..., 2])

    omega = np.stack([
        _angular_velocity(lo.segment_rotations[s], mid.segment_rotations[s], hi.segment_rotations[s], h) for s in names
    ])
    length2 = np.sum(axis**2, axis=-1)
    e = axis / np.sqrt(length2)[..., None]
    # (I ω)_y with I = m L² [r_t² (1 - e eᵀ) + r_l² e eᵀ].
    e_w = np.sum(e * omega, axis=-1)
    local = mass[:, None] * length2 * (
        (r_t**2)[:, None] * (omega[..., 1] - e[..., 1] * e_w) + (r_l**2)[:, None] * e[..., 1] * e_w
    )
    # Each segment's vertical moment of inertia about the CoM axis: m ρ² + (I)_yy.
    yaw_inertia = mass[:, None] * (rel[..., 0] ** 2 + rel[..., 2] ** 2) + mass[:, None] * length2 * (
        (r_t**2)[:, None] * (1.0 - e[..., 1] ** 2) + (r_l**2)[:, None] * e[..., 1] ** 2
    )
    return (
        body_com,
        body_vel,
        dict(zip(names, mass.tolist())),
        {s: remote[i] for i, s in enumerate(names)},
        {s: local[i] for i, s in enumerate(names)},
        {s: yaw_inertia[i] for i, s in enumerate(names)},
    )


# --------------------------------------------------------------------------------------------
# Joint angles (docs/METHOD.md section 3)
# --------------------------------------------------------------------------------------------


def _theta_deg(v: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(v[..., 0], -v[..., 1]))


def _wrap_deg(a: np.ndarray) -> np.ndarray:
    """Wrap to (-180, 180]."""
    return 180.0 - np.mod(180.0 - a, 360.0)


def joint_angles_deg(landmarks_m: np.ndarray) -> dict[str, np.ndarray]:
    """METHOD section 3 columns from landmarks (N, 33, 3) in the runner frame."""
    p = {name: landmarks_m[:, i] for name, i in INDEX.items()}
    mid_hip = 0.5 * (p["left_hip"] + p["right_hip"])
    mid_shoulder = 0.5 * (p["left_shoulder"] + p["right_shoulder"])
    trunk_down = _theta_deg(mid_hip - mid_shoulder)
    out: dict[str, np.ndarray] = {}
    for s in SIDES:
        thigh = _theta_deg(p[f"{s}_knee"] - p[f"{s}_hip"])
        shank = _theta_deg(p[f"{s}_ankle"] - p[f"{s}_knee"])
        upper = _theta_deg(p[f"{s}_elbow"] - p[f"{s}_shoulder"])
        out[f"hip_flexion_{s}_deg"] = _wrap_deg(thigh - trunk_down)
        out[f"knee_flexion_{s}_deg"] = _wrap_deg(thigh - shank)
        out[f"ankle_dorsiflexion_{s}_deg"] = _wrap_deg(_theta_deg(p[f"{s}_foot_index"] - p[f"{s}_heel"]) - shank - 90.0)
        out[f"shoulder_flexion_{s}_deg"] = _wrap_deg(upper - trunk_down)
        out[f"elbow_flexion_{s}_deg"] = _wrap_deg(_theta_deg(p[f"{s}_wrist"] - p[f"{s}_elbow"]) - upper)
        out[f"thigh_angle_{s}_deg"] = thigh
    trunk_up = mid_shoulder - mid_hip
    out["trunk_lean_deg"] = np.degrees(np.arctan2(trunk_up[:, 0], trunk_up[:, 1]))
    out["inter_thigh_angle_deg"] = np.abs(_wrap_deg(out["thigh_angle_left_deg"] - out["thigh_angle_right_deg"]))
    for name, joint in (("pelvis", "hip"), ("thorax", "shoulder")):
        line = p[f"right_{joint}"] - p[f"left_{joint}"]
        out[f"{name}_rotation_deg"] = np.degrees(np.arctan2(line[:, 0], line[:, 2]))
    return {c: out[c] for c in ANGLE_COLUMNS}


# --------------------------------------------------------------------------------------------
# Assembly, save and load
# --------------------------------------------------------------------------------------------


def compute_truth(motion: SprinterMotion, params: SprinterParams, camera: CameraTrack | None = None) -> GroundTruth:
    """The ground truth at ``motion.time_s`` (see the module docstring for every definition)."""
    if motion.params != params:
        raise ValueError("motion was simulated with different parameters")
    t, h = motion.time_s, VELOCITY_STEP_S
    neighbours = (simulate(params, t - h), motion, simulate(params, t + h))
    com, com_vel, seg_mass, remote, local, yaw_inertia = _momentum(neighbours, params, h)
    total = {s: remote[s] + local[s] for s in remote}
    groups = {g: np.sum([total[s] for s in members], axis=0) for g, members in GROUPS.items()}
    heading = {s: total[s] - motion.yaw_rate_rad_s * yaw_inertia[s] for s in total}
    heading_groups = {g: np.sum([heading[s] for s in members], axis=0) for g, members in GROUPS.items()}

    step_index = motion.step_at(t)
    started = step_index >= 0
    push = np.array([motion.steps[i].push_leg if i >= 0 else "" for i in step_index])
    swing = np.array([motion.steps[i].swing_leg if i >= 0 else "" for i in step_index])
    for role, sides in (("push_leg", push), ("swing_leg", swing)):
        for g in (groups, heading_groups):
            g[role] = np.where(started, np.where(sides == "left", g["left_leg"], g["right_leg"]), np.nan)

    image_xy = depth = None
    if camera is not None:
        if camera.num_frames != t.size:
            raise ValueError("camera has a different number of frames than the motion")
        image_xy, depth = camera.project(motion.landmarks_m)

    return GroundTruth(
        time_s=t.copy(),
        com_m=com,
        com_velocity_m_s=com_vel,
        segment_mass_kg=seg_mass,
        H_remote_kg_m2_s=remote,
        H_local_kg_m2_s=local,
        group_H_kg_m2_s=groups,
        group_H_heading_kg_m2_s=heading_groups,
        yaw_inertia_kg_m2=np.sum([yaw_inertia[s] for s in yaw_inertia], axis=0),
        yaw_rate_rad_s=motion.yaw_rate_rad_s.copy(),
        joint_angles_deg=joint_angles_deg(motion.landmarks_m),
        step_index=step_index,
        push_leg=push,
        swing_leg=swing,
        events={
            "touchdown_s": {s: motion.events.touchdown_s[s].tolist() for s in SIDES},
            "toe_off_s": {s: motion.events.toe_off_s[s].tolist() for s in SIDES},
        },
        steps=[dataclasses.asdict(s) for s in motion.steps],
        params=json.loads(json.dumps(dataclasses.asdict(params))),
        landmarks_m=motion.landmarks_m.copy(),
        image_xy_px=image_xy,
        image_depth_m=depth,
    )


_ARRAY_FIELDS = ("time_s", "com_m", "com_velocity_m_s", "yaw_inertia_kg_m2", "yaw_rate_rad_s", "step_index", "push_leg", "swing_leg", "landmarks_m",
                 "image_xy_px", "image_depth_m")
_DICT_FIELDS = ("H_remote_kg_m2_s", "H_local_kg_m2_s", "group_H_kg_m2_s", "group_H_heading_kg_m2_s", "joint_angles_deg")


def _arrays_path(json_path: Path) -> Path:
    return json_path.with_suffix(".npz")


def save_truth(truth: GroundTruth, json_path: str | Path) -> None:
    """Write ``json_path`` (scalars, events, steps, params, segment masses, array index) and
    the arrays into an ``.npz`` beside it (same stem). Both are written atomically."""
    json_path = Path(json_path)
    arrays: dict[str, np.ndarray] = {}
    for name in _ARRAY_FIELDS:
        value = getattr(truth, name)
        if value is not None:
            arrays[name] = np.asarray(value)
    for name in _DICT_FIELDS:
        for key, value in getattr(truth, name).items():
            arrays[f"{name}/{key}"] = np.asarray(value)
    with atomic_path(_arrays_path(json_path)) as tmp:
        np.savez_compressed(tmp, **arrays)
    doc = {
        "format": "sprint-analyzer synthetic truth v1",
        "arrays_file": _arrays_path(json_path).name,
        "num_frames": int(truth.time_s.size),
        "segment_mass_kg": truth.segment_mass_kg,
        "events": truth.events,
        "steps": truth.steps,
        "params": truth.params,
        "arrays": sorted(arrays),
    }
    write_text(json_path, json.dumps(doc, indent=1))


def params_from_dict(params: dict) -> SprinterParams:
    """Rebuild :class:`SprinterParams` from ``GroundTruth.params`` (e.g. to re-simulate a saved clip)."""
    fields = dict(params)
    fields["faults"] = tuple(StepFault(**f) for f in fields.get("faults", ()))
    return SprinterParams(**fields)


def load_truth(json_path: str | Path) -> GroundTruth:
    """Read what :func:`save_truth` wrote."""
    json_path = Path(json_path)
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    with np.load(json_path.parent / doc["arrays_file"], allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    fields = {name: arrays.get(name) for name in _ARRAY_FIELDS}
    for name in _DICT_FIELDS:
        prefix = f"{name}/"
        fields[name] = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
    return GroundTruth(
        segment_mass_kg=doc["segment_mass_kg"], events=doc["events"], steps=doc["steps"], params=doc["params"], **fields
    )
