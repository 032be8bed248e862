"""Vertical-axis angular momentum of every body segment about the whole-body centre of mass.

For segment *i* with mass m_i, centre of mass r_i, velocity v_i, and the whole-body
centre of mass r_c, v_c (docs/METHOD.md, section 4)::

    H_i = m_i [ (r_i - r_c) x (v_i - v_c) ]_y   +   (I_i ω_i)_y
          `---------- remote term ----------'       `- local term -'

with y the vertical (up) axis of the runner frame, so positive H is counter-clockwise seen
from above. Segments come from de Leva (1996) (``analyzer.segments``) scaled by the
athlete's mass and the measured segment lengths; their mapping onto BlazePose's 33
landmarks is :data:`SEGMENTS`. Groups sum segments: each arm, each leg, the torso (trunk
and head), and the whole body.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.kinematics import Kinematics, yaw_deg
from analyzer.landmarks import INDEX, SIDES
from analyzer.segments import Sex, de_leva
from analyzer.signals import derivative

GRAVITY_M_S2 = 9.81


@dataclass(frozen=True)
class SegmentDef:
    """How one body segment maps onto landmarks.

    Attributes:
        name: unique name, e.g. ``left_thigh``.
        kind: de Leva segment (``thigh``, ``head``, ...).
        group: the group it is summed into (``left_leg``, ``right_arm``, ``torso``...).
        proximal, distal: landmark names whose mean is the segment's proximal / distal endpoint.
        com_at_distal: the segment's centre of mass is taken at the distal endpoint instead
            of de Leva's fraction (the head: BlazePose has no head vertex, so the head's
            centre of mass is placed at the midpoint of the ears, which de Leva's 59.8 %
            from vertex to gonion puts within a centimetre or two).
    """

    name: str
    kind: str
    group: str
    proximal: tuple[str, ...]
    distal: tuple[str, ...]
    com_at_distal: bool = False


def _limb(side: str) -> list[SegmentDef]:
    arm, leg = f"{side}_arm", f"{side}_leg"
    s = lambda part: (f"{side}_{part}",)  # noqa: E731
    return [
        SegmentDef(f"{side}_upper_arm", "upper_arm", arm, s("shoulder"), s("elbow")),
        SegmentDef(f"{side}_forearm", "forearm", arm, s("elbow"), s("wrist")),
        # de Leva's hand ends at the 3rd metacarpale: between BlazePose's index and pinky knuckles.
        SegmentDef(f"{side}_hand", "hand", arm, s("wrist"), (f"{side}_index", f"{side}_pinky")),
        SegmentDef(f"{side}_thigh", "thigh", leg, s("hip"), s("knee")),
        SegmentDef(f"{side}_shank", "shank", leg, s("knee"), s("ankle")),
        SegmentDef(f"{side}_foot", "foot", leg, s("heel"), s("foot_index")),
    ]


#: The 14-segment model (docs/METHOD.md, section 4, table "Segments").
SEGMENTS: tuple[SegmentDef, ...] = (
    SegmentDef("head", "head", "torso", ("left_shoulder", "right_shoulder"), ("left_ear", "right_ear"), com_at_distal=True),
    SegmentDef("trunk", "trunk", "torso", ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip")),
    *_limb("left"),
    *_limb("right"),
)

GROUPS: tuple[str, ...] = ("left_arm", "right_arm", "arms", "torso", "left_leg", "right_leg", "whole_body")


@dataclass(frozen=True)
class AngularMomentum:
    """Vertical-axis angular momenta about the whole-body centre of mass.

    Attributes:
        time_s: (N,) sample times (s).
        segment_names: names of the S segments, in :data:`SEGMENTS` order.
        remote_kg_m2_s: (N, S) remote (transfer) term of each segment.
        local_kg_m2_s: (N, S) local (segment's own rotation) term of each segment.
        com_m: (N, 3) whole-body centre of mass in the runner frame (m).
        com_velocity_m_s: (N, 3) its velocity (m/s).
        groups_kg_m2_s: group totals (N,), keyed by :data:`GROUPS`.
        normaliser_kg_m2_s: M h sqrt(g h): divide by it for the dimensionless form.
        mass_kg, height_m, sex: the inertia model's inputs.
    """

    time_s: np.ndarray
    segment_names: tuple[str, ...]
    remote_kg_m2_s: np.ndarray
    local_kg_m2_s: np.ndarray
    com_m: np.ndarray
    com_velocity_m_s: np.ndarray
    groups_kg_m2_s: dict[str, np.ndarray]
    normaliser_kg_m2_s: float
    mass_kg: float
    height_m: float
    sex: str

    @property
    def segments_kg_m2_s(self) -> np.ndarray:
        """(N, S) total (remote + local) momentum of each segment."""
        return self.remote_kg_m2_s + self.local_kg_m2_s

    def normalised(self, group: str) -> np.ndarray:
        """A group's momentum divided by M h sqrt(g h) (dimensionless)."""
        return self.groups_kg_m2_s[group] / self.normaliser_kg_m2_s


def normaliser_kg_m2_s(mass_kg: float, height_m: float) -> float:
    """M h sqrt(g h): the speed-independent scale of whole-body angular momentum (kg m^2/s)."""
    return float(mass_kg * height_m * np.sqrt(GRAVITY_M_S2 * height_m))


def _endpoint(points_m: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return points_m[:, [INDEX[n] for n in names]].mean(axis=1)


def segment_geometry(points_m: np.ndarray, sex: Sex, height_m: float) -> dict[str, np.ndarray]:
    """Per-segment endpoints, centres of mass and lengths from landmarks.

    Returns a dict of arrays over the S segments of :data:`SEGMENTS`:
    ``proximal_m``, ``distal_m``, ``com_m`` (N, S, 3); ``length_m`` (N, S) (measured,
    except the head's, which is de Leva's head length scaled to *height_m*);
    ``mass_fraction``, ``r_transverse``, ``r_longitudinal`` (S,).
    """
    params = de_leva(sex)
    proximal = np.stack([_endpoint(points_m, s.proximal) for s in SEGMENTS], axis=1)
    distal = np.stack([_endpoint(points_m, s.distal) for s in SEGMENTS], axis=1)
    com_fraction = np.array([1.0 if s.com_at_distal else params[s.kind].com_fraction for s in SEGMENTS])
    com = proximal + com_fraction[None, :, None] * (distal - proximal)
    length = np.linalg.norm(distal - proximal, axis=-1)
    head = [i for i, s in enumerate(SEGMENTS) if s.kind == "head"]
    length[:, head] = params["head"].length_fraction * height_m
    return {
        "proximal_m": proximal,
        "distal_m": distal,
        "com_m": com,
        "length_m": length,
        "mass_fraction": np.array([params[s.kind].mass_fraction for s in SEGMENTS]),
        "r_transverse": np.array([params[s.kind].r_transverse_mean for s in SEGMENTS]),
        "r_longitudinal": np.array([params[s.kind].r_longitudinal for s in SEGMENTS]),
    }


def trunk_yaw_rad(points_m: np.ndarray) -> np.ndarray:
    """(N,) the trunk's rotation about the vertical: mean of the hip-line and shoulder-line yaw (rad)."""
    p = lambda n: points_m[:, INDEX[n]]  # noqa: E731
    pelvis = np.radians(yaw_deg(p("left_hip"), p("right_hip")))
    thorax = np.radians(yaw_deg(p("left_shoulder"), p("right_shoulder")))
    return np.angle(np.exp(1j * pelvis) + np.exp(1j * thorax))


def angular_momentum(
    kinematics: Kinematics,
    *,
    mass_kg: float,
    height_m: float,
    sex: Sex = "male",
) -> AngularMomentum:
    """Segment and group angular momenta about the vertical axis through the CoM.

    Local terms: a segment's long axis u turning at u x du/dt contributes
    ``m (r_t L)^2 (u x du/dt)_y``, with r_t the mean transverse radius of gyration; the
    trunk adds its spin about its long axis, ``m (r_l L)^2 dψ/dt``, with ψ the mean yaw
    of its hip and shoulder lines (:func:`trunk_yaw_rad`), where that yaw is observable
    (:attr:`Kinematics.yaw_observable`: not from a side video's modelled depth). Limb spin about their own
    long axes is not observable from video and is left out (r_l is small for limbs).

    Args:
        kinematics: runner-frame landmarks (conditioned).
        mass_kg, height_m, sex: the inertia model's inputs.
    """
    points = kinematics.points_m
    time_s = kinematics.time_s
    geo = segment_geometry(points, sex, height_m)
    mass = geo["mass_fraction"] * mass_kg  # (S,)
    com = geo.pop("com_m")
    com_body = np.einsum("s,nsd->nd", mass, com) / mass.sum()
    vel_body = derivative(com_body, time_s)
    # Only the horizontal components (x, z) enter a vertical (y) cross product: the
    # vertical ones are never differentiated, and each (N, S) array is freed once used.
    # (N, S, 3) arrays are 12 MB at 36 000 frames, so this bounds a long clip's memory.
    x, z = 0, 2
    vx = derivative(com[..., x], time_s) - vel_body[:, None, x]
    vz = derivative(com[..., z], time_s) - vel_body[:, None, z]
    remote = mass * ((com[..., z] - com_body[:, None, z]) * vx - (com[..., x] - com_body[:, None, x]) * vz)
    del com, vx, vz

    axis = geo.pop("distal_m") - geo.pop("proximal_m")
    length = geo["length_m"]
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    del axis
    # (u x du/dt)_y = u_z du_x/dt - u_x du_z/dt
    omega_perp_y = unit[..., z] * derivative(unit[..., x], time_s) - unit[..., x] * derivative(unit[..., z], time_s)
    del unit
    local = mass * (geo["r_transverse"] * length) ** 2 * omega_perp_y
    if kinematics.yaw_observable:
        trunk = [i for i, s in enumerate(SEGMENTS) if s.kind == "trunk"][0]
        spin_rate = derivative(np.unwrap(trunk_yaw_rad(points)), time_s)
        local[:, trunk] += mass[trunk] * (geo["r_longitudinal"][trunk] * length[:, trunk]) ** 2 * spin_rate

    total = remote + local
    groups = {name: np.zeros(len(time_s)) for name in GROUPS}
    for i, seg in enumerate(SEGMENTS):
        groups[seg.group] = groups[seg.group] + total[:, i]
    groups["arms"] = groups["left_arm"] + groups["right_arm"]
    groups["whole_body"] = total.sum(axis=1)
    return AngularMomentum(
        time_s=time_s,
        segment_names=tuple(s.name for s in SEGMENTS),
        remote_kg_m2_s=remote,
        local_kg_m2_s=local,
        com_m=com_body,
        com_velocity_m_s=vel_body,
        groups_kg_m2_s=groups,
        normaliser_kg_m2_s=normaliser_kg_m2_s(mass_kg, height_m),
        mass_kg=float(mass_kg),
        height_m=float(height_m),
        sex=sex,
    )


def leg_group(side: str) -> str:
    """Group name of one leg (``left_leg`` / ``right_leg``)."""
    if side not in SIDES:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    return f"{side}_leg"
