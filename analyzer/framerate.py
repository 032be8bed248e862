"""Frame-rate truth: timing no runner can produce, and the likely slow-motion factor.

Phone footage often lies about time: a 240 fps capture saved to play at 30 fps says
"30 fps" in its container, and every time-based number computed from it comes out 8x
too slow. This module does not rescale anything silently; it says what looks wrong and
suggests the ``--fps`` value (frames of the file per real second) that would fix it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: Step rates any runner produces, from a slow jog to the fastest sprinters (steps/min).
PLAUSIBLE_CADENCE_STEPS_PER_MIN = (130.0, 330.0)
#: Ground contact times from sprinting to slow jogging (s).
PLAUSIBLE_CONTACT_S = (0.06, 0.45)
#: Typical cadence used to estimate the slow-motion factor, from jogging to sprinting.
TYPICAL_JOG_CADENCE = 170.0
TYPICAL_SPRINT_CADENCE = 260.0
#: The feet's fore-aft sweep relative to the hips, over leg length, of a jog and a sprint
#: (time-free, so it tells a jog from a sprint even in slow motion; measured on the shared
#: clips: 1.0 for a jog filmed from a tracking camera, 1.3 for a near-top-speed sprint).
JOG_SWEEP, SPRINT_SWEEP = 1.0, 1.3
#: Frame rates phones and cameras record at.
USUAL_RATES = (50.0, 60.0, 100.0, 120.0, 240.0, 480.0, 960.0)


@dataclass(frozen=True)
class TimingCheck:
    """The verdict on a clip's timing.

    Attributes:
        plausible: cadence and contact time are within what runners produce.
        slow_motion_factor: the estimated ratio of real time to video time (None when plausible).
        suggested_fps: the ``--fps`` value to pass (frames of this file per real second).
        sentence: a plain sentence for the warnings, or None.
    """

    plausible: bool
    slow_motion_factor: float | None
    suggested_fps: float | None
    sentence: str | None


def suggest_capture_fps(frames_per_video_second: float, factor: float, repeat_factor: float = 1.0) -> float:
    """The ``--fps`` to suggest for a clip that plays *factor* times slower than real time.

    A file that repeats each image *repeat_factor* times was slowed by repeating: its frames
    per real second are the file's rate times that (rounded), when it agrees with *factor*
    within 35 %. Otherwise the usual capture rate nearest ``rate x factor``.
    """
    target = frames_per_video_second * factor
    repeats = round(repeat_factor)
    if repeats >= 2 and abs(math.log(repeats / factor)) < math.log(1.35):
        return float(round(frames_per_video_second * repeats))
    return float(min(USUAL_RATES, key=lambda c: abs(math.log(c / target))))


def typical_cadence(stride_sweep: float) -> float:
    """The cadence (steps/min) to expect of a runner whose feet sweep *stride_sweep* leg lengths."""
    if not math.isfinite(stride_sweep):
        return 0.5 * (TYPICAL_JOG_CADENCE + TYPICAL_SPRINT_CADENCE)
    w = min(1.0, max(0.0, (stride_sweep - JOG_SWEEP) / (SPRINT_SWEEP - JOG_SWEEP)))
    return TYPICAL_JOG_CADENCE + w * (TYPICAL_SPRINT_CADENCE - TYPICAL_JOG_CADENCE)


def check_timing(
    *,
    cadence_steps_per_min: float,
    mean_contact_s: float,
    fps_used: float,
    fps_source: str,
    stride_sweep: float = float("nan"),
    frame_interval_s: float = 0.0,
    repeat_factor: float = 1.0,
) -> TimingCheck:
    """Judge whether the clip's timing is humanly possible; estimate a slow-motion factor.

    Args:
        cadence_steps_per_min, mean_contact_s: typical (median) values over the steps (NaN if none).
        fps_used: the frame rate the times were computed with (frames per second of video time).
        fps_source: ``container``, ``--fps`` or ``sidecar``.
        stride_sweep: the feet's fore-aft sweep relative to the hips over leg length
            (``analyzer.view.stride_sweep``), which tells a jog from a sprint.
        frame_interval_s: the interval between distinct images; a contact time is only
            called impossible when it is so by more than this (at 30 fps a 90 ms contact
            may measure 60 ms).
        repeat_factor: file frames per distinct image (3 for a clip holding each image 3 frames).
    """
    if not (math.isfinite(cadence_steps_per_min) and math.isfinite(mean_contact_s)):
        return TimingCheck(True, None, None, None)
    lo_c, hi_c = PLAUSIBLE_CADENCE_STEPS_PER_MIN
    lo_t, hi_t = PLAUSIBLE_CONTACT_S
    too_slow = cadence_steps_per_min < lo_c or mean_contact_s - frame_interval_s > hi_t
    too_fast = cadence_steps_per_min > hi_c or mean_contact_s + frame_interval_s < lo_t
    if not (too_slow or too_fast):
        return TimingCheck(True, None, None, None)
    factor = typical_cadence(stride_sweep) / cadence_steps_per_min
    given = "the frame rate you gave" if fps_source != "container" else "the file's frame rate"
    if too_slow:
        suggested = suggest_capture_fps(fps_used, factor, repeat_factor)
        sentence = (
            f"Timing no runner produces: {cadence_steps_per_min:.0f} steps/min with {mean_contact_s * 1000:.0f} ms "
            f"contacts at {given} ({fps_used:g} fps). This looks like a slow-motion export about "
            f"{factor:.1f}x slower than real time; if it was filmed in slow motion, run it again with "
            f"--fps {suggested:g} (the frames this file holds per real second)."
        )
        return TimingCheck(False, factor, suggested, sentence)
    sentence = (
        f"Timing faster than any runner: {cadence_steps_per_min:.0f} steps/min with {mean_contact_s * 1000:.0f} ms "
        f"contacts at {given} ({fps_used:g} fps). Check the frame rate (--fps) you gave."
    )
    return TimingCheck(False, factor, None, sentence)
