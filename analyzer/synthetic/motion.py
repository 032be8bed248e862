"""The synthetic sprinter's kinematic model: a 3D sprinter defined at any time, with exact events.

Frame and units follow docs/METHOD.md: runner frame, x forward, y up, z to the runner's right
(right-handed), metres, seconds, radians inside (degrees only in ``*_deg`` names). A yaw
(rotation about +y) is positive counter-clockwise seen from above: the right side moves forward.

How the body is built
=====================

The motion is built in two layers.

**1. The relative body** (``_relative_body``): a sprinter running straight along +x with no
whole-body yaw. Everything is a smooth function of time:

* *Gait plan.* Step ``k`` (0-based) runs from the touchdown of foot A to the touchdown of the
  other foot; A's leg is the push leg, the other the swing leg; roles alternate, step 0's push
  leg is ``params.first_push_leg``. Step time ``1/f_k``, contact time ``contact_fraction_k / f_k``,
  flight the rest. Over the first ``acceleration_steps`` steps speed, step frequency, contact
  fraction, trunk lean and the stance/swing key angles move from their start values to their
  top-speed values along ``e_k = 1 - (1 - k/N)^2`` (fast rise first). Steps before step 0 are
  virtual copies of step 0 that only define the motion before the first touchdown.
* *Pelvis.* Forward position = integral of a C1 speed curve through the per-step speeds.
  Pelvis and thorax yaw counter-rotate about the trunk's long axis at stride frequency (pelvis
  with the swing leg, thorax with the arms); the trunk leans forward by ``lean(t)``.
  Hip joint centres sit at +-``hip_half_width`` on the pelvis's medio-lateral axis, shoulder
  joint centres at +-``shoulder_half_width`` on the thorax's.
* *Pelvis height* oscillates once per step about a mean (0.511 H at top speed), 2.2 cm
  peak-to-peak, lowest at mid-stance and highest in flight (a C1 phase curve through the
  mid-stance instants).
* *Contact (stance).* The ball of the foot (the foot's midline point under the metatarsal
  heads) is planted on the ground at a point fixed at touchdown: half the contact length ahead
  of the hip at top speed (35% in the first accelerating step), on a track
  ``foot_track_half_width_m`` from the midline. The foot pitches about the ball (the heel stays
  off the ground, drops a little, then rises to 60 deg at toe-off; the toes stay flat on the
  ground, i.e. the metatarsophalangeal joint extends) along a prescribed pitch curve. The knee
  follows from two-link inverse kinematics between the hip and the ankle; the key frames are
  chosen so the leg always fits (``simulate`` raises if it cannot): at top speed the stance
  knee flexes from ~22 deg at touchdown to ~45 deg and extends to ~17 deg at toe-off.
* *Swing.* Four angle channels drive each swing leg from toe-off to its next touchdown: the
  thigh angle (``θ(knee - hip)``, METHOD section 3, in an equivalent form that is exact in 3D:
  the sagittal angle of the hip-ankle line plus the hip angle of the leg triangle), knee
  flexion, ankle angle (foot against shank) and toe (MTP) extension. Each is a cubic Hermite
  curve through key frames shaped like sprinting (back-swing, heel recovery to 128 deg knee
  flexion, a thigh drive that is fastest at 45% of the swing, peak hip flexion 74 deg,
  pawing back to touchdown); at toe-off and touchdown the curves take the *value and rate* of
  the stance solution, so every joint path is C1 through the events (the planted foot has zero
  velocity at both ends: a touchdown with zero ground speed). The ankle follows from the
  thigh/knee angles, moving laterally from one footprint track to the next; the knee from the
  same inverse kinematics as in stance (leg plane as close to sagittal as the hip-ankle line
  allows, knee forward).
* *Arms.* Shoulder flexion ``α = 51 deg · arm_amplitude · sin(π Φ + 0.2 sin 2π Φ)`` with opposite signs
  left and right and elbow flexion rising with ``α`` (60 deg behind the body, 100 deg in
  front), in a plane turned 10 deg across the body and abducted 8 deg. The phase ``Φ`` passes
  integer ``k`` at the *drive instant* of step k (12% of the step after touchdown, 27 ms at
  top speed); there the push-side arm swings forward fastest and the swing-side arm backward,
  and that is exactly when the swing leg's vertical-axis momentum peaks: the model's
  "balanced" sprinter (arms and swing leg peak together, measured in the tests). The arm
  amplitude is set so that the arms cancel most of the legs' momentum. Thorax yaw follows the
  same phase (with the arms), pelvis yaw its negative (with the swing leg).

Faults: a :class:`StepFault` on step k acts on the swing leg of step k only. ``swing_delay_ms``
time-warps that leg's swing channels, ``angle(t) = nominal(t - d·w(t))``, where ``w`` rises
smoothly (C1) from 0 at the leg's toe-off to 1 at step k's touchdown, stays 1 through step k's
contact and the first part of its flight, and falls back to 0 at the swing leg's touchdown.
Through step k's contact and early flight the swing leg's drive is therefore exactly the
unfaulted drive shifted later by ``d``, and all touchdown and toe-off times are unchanged (the
leg catches up in late swing). The ramp-up lies in the leg's early recovery during the flight
that ends step k-1 (after its own toe-off). ``swing_amplitude_scale`` scales the forward sweep
of the thigh (peak thigh angle above the back-swing minimum).

**2. Whole-body yaw** (``_solve_yaw``): the physics about the vertical axis. The world body is
the relative body turned by a yaw ``ψ(t)`` about a moving vertical pivot axis through ``Q(t)``:
``p = R_y(ψ) r + d(t)`` with ``ḋ = ψ̇ ŷ × (d - Q)``. For any pivot the angular momentum about
the vertical through the whole-body centre of mass (CoM) of this superposed rotation is exactly

    H(t) = H_rel(t) + I_vert(t) ψ̇(t),
    I_vert = Σ m_i ((x_i - x_c)² + (z_i - z_c)²) + Σ ŷᵀ I_i ŷ

(the cross term vanishes because Σ m_i (r_i - r_c) = 0; local inertias are rotated by R_y(ψ),
which leaves their yy-component and H's y-component unchanged). So the model *solves*
``ψ̇ = (H_target - H_rel) / I_vert`` instead of prescribing a yaw, with ``H_rel`` and ``I_vert``
computed from the relative body's de Leva segment model (:data:`SEGMENT_ENDPOINTS`).

*Ground-torque model.* ``H_target`` is constant in each flight (no external torque about the
vertical in flight: gravity is parallel to the axis and air resistance is ignored). During a
contact it moves from the previous flight's value to the next along a C1 smoothstep, so the
ground torque ``τ = dH/dt = ΔH·6u(1-u)/t_c`` is zero at touchdown and toe-off and peaks at
``1.5 ΔH / t_c`` mid-contact. This is the torque that the off-midline fore-aft ground force,
the medio-lateral force acting ahead of or behind the CoM and the free moment can supply
together. The flight values are chosen step by step so that the heading returns to straight
(``ψ = 0``) at every touchdown, subject to ``|τ| <= params.max_ground_torque_n_m`` (120 N m by
default, about 0.1 m x 0.6 body weight plus the free moment); when that bound binds, the
remaining heading error is carried into the next step's target. With the default sprinter the
peak torque is about 80 N m (flying) and 55 N m (accelerating), whole-body H stays within
+-1.4 kg m²/s while each leg reaches +-5, and the yaw ψ within +-2 deg (+-3 deg accelerating).

*Pivot.* During a contact the pivot is the planted ball of foot, so the ball stays exactly
fixed in the world (to < 1 µm) while the foot turns a little about it (the free moment acts
there: the toe tip slides by ``toe length x Δψ``, at most ~1.5 mm flying, ~4 mm in the first
accelerating steps). During flight the pivot moves smoothly (C1) from the last ball to the next
one; since ψ̇, Q and the relative body are continuous, every world velocity is continuous. The
pivot never changes the angular momentum, only the CoM's sideways path: the pelvis sways
~24 mm peak-to-peak at stride frequency and drifts sideways by < 5 mm/s.

*What this means for measured lags.* A fault unbalances the body, which then turns (the
bounded ground torque cannot absorb the imbalance at once), and that turn adds
``ψ̇ (m_i ρ_i² + I_i,yy)`` to every segment's momentum. The swing leg's world-frame momentum
peak still moves by the injected delay (tested to +-2 ms), but the arms' world-frame peak moves
too, by up to ~5 ms for delays up to 40 ms. The truth therefore also reports every group's
momentum with the yaw term removed (``GroundTruth.group_H_heading_kg_m2_s``), on which the
injected fault acts alone.

``ψ`` and ``d`` are integrated with the trapezoid rule on an internal grid (<= 0.25 ms, every
event a node, anchored at the first virtual step so results do not depend on the requested
times) and interpolated with cubic Hermite splines that use the exact rates at the nodes.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Iterable, Literal

import numpy as np
from scipy.interpolate import CubicHermiteSpline, PchipInterpolator

from analyzer.landmarks import INDEX, NUM_LANDMARKS, SIDES
from analyzer.segments import HALF_WIDTH_FRACTION, Sex, de_leva

Side = Literal["left", "right"]

#: σ of METHOD section 2: +1 for the right side, -1 for the left (z of that side's joints).
SIDE_SIGN: dict[str, float] = {"left": -1.0, "right": 1.0}

#: The de Leva segments as the model defines them: segment -> (proximal joint, distal joint,
#: de Leva table row). Joint names are keys of :attr:`SprinterMotion.joints_m` (``{side}``
#: expands to left and right). The head runs from the vertex to the mid-gonion point, the trunk
#: from the mid-shoulder to the mid-hip joint centres, the hand from the wrist to the 3rd
#: metacarpal head, the foot from the back of the heel to the toe tip (de Leva's endpoints).
SEGMENT_ENDPOINTS: dict[str, tuple[str, str, str]] = {
    "head": ("head_top", "mid_gonion", "head"),
    "trunk": ("chest", "pelvis", "trunk"),
    **{
        f"{side}_{seg}": (f"{side}_{a}", f"{side}_{b}", seg)
        for side in SIDES
        for seg, a, b in (
            ("upper_arm", "shoulder", "elbow"),
            ("forearm", "elbow", "wrist"),
            ("hand", "wrist", "hand"),
            ("thigh", "hip", "knee"),
            ("shank", "knee", "ankle"),
            ("foot", "heel", "toe"),
        )
    },
}

_DEG = np.pi / 180.0
#: Ankle joint centre above the ground with the foot flat, as a fraction of stature.
ANKLE_HEIGHT_FRACTION = 0.039


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepFault:
    """A counterbalance fault on one step's swing leg.

    Attributes:
        step: 0-based step index (step k runs from touchdown k to touchdown k+1).
        swing_delay_ms: the swing leg's forward drive comes this much later than in the
            balanced sprinter (ms; negative = early). Touchdown and toe-off times are unchanged.
        swing_amplitude_scale: factor on the swing thigh's forward sweep (1 = unchanged).
    """

    step: int
    swing_delay_ms: float = 0.0
    swing_amplitude_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.step < 0:
            raise ValueError("StepFault.step must be >= 0")
        if not -25.0 <= self.swing_delay_ms <= 60.0:
            raise ValueError("swing_delay_ms must lie in [-25, 60] ms (what the swing can absorb)")
        if not 0.3 <= self.swing_amplitude_scale <= 1.5:
            raise ValueError("swing_amplitude_scale must lie in [0.3, 1.5]")


def swing_leg_of_step(step: int, first_push_leg: Side = "right") -> Side:
    """The swing leg of step ``step`` when step 0's push leg is ``first_push_leg``."""
    other = "left" if first_push_leg == "right" else "right"
    return other if step % 2 == 0 else first_push_leg


def faults_on_leg(
    leg: Side,
    steps: Iterable[int],
    *,
    swing_delay_ms: float = 0.0,
    swing_amplitude_scale: float = 1.0,
    first_push_leg: Side = "right",
) -> tuple[StepFault, ...]:
    """The same fault on every step of ``steps`` in which ``leg`` is the swing leg.

    ``first_push_leg`` must match :attr:`SprinterParams.first_push_leg` (default ``"right"``).
    Example: ``faults_on_leg("left", range(0, 12), swing_delay_ms=25)`` delays the left leg's
    forward drive in steps 0, 2, 4, ... (where the left leg swings).
    """
    if leg not in SIDES:
        raise ValueError(f"leg must be 'left' or 'right', not {leg!r}")
    steps = list(steps)
    faults = tuple(
        StepFault(k, swing_delay_ms, swing_amplitude_scale)
        for k in steps
        if swing_leg_of_step(k, first_push_leg) == leg
    )
    if steps and not faults:
        raise ValueError(f"the {leg} leg swings in none of steps {steps} (with the {first_push_leg} leg "
                         f"pushing first it swings in the {'odd' if leg == first_push_leg else 'even'} steps)")
    return faults


@dataclass(frozen=True)
class SprinterParams:
    """Parameters of the synthetic sprinter (SI units; angles in degrees where named ``_deg``).

    Attributes:
        height_m: stature. Segment lengths are de Leva's mean lengths scaled to it.
        mass_kg: body mass.
        sex: selects de Leva's male or female segment table.
        top_speed_m_s: pelvis forward speed at top speed.
        step_frequency_hz: steps per second at top speed.
        contact_fraction: contact time / step time at top speed (0.40 at 4.4 Hz: 91 ms contact,
            136 ms flight).
        acceleration_steps: number of steps over which speed, frequency, contact fraction, trunk
            lean and key angles rise from their start to their top-speed values; 0 = flying start.
        start_speed_m_s, start_step_frequency_hz, start_contact_fraction, start_trunk_lean_deg:
            the values at step 0 of an accelerating run (ignored when ``acceleration_steps`` = 0).
        trunk_lean_deg: forward lean of the trunk (mid-hip -> mid-shoulder from vertical) at top speed.
        arm_amplitude: scale on the shoulder swing (55 deg each way) and on the elbow's excursion.
        torso_rotation_deg: thorax yaw amplitude relative to the heading (with the arms).
        pelvis_rotation_deg: pelvis yaw amplitude (with the swing leg, against the thorax).
        first_push_leg: push leg of step 0.
        first_touchdown_s: time of step 0's touchdown.
        foot_track_half_width_m: lateral distance of the planted ball of foot from the midline.
        max_ground_torque_n_m: bound of the ground-torque model about the vertical axis (N m);
            see the module docstring.
        faults: injected :class:`StepFault` s (at most one per step).
    """

    height_m: float = 1.80
    mass_kg: float = 75.0
    sex: Sex = "male"
    top_speed_m_s: float = 9.5
    step_frequency_hz: float = 4.4
    contact_fraction: float = 0.40
    acceleration_steps: int = 0
    start_speed_m_s: float = 5.5
    start_step_frequency_hz: float = 4.0
    start_contact_fraction: float = 0.55
    start_trunk_lean_deg: float = 20.0
    trunk_lean_deg: float = 6.0
    arm_amplitude: float = 1.0
    torso_rotation_deg: float = 12.0
    pelvis_rotation_deg: float = 8.0
    first_push_leg: Side = "right"
    first_touchdown_s: float = 0.05
    foot_track_half_width_m: float = 0.05
    max_ground_torque_n_m: float = 120.0
    faults: tuple[StepFault, ...] = ()

    def __post_init__(self) -> None:
        checks = {
            "height_m": 1.3 <= self.height_m <= 2.2,
            "mass_kg": 35.0 <= self.mass_kg <= 130.0,
            "sex": self.sex in ("male", "female"),
            "top_speed_m_s": 5.0 <= self.top_speed_m_s <= 12.5,
            "step_frequency_hz": 3.0 <= self.step_frequency_hz <= 5.5,
            "contact_fraction": 0.3 <= self.contact_fraction <= 0.7,
            "acceleration_steps": self.acceleration_steps >= 0,
            "start_speed_m_s": 3.0 <= self.start_speed_m_s <= self.top_speed_m_s,
            "start_step_frequency_hz": 3.0 <= self.start_step_frequency_hz <= 5.5,
            "start_contact_fraction": 0.3 <= self.start_contact_fraction <= 0.7,
            "trunk_lean_deg": -5.0 <= self.trunk_lean_deg <= 30.0,
            "start_trunk_lean_deg": -5.0 <= self.start_trunk_lean_deg <= 40.0,
            "arm_amplitude": 0.0 <= self.arm_amplitude <= 1.5,
            "torso_rotation_deg": 0.0 <= self.torso_rotation_deg <= 30.0,
            "pelvis_rotation_deg": 0.0 <= self.pelvis_rotation_deg <= 20.0,
            "first_push_leg": self.first_push_leg in SIDES,
            "foot_track_half_width_m": 0.0 <= self.foot_track_half_width_m <= 0.15,
            "max_ground_torque_n_m": self.max_ground_torque_n_m > 0.0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"SprinterParams out of range: {', '.join(bad)}")
        steps = [f.step for f in self.faults]
        if len(set(steps)) != len(steps):
            raise ValueError("at most one StepFault per step")

    def fault_for(self, step: int) -> StepFault | None:
        """The fault injected on ``step``, if any."""
        for fault in self.faults:
            if fault.step == step:
                return fault
        return None


# --------------------------------------------------------------------------------------------
# Body dimensions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BodyDimensions:
    """The sprinter's rigid dimensions (metres), all derived from ``height_m``.

    Long-bone, trunk and head lengths are de Leva's mean segment lengths scaled to stature; the
    ankle joint centre sits ``ankle_height_m`` (0.039 H) above the sole; the neck
    (mid-shoulder to mid-gonion) takes what is left so that standing stature equals ``height_m``.
    Foot points are in a foot frame (x along the foot, y up, origin at the back-bottom of the
    heel): ankle at (``ankle_forward_m``, ``ankle_height_m``), ball of foot at
    (``ball_forward_m``, 0), toe tip at (``foot_m``, 0) when the toes are not bent.
    """

    height_m: float
    thigh_m: float
    shank_m: float
    foot_m: float
    ankle_height_m: float
    ankle_forward_m: float
    ball_forward_m: float
    upper_arm_m: float
    forearm_m: float
    hand_m: float
    trunk_m: float
    neck_m: float
    head_m: float
    hip_half_width_m: float
    shoulder_half_width_m: float

    @classmethod
    def from_params(cls, params: SprinterParams) -> "BodyDimensions":
        h = params.height_m
        table = de_leva(params.sex)
        length = {name: seg.length_fraction * h for name, seg in table.items()}
        ankle_height = ANKLE_HEIGHT_FRACTION * h
        neck = h - (ankle_height + length["shank"] + length["thigh"] + length["trunk"] + length["head"])
        return cls(
            height_m=h,
            thigh_m=length["thigh"],
            shank_m=length["shank"],
            foot_m=length["foot"],
            ankle_height_m=ankle_height,
            ankle_forward_m=0.20 * length["foot"],
            ball_forward_m=0.73 * length["foot"],
            upper_arm_m=length["upper_arm"],
            forearm_m=length["forearm"],
            hand_m=length["hand"],
            trunk_m=length["trunk"],
            neck_m=neck,
            head_m=length["head"],
            hip_half_width_m=HALF_WIDTH_FRACTION["hip"] * h,
            shoulder_half_width_m=HALF_WIDTH_FRACTION["shoulder"] * h,
        )

    @property
    def leg_proportion(self) -> float:
        """Standing hip height (ankle height + shank + thigh) over that of de Leva's male
        proportions at the same stature: 1 for a male body, about 0.94 for a female one."""
        male = de_leva("male")
        male_leg_m = (ANKLE_HEIGHT_FRACTION + male["thigh"].length_fraction + male["shank"].length_fraction) * self.height_m
        return (self.ankle_height_m + self.thigh_m + self.shank_m) / male_leg_m

    @property
    def toe_m(self) -> float:
        """Ball of foot to toe tip."""
        return self.foot_m - self.ball_forward_m

    def leg_span_m(self, knee_flexion_rad: np.ndarray) -> np.ndarray:
        """Hip-to-ankle distance for a knee flexion (0 = straight)."""
        a, b = self.thigh_m, self.shank_m
        return np.sqrt(a * a + b * b + 2.0 * a * b * np.cos(knee_flexion_rad))

    def hip_triangle_rad(self, knee_flexion_rad: np.ndarray) -> np.ndarray:
        """Angle at the hip between the thigh and the hip-to-ankle line."""
        a, b = self.thigh_m, self.shank_m
        return np.arctan2(b * np.sin(knee_flexion_rad), a + b * np.cos(knee_flexion_rad))


# --------------------------------------------------------------------------------------------
# Key frames (degrees; rates in degrees per unit of the phase fraction)
# --------------------------------------------------------------------------------------------

# Stance, phase u = (t - touchdown) / contact time. Columns: knot, value, rate; "start" rows
# apply at step 0 of an accelerating run, "top" rows at top speed.
_STANCE_PITCH_KNOTS = np.array([0.0, 0.35, 1.0])
_STANCE_PITCH = {"top": ([14.0, 6.0, 60.0], [-60.0, 0.0, 120.0]), "start": ([10.0, 4.0, 60.0], [-30.0, 0.0, 120.0])}
#: Ball of foot ahead of the hip at touchdown, as a fraction of the contact length.
_TOUCHDOWN_FRACTION = {"top": 0.50, "start": 0.35}
#: Pelvis height: mean and half the peak-to-peak oscillation, as fractions of stature for
#: de Leva's male proportions (scaled by :attr:`BodyDimensions.leg_proportion` for others, so
#: that a shorter-legged body runs lower). The pelvis is lowest at mid-stance and highest in flight.
_PELVIS_HEIGHT = {"top": 0.511, "start": 0.470}
_PELVIS_BOUNCE = {"top": 0.011, "start": 0.008}

# Swing, phase s = (t - toe-off) / swing time. End values come from the stance solutions.
_SWING_THIGH_KNOTS = np.array([0.0, 0.10, 0.45, 0.70, 1.0])
#: Thigh at the drive knot: fraction of the forward sweep done, and rate / mean sweep rate.
_THIGH_DRIVE = (0.50, 2.7)
_SWING_KNEE_KNOTS = np.array([0.0, 0.06, 0.42, 0.90, 1.0])
_SWING_ANKLE_KNOTS = np.array([0.0, 0.40, 0.85, 1.0])
_SWING_TOE_KNOTS = np.array([0.0, 0.30, 0.90, 1.0])
_PEAK_HIP_FLEXION = {"top": 74.0, "start": 72.0}
_PEAK_KNEE_FLEXION = {"top": 128.0, "start": 122.0}
_MIN_KNEE_FLEXION_DEG = 8.0
_SWING_ANKLE = (-10.0, 4.0)
_SWING_TOE = 4.0

# Arms (degrees).
_SHOULDER_AMPLITUDE_DEG = 51.0
_SHOULDER_OFFSET_DEG = 0.0
_ELBOW_MEAN_DEG = 80.0
_ELBOW_AMPLITUDE_DEG = 20.0
_ARM_ABDUCTION_DEG = 8.0
_ARM_CROSS_DEG = 10.0
#: Drive instant of step k as a fraction of the step after its touchdown: where the swing leg's
#: forward drive (vertical-axis momentum) peaks in the balanced sprinter.
_DRIVE_FRACTION = 0.12
_HEAD_PITCH_FRACTION = 0.3
#: Phase distortion of the arm swing: the arms pass the body (1 + 2c) times faster than a pure
#: sine and dwell (1 - 2c) at the turning points, as sprinters' arms do; it also sharpens the
#: arms' momentum peak at the drive instant.
_ARM_PUNCH = 0.2


def _blend(key: dict, e: np.ndarray) -> np.ndarray:
    """Blend "start" and "top" key-frame values by acceleration progress e (K,) -> (K, ...)."""
    start = np.asarray(key["start"], dtype=float)
    top = np.asarray(key["top"], dtype=float)
    e = e.reshape((-1,) + (1,) * start.ndim)
    return start + (top - start) * e


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _smoothstep_rate(x: np.ndarray) -> np.ndarray:
    """d/dx of :func:`_smoothstep`."""
    inside = (x > 0.0) & (x < 1.0)
    return np.where(inside, 6.0 * x * (1.0 - x), 0.0)


def _hermite(u: np.ndarray, knots: np.ndarray, values: np.ndarray, rates: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Evaluate many cubic Hermite curves sharing ``knots``.

    Sample n uses curve ``row[n]``: values ``values[row[n], j]`` and slopes ``rates[row[n], j]``
    (per unit u) at ``knots[j]``. Outside the knots the end cubics extrapolate.
    """
    j = np.clip(np.searchsorted(knots, u, side="right") - 1, 0, knots.size - 2)
    h = knots[j + 1] - knots[j]
    x = (u - knots[j]) / h
    x2, x3 = x * x, x * x * x
    return (
        (2 * x3 - 3 * x2 + 1) * values[row, j]
        + (x3 - 2 * x2 + x) * h * rates[row, j]
        + (-2 * x3 + 3 * x2) * values[row, j + 1]
        + (x3 - x2) * h * rates[row, j + 1]
    )


# --------------------------------------------------------------------------------------------
# Rotations
# --------------------------------------------------------------------------------------------


def rot_y(angle_rad: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations about +y (yaw); positive turns +z toward +x (right side forward)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    r = np.zeros(np.shape(angle_rad) + (3, 3))
    r[..., 0, 0], r[..., 0, 2], r[..., 1, 1], r[..., 2, 0], r[..., 2, 2] = c, s, 1.0, -s, c
    return r


def _rot_z(angle_rad: np.ndarray) -> np.ndarray:
    """Rotations about +z; positive turns +x toward +y. Forward lean λ is ``_rot_z(-λ)``."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    r = np.zeros(np.shape(angle_rad) + (3, 3))
    r[..., 0, 0], r[..., 0, 1], r[..., 1, 0], r[..., 1, 1], r[..., 2, 2] = c, -s, s, c, 1.0
    return r


def _rot_x(angle_rad: np.ndarray) -> np.ndarray:
    """Rotations about +x; positive turns +y toward +z."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    r = np.zeros(np.shape(angle_rad) + (3, 3))
    r[..., 0, 0], r[..., 1, 1], r[..., 1, 2], r[..., 2, 1], r[..., 2, 2] = 1.0, c, -s, s, c
    return r


def _apply(rot: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """rot (N,3,3) @ vec (N,3) or (3,)."""
    if vec.ndim == 1:
        return rot @ vec
    return np.einsum("nij,nj->ni", rot, vec)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _frame(y_axis: np.ndarray, z_hint: np.ndarray) -> np.ndarray:
    """Right-handed frames (N,3,3) with columns (x, y, z): y along ``y_axis``, z as close to
    ``z_hint`` as orthogonality allows, x = y × z."""
    y = _unit(y_axis)
    z = _unit(z_hint - np.sum(z_hint * y, axis=-1, keepdims=True) * y)
    x = np.cross(y, z)
    return np.stack([x, y, z], axis=-1)


def _sagittal_angle(v: np.ndarray) -> np.ndarray:
    """METHOD section 3: θ(v) = atan2(v_x, -v_y), from straight down, positive forward (rad)."""
    return np.arctan2(v[..., 0], -v[..., 1])


def _knee_ik(hip: np.ndarray, ankle: np.ndarray, body: BodyDimensions) -> tuple[np.ndarray, np.ndarray]:
    """Two-link inverse kinematics: knee position (N,3) and leg-plane normal (N,3, to the right).

    The leg plane contains the hip-ankle line and is as close to the sagittal plane as it can
    be (its normal is the component of +z perpendicular to that line); the knee lies on the
    side that is forward of the line when the leg points down (``normal × line``).
    """
    d_vec = ankle - hip
    d = np.linalg.norm(d_vec, axis=-1)
    e = d_vec / d[:, None]
    a = (body.thigh_m**2 - body.shank_m**2 + d * d) / (2.0 * d)
    h = np.sqrt(np.maximum(body.thigh_m**2 - a * a, 0.0))
    lateral = np.broadcast_to([0.0, 0.0, 1.0], e.shape)
    normal = _unit(lateral - np.sum(lateral * e, axis=-1, keepdims=True) * e)
    knee = hip + a[:, None] * e + h[:, None] * np.cross(normal, e)
    return knee, normal


# --------------------------------------------------------------------------------------------
# Gait plan
# --------------------------------------------------------------------------------------------

#: Virtual steps before step 0. The motion is defined from the second of them on (where both
#: legs have a previous contact); the yaw integration is anchored there, so the motion does not
#: depend on which times are requested.
_VIRTUAL_STEPS = 3


@dataclass(frozen=True)
class _Plan:
    """Per-step schedule (arrays over steps k = -_VIRTUAL_STEPS .. k_max) and smooth curves."""

    body: BodyDimensions
    params: SprinterParams
    step: np.ndarray  # step index k
    td_s: np.ndarray
    step_s: np.ndarray
    contact_s: np.ndarray
    sign: np.ndarray  # σ of the push leg
    progress: np.ndarray  # e_k
    speed_m_s: np.ndarray
    lean_rad: np.ndarray
    delay_s: np.ndarray  # fault on the swing leg of step k
    scale: np.ndarray
    speed_curve: PchipInterpolator
    position_curve: object  # antiderivative of speed_curve (a PPoly)
    lean_curve: PchipInterpolator
    phase_curve: PchipInterpolator
    height_curve: PchipInterpolator
    bounce_curve: PchipInterpolator
    bounce_phase_curve: PchipInterpolator
    ball_m: np.ndarray = field(default=None)  # (K,3) planted ball of foot of contact k
    stance_keys: dict = field(default=None)
    swing_keys: dict = field(default=None)

    @property
    def to_s(self) -> np.ndarray:
        return self.td_s + self.contact_s

    @property
    def next_td_s(self) -> np.ndarray:
        return self.td_s + self.step_s


def _build_plan(params: SprinterParams, t_max_s: float) -> _Plan:
    """The plan covering times up to ``t_max_s`` (step count rounded up to a multiple of 8, so
    that nearby requests share one cached plan and yaw solution)."""
    step_time_top = 1.0 / params.step_frequency_hz
    k_count = int(np.ceil(max(t_max_s - params.first_touchdown_s, 0.0) / (0.8 * step_time_top)))
    k_count += 4 + params.acceleration_steps
    return _plan_with_steps(params, 8 * int(np.ceil(k_count / 8)))


@functools.lru_cache(maxsize=16)
def _plan_with_steps(params: SprinterParams, k_count: int) -> _Plan:
    body = BodyDimensions.from_params(params)
    n_acc = params.acceleration_steps

    def progress(k: np.ndarray) -> np.ndarray:
        if n_acc == 0:
            return np.ones(k.shape)
        x = np.clip(k / n_acc, 0.0, 1.0)
        return 1.0 - (1.0 - x) ** 2

    def mix(start: float, top: float, e: np.ndarray) -> np.ndarray:
        return start + (top - start) * e

    # Steps 0 .. k_count-1 (past the requested times with a margin), and the virtual steps
    # before step 0 as copies of step 0.
    t0 = params.first_touchdown_s
    k = np.arange(-_VIRTUAL_STEPS, k_count)
    e = progress(np.maximum(k, 0))
    freq = mix(params.start_step_frequency_hz, params.step_frequency_hz, e)
    step_s = 1.0 / freq
    td = t0 + np.concatenate([[0.0], np.cumsum(step_s[_VIRTUAL_STEPS:-1])])
    td = np.concatenate([t0 - np.cumsum(step_s[:_VIRTUAL_STEPS][::-1])[::-1], td])
    contact_s = mix(params.start_contact_fraction, params.contact_fraction, e) * step_s
    first = SIDE_SIGN[params.first_push_leg]
    sign = first * np.where(k % 2 == 0, 1.0, -1.0)
    speed = mix(params.start_speed_m_s, params.top_speed_m_s, e)
    lean = mix(params.start_trunk_lean_deg, params.trunk_lean_deg, e) * _DEG

    delay = np.zeros(k.size)
    scale = np.ones(k.size)
    for fault in params.faults:
        i = fault.step + _VIRTUAL_STEPS
        if i < k.size:
            delay[i] = fault.swing_delay_ms * 1e-3
            scale[i] = fault.swing_amplitude_scale
            # The time warp must stay monotonic: |d| * max|w'| < 1 on the shorter ramp.
            ramp_s = min(step_s[i - 1] - contact_s[i - 1], 0.7 * (step_s[i] - contact_s[i]))
            if abs(delay[i]) * 1.5 / ramp_s > 0.85:
                raise ValueError(f"swing_delay_ms of step {fault.step} is too large for its flight times")

    # Smooth curves: speed and lean through step mid-points (flat beyond), arm/yaw phase Φ
    # through the drive instants (Φ = k at step k's drive instant).
    mid = td + 0.5 * step_s
    far = 100.0
    knots_t = np.concatenate([[mid[0] - far], mid, [mid[-1] + far]])
    speed_curve = PchipInterpolator(knots_t, np.concatenate([[speed[0]], speed, [speed[-1]]]))
    pos = speed_curve.antiderivative()

    def through_mid(values: np.ndarray) -> PchipInterpolator:
        return PchipInterpolator(knots_t, np.concatenate([[values[0]], values, [values[-1]]]))

    def counting(instants: np.ndarray) -> PchipInterpolator:
        """A C1 phase that equals k at instants[k] and runs on linearly far outside."""
        knots = np.concatenate([[instants[0] - far], instants, [instants[-1] + far]])
        values = np.concatenate([[k[0] - far / step_s[0]], k.astype(float), [k[-1] + far / step_s[-1]]])
        return PchipInterpolator(knots, values)

    lean_curve = through_mid(lean)
    leg_height_m = params.height_m * body.leg_proportion
    height_curve = through_mid(_blend(_PELVIS_HEIGHT, e) * leg_height_m)
    bounce_curve = through_mid(_blend(_PELVIS_BOUNCE, e) * leg_height_m)
    phase_curve = counting(td + _DRIVE_FRACTION * step_s)
    bounce_phase_curve = counting(td + 0.5 * contact_s)

    plan = _Plan(
        body=body, params=params, step=k, td_s=td, step_s=step_s, contact_s=contact_s, sign=sign,
        progress=e, speed_m_s=speed, lean_rad=lean, delay_s=delay, scale=scale,
        speed_curve=speed_curve, position_curve=pos, lean_curve=lean_curve, phase_curve=phase_curve,
        height_curve=height_curve, bounce_curve=bounce_curve, bounce_phase_curve=bounce_phase_curve,
    )
    return _finish_plan(plan)


def _finish_plan(plan: _Plan) -> _Plan:
    """Add the planted balls, the key frames and the flight pelvis heights to ``plan``."""
    e = plan.progress
    n = plan.step.size
    rows = np.arange(n)

    # Planted ball of foot: touchdown_fraction of the contact length ahead of the hip at touchdown.
    hip_td = _pelvis_x(plan, plan.td_s) + _hip_offset(plan, plan.sign, plan.td_s)[:, 0]
    contact_length = _pelvis_x(plan, plan.to_s) - _pelvis_x(plan, plan.td_s)
    td_fraction = _blend(_TOUCHDOWN_FRACTION, e)
    ball = np.stack(
        [hip_td + td_fraction * contact_length, np.zeros(n), plan.sign * plan.params.foot_track_half_width_m],
        axis=-1,
    )
    pitch_v, pitch_r = (_blend({s: _STANCE_PITCH[s][i] for s in _STANCE_PITCH}, e) for i in (0, 1))
    stance_keys = {"pitch": (pitch_v * _DEG, pitch_r * _DEG)}
    object.__setattr__(plan, "ball_m", ball)
    object.__setattr__(plan, "stance_keys", stance_keys)

    # Stance states (values and time derivatives) at touchdown and toe-off of every contact.
    h = 1e-5

    def state_and_rate(t: np.ndarray) -> tuple[dict, dict]:
        lo, mid_, hi = (_stance(plan, rows, t + dt) for dt in (-h, 0.0, h))
        return mid_, {key: (hi[key] - lo[key]) / (2 * h) for key in mid_}

    td_state, td_rate = state_and_rate(plan.td_s)
    to_state, to_rate = state_and_rate(plan.to_s)

    # Swing after contact k lasts from toe-off k to touchdown k+2 (same leg); it is the swing
    # leg of step k+1.
    nxt2 = np.minimum(rows + 2, n - 1)
    swing_s = plan.td_s[nxt2] - plan.to_s
    swing_s = np.where(rows + 2 < n, swing_s, plan.step_s + plan.step_s - plan.contact_s)
    fault_row = np.minimum(rows + 1, n - 1)
    lean_mid = plan.lean_rad[fault_row]

    def channel(name: str, interior_v: np.ndarray, interior_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v0, r0 = to_state[name], to_rate[name] * swing_s
        v1, r1 = td_state[name][nxt2], td_rate[name][nxt2] * swing_s
        values = np.column_stack([v0, interior_v, v1])
        rates = np.column_stack([r0, interior_r, r1])
        return values, rates

    # Thigh: short back-swing to a minimum, drive to the peak, pawing back to touchdown.
    s_min, s_drive, s_peak = _SWING_THIGH_KNOTS[1:4]
    theta_min = to_state["thigh"] + 0.45 * s_min * to_rate["thigh"] * swing_s
    theta_peak = _blend(_PEAK_HIP_FLEXION, e[fault_row]) * _DEG - lean_mid
    sweep = plan.scale[fault_row] * (theta_peak - theta_min)
    zeros = np.zeros(n)
    thigh = channel(
        "thigh",
        np.column_stack([theta_min, theta_min + _THIGH_DRIVE[0] * sweep, theta_min + sweep]),
        np.column_stack([zeros, _THIGH_DRIVE[1] * sweep / (s_peak - s_min), zeros]),
    )
    dk = _SWING_KNEE_KNOTS[1]
    knee_low = np.maximum(to_state["knee"] + 0.45 * dk * to_rate["knee"] * swing_s, _MIN_KNEE_FLEXION_DEG * _DEG)
    knee_peak = _blend(_PEAK_KNEE_FLEXION, e[fault_row]) * _DEG
    knee_late = td_state["knee"][nxt2] - 4.0 * _DEG
    knee = channel("knee", np.column_stack([knee_low, knee_peak, knee_late]), np.column_stack([zeros] * 3))
    ankle = channel(
        "ankle",
        np.column_stack([np.full(n, _SWING_ANKLE[0] * _DEG), np.full(n, _SWING_ANKLE[1] * _DEG)]),
        np.column_stack([zeros, zeros]),
    )
    toe = channel(
        "toe",
        np.column_stack([np.full(n, _SWING_TOE * _DEG), td_state["toe"][nxt2] - 2.0 * _DEG]),
        np.column_stack([zeros, zeros]),
    )
    swing_keys = {
        "thigh": thigh, "knee": knee, "ankle": ankle, "toe": toe,
        "swing_s": swing_s, "next_row": nxt2, "fault_row": fault_row,
    }
    object.__setattr__(plan, "swing_keys", swing_keys)
    return plan


# --------------------------------------------------------------------------------------------
# Relative body
# --------------------------------------------------------------------------------------------


def _pelvis_x(plan: _Plan, t: np.ndarray) -> np.ndarray:
    return plan.position_curve(t) - plan.position_curve(plan.params.first_touchdown_s)


def _pelvis_y(plan: _Plan, t: np.ndarray) -> np.ndarray:
    """Pelvis height: lowest at mid-stance, highest mid-flight (C1)."""
    return plan.height_curve(t) - plan.bounce_curve(t) * np.cos(2.0 * np.pi * plan.bounce_phase_curve(t))


def _yaws(plan: _Plan, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pelvis yaw, thorax yaw (rad) and the arm phase sin(πΦ) signed for the right side."""
    first = SIDE_SIGN[plan.params.first_push_leg]
    phase = np.pi * plan.phase_curve(t)
    wave = first * np.sin(phase + _ARM_PUNCH * np.sin(2.0 * phase))
    pelvis = -plan.params.pelvis_rotation_deg * _DEG * wave
    thorax = plan.params.torso_rotation_deg * _DEG * wave
    return pelvis, thorax, wave


def _pelvis_rotation(plan: _Plan, t: np.ndarray) -> np.ndarray:
    pelvis_yaw, _, _ = _yaws(plan, t)
    return _rot_z(-plan.lean_curve(t)) @ rot_y(pelvis_yaw)


def _hip_offset(plan: _Plan, sign: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Hip joint centre of side σ relative to the pelvis centre (N,3)."""
    lateral = np.zeros((t.size, 3))
    lateral[:, 2] = sign * plan.body.hip_half_width_m
    return _apply(_pelvis_rotation(plan, t), lateral)


def _foot_points(body: BodyDimensions, ankle: np.ndarray, pitch: np.ndarray, toe_pitch: np.ndarray) -> dict[str, np.ndarray]:
    """Heel, ball and toe tip from the ankle and the foot's and toes' pitch (heel-up positive).

    The foot lies in the vertical plane along x through the ankle (it points straight ahead in
    the relative frame).
    """
    fwd = np.stack([np.cos(pitch), -np.sin(pitch), np.zeros_like(pitch)], axis=-1)  # heel -> ball
    up = np.stack([np.sin(pitch), np.cos(pitch), np.zeros_like(pitch)], axis=-1)
    heel = ankle - body.ankle_forward_m * fwd - body.ankle_height_m * up
    ball = heel + body.ball_forward_m * fwd
    toe_dir = np.stack([np.cos(toe_pitch), -np.sin(toe_pitch), np.zeros_like(pitch)], axis=-1)
    toe = ball + body.toe_m * toe_dir
    return {"heel": heel, "ball": ball, "toe": toe, "foot_forward": fwd, "foot_up": up}


def _stance(plan: _Plan, rows: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """Stance solution of contact ``rows`` (plan row per sample) at times t.

    The ball of foot is planted, the foot pitches about it, the hip follows the pelvis, and the
    knee comes from two-link inverse kinematics. Returns the ankle position, the foot pitch, and
    the swing channels' values (thigh, knee, ankle, toe) so that the swing can start and end on
    the stance's values and rates.
    """
    body = plan.body
    u = (t - plan.td_s[rows]) / plan.contact_s[rows]
    pitch = _hermite(u, _STANCE_PITCH_KNOTS, *plan.stance_keys["pitch"], rows)
    ball = plan.ball_m[rows]
    zero = np.zeros_like(pitch)
    forward = np.stack([np.cos(pitch), -np.sin(pitch), zero], axis=-1)
    up = np.stack([np.sin(pitch), np.cos(pitch), zero], axis=-1)
    ankle = ball + (body.ankle_forward_m - body.ball_forward_m) * forward + body.ankle_height_m * up
    hip = np.stack([_pelvis_x(plan, t), _pelvis_y(plan, t), zero], axis=-1) + _hip_offset(plan, plan.sign[rows], t)
    span = np.linalg.norm(ankle - hip, axis=-1)
    a, b = body.thigh_m, body.shank_m
    if np.any(span > 0.9995 * (a + b)):
        raise ValueError("stance leg cannot reach the planted foot; check speed, contact time and height")
    knee = np.arccos(np.clip((span**2 - a * a - b * b) / (2 * a * b), -1.0, 1.0))
    knee_pos, _ = _knee_ik(hip, ankle, body)
    shank_angle = _sagittal_angle(ankle - knee_pos)
    return {
        "thigh": _sagittal_angle(ankle - hip) + body.hip_triangle_rad(knee),
        "knee": knee,
        "ankle": -pitch - shank_angle,
        "toe": pitch,
        "pitch": pitch,
        "ankle_pos": ankle,
    }


def _delay_weight(plan: _Plan, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Time-warp weight w(t) for the swing following contact ``rows``.

    w rises from 0 at the toe-off to 1 at the next touchdown (of the other foot: the start of
    the step in which this leg swings), stays 1 until 30% of that step's flight, and falls back
    to 0 at this leg's touchdown.
    """
    f = plan.swing_keys["fault_row"][rows]
    start, rise_end = plan.to_s[rows], plan.td_s[f]
    fall_start = plan.to_s[f] + 0.3 * (plan.next_td_s[f] - plan.to_s[f])
    end = plan.next_td_s[f]
    x_up = (t - start) / (rise_end - start)
    x_down = (t - fall_start) / (end - fall_start)
    return _smoothstep(x_up) * (1.0 - _smoothstep(x_down))


def _swing(plan: _Plan, rows: np.ndarray, t: np.ndarray, hip: np.ndarray) -> dict[str, np.ndarray]:
    """Swing leg after contact ``rows`` at times t with hip positions (N,3): ankle and foot pitch."""
    body, keys = plan.body, plan.swing_keys
    delay = plan.delay_s[keys["fault_row"][rows]]
    w = _delay_weight(plan, rows, t)
    tau = t - delay * w
    s = (tau - plan.to_s[rows]) / keys["swing_s"][rows]
    thigh = _hermite(s, _SWING_THIGH_KNOTS, *keys["thigh"], rows)
    knee = _hermite(s, _SWING_KNEE_KNOTS, *keys["knee"], rows)
    ankle_angle = _hermite(s, _SWING_ANKLE_KNOTS, *keys["ankle"], rows)
    toe = _hermite(s, _SWING_TOE_KNOTS, *keys["toe"], rows)
    # Lateral track of the ankle: from the last planted ball to the next one (C1, rate 0 at ends).
    z0, z1 = plan.ball_m[rows, 2], plan.ball_m[keys["next_row"][rows], 2]
    s_real = (t - plan.to_s[rows]) / keys["swing_s"][rows]
    z_track = z0 + (z1 - z0) * _smoothstep(s_real)
    direction = thigh - body.hip_triangle_rad(knee)
    dz = z_track - hip[:, 2]
    reach = np.sqrt(np.maximum(body.leg_span_m(knee) ** 2 - dz**2, 1e-9))
    ankle = hip + np.stack([reach * np.sin(direction), -reach * np.cos(direction), dz], axis=-1)
    return {"ankle_angle": ankle_angle, "toe": toe, "ankle_pos": ankle}


def _phase_rows(plan: _Plan, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plan row of the step containing t, and whether t is in that step's contact."""
    row = np.clip(np.searchsorted(plan.td_s, t, side="right") - 1, 0, plan.step.size - 1)
    return row, t < plan.to_s[row]


def _relative_body(plan: _Plan, t: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Joints (name -> (N,3)) and segment rotations (name -> (N,3,3)) of the relative body."""
    body, params = plan.body, plan.params
    n = t.size
    lean = plan.lean_curve(t)
    pelvis_yaw, thorax_yaw, wave = _yaws(plan, t)

    pelvis = np.stack([_pelvis_x(plan, t), _pelvis_y(plan, t), np.zeros(n)], axis=-1)

    rot_lean = _rot_z(-lean)
    rot_pelvis = rot_lean @ rot_y(pelvis_yaw)
    rot_thorax = rot_lean @ rot_y(thorax_yaw)
    chest = pelvis + _apply(rot_lean, np.array([0.0, body.trunk_m, 0.0]))
    joints: dict[str, np.ndarray] = {"pelvis": pelvis, "chest": chest, "neck": chest}
    rotations: dict[str, np.ndarray] = {
        "pelvis": rot_pelvis,
        "thorax": rot_thorax,
        "trunk": rot_lean @ rot_y(0.5 * (pelvis_yaw + thorax_yaw)),
    }

    # Head: on the neck, pitched forward by a fraction of the trunk lean, facing straight ahead.
    rot_head = _rot_z(-_HEAD_PITCH_FRACTION * lean)
    gonion = chest + _apply(rot_lean, np.array([0.0, body.neck_m, 0.0]))
    joints["mid_gonion"] = gonion
    joints["head_top"] = gonion + _apply(rot_head, np.array([0.0, body.head_m, 0.0]))
    rotations["head"] = rot_head

    # Legs.
    for side in SIDES:
        sigma = SIDE_SIGN[side]
        hip = pelvis + _hip_offset(plan, np.full(n, sigma), t)
        # Latest contact of this leg at or before t (rows with this push sign).
        own = np.flatnonzero(plan.sign == sigma)
        c = own[np.clip(np.searchsorted(plan.td_s[own], t, side="right") - 1, 0, own.size - 1)]
        stance = t < plan.to_s[c]
        ankle = np.empty((n, 3))
        pitch = np.empty(n)
        toe_pitch = np.empty(n)
        if np.any(stance):
            st = _stance(plan, c[stance], t[stance])
            ankle[stance] = st["ankle_pos"]
            pitch[stance] = st["pitch"]
            toe_pitch[stance] = 0.0
        sw = ~stance
        if np.any(sw):
            out = _swing(plan, c[sw], t[sw], hip[sw])
            ankle[sw] = out["ankle_pos"]
        knee, normal = _knee_ik(hip, ankle, body)
        if np.any(sw):
            shank_angle = _sagittal_angle(ankle[sw] - knee[sw])
            pitch[sw] = -out["ankle_angle"] - shank_angle
            toe_pitch[sw] = pitch[sw] - out["toe"]
        foot = _foot_points(body, ankle, pitch, toe_pitch)
        joints.update({
            f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": ankle,
            f"{side}_heel": foot["heel"], f"{side}_ball": foot["ball"], f"{side}_toe": foot["toe"],
        })
        rotations[f"{side}_thigh"] = _frame(hip - knee, normal)
        rotations[f"{side}_shank"] = _frame(knee - ankle, normal)
        z_axis = np.broadcast_to([0.0, 0.0, 1.0], (n, 3))
        foot_line = foot["toe"] - foot["heel"]
        # Foot segment frame: x along heel -> toe tip (de Leva's foot axis), z lateral.
        rotations[f"{side}_foot"] = _frame(np.cross(z_axis, foot_line), z_axis)

    # Arms: swing in a plane turned slightly across the body and slightly abducted.
    for side in SIDES:
        sigma = SIDE_SIGN[side]
        swing = sigma * wave  # +1: this arm at its most forward
        alpha = (_SHOULDER_OFFSET_DEG + _SHOULDER_AMPLITUDE_DEG * params.arm_amplitude * swing) * _DEG
        elbow_flex = (_ELBOW_MEAN_DEG + _ELBOW_AMPLITUDE_DEG * params.arm_amplitude * swing) * _DEG
        rot_arm = rot_thorax @ rot_y(np.full(n, sigma * _ARM_CROSS_DEG * _DEG)) @ _rot_x(
            np.full(n, -sigma * _ARM_ABDUCTION_DEG * _DEG)
        )
        lateral = np.zeros((n, 3))
        lateral[:, 2] = sigma * body.shoulder_half_width_m
        shoulder = chest + _apply(rot_thorax, lateral)
        zero = np.zeros(n)
        upper_dir = _apply(rot_arm, np.stack([np.sin(alpha), -np.cos(alpha), zero], axis=-1))
        fore = alpha + elbow_flex
        fore_dir = _apply(rot_arm, np.stack([np.sin(fore), -np.cos(fore), zero], axis=-1))
        dorsal = _apply(rot_arm, np.stack([np.cos(fore), np.sin(fore), zero], axis=-1))
        normal = _apply(rot_arm, np.array([0.0, 0.0, 1.0]))
        elbow = shoulder + body.upper_arm_m * upper_dir
        wrist = elbow + body.forearm_m * fore_dir
        hand = wrist + body.hand_m * fore_dir
        joints.update({
            f"{side}_shoulder": shoulder, f"{side}_elbow": elbow, f"{side}_wrist": wrist, f"{side}_hand": hand,
            # Knuckles and thumb (landmark points): palm facing the midline, thumb side up/forward.
            f"{side}_index_knuckle": hand + 0.25 * body.hand_m * dorsal,
            f"{side}_pinky_knuckle": hand - 0.45 * body.hand_m * dorsal - 0.12 * body.hand_m * fore_dir,
            f"{side}_thumb_tip": wrist + 0.62 * body.hand_m * fore_dir + 0.55 * body.hand_m * dorsal,
        })
        rotations[f"{side}_upper_arm"] = _frame(-upper_dir, normal)
        rotations[f"{side}_forearm"] = _frame(-fore_dir, normal)
        rotations[f"{side}_hand"] = rotations[f"{side}_forearm"]
    return joints, rotations


# Facial landmarks in the head frame relative to the mid-gonion point (x forward, y up, z
# right), as fractions of the head length (vertex to mid-gonion).
_FACE = {
    "nose": (0.50, 0.31, 0.0),
    "eye_inner": (0.40, 0.48, 0.085),
    "eye": (0.37, 0.48, 0.155),
    "eye_outer": (0.33, 0.48, 0.23),
    "ear": (-0.03, 0.40, 0.36),
    "mouth": (0.41, 0.17, 0.12),
}


def _landmarks(joints: dict[str, np.ndarray], rot_head: np.ndarray, head_m: float) -> np.ndarray:
    """BlazePose's 33 landmarks (N,33,3) from the joints."""
    n = joints["pelvis"].shape[0]
    out = np.empty((n, NUM_LANDMARKS, 3))

    def face(key: str, sigma: float) -> np.ndarray:
        x, y, z = _FACE[key]
        return joints["mid_gonion"] + _apply(rot_head, head_m * np.array([x, y, sigma * z]))

    out[:, INDEX["nose"]] = face("nose", 0.0)
    for side in SIDES:
        sigma = SIDE_SIGN[side]
        for key in ("eye_inner", "eye", "eye_outer", "ear"):
            out[:, INDEX[f"{side}_{key}"]] = face(key, sigma)
        out[:, INDEX[f"mouth_{side}"]] = face("mouth", sigma)
        for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel"):
            out[:, INDEX[f"{side}_{part}"]] = joints[f"{side}_{part}"]
        out[:, INDEX[f"{side}_pinky"]] = joints[f"{side}_pinky_knuckle"]
        out[:, INDEX[f"{side}_index"]] = joints[f"{side}_index_knuckle"]
        out[:, INDEX[f"{side}_thumb"]] = joints[f"{side}_thumb_tip"]
        out[:, INDEX[f"{side}_foot_index"]] = joints[f"{side}_toe"]
    return out


# --------------------------------------------------------------------------------------------
# Segment mass model and the whole-body yaw
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _MassModel:
    names: tuple[str, ...]
    mass_kg: np.ndarray
    com_fraction: np.ndarray
    r_transverse: np.ndarray
    r_longitudinal: np.ndarray


def _mass_model(params: SprinterParams) -> _MassModel:
    table = de_leva(params.sex)
    names = tuple(SEGMENT_ENDPOINTS)
    rows = [table[SEGMENT_ENDPOINTS[name][2]] for name in names]
    return _MassModel(
        names=names,
        mass_kg=np.array([r.mass_fraction for r in rows]) * params.mass_kg,
        com_fraction=np.array([r.com_fraction for r in rows]),
        r_transverse=np.array([r.r_transverse_mean for r in rows]),
        r_longitudinal=np.array([r.r_longitudinal for r in rows]),
    )


def _relative_momentum(plan: _Plan, t: np.ndarray, h: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """H_rel (N,) about the vertical through the CoM and I_vert (N,) of the relative body.

    Velocities and angular velocities by central differences of the relative body (t ± h).
    """
    mm = _mass_model(plan.params)
    states = [_relative_body(plan, t + dt) for dt in (-h, 0.0, h)]
    prox, dist, rots = [], [], []
    for joints, rotations in states:
        prox.append(np.stack([joints[SEGMENT_ENDPOINTS[s][0]] for s in mm.names]))
        dist.append(np.stack([joints[SEGMENT_ENDPOINTS[s][1]] for s in mm.names]))
        rots.append(np.stack([rotations[s] for s in mm.names]))
    f = mm.com_fraction[:, None, None]
    com = [p + f * (d - p) for p, d in zip(prox, dist)]  # (S,N,3)
    m = mm.mass_kg[:, None]
    total = mm.mass_kg.sum()
    vel = (com[2] - com[0]) / (2 * h)
    c = np.einsum("s,snk->nk", mm.mass_kg, com[1]) / total
    v = np.einsum("s,snk->nk", mm.mass_kg, vel) / total
    r = com[1] - c
    dv = vel - v
    remote = m * (r[..., 2] * dv[..., 0] - r[..., 0] * dv[..., 2])
    spin = np.einsum("snij,snkj->snik", (rots[2] - rots[0]) / (2 * h), rots[1])
    omega = 0.5 * np.stack([spin[..., 2, 1] - spin[..., 1, 2], spin[..., 0, 2] - spin[..., 2, 0],
                            spin[..., 1, 0] - spin[..., 0, 1]], axis=-1)
    axis = dist[1] - prox[1]
    length2 = np.sum(axis * axis, axis=-1)
    e = axis / np.sqrt(length2)[..., None]
    e_dot_w = np.sum(e * omega, axis=-1)
    rt2 = (mm.r_transverse**2)[:, None]
    rl2 = (mm.r_longitudinal**2)[:, None]
    local = m * length2 * (rt2 * (omega[..., 1] - e[..., 1] * e_dot_w) + rl2 * e[..., 1] * e_dot_w)
    inertia = m * (r[..., 0] ** 2 + r[..., 2] ** 2) + m * length2 * (rt2 * (1 - e[..., 1] ** 2) + rl2 * e[..., 1] ** 2)
    return (remote + local).sum(axis=0), inertia.sum(axis=0)


@dataclass(frozen=True)
class _Yaw:
    """The solved whole-body yaw: per-step flight momenta and the interpolants."""

    flight_H: np.ndarray  # (K,) H in the flight of plan row k
    start_H: float  # H before the first contact of the plan
    yaw: CubicHermiteSpline
    shift_x: CubicHermiteSpline
    shift_z: CubicHermiteSpline
    max_torque_n_m: float


_YAW_DT_S = 0.25e-3


def _yaw_nodes(plan: _Plan) -> np.ndarray:
    """Integration nodes: every touchdown and toe-off, and <= _YAW_DT_S between."""
    pieces = []
    for a, b, c in zip(plan.td_s[1:], plan.to_s[1:], plan.next_td_s[1:]):
        for lo, hi in ((a, b), (b, c)):
            pieces.append(np.linspace(lo, hi, int(np.ceil((hi - lo) / _YAW_DT_S)) + 1)[:-1])
    pieces.append(plan.next_td_s[-1:])
    return np.concatenate(pieces)


def _target_momentum(plan: _Plan, flight_H: np.ndarray, start_H: float, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ground-torque model: H_target (N,) and the ground torque dH/dt (N,)."""
    row, in_contact = _phase_rows(plan, t)
    before = np.concatenate([[start_H], flight_H[:-1]])[row]
    after = flight_H[row]
    u = (t - plan.td_s[row]) / plan.contact_s[row]
    blend = np.where(in_contact, _smoothstep(u), 1.0)
    torque = np.where(in_contact, (after - before) * _smoothstep_rate(u) / plan.contact_s[row], 0.0)
    return before + (after - before) * blend, torque


def _pivot(plan: _Plan, t: np.ndarray) -> np.ndarray:
    """Relative-frame pivot (N,3): the planted ball in contact, moving C1 to the next ball in flight."""
    row, in_contact = _phase_rows(plan, t)
    nxt = np.minimum(row + 1, plan.step.size - 1)
    x = (t - plan.to_s[row]) / (plan.next_td_s[row] - plan.to_s[row])
    blend = np.where(in_contact, 0.0, _smoothstep(x))[:, None]
    return plan.ball_m[row] + blend * (plan.ball_m[nxt] - plan.ball_m[row])


def _cumtrapz(t: np.ndarray, f: np.ndarray) -> np.ndarray:
    steps = 0.5 * (f[1:] + f[:-1]) * np.diff(t).reshape((-1,) + (1,) * (f.ndim - 1))
    return np.concatenate([np.zeros((1,) + f.shape[1:]), np.cumsum(steps, axis=0)])


@functools.lru_cache(maxsize=16)
def _yaw_for(params: SprinterParams, k_count: int) -> _Yaw:
    return _solve_yaw(_plan_with_steps(params, k_count))


def _solve_yaw(plan: _Plan) -> _Yaw:
    """Solve ψ̇ = (H_target - H_rel) / I_vert with flight momenta that straighten the heading."""
    t = _yaw_nodes(plan)
    h_rel, inertia = _relative_momentum(plan, t)
    row, in_contact = _phase_rows(plan, t)
    u = (t - plan.td_s[row]) / plan.contact_s[row]
    s_after = np.where(in_contact, _smoothstep(u), 1.0)
    # Step integrals: ψ(next touchdown) - ψ(touchdown) = H_prev·B + H_k·A - C.
    integrals = _cumtrapz(t, np.stack([s_after / inertia, (1 - s_after) / inertia, h_rel / inertia], axis=-1))
    td_node = np.searchsorted(t, plan.td_s)
    end_node = np.searchsorted(t, plan.next_td_s)
    a_k, b_k, c_k = (integrals[end_node] - integrals[td_node]).T
    start_H = float(h_rel[0])
    flight_H = np.empty(plan.step.size)
    flight_H[0] = h_prev = start_H
    heading = 0.0
    for k in range(1, plan.step.size):
        wanted = (c_k[k] - h_prev * b_k[k] - heading) / a_k[k]
        limit = plan.params.max_ground_torque_n_m * plan.contact_s[k] / 1.5
        flight_H[k] = np.clip(wanted, h_prev - limit, h_prev + limit)
        heading += h_prev * b_k[k] + flight_H[k] * a_k[k] - c_k[k]
        h_prev = flight_H[k]
    target, torque = _target_momentum(plan, flight_H, start_H, t)
    yaw_rate = (target - h_rel) / inertia
    yaw = _cumtrapz(t, yaw_rate)
    q = _pivot(plan, t)
    c, s = np.cos(yaw), np.sin(yaw)
    turned_x = q[:, 0] * c + q[:, 2] * s
    turned_z = -q[:, 0] * s + q[:, 2] * c
    shift_rate = np.stack([-yaw_rate * turned_z, yaw_rate * turned_x], axis=-1)
    shift = _cumtrapz(t, shift_rate)
    return _Yaw(
        flight_H=flight_H,
        start_H=start_H,
        yaw=CubicHermiteSpline(t, yaw, yaw_rate),
        shift_x=CubicHermiteSpline(t, shift[:, 0], shift_rate[:, 0]),
        shift_z=CubicHermiteSpline(t, shift[:, 1], shift_rate[:, 1]),
        max_torque_n_m=float(np.max(np.abs(torque))),
    )


# --------------------------------------------------------------------------------------------
# Public output
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step: from the push foot's touchdown to the swing foot's touchdown.

    Attributes:
        index: 0-based step number.
        push_leg, swing_leg: roles in this step.
        touchdown_s: push foot touchdown (step start); toe_off_s: push foot toe-off;
        next_touchdown_s: swing foot touchdown (step end).
        contact_s, flight_s, step_s: durations.
        speed_m_s: the plan's pelvis speed for this step.
        drive_instant_s: when the balanced sprinter's swing leg drives forward hardest (and the
            arms and thorax turn fastest), before any fault delay.
        swing_delay_ms, swing_amplitude_scale: the injected fault (0 and 1 when none).
    """

    index: int
    push_leg: Side
    swing_leg: Side
    touchdown_s: float
    toe_off_s: float
    next_touchdown_s: float
    contact_s: float
    flight_s: float
    step_s: float
    speed_m_s: float
    drive_instant_s: float
    swing_delay_ms: float
    swing_amplitude_scale: float


@dataclass(frozen=True)
class GaitEvents:
    """Exact touchdown and toe-off times (s) per foot inside the sampled interval."""

    touchdown_s: dict[str, np.ndarray]
    toe_off_s: dict[str, np.ndarray]


@dataclass(frozen=True)
class SprinterMotion:
    """The synthetic sprinter sampled at ``time_s``. All positions in the runner frame (metres).

    Attributes:
        time_s: (N,) sample times.
        landmarks_m: (N, 33, 3) BlazePose landmarks (analyzer.landmarks order), anatomically
            placed: shoulders ... ankles are joint centres; heel = back-bottom of the heel;
            foot_index = toe tip; pinky / index = 5th / 2nd metacarpal heads; thumb = thumb tip;
            face points on a head that faces the runner's heading.
        joints_m: name -> (N, 3): ``head_top``, ``mid_gonion``, ``neck`` (= ``chest``, mid-shoulder,
            C7 level), ``pelvis`` (mid hip joint centres), and per side ``{side}_shoulder, _elbow,
            _wrist, _hand`` (3rd metacarpal head), ``_hip, _knee, _ankle, _heel, _ball``
            (ball of foot, on the foot's midline), ``_toe`` (tip), ``_index_knuckle,
            _pinky_knuckle, _thumb_tip``.
        segment_rotations: name -> (N, 3, 3) world orientation (columns: the segment's x, y, z
            axes) of every segment in :data:`SEGMENT_ENDPOINTS` plus ``pelvis`` and ``thorax``.
            Limb frames have y along the long axis (distal -> proximal) and z medio-lateral; the
            foot's x runs heel -> toe tip. ``trunk`` spins with the mean of pelvis and thorax yaw.
        body: the dimensions used.
        events: touchdown / toe-off times inside [time_s.min(), time_s.max()].
        steps: the steps (index >= 0) that start inside the sampled interval or before its end.
        params: the parameters.
        yaw_rad, yaw_rate_rad_s: (N,) solved whole-body yaw ψ and its rate.
        model_H_kg_m2_s: (N,) the model's whole-body vertical angular momentum about the CoM
            (constant in flight; the truth recomputes it independently).
        ground_torque_n_m: (N,) dH/dt of the ground-torque model (0 in flight).
        max_ground_torque_n_m: largest |ground torque| over the whole plan.
        pelvis_yaw_rad, thorax_yaw_rad, trunk_lean_rad: (N,) the relative body's prescribed angles.
    """

    time_s: np.ndarray
    landmarks_m: np.ndarray
    joints_m: dict[str, np.ndarray]
    segment_rotations: dict[str, np.ndarray]
    body: BodyDimensions
    events: GaitEvents
    steps: tuple[Step, ...]
    params: SprinterParams
    yaw_rad: np.ndarray
    yaw_rate_rad_s: np.ndarray
    model_H_kg_m2_s: np.ndarray
    ground_torque_n_m: np.ndarray
    max_ground_torque_n_m: float
    pelvis_yaw_rad: np.ndarray
    thorax_yaw_rad: np.ndarray
    trunk_lean_rad: np.ndarray

    def step_at(self, t_s: np.ndarray) -> np.ndarray:
        """Index of the step containing each time (-1 before the first touchdown)."""
        starts = np.array([s.touchdown_s for s in self.steps])
        return np.searchsorted(starts, np.asarray(t_s), side="right") - 1


def _steps_and_events(plan: _Plan, t_lo: float, t_hi: float) -> tuple[tuple[Step, ...], GaitEvents]:
    steps = []
    for i in np.flatnonzero((plan.step >= 0) & (plan.td_s <= t_hi)):
        push = "right" if plan.sign[i] > 0 else "left"
        steps.append(Step(
            index=int(plan.step[i]), push_leg=push, swing_leg="left" if push == "right" else "right",
            touchdown_s=float(plan.td_s[i]), toe_off_s=float(plan.to_s[i]),
            next_touchdown_s=float(plan.next_td_s[i]), contact_s=float(plan.contact_s[i]),
            flight_s=float(plan.step_s[i] - plan.contact_s[i]), step_s=float(plan.step_s[i]),
            speed_m_s=float(plan.speed_m_s[i]), drive_instant_s=float(plan.td_s[i] + _DRIVE_FRACTION * plan.step_s[i]),
            swing_delay_ms=float(plan.delay_s[i] * 1e3), swing_amplitude_scale=float(plan.scale[i]),
        ))
    touchdown, toe_off = {}, {}
    for side in SIDES:
        own = plan.sign == SIDE_SIGN[side]
        td, to = plan.td_s[own], plan.to_s[own]
        touchdown[side] = td[(td >= t_lo) & (td <= t_hi)]
        toe_off[side] = to[(to >= t_lo) & (to <= t_hi)]
    return tuple(steps), GaitEvents(touchdown, toe_off)


def simulate(params: SprinterParams, time_s: np.ndarray) -> SprinterMotion:
    """Sample the synthetic sprinter at ``time_s`` (any times from the first touchdown on; the
    motion is also defined up to three steps before it).

    The result for a given time does not depend on which other times are requested.
    """
    t = np.asarray(time_s, dtype=float).ravel()
    if t.size == 0:
        raise ValueError("time_s is empty")
    plan = _build_plan(params, float(t.max()))
    if t.min() < plan.td_s[1]:
        raise ValueError(f"time_s starts before the model's earliest defined time ({plan.td_s[1]:.3f} s)")
    yaw_model = _yaw_for(params, int(plan.step[-1]) + 1)
    joints_rel, rotations_rel = _relative_body(plan, t)
    psi = yaw_model.yaw(t)
    turn = rot_y(psi)
    shift = np.stack([yaw_model.shift_x(t), np.zeros(t.size), yaw_model.shift_z(t)], axis=-1)
    joints = {name: _apply(turn, p) + shift for name, p in joints_rel.items()}
    rotations = {name: turn @ r for name, r in rotations_rel.items()}
    target, torque = _target_momentum(plan, yaw_model.flight_H, yaw_model.start_H, t)
    pelvis_yaw, thorax_yaw, _ = _yaws(plan, t)
    steps, events = _steps_and_events(plan, float(t.min()), float(t.max()))
    return SprinterMotion(
        time_s=t,
        landmarks_m=_landmarks(joints, rotations["head"], plan.body.head_m),
        joints_m=joints,
        segment_rotations=rotations,
        body=plan.body,
        events=events,
        steps=steps,
        params=params,
        yaw_rad=psi,
        yaw_rate_rad_s=yaw_model.yaw(t, 1),
        model_H_kg_m2_s=target,
        ground_torque_n_m=torque,
        max_ground_torque_n_m=yaw_model.max_torque_n_m,
        pelvis_yaw_rad=pelvis_yaw,
        thorax_yaw_rad=thorax_yaw,
        trunk_lean_rad=plan.lean_curve(t),
    )
