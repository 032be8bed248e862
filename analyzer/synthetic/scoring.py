"""Score an analysis of a synthetic clip against its exact ground truth.

Used by ``scripts/score_synthetic.py`` (which prints the figures) and by the tests that run
the whole pipeline, pose model included, on rendered clips. Pure functions over an
:class:`~analyzer.pipeline.AnalysisResult` and a :class:`~analyzer.synthetic.truth.GroundTruth`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from analyzer.counterbalance import role_signals
from analyzer.momentum import AngularMomentum
from analyzer.pipeline import AnalysisResult
from analyzer.pose import PoseTrack
from analyzer.steps import Step, StepAnalysis
from analyzer.synthetic.truth import GroundTruth

SCORED_GROUPS: tuple[str, ...] = ("arms", "left_leg", "right_leg", "torso", "whole_body")
SCORED_ANGLES: tuple[str, ...] = (
    "hip_flexion_left_deg", "hip_flexion_right_deg", "knee_flexion_left_deg", "knee_flexion_right_deg",
    "trunk_lean_deg", "elbow_flexion_left_deg", "elbow_flexion_right_deg",
)


@dataclass
class Score:
    """How an analysis compares with the truth.

    Attributes:
        detected_fraction: share of frames with the runner found.
        truth_steps, matched_steps: complete true steps in the clip; detected steps matched to one.
        touchdown_mae_frames, toeoff_mae_frames: mean absolute event errors (frames at the file's rate).
        touchdown_bias_frames, toeoff_bias_frames: mean signed event errors (ours - truth, frames;
            positive is late). A contact read short has a late touchdown, an early toe-off or both.
        angle_rms_deg: RMS error of each scored angle over frames where both are known.
        momentum: per group, (Pearson r, RMS error / true peak) over frames where both are known.
        push_swing: the same for the model's P(t) and S(t) under the true roles.
        lags: (injected delay ms, measured lag ms) for every matched step.
        delays_read: (injected delay ms, swing shift above the run's median ms) for every
            matched step with a delay injected: the delay as the flag's reason states it.
        flag_precision, flag_recall, flag_f1: ``swing_lag`` flags against injected delays.
        flag_counts: (true positives, false positives, false negatives) of those flags,
            for pooling over several clips (:func:`pooled_f1`).
        contact_ms, flight_ms: (ours, truth): the median contact and flight time over the
            steps found and over the true steps, as the report's headline figures (ms).
    """

    detected_fraction: float
    truth_steps: int
    matched_steps: int
    touchdown_mae_frames: float
    toeoff_mae_frames: float
    angle_rms_deg: dict[str, float] = field(default_factory=dict)
    momentum: dict[str, tuple[float, float]] = field(default_factory=dict)
    push_swing: dict[str, tuple[float, float]] = field(default_factory=dict)
    lags: list[tuple[float, float]] = field(default_factory=list)
    delays_read: list[tuple[float, float]] = field(default_factory=list)
    flag_precision: float = float("nan")
    flag_recall: float = float("nan")
    flag_f1: float = float("nan")
    flag_counts: tuple[int, int, int] = (0, 0, 0)
    touchdown_bias_frames: float = float("nan")
    toeoff_bias_frames: float = float("nan")
    contact_ms: tuple[float, float] = (float("nan"), float("nan"))
    flight_ms: tuple[float, float] = (float("nan"), float("nan"))


def _agreement(ours: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    ok = np.isfinite(ours) & np.isfinite(truth)
    if ok.sum() < 5 or np.ptp(truth[ok]) == 0 or np.ptp(ours[ok]) == 0:
        return float("nan"), float("nan")
    r = float(np.corrcoef(ours[ok], truth[ok])[0, 1])
    rms = float(np.sqrt(np.mean((ours[ok] - truth[ok]) ** 2)) / np.abs(truth[ok]).max())
    return r, rms


def truth_steps(truth: GroundTruth) -> StepAnalysis:
    """The truth's complete steps inside the clip, as a StepAnalysis on the truth's time base."""
    t = truth.time_s
    steps: list[Step] = []
    index = np.full(t.size, -1)
    legs = np.full(t.size, "", dtype=object)
    for s in truth.steps:
        if s["touchdown_s"] < t[0] or s["next_touchdown_s"] > t[-1]:
            continue
        frame = lambda x: int(np.argmin(np.abs(t - x)))  # noqa: E731
        step = Step(len(steps) + 1, s["push_leg"], s["touchdown_s"], s["toe_off_s"], s["next_touchdown_s"],
                    frame(s["touchdown_s"]), frame(s["toe_off_s"]), frame(s["next_touchdown_s"]))
        steps.append(step)
        inside = (t >= step.touchdown_s) & (t < step.next_touchdown_s)
        index[inside] = step.step
        legs[inside] = step.push_leg
    empty = np.zeros((t.size, 2))
    return StepAnalysis(t, empty, empty.astype(bool), (), tuple(steps), legs.astype(str), index, 0)


def exact_image_points(track: PoseTrack, truth: GroundTruth) -> PoseTrack:
    """*track* with the truth's exact image points in place of the pose model's.

    Every landmark is visible in every frame and no frame is left out, so that the analysis
    of the result measures every stage after the pose model (scale, vertical, direction,
    depth model, filtering, events, counterbalance) on the clip's own camera, without the
    pose model's error. The pose model's world landmarks are kept (the scale uses them only
    without the athlete's height).
    """
    if truth.image_xy_px is None or truth.image_xy_px.shape != track.image_xy_px.shape:
        raise ValueError("the truth has no image points for this clip's frames")
    return dataclasses.replace(
        track,
        image_xy_px=np.asarray(truth.image_xy_px, dtype=float),
        visibility=np.ones_like(track.visibility),
        detected=np.ones_like(track.detected),
        legs_collapsed=np.zeros_like(track.legs_collapsed),
    )


def _truth_momentum(truth: GroundTruth, like: AngularMomentum) -> AngularMomentum:
    groups = {g: truth.group_H_kg_m2_s[g] for g in ("arms", "torso", "left_leg", "right_leg", "whole_body")}
    return AngularMomentum(truth.time_s, (), np.empty((0, 0)), np.empty((0, 0)), truth.com_m, truth.com_velocity_m_s,
                           groups, like.normaliser_kg_m2_s, like.mass_kg, like.height_m, like.sex)


def _nearest(values: np.ndarray, x: float) -> int:
    return int(np.argmin(np.abs(values - x)))


def score(result: AnalysisResult, truth: GroundTruth) -> Score:
    """Compare one analysis with its clip's truth (same frames, same time base)."""
    fps = result.video.fps
    t = result.pose.time_s
    if truth.time_s.shape != t.shape:
        raise ValueError("the analysis and the truth cover different frames")
    true_gait = truth_steps(truth)
    true_td = np.array([s.touchdown_s for s in true_gait.steps])
    td_err, to_err, lags, matched = [], [], [], 0
    injected = {round(s["touchdown_s"], 6): s["swing_delay_ms"] for s in truth.steps}
    flagged_true, flagged_ours = set(), set()
    for s in true_gait.steps:
        if injected.get(round(s.touchdown_s, 6), 0.0) > 0:
            flagged_true.add(s.step)
    step_time = float(np.median(np.diff(true_td))) if true_td.size > 1 else np.inf
    shifts = np.array([b.swing_shift_ms for b in result.balance.steps], dtype=float)
    usual_shift = float(np.nanmedian(shifts)) if np.isfinite(shifts).any() else float("nan")
    delays_read = []
    for b in result.balance.steps:
        if not true_td.size:
            break
        k = _nearest(true_td, b.step.touchdown_s)
        true = true_gait.steps[k]
        if abs(true.touchdown_s - b.step.touchdown_s) > 0.5 * step_time or true.push_leg != b.step.push_leg:
            continue
        matched += 1
        td_err.append(b.step.touchdown_s - true.touchdown_s)
        to_err.append(b.step.toeoff_s - true.toeoff_s)
        lags.append((injected.get(round(true.touchdown_s, 6), 0.0), b.lag_ms))
        if lags[-1][0] > 0:
            delays_read.append((lags[-1][0], b.swing_shift_ms - usual_shift))
        if "swing_lag" in b.flag_kinds:
            flagged_ours.add(true.step)
    sc = Score(
        detected_fraction=float(np.mean(result.pose.detected)),
        truth_steps=len(true_gait.steps),
        matched_steps=matched,
        touchdown_mae_frames=float(np.mean(np.abs(td_err)) * fps) if td_err else float("nan"),
        toeoff_mae_frames=float(np.mean(np.abs(to_err)) * fps) if to_err else float("nan"),
        touchdown_bias_frames=float(np.mean(td_err) * fps) if td_err else float("nan"),
        toeoff_bias_frames=float(np.mean(to_err) * fps) if to_err else float("nan"),
        lags=lags,
        delays_read=delays_read,
    )
    for attr, phase in (("contact_ms", "contact_s"), ("flight_ms", "flight_s")):
        ours_ms = [1000.0 * getattr(s, phase) for s in result.steps.steps]
        true_ms = [1000.0 * getattr(s, phase) for s in true_gait.steps]
        setattr(sc, attr, (float(np.median(ours_ms)) if ours_ms else float("nan"),
                           float(np.median(true_ms)) if true_ms else float("nan")))
    for name in SCORED_ANGLES:
        d = result.kinematics.angles_deg[name] - truth.joint_angles_deg[name]
        sc.angle_rms_deg[name] = float(np.sqrt(np.nanmean(d ** 2)))
    for group in SCORED_GROUPS:
        sc.momentum[group] = _agreement(result.momentum.groups_kg_m2_s[group], truth.group_H_kg_m2_s[group])
    ours_roles = role_signals(result.momentum, true_gait)
    true_roles = role_signals(_truth_momentum(truth, result.momentum), true_gait)
    for key in ("push_drive", "swing_counter"):
        sc.push_swing[key] = _agreement(ours_roles[key], true_roles[key])
    tp = len(flagged_true & flagged_ours)
    sc.flag_counts = (tp, len(flagged_ours) - tp, len(flagged_true) - tp)
    sc.flag_precision, sc.flag_recall, sc.flag_f1 = pooled_f1([sc])
    return sc


def pooled_f1(scores: list[Score]) -> tuple[float, float, float]:
    """(precision, recall, F1) of the ``swing_lag`` flags pooled over several clips' steps.

    With no flag expected and none raised the result is (1, 1, 1).
    """
    tp, fp, fn = (sum(sc.flag_counts[i] for sc in scores) for i in range(3))
    precision = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
    recall = tp / (tp + fn) if tp + fn else (1.0 if not fp else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
