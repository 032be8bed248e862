"""A synthetic example run in the pipeline's exact structures: for tests and design previews.

It is not a physical simulation: the step timing is regular, the push and swing curves are
smooth bumps at the chosen peaks, and the stick figure's legs follow a textbook running
cycle. It exists so the report, index, overlay and stills can be built, tested and looked
at without a video or the analysis.

    python -m analyzer.report.example OUT [--seconds 10] [--fps 60] [--no-overlay]

writes ``OUT/<stem>/report.html`` (with ``overlay.mp4``) and ``OUT/index.html``.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from analyzer.counterbalance import late_by_both
from analyzer.landmarks import INDEX, NUM_LANDMARKS, SIDES

#: Flag thresholds the example uses (the analysis owns the real ones and the rule,
#: :func:`analyzer.counterbalance.late_by_both`).
LAG_THRESHOLD_MS = 40.0
CENTROID_LAG_THRESHOLD_MS = 10.0
RATIO_THRESHOLD = 0.80

_STEP_TIME_S = 0.225
_CONTACT_S = 0.105
_PEAK_WIDTH_S = 0.032
_TOP_SPEED_STEP = 20  # the push side stops growing here
_NORM_TO_SI = 21.0  # kg·m²/s per normalised unit, for a 70 kg, 1.75 m runner


@dataclass
class ExampleRun:
    """Everything the pipeline would hand to the report and overlay for one clip."""

    summary: dict[str, Any]
    frames: dict[str, np.ndarray]
    steps: list[dict[str, Any]]
    xy_px: np.ndarray  # (N, 33, 2)
    visibility: np.ndarray  # (N, 33)
    width: int
    height: int
    _background: np.ndarray | None = field(default=None, repr=False)

    @property
    def frame_indices(self) -> np.ndarray:
        return self.frames["frame"]

    def image(self, frame: int) -> np.ndarray:
        """The synthetic video frame *frame*: a track and a dark mannequin (RGB uint8)."""
        if self._background is None:
            self._background = _track_background(self.width, self.height)
        image = self._background.copy()
        row = int(np.searchsorted(self.frames["frame"], frame))
        _draw_mannequin(image, self.xy_px[row])
        return image

    def images(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(frame, image)`` for the whole clip, as a decoder would yield them."""
        for frame in self.frames["frame"]:
            yield int(frame), self.image(int(frame))


# ----------------------------------------------------------------------------- timing and momenta


def _bump(t: np.ndarray, centre: float, height: float) -> np.ndarray:
    return height * np.exp(-0.5 * ((t - centre) / _PEAK_WIDTH_S) ** 2)


def _plan_steps(duration_s: float, faults: dict[int, str], stop_step: int | None,
                rng: np.random.Generator) -> list[dict[str, Any]]:
    """Step rows with timing, peaks and flags (thresholds applied as the analysis would)."""
    steps: list[dict[str, Any]] = []
    touchdown = 0.18
    number = 1
    while touchdown + _STEP_TIME_S < duration_s - 0.05:
        step_time = _STEP_TIME_S * (1 + rng.normal(0, 0.025))
        contact = _CONTACT_S * (1 + rng.normal(0, 0.04)) + (0.02 if faults.get(number) == "swing_lag" else 0)
        push_peak_s = touchdown + 0.45 * contact
        push_peak = 0.55 + 0.035 * min(number, _TOP_SPEED_STEP) + rng.normal(0, 0.02)
        ratio = 0.97 + rng.normal(0, 0.04)
        lag_ms = 14 + rng.normal(0, 6)
        if stop_step is not None and number >= stop_step:
            ratio = (0.55 + 0.035 * stop_step) / push_peak * (0.98 + rng.normal(0, 0.02))  # levels off
        if faults.get(number) in ("swing_lag", "both"):
            lag_ms = 58 + rng.normal(0, 5)
        if faults.get(number) in ("under_counterbalanced", "both"):
            ratio = 0.64 + rng.normal(0, 0.03)
        lag_ms, ratio = round(lag_ms, 1), round(ratio, 3)
        lag_centroid_ms = round(lag_ms / 3 + rng.normal(0, 2), 1)  # the bulk moves by part of a peak's lag
        kinds = []
        if late_by_both(lag_ms, lag_centroid_ms, LAG_THRESHOLD_MS, CENTROID_LAG_THRESHOLD_MS):
            kinds.append("swing_lag")
        if ratio < RATIO_THRESHOLD:
            kinds.append("under_counterbalanced")
        if number == stop_step:
            kinds.append("not_keeping_up")
        reasons = {
            "swing_lag": f"the swing side peaked {lag_ms:.0f} ms after the push side",
            "under_counterbalanced": f"the swing side reached only {ratio:.2f} of the push side",
            "not_keeping_up": "the swing side stopped rising with the push side",
        }
        next_touchdown = touchdown + step_time
        toeoff = touchdown + contact
        steps.append({
            "step": number,
            "push_leg": "right" if number % 2 else "left",
            "touchdown_s": round(touchdown, 4),
            "toeoff_s": round(toeoff, 4),
            "next_touchdown_s": round(next_touchdown, 4),
            "contact_s": round(contact, 4),
            "flight_s": round(step_time - contact, 4),
            "step_time_s": round(step_time, 4),
            "step_frequency_hz": round(1.0 / step_time, 3),
            "push_peak_s": round(push_peak_s, 4),
            "swing_peak_s": round(push_peak_s + lag_ms / 1000.0, 4),
            "lag_ms": lag_ms,
            "lag_centroid_ms": lag_centroid_ms,
            "counterbalance_ratio": ratio,
            "flagged": bool(kinds),
            "flag_reason": ("Flagged because " + " and ".join(reasons[k] for k in kinds) + ".") if kinds else "",
            "flag_kinds": ";".join(kinds),
            "push_peak_norm": round(push_peak, 3),
            "swing_peak_norm": round(push_peak * ratio, 3),
            "step_length_m": round(2.05 + 0.03 * number, 2),
            "speed_m_s": round((2.05 + 0.03 * number) / step_time, 2),
        })
        touchdown = next_touchdown
        number += 1
    return steps


def _frames_table(time_s: np.ndarray, steps: Sequence[dict[str, Any]], fps: float,
                  start_frame: int) -> dict[str, np.ndarray]:
    n = time_s.size
    push_leg = np.full(n, "", dtype=object)
    step = np.full(n, -1, dtype=np.int64)
    in_contact = np.zeros(n, dtype=bool)
    push = np.zeros(n)
    swing = np.zeros(n)
    sigma = np.zeros(n)  # +1 while the right leg pushes, -1 for the left (METHOD §2)
    for s in steps:
        inside = (time_s >= s["touchdown_s"]) & (time_s < s["next_touchdown_s"])
        push_leg[inside] = s["push_leg"]
        step[inside] = s["step"]
        sigma[inside] = 1.0 if s["push_leg"] == "right" else -1.0
        in_contact |= (time_s >= s["touchdown_s"]) & (time_s < s["toeoff_s"])
        push += _bump(time_s, s["push_peak_s"], s["push_peak_norm"])
        swing += _bump(time_s, s["swing_peak_s"], s["swing_peak_norm"])
    frames: dict[str, np.ndarray] = {
        "frame": np.arange(start_frame, start_frame + n),
        "time_s": time_s,
        "detected": np.ones(n, dtype=bool),
        "push_leg": push_leg.astype(str),
        "step": step,
        "in_contact": in_contact,
    }
    groups = {
        "arms": sigma * push * 0.45,
        "torso": sigma * push * 0.20,
        "push_leg": sigma * push * 0.35,
        "swing_leg": -sigma * swing,
    }
    groups["whole_body"] = sum(groups.values())
    right_pushes = sigma > 0
    groups["left_arm"] = groups["right_arm"] = groups["arms"] / 2
    groups["left_leg"] = np.where(right_pushes, groups["swing_leg"], groups["push_leg"])
    groups["right_leg"] = np.where(right_pushes, groups["push_leg"], groups["swing_leg"])
    for name, values in groups.items():
        frames[f"H_{name}_norm"] = values
        frames[f"H_{name}_kg_m2_s"] = values * _NORM_TO_SI
    for name, values in (("push_drive", push), ("swing_counter", swing)):
        frames[f"{name}_norm"] = values
        frames[f"{name}_kg_m2_s"] = values * _NORM_TO_SI
    return frames


# ----------------------------------------------------------------------------- running cycle


def _leg_phase(time_s: np.ndarray, steps: Sequence[dict[str, Any]], side: str) -> np.ndarray:
    """Each leg's phase in its stride, 0 at its own touchdown (stance ~0-0.24), wrapping at 1."""
    own = [s["touchdown_s"] for s in steps if s["push_leg"] == side]
    if not own:
        return np.zeros_like(time_s)
    stride = 2 * _STEP_TIME_S
    starts = np.concatenate([[own[0] - stride * k for k in range(3, 0, -1)], own,
                             [own[-1] + stride * k for k in range(1, 4)]])
    idx = np.clip(np.searchsorted(starts, time_s, side="right") - 1, 0, starts.size - 2)
    return (time_s - starts[idx]) / (starts[idx + 1] - starts[idx])


def _angles(time_s: np.ndarray, steps: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Joint angles (degrees, METHOD §3 conventions) of a textbook sprint cycle."""
    out: dict[str, np.ndarray] = {}
    lean = 14 + 2 * np.sin(2 * np.pi * time_s / _STEP_TIME_S)
    thigh = {}
    for side in SIDES:
        p = _leg_phase(time_s, steps, side)
        thigh[side] = 15 + 45 * np.cos(2 * np.pi * (p - 0.8))
        knee = 70 + 55 * np.cos(2 * np.pi * (p - 0.5))
        out[f"thigh_angle_{side}_deg"] = thigh[side]
        out[f"hip_flexion_{side}_deg"] = thigh[side] + lean
        out[f"knee_flexion_{side}_deg"] = knee
        out[f"ankle_dorsiflexion_{side}_deg"] = 5 + 15 * np.sin(2 * np.pi * (p - 0.1))
        out[f"shoulder_flexion_{side}_deg"] = -1.1 * (thigh[side] - 15) + lean
        out[f"elbow_flexion_{side}_deg"] = 85 + 20 * np.sin(2 * np.pi * p)
    out["trunk_lean_deg"] = lean
    out["inter_thigh_angle_deg"] = np.abs(thigh["left"] - thigh["right"])
    out["pelvis_rotation_deg"] = 0.2 * (thigh["right"] - thigh["left"])
    out["thorax_rotation_deg"] = -0.15 * (thigh["right"] - thigh["left"])
    return out


def _from(origin: np.ndarray, angle_deg: np.ndarray, length: float) -> np.ndarray:
    """Image point at *length* px from *origin* along METHOD's angle (from straight down, + forward).

    The runner runs to the right, so forward is +x and down is +y in the image.
    """
    a = np.radians(angle_deg)
    return origin + length * np.stack([np.sin(a), np.cos(a)], axis=-1)


def _pose(time_s: np.ndarray, angles: dict[str, np.ndarray], width: int, height: int,
          duration_s: float) -> np.ndarray:
    """(N, 33, 2) landmark pixels of a stick runner crossing the frame left to right."""
    n = time_s.size
    body = 0.62 * height
    xy = np.zeros((n, NUM_LANDMARKS, 2))
    progress = time_s / max(duration_s, 1e-9)
    hip_x = width * (0.12 + 0.76 * progress)
    hip_y = height * 0.50 + 0.012 * height * np.cos(2 * np.pi * time_s / _STEP_TIME_S * 1.0)
    mid_hip = np.stack([hip_x, hip_y], axis=-1)
    lean = angles["trunk_lean_deg"]
    mid_shoulder = _from(mid_hip, 180 - lean, 0.30 * body)  # up and forward by the lean
    for k, side in enumerate(SIDES):
        depth = (-1) ** k * 0.006 * width  # the far side sits a little behind
        hip = mid_hip + np.array([depth, 0])
        thigh = angles[f"thigh_angle_{side}_deg"]
        knee = _from(hip, thigh, 0.245 * body)
        shank_angle = thigh - angles[f"knee_flexion_{side}_deg"]
        ankle = _from(knee, shank_angle, 0.245 * body)
        foot_angle = shank_angle + 90 + angles[f"ankle_dorsiflexion_{side}_deg"]
        heel = _from(ankle, foot_angle + 180, 0.035 * body)
        toe = _from(ankle, foot_angle, 0.10 * body)
        shoulder = mid_shoulder + np.array([depth, 0])
        upper = angles[f"shoulder_flexion_{side}_deg"] - lean  # θ(elbow - shoulder), METHOD §3
        elbow = _from(shoulder, upper, 0.17 * body)
        wrist = _from(elbow, upper + angles[f"elbow_flexion_{side}_deg"], 0.15 * body)
        hand = _from(wrist, upper + angles[f"elbow_flexion_{side}_deg"], 0.04 * body)
        for part, point in (("hip", hip), ("knee", knee), ("ankle", ankle), ("heel", heel),
                            ("foot_index", toe), ("shoulder", shoulder), ("elbow", elbow),
                            ("wrist", wrist), ("pinky", hand), ("index", hand), ("thumb", hand)):
            xy[:, INDEX[f"{side}_{part}"]] = point
    head = _from(mid_shoulder, 180 - lean * 0.6, 0.13 * body)
    xy[:, INDEX["nose"]] = head + np.array([0.045 * body, 0.01 * body])
    for name in ("left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
                 "right_eye_outer", "mouth_left", "mouth_right"):
        xy[:, INDEX[name]] = head + np.array([0.035 * body, -0.005 * body])
    xy[:, INDEX["left_ear"]] = xy[:, INDEX["right_ear"]] = head
    return xy


def _track_background(width: int, height: int) -> np.ndarray:
    image = np.empty((height, width, 3), np.uint8)
    horizon = int(height * 0.42)
    sky = np.linspace([198, 214, 228], [232, 238, 242], horizon)
    image[:horizon] = sky[:, None, :].astype(np.uint8)
    image[horizon:] = (176, 84, 62)  # a red synthetic track
    for k, y in enumerate(np.linspace(horizon + 0.05 * height, height, 5)):
        cv2.line(image, (0, int(y)), (width, int(y)), (238, 232, 226), max(1, k + 1), cv2.LINE_AA)
    cv2.rectangle(image, (0, horizon - int(0.05 * height)), (width, horizon), (120, 140, 120), -1)
    return image


def _draw_mannequin(image: np.ndarray, xy: np.ndarray) -> None:
    """Thick dark limbs and a head, standing in for a filmed runner."""
    h = image.shape[0]
    thick = max(3, int(0.028 * h))
    colour = (52, 48, 58)
    for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle"),
                 ("heel", "foot_index"), ("shoulder", "hip")):
        for side in SIDES:
            pa, pb = xy[INDEX[f"{side}_{a}"]], xy[INDEX[f"{side}_{b}"]]
            cv2.line(image, tuple(int(v) for v in pa), tuple(int(v) for v in pb), colour, thick, cv2.LINE_AA)
    head = xy[INDEX["left_ear"]]
    cv2.circle(image, (int(head[0]), int(head[1])), int(0.04 * h), colour, -1, cv2.LINE_AA)


# ----------------------------------------------------------------------------- the run


def example_run(
    duration_s: float = 5.0,
    fps: float = 60.0,
    *,
    faults: dict[int, str] | None = None,
    stop_step: int | None = 14,
    video_path: str = "sessions/Ana's 60 m \"flying\" – Ørsta <2024>.mp4",
    width: int = 960,
    height: int = 540,
    start_frame: int = 0,
    seed: int = 7,
) -> ExampleRun:
    """A synthetic run: steps every ~0.225 s, some faults, and the swing side levelling off.

    Args:
        duration_s, fps: clip length and frame rate.
        faults: step number -> ``"swing_lag"``, ``"under_counterbalanced"`` or ``"both"``
            (default: steps 3, 7 and 10).
        stop_step: from this step on the swing side stops keeping up (``None``: never).
        video_path: the name the summary reports (by default full of characters to escape).
        width, height: the synthetic video's size.
        start_frame: the first frame's index (as after ``--start``).
        seed: random seed for the step-to-step variation.
    """
    rng = np.random.default_rng(seed)
    faults = {3: "swing_lag", 7: "under_counterbalanced", 10: "both"} if faults is None else faults
    n = int(round(duration_s * fps))
    time_s = (start_frame + np.arange(n)) / fps
    steps = _plan_steps(float(time_s[-1]) if n else 0.0, faults, stop_step, rng)
    steps = [s for s in steps if s["touchdown_s"] >= time_s[0]] if n else []
    frames = _frames_table(time_s, steps, fps, start_frame)
    angles = _angles(time_s, steps)
    frames.update(angles)
    xy = _pose(time_s - time_s[0] if n else time_s, angles, width, height, duration_s)
    visibility = np.full((n, NUM_LANDMARKS), 0.95)
    visibility[:, [INDEX[f"right_{p}"] for p in ("elbow", "wrist", "pinky", "index", "thumb")]] = 0.7
    flags = {k: sum(k in s["flag_kinds"].split(";") for s in steps)
             for k in ("swing_lag", "under_counterbalanced", "not_keeping_up")}
    push = np.array([s["push_peak_norm"] for s in steps])
    swing = np.array([s["swing_peak_norm"] for s in steps])
    fit = len(steps) >= 3
    slope = float(np.polyfit(push, swing, 1)[0]) if fit else None
    correlation = float(np.corrcoef(push, swing)[0, 1]) if fit else None
    stop = stop_step if stop_step is not None and any(s["step"] >= stop_step for s in steps) else None
    sentence = (f"The swing side rose with the push side until step {stop}, then stopped keeping up: "
                "its peaks levelled off while the push side kept rising." if stop is not None else
                "The swing side rose with the push side throughout the run.")
    contact = [s["contact_s"] for s in steps]
    flight = [s["flight_s"] for s in steps]
    summary: dict[str, Any] = {
        "video": {"path": video_path, "fps": fps, "fps_source": "container",
                  "distinct_images_per_s": fps, "frame_count": n, "duration_s": n / fps,
                  "width": width, "height": height, "rotation_deg": 0},
        "athlete": {"height_m": 1.75, "mass_kg": 70.0, "sex": "female",
                    "height_given": False, "mass_given": False, "sex_given": True},
        "pose": {"model": "pose_landmarker_full", "detected_fraction": 0.987, "left_right_swaps_fixed": 2},
        "view": {"view": "side", "camera_moving": False},
        "steps": len(steps),
        "flags": flags,
        "cadence_steps_per_min": 60.0 / float(np.mean([s["step_time_s"] for s in steps])) if steps else None,
        "mean_contact_s": float(np.mean(contact)) if steps else None,
        "mean_flight_s": float(np.mean(flight)) if steps else None,
        "warnings": [
            "Height and mass were not given, so the defaults (1.75 m, 70 kg) scale the body model.",
            "The runner fills only about a third of the frame height; film closer for sharper joints.",
        ],
        "versions": {"analyzer": "0.1.0", "mediapipe": "example", "python": "3.11"},
        "counterbalance": {
            "lag_threshold_ms": LAG_THRESHOLD_MS,
            "centroid_lag_threshold_ms": CENTROID_LAG_THRESHOLD_MS,
            "ratio_threshold": RATIO_THRESHOLD,
            "rising_together": {"slope": slope, "correlation": correlation,
                                "stops_keeping_up_at_step": stop, "sentence": sentence},
        },
        "timing_uncertainty_ms": round(1000.0 / fps / 2, 1),
    }
    return ExampleRun(summary, frames, steps, xy, visibility, width, height)


def main(argv: Sequence[str] | None = None) -> int:
    """Write an example report, overlay and index (a design preview)."""
    from analyzer.overlay import still_frame_indices, still_frames, write_overlay
    from analyzer.report import render_index, render_report

    parser = argparse.ArgumentParser(prog="python -m analyzer.report.example", description=main.__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=60.0)
    parser.add_argument("--size", default="1280x720", help="synthetic video size, WxH")
    parser.add_argument("--no-overlay", action="store_true")
    parser.add_argument("--inline", action="store_true", help="embed plotly.js in the report")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    run = example_run(args.seconds, args.fps, width=width, height=height)
    stem = "example run"
    folder = args.out / stem
    wanted = still_frame_indices(run.frames, run.steps)
    stills = still_frames({f: run.image(f) for f in wanted}, run.xy_px, run.visibility, run.frames, run.steps)
    overlay = None
    if not args.no_overlay:
        started = time.perf_counter()
        count = write_overlay(run.images(), run.xy_px, run.visibility, run.frames, run.steps, args.fps,
                              folder / "overlay.mp4")
        took = time.perf_counter() - started
        print(f"overlay: {count} frames in {took:.1f} s ({count / took:.0f} frames/s)")
        overlay = "overlay.mp4"
    started = time.perf_counter()
    report = render_report(run.summary, run.frames, run.steps, stills, out_html=folder / "report.html",
                           plotly_js="inline" if args.inline else "shared", overlay_relpath=overlay)
    print(f"report: {report} ({report.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - started:.2f} s")
    steps = run.summary["steps"]
    rows = [
        {"video": "example run.mp4", "status": "ok", "message": "", "steps": steps,
         "flagged_steps": sum(s["flagged"] for s in run.steps),
         "cadence_steps_per_min": run.summary["cadence_steps_per_min"],
         "mean_contact_s": run.summary["mean_contact_s"], "report": f"{stem}/report.html",
         "mean_lag_ms": float(np.mean([s["lag_ms"] for s in run.steps])), "view": "side",
         "warnings": run.summary["warnings"]},
        {"video": "front view.mov", "status": "ok", "message": "", "steps": 12, "flagged_steps": 7,
         "cadence_steps_per_min": 251.0, "mean_contact_s": 0.128, "report": "front view/report.html",
         "mean_lag_ms": 31.0, "view": "front",
         "warnings": ["Filmed from the front: the counterbalance needs a side view; treat these numbers as rough."]},
        {"video": "broken.mp4", "status": "error", "message": "The file could not be decoded (moov atom not found).",
         "steps": "", "flagged_steps": "", "cadence_steps_per_min": "", "mean_contact_s": "", "report": "",
         "mean_lag_ms": None, "view": "", "warnings": []},
        {"video": "notes.txt", "status": "skipped", "message": "Not a video file.", "steps": "",
         "flagged_steps": "", "cadence_steps_per_min": "", "mean_contact_s": "", "report": "",
         "mean_lag_ms": None, "view": "", "warnings": []},
    ]
    print(f"index: {render_index(rows, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
