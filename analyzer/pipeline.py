"""The analysis of one video: the only module that chains the stages.

    video -> pose -> signals -> kinematics -> momentum -> steps -> counterbalance -> report

:func:`analyse` is pure given a pose track (no I/O); :func:`analyze_video` adds the
edges: decoding and the pose cache on the way in, the output contract's files on the way
out, each written atomically.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import analyzer
from analyzer import framerate, kinematics, memory, momentum, outputs, pose, signals, steps, video, view
from analyzer.athlete import Athlete
from analyzer.counterbalance import LATENESS_LIMIT, MIN_STEPS_FOR_SCATTER, Counterbalance, Thresholds, analyse_counterbalance
from analyzer.kinematics import ANGLE_COLUMNS, Kinematics

#: Below this share of frames with the runner found, the video is not analysed.
MIN_DETECTED_FRACTION = 0.2
MIN_DETECTED_FRAMES = 10


class AnalysisError(Exception):
    """The video cannot be analysed; the message is one plain line for the user."""


@dataclass(frozen=True)
class Settings:
    """Everything that changes the analysis of a video (besides the video itself).

    Attributes:
        fps: capture-rate override (frames of the file per real second), or None.
        fps_source: where ``fps`` came from (``--fps`` or ``sidecar``).
        start_s, end_s: trim (seconds of video time), or None.
        model_path: pose ``.task`` file, or None for the embedded BlazePose full model.
        overlay: write ``overlay.mp4``.
        thresholds: counterbalance flag thresholds.
        depth: medio-lateral depth model (docs/METHOD.md section 4).
        max_side_px: frames larger than this are downscaled once before pose.
        max_people: poses detected per frame while looking for the runner.
        flip_test: also pose the mirrored frames and merge the two poses
            (:mod:`analyzer.pose.flip`; about twice the pose time): True always, False never,
            None (default, "auto") where the first pass finds the legs coarsely sampled.
    """

    fps: float | None = None
    fps_source: str = "--fps"
    start_s: float | None = None
    end_s: float | None = None
    model_path: Path | None = None
    overlay: bool = True
    thresholds: Thresholds = field(default_factory=Thresholds)
    depth: str = "anthropometric"
    max_side_px: int = 1280
    max_people: int = 3
    flip_test: bool | None = None

    def pose_settings(self) -> dict[str, Any]:
        """The settings that change the raw pose (the cache key's part beyond file and model)."""
        return {"start_s": self.start_s, "end_s": self.end_s, "fps": self.fps,
                "max_side_px": self.max_side_px, "max_people": self.max_people, "flip_test": self.flip_test}

    def fingerprint(self, athlete: Athlete) -> str:
        """A short hash of every setting and athlete value that changes any output."""
        payload = dataclasses.asdict(self) | {"athlete": dataclasses.asdict(athlete), "version": analyzer.__version__}
        if self.flip_test is False:  # results from before the option keep their fingerprint
            del payload["flip_test"]
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class AnalysisResult:
    """All stage outputs for one video, in flow order."""

    video: video.VideoInfo
    athlete: Athlete
    settings: Settings
    pose: pose.PoseTrack
    pose_from_cache: bool
    view: view.ViewAssessment
    kinematics: Kinematics
    momentum: momentum.AngularMomentum
    steps: steps.StepAnalysis
    balance: Counterbalance
    timing: framerate.TimingCheck
    warnings: list[str]
    notes: list[str]
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def height_m(self) -> float:
        return self.kinematics.height_m


# ---------------------------------------------------------------------------------------
# The pure part: pose track -> analysis
# ---------------------------------------------------------------------------------------

def analyse(
    info: video.VideoInfo,
    track: pose.PoseTrack,
    athlete: Athlete,
    settings: Settings,
    *,
    pose_from_cache: bool = False,
) -> AnalysisResult:
    """Every stage after pose, on arrays in memory.

    Missing landmarks are NaN throughout, so numpy's "All-NaN slice" and "Mean of empty
    slice" warnings are expected here and silenced.
    """
    with signals.quiet_nan_warnings():
        return _analyse(info, track, athlete, settings, pose_from_cache)


def _analyse(info: video.VideoInfo, track: pose.PoseTrack, athlete: Athlete, settings: Settings,
             pose_from_cache: bool) -> AnalysisResult:
    clock: dict[str, float] = {}
    t0 = time.perf_counter()
    detected_fraction = float(np.mean(track.detected)) if track.detected.size else 0.0
    if track.time_s.size < MIN_DETECTED_FRAMES:
        incomplete = (f"; the file is incomplete (its index declares {info.declared_frame_count})"
                      if info.ends_early else "")
        raise AnalysisError(f"too short to analyse: only {track.time_s.size} frames could be read{incomplete}")
    if track.detected.sum() < MIN_DETECTED_FRAMES or detected_fraction < MIN_DETECTED_FRACTION:
        raise AnalysisError(
            f"no runner found: a person was detected in {detected_fraction:.0%} of {track.detected.size} frames"
        )
    assessment = view.assess_view(track.image_xy_px, track.world_xyz_m, track.time_s,
                                  image_width_px=track.image_width, background_shift_px=track.background_shift_px)
    try:
        kin = kinematics.from_pose(
            track.image_xy_px, track.world_xyz_m, track.visibility, track.time_s,
            image_width_px=track.image_width, image_height_px=track.image_height, is_repeat=track.is_repeat, height_m=athlete.height_m,
            sex=athlete.sex, camera_moving=assessment.camera_moving, depth=settings.depth,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise AnalysisError(f"cannot measure the runner: {exc}") from None
    clock["kinematics"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    h = momentum.angular_momentum(kin, mass_kg=athlete.mass_kg, height_m=kin.height_m, sex=athlete.sex)  # type: ignore[arg-type]
    clock["momentum"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    gait = steps.analyse_steps(kin.points_m, kin.time_s, height_m=kin.height_m, frame_index=track.frame_index,
                               scale_ratio=kin.frame.scale_ratio if kin.frame is not None else None,
                               toeoff_points_m=kin.toeoff_points_m)
    balance = analyse_counterbalance(h, gait, sample_rate_hz=kin.sample_rate_hz, thresholds=settings.thresholds)
    clock["steps_and_counterbalance"] = time.perf_counter() - t0

    cadence, contact, _, _ = _step_means(gait)
    timing = framerate.check_timing(
        cadence_steps_per_min=cadence, mean_contact_s=contact, fps_used=info.fps, fps_source=info.fps_source,
        stride_sweep=assessment.stride_sweep, frame_interval_s=1.0 / kin.sample_rate_hz,
        repeat_factor=track.time_s.size / max(1, int(np.count_nonzero(~track.is_repeat))),
    )
    problems, notes = _problems_and_notes(info, assessment, kin, gait, timing, detected_fraction)
    if not assessment.counterbalance_trusted:
        balance = dataclasses.replace(
            balance, steps=tuple(dataclasses.replace(s, flag_kinds=(), flag_reason="") for s in balance.steps)
        )
    return AnalysisResult(info, athlete, settings, track, pose_from_cache, assessment, kin, h, gait, balance,
                          timing, problems, notes, clock)


def _problems_and_notes(
    info: video.VideoInfo,
    assessment: view.ViewAssessment,
    kin: Kinematics,
    gait: steps.StepAnalysis,
    timing: framerate.TimingCheck,
    detected_fraction: float,
) -> tuple[list[str], list[str]]:
    """Plain sentences for the report: problems (most serious first) and informational notes."""
    problems = list(assessment.warnings)
    notes = list(assessment.notes)
    if info.ends_early:
        problems.insert(0, f"The file ends early: it holds {info.frame_count} of the {info.declared_frame_count} frames "
                           "its index declares (an incomplete copy or an interrupted recording); only those are analysed.")
    _, contact, flight, step_time = _step_means(gait)
    if timing.sentence:
        problems.append(timing.sentence)
    if gait.steps and flight < 0.5 / kin.sample_rate_hz and contact > 0.5 * step_time:
        problems.append("There is no flight phase: each foot stays on the ground for more than half of the step, "
                        "as in walking or a very slow jog. The push/swing model describes running with flight.")
    if not gait.steps:
        problems.append("No complete step was found (a step runs from one foot's touchdown to the other's), "
                        "so there is nothing to flag. Is the whole runner in view for at least two contacts?")
    if 0 < len(gait.steps) < MIN_STEPS_FOR_SCATTER:
        notes.append(
            f"With {len(gait.steps)} step{'s' if len(gait.steps) > 1 else ''} the run's own step-to-step scatter "
            "cannot be measured, so a late swing is judged on each step's peak and bulk alone: on the rendered test "
            "clips, 50 of the 86 steps that rule flags carry no delay, so read such a flag as a hint. "
            f"A clip with {MIN_STEPS_FOR_SCATTER} steps or more is judged against its own scatter."
        )
    if detected_fraction < 0.9:
        problems.append(f"The runner was found in only {detected_fraction:.0%} of frames; gaps are bridged only when short.")
    if gait.unpaired_contacts:
        problems.append(f"{_how_often(gait.unpaired_contacts)} the same foot seemed to land twice in a row "
                        "(a missed contact or a left/right mix-up); no step was formed across them.")
    if gait.standing_contacts:
        notes.append(f"{_how_often(gait.standing_contacts)} a foot shared most of its contact with the other foot "
                     "(standing, or the set position of a sprint start); no step starts there.")
    if gait.skipped_gaps:
        problems.append(f"{_how_often(gait.skipped_gaps)} two touchdowns were more than {steps.MAX_STEP_TIME_RATIO:.0f} usual "
                        "steps apart (contacts of both feet missed in between); no step was formed across them.")
    if kin.frame is not None and kin.frame.scale_follows_distance and assessment.camera_moving:
        low, high = kin.frame.m_per_px_range
        notes.append(
            f"The camera follows the runner from one spot: the runner's size in the picture changes {high / low:.1f}-fold, "
            "so away from the point where the runner passes the camera the view is oblique and angles and momenta read "
            "less true (on rendered pans, 6–8° off near side-on, 16–50° off at the far ends). "
            "Trust the steps near that point most."
        )
    if kin.sample_rate_hz < 50:
        notes.append(
            f"At {kin.sample_rate_hz:.0f} distinct images per second a sprint contact spans only about "
            f"{0.09 * kin.sample_rate_hz:.0f} frames: timing is uncertain by about {1000 / kin.sample_rate_hz:.0f} ms, "
            "and contact times read short (by about a tenth on rendered 30 fps test clips). Film at 60 fps or more."
        )
    return problems, notes


def _how_often(count: int) -> str:
    """The start of a warning sentence counting occurrences: "Once," or "3 times,"."""
    return "Once," if count == 1 else f"{count} times,"


def _step_means(gait: steps.StepAnalysis) -> tuple[float, float, float, float]:
    """Cadence (steps/min), contact, flight and step time (s): medians over the steps, so
    that one spurious or missed contact does not move them; NaN without steps."""
    if not gait.steps:
        nan = float("nan")
        return nan, nan, nan, nan
    step_time = float(np.median([s.step_time_s for s in gait.steps]))
    return (60.0 / step_time, float(np.median([s.contact_s for s in gait.steps])),
            float(np.median([s.flight_s for s in gait.steps])), step_time)


# ---------------------------------------------------------------------------------------
# Tables (the output contract)
# ---------------------------------------------------------------------------------------

def frames_table(result: AnalysisResult) -> dict[str, np.ndarray]:
    """The columns of frames.csv, one row per analysed frame."""
    track, kin, h, gait, bal = result.pose, result.kinematics, result.momentum, result.steps, result.balance
    cols: dict[str, np.ndarray] = {
        "frame": track.frame_index,
        "time_s": track.time_s,
        "detected": track.detected,
        "push_leg": gait.push_leg,
        "step": gait.step_index,
        "in_contact": gait.in_contact.any(axis=1),
        "left_in_contact": gait.in_contact[:, 0],
        "right_in_contact": gait.in_contact[:, 1],
        "left_foot_height_m": gait.foot_height_m[:, 0],
        "right_foot_height_m": gait.foot_height_m[:, 1],
        "is_repeat": track.is_repeat,
    }
    for name in ANGLE_COLUMNS:
        cols[name] = kin.angles_deg[name]
    per_group = dict(h.groups_kg_m2_s)
    per_group["push_leg"] = bal.push_leg_kg_m2_s
    per_group["swing_leg"] = bal.swing_leg_kg_m2_s
    norm = h.normaliser_kg_m2_s
    for group in outputs.MOMENTUM_GROUPS:
        cols[f"H_{group}_kg_m2_s"] = per_group[group]
    cols["push_drive_kg_m2_s"] = bal.push_drive_kg_m2_s
    cols["swing_counter_kg_m2_s"] = bal.swing_counter_kg_m2_s
    for group in outputs.MOMENTUM_GROUPS:
        cols[f"H_{group}_norm"] = per_group[group] / norm
    cols["push_drive_norm"] = bal.push_drive_kg_m2_s / norm
    cols["swing_counter_norm"] = bal.swing_counter_kg_m2_s / norm
    cols["com_x_m"] = h.com_m[:, 0]
    cols["com_y_m"] = h.com_m[:, 1]
    cols["com_speed_x_m_s"] = h.com_velocity_m_s[:, 0]
    return cols


def step_rows(result: AnalysisResult) -> list[dict[str, Any]]:
    """The rows of steps.csv."""
    norm = result.momentum.normaliser_kg_m2_s
    uncertainty_ms = 1000.0 / result.kinematics.sample_rate_hz
    lengths = steps.step_lengths_m(result.kinematics.points_m, result.kinematics.time_s, result.steps.steps,
                                   usable=_metric_travel_usable(result))
    rows = []
    for b, length in zip(result.balance.steps, lengths):
        s = b.step
        rows.append({
            "step": s.step, "push_leg": s.push_leg,
            "touchdown_frame": s.touchdown_frame, "touchdown_s": s.touchdown_s,
            "toeoff_frame": s.toeoff_frame, "toeoff_s": s.toeoff_s, "next_touchdown_s": s.next_touchdown_s,
            "contact_s": s.contact_s, "flight_s": s.flight_s, "step_time_s": s.step_time_s,
            "step_frequency_hz": s.step_frequency_hz,
            "push_peak_s": b.push_peak_s, "swing_peak_s": b.swing_peak_s, "lag_ms": b.lag_ms,
            "counterbalance_ratio": b.counterbalance_ratio, "flagged": b.flagged, "flag_reason": b.flag_reason,
            "flag_kinds": ";".join(b.flag_kinds), "lag_centroid_ms": b.lag_centroid_ms,
            "swing_shift_ms": b.swing_shift_ms, "lateness": b.lateness,
            "push_leg_shift_ms": b.push_leg_shift_ms, "relative_shift_ms": b.relative_shift_ms,
            "push_peak_kg_m2_s": b.push_peak_kg_m2_s, "swing_peak_kg_m2_s": b.swing_peak_kg_m2_s,
            "push_peak_norm": b.push_peak_kg_m2_s / norm, "swing_peak_norm": b.swing_peak_kg_m2_s / norm,
            "ground_impulse_norm": b.ground_impulse_kg_m2_s / norm,
            "timing_uncertainty_ms": uncertainty_ms,
            "step_length_m": length, "speed_m_s": length / s.step_time_s if np.isfinite(length) else float("nan"),
        })
    return rows


def _finite_mean(values: list[float]) -> float | None:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def _metric_travel_usable(result: AnalysisResult) -> bool:
    """Step length needs a static camera and a runner who travels (not a treadmill)."""
    if result.view.camera_moving or result.view.view != "side":
        return False
    com_x = result.momentum.com_m[:, 0]
    finite = com_x[np.isfinite(com_x)]
    return bool(finite.size and np.ptp(finite) > 0.5 * result.kinematics.height_m)


def summary(result: AnalysisResult) -> dict[str, Any]:
    """The content of summary.json."""
    info, athlete, track, gait, bal = result.video, result.athlete, result.pose, result.steps, result.balance
    cadence, contact, flight, _ = _step_means(gait)
    flags = {kind: 0 for kind in ("swing_lag", "under_counterbalanced", "not_keeping_up")}
    for b in bal.steps:
        for kind in b.flag_kinds:
            flags[kind] += 1
    duration = float(track.time_s[-1] - track.time_s[0]) if track.time_s.size > 1 else 0.0
    distinct = int(np.count_nonzero(~track.is_repeat))
    video_seconds = duration * (info.fps / info.container_fps) if info.fps_source != "container" else duration
    travel_ok = _metric_travel_usable(result)

    return {
        "video": {
            "path": str(info.path), "fps": info.fps, "fps_source": info.fps_source,
            "container_fps": info.container_fps,
            "distinct_images_per_s": (distinct - 1) / video_seconds if video_seconds > 0 else None,
            "repeated_frames": int(np.count_nonzero(track.is_repeat)),
            "frame_count": info.frame_count, "analysed_frames": int(track.time_s.size),
            "duration_s": info.duration_s, "width": info.width, "height": info.height,
            "rotation_deg": info.rotation_deg, "codec": info.codec,
        },
        "athlete": {
            "height_m": result.height_m, "mass_kg": athlete.mass_kg, "sex": athlete.sex,
            "height_given": athlete.height_given, "mass_given": athlete.mass_given, "sex_given": athlete.sex_given,
        },
        "scale": {"source": result.kinematics.frame.scale_source if result.kinematics.frame else "given",
                  "m_per_px": result.kinematics.frame.m_per_px if result.kinematics.frame else None,
                  "direction": "left_to_right" if (result.kinematics.frame and result.kinematics.frame.direction > 0) else "right_to_left",
                  "tilt_deg": float(np.degrees(result.kinematics.frame.tilt_rad)) if result.kinematics.frame else 0.0,
                  "follows_distance": bool(result.kinematics.frame and result.kinematics.frame.scale_follows_distance),
                  "m_per_px_range": list(result.kinematics.frame.m_per_px_range) if result.kinematics.frame else None,
                  "step_length_measured": travel_ok},
        "pose": {
            "model": track.model_name, "flip_test": track.flip_test,
            "flip_test_setting": pose.flip.setting_name(result.settings.flip_test),
            "detected_fraction": float(np.mean(track.detected)),
            "left_right_swaps_fixed": track.left_right_swaps_fixed,
            "legs_collapsed_frames": int(np.sum(track.legs_collapsed)),
            "outlier_landmarks": (int(np.sum(result.kinematics.image_outliers))
                                  if result.kinematics.image_outliers is not None else 0),
            "followed_person": track.followed_person,
            "num_people_max": track.num_people_max, "from_cache": result.pose_from_cache,
        },
        "view": {"view": result.view.view, "camera_moving": result.view.camera_moving,
                 "width_ratio": result.view.width_ratio, "stride_sweep": result.view.stride_sweep},
        "signals": {"sample_rate_hz": result.kinematics.sample_rate_hz, "cutoff_hz": result.kinematics.cutoff_hz,
                    "toeoff_cutoff_hz": result.kinematics.toeoff_cutoff_hz,
                    "depth_model": result.kinematics.depth_method},
        "steps": len(gait.steps),
        "flags": flags,
        "flagged_steps": sum(1 for b in bal.steps if b.flagged),
        "cadence_steps_per_min": cadence,
        "mean_contact_s": contact,
        "mean_flight_s": flight,
        "mean_lag_ms": _finite_mean([b.lag_ms for b in bal.steps]),
        "timing_uncertainty_ms": 1000.0 / result.kinematics.sample_rate_hz,
        "counterbalance": {
            "lag_threshold_ms": bal.lag_threshold_ms,
            "lag_scatter_ms": bal.lag_scatter_ms,
            "centroid_lag_threshold_ms": bal.centroid_lag_threshold_ms,
            "centroid_lag_scatter_ms": bal.centroid_lag_scatter_ms,
            "swing_shift_scatter_ms": bal.swing_shift_scatter_ms,
            "relative_shift_scatter_ms": bal.relative_shift_scatter_ms,
            "lag_rule": "evidence" if np.isfinite(bal.late_relative_shift_min_ms) else "peak_and_bulk",
            "lateness_threshold": LATENESS_LIMIT,
            "late_bulk_min_ms": bal.late_bulk_min_ms,
            "late_relative_shift_min_ms": bal.late_relative_shift_min_ms,
            "ratio_threshold": bal.ratio_limit,
            "ratio_threshold_relative": bal.thresholds.ratio,
            "flags_suppressed": not result.view.counterbalance_trusted,
            "rising_together": dataclasses.asdict(bal.rising),
        },
        "timing_check": dataclasses.asdict(result.timing),
        "warnings": result.warnings + result.notes,
        "problems": result.warnings,
        "versions": {"analyzer": analyzer.__version__, "mediapipe": pose.mediapipe_version(),
                     "python": platform.python_version()},
        "settings_fingerprint": result.settings.fingerprint(result.athlete),
        "stage_seconds": result.stage_seconds,
    }


# ---------------------------------------------------------------------------------------
# The edges: one video file in, the output contract's files out
# ---------------------------------------------------------------------------------------

def analyze_video(
    video_path: Path,
    out_dir: Path,
    settings: Settings,
    athlete: Athlete,
    *,
    source_stamp: dict[str, int] | None = None,
    progress: bool = True,
    progress_position: int | None = None,
) -> dict[str, Any]:
    """Analyse one video into *out_dir*; return the summary written to summary.json.

    Files are written atomically, ``summary.json`` last: its presence means the folder is
    complete. ``landmarks.npz`` (the pose cache) is reused when the video, model and pose
    settings are unchanged.

    Raises:
        video.VideoError, pose.PoseModelError, AnalysisError: with a one-line message.
    """
    from analyzer import report

    t0 = time.perf_counter()
    info = video.probe_video(video_path, fps_override=settings.fps, fps_source=settings.fps_source)
    if settings.start_s is not None and settings.start_s >= info.duration_s:
        raise AnalysisError(f"--start {settings.start_s:g} s is at or after the end of the video ({info.duration_s:.3g} s)")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").unlink(missing_ok=True)  # the folder is incomplete until the end
    track, from_cache = pose.extract_pose_cached(
        info, out_dir / "landmarks.npz", model_path=settings.model_path, start_s=settings.start_s,
        end_s=settings.end_s, max_people=settings.max_people, max_side_px=settings.max_side_px,
        flip_test=settings.flip_test, progress=progress, progress_position=progress_position,
    )
    memory.release_free_heap()  # what the closed landmarkers freed, before the analysis (analyzer.memory)
    pose_seconds = time.perf_counter() - t0
    result = analyse(info, track, athlete, settings, pose_from_cache=from_cache)
    result.stage_seconds = {"decode_and_pose": pose_seconds, **result.stage_seconds}

    t0 = time.perf_counter()
    frames = frames_table(result)
    rows = step_rows(result)
    outputs.write_columns_csv(out_dir / "frames.csv", frames)
    outputs.write_rows_csv(out_dir / "steps.csv", outputs.STEP_COLUMNS, rows)
    result.stage_seconds["tables"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    stills = _write_visuals(result, frames, rows, out_dir)
    result.stage_seconds["overlay_and_stills"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    data = summary(result)
    data["source_stamp"] = source_stamp
    report.ensure_plotly_asset(out_dir.parent)
    report.render_report(data, frames, rows, stills, out_html=out_dir / "report.html",
                         overlay_relpath="overlay.mp4" if settings.overlay else None)
    if not settings.overlay:
        (out_dir / "overlay.mp4").unlink(missing_ok=True)
    result.stage_seconds["report"] = time.perf_counter() - t0
    data["stage_seconds"] = result.stage_seconds
    outputs.write_json(out_dir / "summary.json", data)
    return outputs.to_jsonable(data)


def _write_visuals(result: AnalysisResult, frames: dict[str, np.ndarray], rows: list[dict[str, Any]],
                   out_dir: Path) -> list[Any]:
    """overlay.mp4 (if asked) and the flagged steps' still frames.

    The stills' frames come from the stills cache (:mod:`analyzer.stillcache`) where it
    holds them; the others are kept, at the stills' size, from the overlay's decoding pass,
    or without the overlay decoded alone (:func:`video.read_frames`), and stored in the cache.
    A re-analysis with the pose cached and the same stills therefore decodes no video.
    """
    from analyzer import overlay, stillcache

    track, settings = result.pose, result.settings
    wanted = overlay.still_frame_indices(frames, rows)
    cache = stillcache.StillCache(out_dir, stillcache.cache_prefix(
        pose.video_content_id(result.video.path), settings.max_side_px, overlay.STILL_MAX_SIDE) if wanted else "")
    images = cache.load(wanted)
    missing = set(wanted) - images.keys()
    decoded: dict[int, np.ndarray] = {}

    def overlay_frames() -> Any:
        for frame in video.iter_frames(result.video, settings.start_s, settings.end_s, max_side_px=settings.max_side_px):
            if frame.index in missing:
                decoded[frame.index] = overlay.still_image(frame.image_rgb)
            yield frame.index, frame.image_rgb

    if settings.overlay:
        overlay.write_overlay(overlay_frames(), track.image_xy_px * _decode_scale(result), track.visibility, frames,
                              rows, result.video.fps, out_dir / "overlay.mp4")
    elif missing:
        decoded.update((index, overlay.still_image(image)) for index, image in
                       video.read_frames(result.video, missing, max_side_px=settings.max_side_px))
    images.update(cache.store(decoded))
    cache.keep_only(wanted)  # drops an earlier run's other frames
    if not images:
        return []
    # the landmarks (upright full-size pixels) in the pixels of the frames as kept
    height, width = next(iter(images.values())).shape[:2]
    xy = track.image_xy_px * np.array([width / result.video.width, height / result.video.height])
    return overlay.still_frames(images, xy, track.visibility, frames, rows)


def _decode_scale(result: AnalysisResult) -> float:
    """The factor iter_frames(max_side_px) applies to this video's upright frames."""
    long_side = max(result.video.width, result.video.height)
    limit = result.settings.max_side_px
    return 1.0 if not limit or long_side <= limit else limit / long_side
