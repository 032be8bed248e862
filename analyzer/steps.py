"""Gait events and steps: touchdown and toe-off of each foot, push and swing roles.

A foot is in contact while its lowest point (heel or toe tip) stays on the ground. The
ground level is the lower envelope of the feet's heights over time (so a slowly moving
or slightly tilted camera is followed). Events are found in two passes:

1. coarse contacts: the foot lower than ``coarse_threshold`` above the ground in
   samples that span at least ``min_contact_s`` (one sample interval each);
2. refinement: within each coarse contact, the contact plateau (median height of its
   central part) is found; the last sample before and the first after the contact higher
   than ``plateau + refine_margin`` bound the touchdown and the toe-off, which are placed
   between samples (sub-frame) by extending the foot's path through the two airborne
   samples nearest the contact down to the plateau (:func:`_event_time`).

Toe-offs may be read from the feet less smoothed than the rest (``toeoff_points_m``,
:func:`analyzer.signals.toeoff_cutoff_hz`): the foot's fast rise after a toe-off, low-passed,
would spread back into the contact.

A step runs from one foot's touchdown to the other foot's next touchdown; during it the
first foot's leg is the push leg and the other the swing leg (docs/METHOD.md, section 5).
Contacts cut by the start or end of the clip start no step, and neither do contacts the
other foot shares for most of their length (standing, a sprint start's set position).
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analyzer.landmarks import SIDES, side_index
from analyzer.runs import true_runs

#: Default coarse contact threshold above the ground, as a fraction of stature.
COARSE_THRESHOLD_FRACTION = 0.045
#: Default refinement margin above the contact plateau, as a fraction of stature.
REFINE_MARGIN_FRACTION = 0.012
#: The ground level is the lower envelope of the feet over windows of this length (s).
GROUND_WINDOW_S = 1.0
#: ... and of this length where the runner's distance from the camera changes (a pan from one
#: spot): the ground line then moves in the picture from one contact to the next (a camera
#: pitched down sees nearer ground lower), so each window must hold about one step. On the
#: four rendered pans fed their exact image points, 1.0 s finds 31 of their 47 steps, 0.5 s 39.
MOVING_SCALE_GROUND_WINDOW_S = 0.5
#: A foot's own scale (:func:`foot_scale_ratio`) is looked up at most this far from its frame
#: (s): a planted foot is passed within half a contact (0.05-0.15 s in running).
MAX_REACH_S = 0.25
#: Below this backward sweep of the feet (m/s) nobody runs over them; the runner's scale is kept.
MIN_SWEEP_SPEED_M_S = 0.5
#: Two alternating touchdowns more than this many median step times apart are a gap with
#: both feet's contacts missed in between (a real run's steps vary by tens of percent, and
#: one missed contact already shows as the same foot twice), not one step.
MAX_STEP_TIME_RATIO = 2.0
#: Contacts shorter than this are noise (s).
MIN_CONTACT_S = 0.04
#: During a real contact the pelvis passes over the foot: the foot must travel backward
#: relative to the pelvis by at least this fraction of stature (a sprint contact covers
#: ~0.5 stature, a jog ~0.3). Rejects standing, crouching in the blocks, running in place.
MIN_CONTACT_SWEEP_FRACTION = 0.1
#: Running has no double support: a contact that shares more than this fraction of its length
#: with the other foot's contact is standing or the set position of a sprint start (both feet
#: in the blocks, then the rear foot leaves), and no step starts there. Its touchdown is when
#: the foot was put down, long before the run. A one-frame overlap of two running contacts at
#: 30 fps (an early touchdown read) shares about a third of a 0.1 s contact.
MAX_SHARED_CONTACT_FRACTION = 0.5


@dataclass(frozen=True)
class Contact:
    """One foot's ground contact.

    Attributes:
        foot: ``"left"`` or ``"right"``.
        touchdown_s, toeoff_s: event times (s), sub-frame interpolated; NaN when the
            contact is cut by the clip's start or end.
    """

    foot: str
    touchdown_s: float
    toeoff_s: float

    @property
    def complete(self) -> bool:
        return bool(np.isfinite(self.touchdown_s) and np.isfinite(self.toeoff_s))

    @property
    def duration_s(self) -> float:
        """Touchdown to toe-off (s); NaN when the contact is cut by the clip's start or end."""
        return self.toeoff_s - self.touchdown_s


@dataclass(frozen=True)
class Step:
    """One step: touchdown of the push foot to touchdown of the other foot.

    Times are seconds from the start of the video; frames are 0-based indices in
    decoding order (the frame nearest the event).
    """

    step: int
    push_leg: str
    touchdown_s: float
    toeoff_s: float
    next_touchdown_s: float
    touchdown_frame: int
    toeoff_frame: int
    next_touchdown_frame: int

    @property
    def swing_leg(self) -> str:
        return "left" if self.push_leg == "right" else "right"

    @property
    def contact_s(self) -> float:
        return self.toeoff_s - self.touchdown_s

    @property
    def flight_s(self) -> float:
        """Time with neither foot on the ground; 0 when the next touchdown comes before toe-off."""
        return max(0.0, self.next_touchdown_s - self.toeoff_s)

    @property
    def step_time_s(self) -> float:
        return self.next_touchdown_s - self.touchdown_s

    @property
    def step_frequency_hz(self) -> float:
        return 1.0 / self.step_time_s


@dataclass(frozen=True)
class StepAnalysis:
    """Events and steps of one clip.

    Attributes:
        time_s: (N,) frame times (s).
        foot_height_m: (N, 2) lowest point of the left and right foot above the ground (m).
        in_contact: (N, 2) whether each foot (left, right) is on the ground.
        contacts: every contact found, in time order.
        steps: complete steps in time order.
        push_leg: (N,) ``"left"``/``"right"`` during a step, ``""`` outside steps.
        step_index: (N,) the step each frame belongs to, -1 outside steps.
        unpaired_contacts: times two successive contacts were by the same foot (a missed
            contact or a left/right confusion); no step is formed across them.
        skipped_gaps: touchdowns of alternating feet more than :data:`MAX_STEP_TIME_RATIO`
            usual steps apart (both feet's contacts missed in between); no step is formed
            across them either.
        standing_contacts: complete contacts shared with the other foot's for more than
            :data:`MAX_SHARED_CONTACT_FRACTION` of their length (standing, or the set position
            of a sprint start); no step starts at them.
    """

    time_s: np.ndarray
    foot_height_m: np.ndarray
    in_contact: np.ndarray
    contacts: tuple[Contact, ...]
    steps: tuple[Step, ...]
    push_leg: np.ndarray
    step_index: np.ndarray
    unpaired_contacts: int
    skipped_gaps: int = 0
    standing_contacts: int = 0


def foot_heights_m(points_m: np.ndarray, time_s: np.ndarray, window_s: float = GROUND_WINDOW_S,
                   scale_ratio: np.ndarray | None = None) -> np.ndarray:
    """(N, 2) height of each foot's lowest point (heel or toe tip) above the ground (m).

    The ground level is the 5th percentile of both feet's lowest points within each
    window of *window_s*, interpolated over time.

    Args:
        points_m: (N, 33, 3) runner-frame landmarks (m), y up.
        time_s: (N,) sample times (s).
        window_s: length of the ground envelope's windows (s).
        scale_ratio: (N,) each frame's metres per pixel over a fixed reference, where the
            scale follows the runner's distance (a runner nearing the camera, a pan from one
            spot); None for one scale. See :func:`foot_scale_ratio`.
    """
    lowest = _lowest_foot_points_m(points_m)
    if scale_ratio is not None:
        lowest = lowest * foot_scale_ratio(points_m, time_s, scale_ratio) / np.asarray(scale_ratio, float)[:, None]
    both = np.nanmin(np.where(np.isfinite(lowest), lowest, np.inf), axis=1)
    both[~np.isfinite(both)] = np.nan
    ground = _running_low_envelope(both, time_s, window_s)
    return lowest - ground[:, None]


def _lowest_foot_points_m(points_m: np.ndarray) -> np.ndarray:
    """(N, 2) height of each foot's lowest point (heel or toe tip), left and right (m)."""
    return np.stack([np.fmin(points_m[:, side_index(s, "heel"), 1], points_m[:, side_index(s, "foot_index"), 1])
                     for s in SIDES], axis=1)


def _feet_ahead_of_pelvis_m(points_m: np.ndarray) -> np.ndarray:
    """(N, 2) forward position of each foot (heel-toe midpoint) relative to the mid-hip (m)."""
    pelvis_x = 0.5 * (points_m[:, side_index("left", "hip"), 0] + points_m[:, side_index("right", "hip"), 0])
    feet_x = np.stack([0.5 * (points_m[:, side_index(s, "heel"), 0] + points_m[:, side_index(s, "foot_index"), 0])
                       for s in SIDES], axis=1)
    return feet_x - pelvis_x[:, None]


def foot_scale_ratio(points_m: np.ndarray, time_s: np.ndarray, scale_ratio: np.ndarray) -> np.ndarray:
    """(N, 2) the scale ratio at each foot's own distance from the camera.

    Where the runner's distance changes (``scale_ratio`` varies), a planted foot stays where
    it is in the picture, but it lies at its own distance, not the runner's: converted at the
    runner's changing scale it would seem to rise or sink through the contact as much as the
    scale changes (about 6 % of the camera's height in a 0.1 s contact seen 40° off
    side-on). The runner reaches a foot's distance when the pelvis passes over it, after
    ``(x_foot - x_pelvis) / v`` with v the speed at which planted feet sweep backward under
    the pelvis; the foot is converted at the scale of that instant (docs/METHOD.md, section 5).

    Args:
        points_m: (N, 33, 3) runner-frame landmarks (m).
        time_s: (N,) sample times (s).
        scale_ratio: (N,) each frame's metres per pixel over a fixed reference.
    """
    ratio = np.asarray(scale_ratio, dtype=float)
    ahead = _feet_ahead_of_pelvis_m(points_m)
    lowest = _lowest_foot_points_m(points_m)
    out = np.repeat(ratio[:, None], 2, axis=1)
    if time_s.size < 3:
        return out
    with np.errstate(invalid="ignore"):
        sweep = -np.gradient(ahead, time_s, axis=0)  # backward speed of each foot under the pelvis
        lower = lowest < lowest[:, ::-1]  # the lower foot is the one that may be planted
        sweeping = sweep[lower & (sweep > 0)]
    if sweeping.size < 3:
        return out
    speed = float(np.median(sweeping))
    ok = np.isfinite(ratio)
    if speed < MIN_SWEEP_SPEED_M_S or ok.sum() < 2:
        return out
    for k in range(2):
        lead = np.clip(np.where(np.isfinite(ahead[:, k]), ahead[:, k], 0.0) / speed, -MAX_REACH_S, MAX_REACH_S)
        out[:, k] = np.interp(time_s + lead, time_s[ok], ratio[ok])
    return out


def _running_low_envelope(values: np.ndarray, time_s: np.ndarray, window_s: float) -> np.ndarray:
    finite = np.isfinite(values)
    if not finite.any():
        return np.full_like(values, np.nan)
    t0, t1 = time_s[0], time_s[-1]
    edges = np.arange(t0, t1 + window_s, window_s)
    centres, levels = [], []
    for a, b in itertools.pairwise(edges):
        members = finite & (time_s >= a) & (time_s < b)
        if members.sum() >= 3:
            centres.append(time_s[members].mean())
            levels.append(np.percentile(values[members], 5))
    if not levels:
        return np.full_like(values, np.nanpercentile(values, 5))
    return np.interp(time_s, centres, levels)


def _crossing_time(time_s: np.ndarray, height: np.ndarray, i_above: int, i_below: int, level: float) -> float:
    """Time at which the height crosses *level* between two neighbouring samples."""
    h0, h1 = height[i_above], height[i_below]
    if not (np.isfinite(h0) and np.isfinite(h1)) or h0 == h1:
        return float(time_s[i_below])
    w = np.clip((h0 - level) / (h0 - h1), 0.0, 1.0)
    return float(time_s[i_above] + w * (time_s[i_below] - time_s[i_above]))


#: Touchdowns too are placed on the foot's straight path (:func:`_event_time`) where samples lie
#: more than this far apart (s; below 40 images per second): a foot then falls 3-8 cm from its
#: last airborne sample to the ground, far more than the pose's noise there. At 30 fps through
#: the pose model (12 renders) this moves the touchdowns' mean error from +0.33 to +0.07 frames
#: (absolute 0.50 -> 0.42) and the median contact from -17 % to -11 % of the truth's, for one
#: `swing_lag` flag of 62 (docs/METHOD.md, section 5).
TOUCHDOWN_PATH_MIN_INTERVAL_S = 0.025


def _event_time(time_s: np.ndarray, height: np.ndarray, i_air: int, i_ground: int, level: float, plateau: float) -> float:
    """Touchdown or toe-off time between an airborne and a grounded sample.

    Toe-off: the straight path through the two airborne samples after the contact (``i_air``
    and the one beyond it) is extended back down to the plateau, and the toe-off kept between
    ``i_ground`` and ``i_air``. At 30 fps a foot is grounded one sample and well clear of the
    ground the next (the toe rises about 0.5 m in 70 ms), and the toe-off may lie anywhere
    between; reading it at the grounded sample shortened contacts by a third of a frame on
    average. (A path bent as the toe's rise, height ~ (t - t_event)^2, read toe-offs 0.2-0.5
    frames early at 30 and 60 fps, on exact points and through the pose model alike, where
    the straight one is within 0.2 frames.)

    Touchdown: the same where samples lie more than :data:`TOUCHDOWN_PATH_MIN_INTERVAL_S`
    apart. At finer sampling, and for a toe-off whose path is not usable (the second sample
    missing or no farther from the ground than the first), the crossing of ``level``
    (plateau + margin) is extended along the slope between the two samples down to the
    plateau, never past the grounded sample: a foot slows as it comes down, and at 60 fps its
    last airborne samples are a few centimetres up, where the pose's noise sets their slope
    (touchdowns' mean absolute error through the pose model at 60 fps 0.84 frames on the
    path, 0.80 without; docs/METHOD.md, section 5).
    """
    t_cross = _crossing_time(time_s, height, i_air, i_ground, level)
    dt = time_s[i_ground] - time_s[i_air]
    dh = height[i_air] - height[i_ground]
    if not (np.isfinite(dh) and dh > 0 and dt != 0):
        return t_cross
    between = sorted((float(time_s[i_air]), float(time_s[i_ground])))
    i_beyond = 2 * i_air - i_ground
    on_path = i_air > i_ground or abs(dt) > TOUCHDOWN_PATH_MIN_INTERVAL_S
    if on_path and 0 <= i_beyond < height.size and np.isfinite(height[i_beyond]):
        near, far = (height[k] - plateau for k in (i_air, i_beyond))
        if far > near > 0:
            t_event = time_s[i_air] - near * (time_s[i_beyond] - time_s[i_air]) / (far - near)
            return float(np.clip(t_event, *between))
    to_plateau = (level - plateau) / dh * dt  # signed: positive for a touchdown
    t_event = t_cross + to_plateau
    lo, hi = sorted((t_cross, float(time_s[i_ground])))
    return float(np.clip(t_event, lo, hi))


def _plateau(height: np.ndarray, start: int, stop: int) -> float:
    """A contact's ground level (m): the median height of the central half of its samples."""
    m = stop - start
    return float(np.nanmedian(height[start + m // 4: start + max(m // 4 + 1, 3 * m // 4)]))


def detect_contacts(
    foot_height_m: np.ndarray,
    time_s: np.ndarray,
    foot: str,
    *,
    coarse_threshold_m: float,
    refine_margin_m: float,
    min_contact_s: float = MIN_CONTACT_S,
    foot_forward_m: np.ndarray | None = None,
    min_sweep_m: float = 0.0,
    toeoff_height_m: np.ndarray | None = None,
) -> list[Contact]:
    """Contacts of one foot from its height above the ground.

    Args:
        foot_height_m: (N,) height of the foot's lowest point (m), NaN where unknown.
        time_s: (N,) sample times (s).
        foot: which foot the heights belong to.
        coarse_threshold_m: below this height the foot may be in contact.
        refine_margin_m: events are crossings of the contact plateau plus this margin.
        min_contact_s: shorter coarse contacts are discarded.
        foot_forward_m: (N,) the foot's forward position relative to the pelvis (m); when
            given, a contact counts only if the foot moves backward relative to the pelvis
            by at least *min_sweep_m* during it (the body passing over the planted foot).
        toeoff_height_m: (N,) the same heights less smoothed, from which toe-offs are read
            (default *foot_height_m*): see :data:`analyzer.signals.TOEOFF_CUTOFF_HZ`.
    """
    height = np.asarray(foot_height_m, dtype=float)
    toeoff_h = height if toeoff_height_m is None else np.asarray(toeoff_height_m, dtype=float)
    n = height.size
    low = np.isfinite(height) & (height < coarse_threshold_m)
    # Each sample stands for one sample interval: k low samples span k intervals (a 0.09 s
    # contact seen at 30 fps may be low in two samples only, 0.033 s apart).
    interval_s = float(np.median(np.diff(time_s))) if n > 1 else 0.0
    contacts = []
    for start, stop in true_runs(low):
        if time_s[stop - 1] - time_s[start] + interval_s < min_contact_s - 1e-9:
            continue
        m = stop - start
        plateau = _plateau(height, start, stop)
        level = plateau + refine_margin_m
        # Touchdown: walk back from the contact's middle to the last sample above `level`.
        mid = start + m // 2
        i = mid
        while i > 0 and np.isfinite(height[i - 1]) and height[i - 1] <= level:
            i -= 1
        touchdown = np.nan if i == 0 or not np.isfinite(height[i - 1]) else _event_time(time_s, height, i - 1, i, level, plateau)
        if toeoff_h is not height:
            plateau = _plateau(toeoff_h, start, stop)
            level = plateau + refine_margin_m
        j = mid
        while j < n - 1 and np.isfinite(toeoff_h[j + 1]) and toeoff_h[j + 1] <= level:
            j += 1
        toeoff = np.nan if j == n - 1 or not np.isfinite(toeoff_h[j + 1]) else _event_time(time_s, toeoff_h, j + 1, j, level, plateau)
        if foot_forward_m is not None and min_sweep_m > 0:
            rel = foot_forward_m[start:stop]
            ok = np.isfinite(rel)
            if ok.sum() < 2 or rel[ok][0] - rel[ok][-1] < min_sweep_m:
                continue
        contacts.append((i, j, Contact(foot, float(touchdown), float(toeoff))))
    # Two coarse contacts that refine into overlapping sample ranges are one contact (a
    # flicker above the coarse threshold within one contact, or one cut by the clip's end).
    merged: list[tuple[int, int, Contact]] = []
    for i, j, c in contacts:
        if merged and i <= merged[-1][1]:
            first_i, last_j, first = merged[-1]
            merged[-1] = (first_i, max(last_j, j), Contact(foot, first.touchdown_s, c.toeoff_s if j >= last_j else first.toeoff_s))
        else:
            merged.append((i, j, c))
    return [c for _, _, c in merged]


def _nearest_frame(time_s: np.ndarray, frame_index: np.ndarray, t: float) -> int:
    return int(frame_index[int(np.argmin(np.abs(time_s - t)))])


def analyse_steps(
    points_m: np.ndarray,
    time_s: np.ndarray,
    *,
    height_m: float,
    frame_index: np.ndarray | None = None,
    coarse_threshold_m: float | None = None,
    refine_margin_m: float | None = None,
    scale_ratio: np.ndarray | None = None,
    toeoff_points_m: np.ndarray | None = None,
) -> StepAnalysis:
    """Find contacts of both feet and form steps with push and swing roles.

    Args:
        points_m: (N, 33, 3) runner-frame landmarks (m) (y is up).
        time_s: (N,) sample times (s).
        height_m: stature (sets the default thresholds).
        frame_index: (N,) decode-order frame index of each sample (default 0..N-1).
        coarse_threshold_m, refine_margin_m: override the defaults
            (:data:`COARSE_THRESHOLD_FRACTION`, :data:`REFINE_MARGIN_FRACTION` of stature).
        scale_ratio: (N,) each frame's metres per pixel over a fixed reference where the
            scale follows the runner's distance (see :func:`foot_heights_m`), else None.
        toeoff_points_m: (N, 33, 3) the same landmarks less smoothed (the hips, heels and
            toes are used), from which toe-offs are read
            (:attr:`analyzer.kinematics.Kinematics.toeoff_points_m`); None: *points_m*.
    """
    time_s = np.asarray(time_s, dtype=float)
    frame_index = np.arange(time_s.size) if frame_index is None else np.asarray(frame_index)
    coarse = COARSE_THRESHOLD_FRACTION * height_m if coarse_threshold_m is None else coarse_threshold_m
    margin = REFINE_MARGIN_FRACTION * height_m if refine_margin_m is None else refine_margin_m
    window = GROUND_WINDOW_S if scale_ratio is None else MOVING_SCALE_GROUND_WINDOW_S
    heights = foot_heights_m(points_m, time_s, window_s=window, scale_ratio=scale_ratio)
    toeoff_h = None if toeoff_points_m is None else foot_heights_m(toeoff_points_m, time_s, window_s=window, scale_ratio=scale_ratio)
    ahead = _feet_ahead_of_pelvis_m(points_m)
    contacts: list[Contact] = []
    for k, side in enumerate(SIDES):
        contacts += detect_contacts(heights[:, k], time_s, side, coarse_threshold_m=coarse, refine_margin_m=margin,
                                    foot_forward_m=ahead[:, k],
                                    min_sweep_m=MIN_CONTACT_SWEEP_FRACTION * height_m,
                                    toeoff_height_m=None if toeoff_h is None else toeoff_h[:, k])
    contacts.sort(key=lambda c: c.touchdown_s if np.isfinite(c.touchdown_s) else c.toeoff_s - 1e3)

    in_contact = np.zeros((time_s.size, 2), dtype=bool)
    for c in contacts:
        k = SIDES.index(c.foot)
        a = c.touchdown_s if np.isfinite(c.touchdown_s) else -np.inf
        b = c.toeoff_s if np.isfinite(c.toeoff_s) else np.inf
        in_contact[(time_s >= a) & (time_s < b), k] = True

    steps, unpaired, standing = steps_from_contacts(contacts, time_s, frame_index)
    steps, gaps = _without_gaps(steps)
    push_leg = np.full(time_s.size, "", dtype=object)
    step_index = np.full(time_s.size, -1, dtype=int)
    for s in steps:
        inside = (time_s >= s.touchdown_s) & (time_s < s.next_touchdown_s)
        push_leg[inside] = s.push_leg
        step_index[inside] = s.step
    return StepAnalysis(time_s, heights, in_contact, tuple(contacts), tuple(steps), push_leg.astype(str), step_index,
                        unpaired, gaps, standing)


def steps_from_contacts(contacts: Sequence[Contact], time_s: np.ndarray,
                        frame_index: np.ndarray) -> tuple[list[Step], int, int]:
    """Steps from contacts in touchdown order: each complete contact to the other foot's next touchdown.

    No step is formed from a contact followed by the same foot's (or by the other foot
    "landing" within :data:`MIN_CONTACT_S`: a left/right mix-up), from a contact cut by the
    clip's start or end, or from a contact shared with the other foot's for more than
    :data:`MAX_SHARED_CONTACT_FRACTION` of its length (standing, the set position).

    Args:
        contacts: both feet's contacts, sorted by touchdown.
        time_s: (N,) sample times (s).
        frame_index: (N,) decode-order frame index of each sample.

    Returns:
        The steps (numbered from 1), how many successive contact pairs were unpaired, and how
        many contacts were standing ones.
    """
    steps: list[Step] = []
    unpaired = standing = 0
    for this, nxt in itertools.pairwise(contacts):
        if this.foot == nxt.foot or nxt.touchdown_s - this.touchdown_s < MIN_CONTACT_S:  # False where either is NaN
            unpaired += 1
            continue
        if not (this.complete and np.isfinite(nxt.touchdown_s)):
            continue
        if shared_contact_s(this, contacts) > MAX_SHARED_CONTACT_FRACTION * this.duration_s:
            standing += 1
            continue
        steps.append(Step(
            step=len(steps) + 1,
            push_leg=this.foot,
            touchdown_s=this.touchdown_s,
            toeoff_s=this.toeoff_s,
            next_touchdown_s=nxt.touchdown_s,
            touchdown_frame=_nearest_frame(time_s, frame_index, this.touchdown_s),
            toeoff_frame=_nearest_frame(time_s, frame_index, this.toeoff_s),
            next_touchdown_frame=_nearest_frame(time_s, frame_index, nxt.touchdown_s),
        ))
    return steps, unpaired, standing


def shared_contact_s(contact: Contact, contacts: Sequence[Contact]) -> float:
    """How long (s) the other foot's *contacts* are on the ground during *contact* (complete).

    A contact cut by the clip's start or end counts as reaching it."""
    total = 0.0
    for other in contacts:
        if other.foot == contact.foot:
            continue
        start = other.touchdown_s if np.isfinite(other.touchdown_s) else -np.inf
        end = other.toeoff_s if np.isfinite(other.toeoff_s) else np.inf
        total += max(0.0, min(end, contact.toeoff_s) - max(start, contact.touchdown_s))
    return total


def _without_gaps(steps: list[Step]) -> tuple[list[Step], int]:
    """*steps* less those longer than :data:`MAX_STEP_TIME_RATIO` x the median step time
    (renumbered from 1), and how many were dropped. Fewer than three steps are kept as they are."""
    if len(steps) < 3:
        return steps, 0
    limit = MAX_STEP_TIME_RATIO * float(np.median([s.step_time_s for s in steps]))
    kept = [s for s in steps if s.step_time_s <= limit]
    return [dataclasses.replace(s, step=k + 1) for k, s in enumerate(kept)], len(steps) - len(kept)


def step_lengths_m(points_m: np.ndarray, time_s: np.ndarray, steps: tuple[Step, ...], *, usable: bool) -> list[float]:
    """Forward distance (m) between the push foot's and the next foot's contact points.

    Measured from the feet's mean toe and heel position at each touchdown. Only meaningful
    with a static camera and a runner who travels (not on a treadmill); otherwise NaN.
    """
    if not usable:
        return [float("nan")] * len(steps)

    def contact_x(foot: str, t: float) -> float:
        cols = [side_index(foot, "heel"), side_index(foot, "foot_index")]
        x = points_m[:, cols, 0].mean(axis=1)
        ok = np.isfinite(x)
        return float(np.interp(t, time_s[ok], x[ok])) if ok.sum() >= 2 else float("nan")

    return [contact_x(s.swing_leg, s.next_touchdown_s) - contact_x(s.push_leg, s.touchdown_s) for s in steps]
