#!/usr/bin/env python3
"""Score the full pipeline (pose model included) on synthetic clips against their exact truth.

    python scripts/score_synthetic.py                       # the clips in sample_videos/
    python scripts/score_synthetic.py clip.mp4 --truth clip.truth.json
    python scripts/score_synthetic.py --validation          # + a set of other seeds, speeds, lags
    python scripts/score_synthetic.py --exact-points        # the truth's image points, no pose model error
    python scripts/score_synthetic.py --flip-test           # the pose with the flip test (analyzer/pose/flip.py)
    python scripts/score_synthetic.py --no-flip-test        # one pose pass everywhere

Prints, per clip: detection, event errors (frames), joint-angle RMS error, group angular
momentum agreement (correlation, RMS error as a share of the true peak), the model's push
and swing quantities under the true roles, per-step lags against injected delays, and the
swing_lag flags' precision, recall and F1, and the figures pooled over all clips scored.
Pose results are cached in --cache. ``--validation`` renders (once, into the cache folder)
and adds the clips of :data:`VALIDATION_SET`: other seeds, speeds, frame rates (30, 60,
120 fps), cameras and injected lags than the samples, so that tuning on the samples is
checked on clips it never saw. ``--exact-points`` feeds the truth's exact image points in
place of the pose model's: what is left is the error of every stage after the pose model.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from analyzer import pipeline, pose, video  # noqa: E402
from analyzer.athlete import Athlete  # noqa: E402
from analyzer.synthetic.clips import ClipSpec, make_clip  # noqa: E402
from analyzer.synthetic.motion import SprinterParams, faults_on_leg  # noqa: E402
from analyzer.synthetic.render import RenderOptions  # noqa: E402
from analyzer.synthetic.scoring import Score, exact_image_points, pooled_f1, score  # noqa: E402
from analyzer.synthetic.truth import GroundTruth, load_truth  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: Clips scored with ``--validation`` (never used to tune anything before they were scored).
VALIDATION_SET: dict[str, ClipSpec] = {
    "val_right_lag50_60fps_track": ClipSpec(
        params=SprinterParams(faults=faults_on_leg("right", steps=range(1, 13, 3), swing_delay_ms=50.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="stadium", seed=21)),
    "val_left_lag55_60fps_pan": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.3, faults=faults_on_leg("left", steps=range(2, 13, 4), swing_delay_ms=55.0)),
        fps=60.0, duration_s=3.0, camera="pan", camera_side="left", distance_m=8.0,
        render=RenderOptions(background="plain", seed=22)),
    "val_balanced_fast_60fps_park": ClipSpec(
        params=SprinterParams(top_speed_m_s=10.0, step_frequency_hz=4.6),
        fps=60.0, duration_s=3.0, camera="track", camera_side="left", distance_m=6.0,
        render=RenderOptions(background="park", seed=23)),
    "val_right_lag33_120fps_track": ClipSpec(
        params=SprinterParams(faults=faults_on_leg("right", steps=range(1, 13, 4), swing_delay_ms=33.0)),
        fps=120.0, duration_s=2.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="stadium", seed=24)),
    "val_balanced_slow_30fps_pan": ClipSpec(
        params=SprinterParams(top_speed_m_s=8.0, step_frequency_hz=4.0),
        fps=30.0, duration_s=4.0, camera="pan", camera_side="right", distance_m=9.0,
        render=RenderOptions(background="stadium", seed=26)),
    # Rendered later (session 13) and scored before anything was chosen on them; the choice
    # of the swing_lag rule was made on the clips above and then checked here.
    "ho_left_lag45_60fps_track": ClipSpec(
        params=SprinterParams(faults=faults_on_leg("left", steps=range(2, 13, 3), swing_delay_ms=45.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="left", distance_m=6.5,
        render=RenderOptions(background="park", seed=41)),
    "ho_right_lag40_60fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.4, faults=faults_on_leg("right", steps=range(1, 13, 4), swing_delay_ms=40.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=7.0,
        render=RenderOptions(background="stadium", seed=42)),
    "ho_left_lag50_30fps_track": ClipSpec(
        params=SprinterParams(faults=faults_on_leg("left", steps=range(1, 13, 3), swing_delay_ms=50.0)),
        fps=30.0, duration_s=4.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="plain", seed=43)),
    "ho_balanced_60fps_track": ClipSpec(
        params=SprinterParams(top_speed_m_s=9.5),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="stadium", seed=44)),
    # Named ho_right_lag55_60fps_pan until session 17: its delays were asked of steps in which
    # the right leg never swings, so it carried none (faults_on_leg now refuses such a request).
    "ho_balanced_60fps_pan": ClipSpec(
        params=SprinterParams(),
        fps=60.0, duration_s=3.0, camera="pan", camera_side="right", distance_m=7.0,
        render=RenderOptions(background="park", seed=45)),
    "ho_balanced_120fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.5),
        fps=120.0, duration_s=2.0, camera="track", camera_side="left", distance_m=6.0,
        render=RenderOptions(background="plain", seed=46)),
    # Rendered in session 17 after the swing shift's band (SHIFT_BAND_STEP_FREQUENCIES) was
    # chosen on the clips above; scored with and without it (the same flags either way).
    "h2_right_lag50_60fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.3, faults=faults_on_leg("right", steps=range(2, 13, 3), swing_delay_ms=50.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=6.5,
        render=RenderOptions(background="stadium", seed=61)),
    "h2_balanced_small_60fps_track": ClipSpec(
        params=SprinterParams(height_m=1.72, mass_kg=66.0, top_speed_m_s=9.0, step_frequency_hz=4.6),
        fps=60.0, duration_s=3.0, camera="track", camera_side="left", distance_m=6.0,
        render=RenderOptions(background="park", seed=62)),
    "h2_balanced_60fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.5, top_speed_m_s=9.8),
        fps=60.0, duration_s=3.0, camera="track", camera_side="left", distance_m=7.0,
        render=RenderOptions(background="plain", seed=63)),
    "h2_balanced_30fps_stadium": ClipSpec(
        params=SprinterParams(),
        fps=30.0, duration_s=4.0, camera="track", camera_side="right", distance_m=6.5,
        render=RenderOptions(background="stadium", seed=64)),
    "h2_balanced_30fps_track": ClipSpec(
        params=SprinterParams(height_m=1.75, mass_kg=70.0, step_frequency_hz=4.2, top_speed_m_s=9.0),
        fps=30.0, duration_s=4.0, camera="track", camera_side="left", distance_m=6.0,
        render=RenderOptions(background="park", seed=65)),
    "h2_right_lag30_120fps_track": ClipSpec(
        params=SprinterParams(faults=faults_on_leg("right", steps=range(2, 9, 3), swing_delay_ms=30.0)),
        fps=120.0, duration_s=2.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="plain", seed=66)),
    "h2_right_lag50_60fps_pan": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.2, faults=faults_on_leg("right", steps=range(1, 13, 4), swing_delay_ms=50.0)),
        fps=60.0, duration_s=3.0, camera="pan", camera_side="right", distance_m=8.0,
        render=RenderOptions(background="stadium", seed=67)),
    "h2_left_lag35_60fps_near": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.4, faults=faults_on_leg("left", steps=range(3, 13, 3), swing_delay_ms=35.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="left", distance_m=5.5,
        render=RenderOptions(background="stadium", seed=68)),
    # Rendered in session 19, before the swing_lag rule was revisited, to judge any change
    # to it on clips it never saw (docs/METHOD.md, section 6).
    "h3_left_lag40_60fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.5, faults=faults_on_leg("left", steps=range(2, 13, 4), swing_delay_ms=40.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=6.5,
        render=RenderOptions(background="park", seed=71)),
    "h3_right_lag45_60fps_track": ClipSpec(
        params=SprinterParams(height_m=1.80, mass_kg=76.0, faults=faults_on_leg("right", steps=range(1, 13, 4), swing_delay_ms=45.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="left", distance_m=6.5,
        render=RenderOptions(background="stadium", seed=72)),
    "h3_balanced_60fps_park": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.7, top_speed_m_s=10.2),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=6.5,
        render=RenderOptions(background="park", seed=73)),
    "h3_left_lag50_60fps_far": ClipSpec(
        params=SprinterParams(faults=faults_on_leg("left", steps=range(4, 13, 4), swing_delay_ms=50.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="left", distance_m=8.0,
        render=RenderOptions(background="plain", seed=74)),
    "h3_right_lag35_60fps_track": ClipSpec(
        params=SprinterParams(height_m=1.74, mass_kg=64.0, step_frequency_hz=4.6,
                              faults=faults_on_leg("right", steps=range(2, 13, 3), swing_delay_ms=35.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="stadium", seed=75)),
    "h3_balanced_30fps_park": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.4),
        fps=30.0, duration_s=4.0, camera="track", camera_side="left", distance_m=6.5,
        render=RenderOptions(background="park", seed=76)),
    "h3_left_lag50_30fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.2, faults=faults_on_leg("left", steps=range(2, 17, 4), swing_delay_ms=50.0)),
        fps=30.0, duration_s=4.0, camera="track", camera_side="right", distance_m=6.5,
        render=RenderOptions(background="plain", seed=77)),
    "h3_right_lag40_120fps_track": ClipSpec(
        params=SprinterParams(faults=faults_on_leg("right", steps=range(1, 9, 3), swing_delay_ms=40.0)),
        fps=120.0, duration_s=2.0, camera="track", camera_side="left", distance_m=6.0,
        render=RenderOptions(background="stadium", seed=78)),
    "h3_balanced_60fps_pan": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.4),
        fps=60.0, duration_s=3.0, camera="pan", camera_side="right", distance_m=8.0,
        render=RenderOptions(background="park", seed=79)),
    # Rendered in session 19 once the female sprinter could be simulated, after the swing_lag
    # rule's limits were set: de Leva's female table end to end, scored once.
    "h4_female_right_lag45_60fps_track": ClipSpec(
        params=SprinterParams(sex="female", height_m=1.68, mass_kg=58.0, top_speed_m_s=8.5, step_frequency_hz=4.6,
                              faults=faults_on_leg("right", steps=range(1, 13, 4), swing_delay_ms=45.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="stadium", seed=81)),
    "h4_female_balanced_60fps_track": ClipSpec(
        params=SprinterParams(sex="female", height_m=1.65, mass_kg=55.0, top_speed_m_s=8.0, step_frequency_hz=4.5),
        fps=60.0, duration_s=3.0, camera="track", camera_side="left", distance_m=6.0,
        render=RenderOptions(background="park", seed=82)),
    # Rendered in session 21, after the flip test's merge (analyzer/pose/flip.py) was chosen on
    # all the clips above, to score it once on clips it never saw (docs/METHOD.md, section 8).
    "h5_right_lag45_60fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.5, faults=faults_on_leg("right", steps=range(1, 13, 4), swing_delay_ms=45.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=6.5,
        render=RenderOptions(background="stadium", seed=91)),
    "h5_left_lag40_60fps_track": ClipSpec(
        params=SprinterParams(height_m=1.76, mass_kg=72.0, faults=faults_on_leg("left", steps=range(2, 13, 4), swing_delay_ms=40.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="left", distance_m=6.0,
        render=RenderOptions(background="park", seed=92)),
    "h5_balanced_60fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.3, top_speed_m_s=9.2),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=7.0,
        render=RenderOptions(background="plain", seed=93)),
    "h5_left_lag50_120fps_track": ClipSpec(
        params=SprinterParams(faults=faults_on_leg("left", steps=range(2, 9, 3), swing_delay_ms=50.0)),
        fps=120.0, duration_s=2.0, camera="track", camera_side="left", distance_m=6.0,
        render=RenderOptions(background="stadium", seed=94)),
    "h5_right_lag50_30fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.3, faults=faults_on_leg("right", steps=range(1, 17, 4), swing_delay_ms=50.0)),
        fps=30.0, duration_s=4.0, camera="track", camera_side="left", distance_m=6.5,
        render=RenderOptions(background="park", seed=95)),
    # Rendered in session 23, before the contact refinement's margin at coarse sampling
    # (analyzer/steps.py) was chosen on the 30 fps clips above, to check that choice on 30 fps
    # clips it never saw (docs/METHOD.md, section 5).
    "h6_female_right_lag45_30fps_track": ClipSpec(
        params=SprinterParams(sex="female", height_m=1.66, mass_kg=56.0, top_speed_m_s=8.2, step_frequency_hz=4.4,
                              faults=faults_on_leg("right", steps=range(1, 17, 4), swing_delay_ms=45.0)),
        fps=30.0, duration_s=4.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="stadium", seed=101)),
    "h6_left_lag50_30fps_track": ClipSpec(
        params=SprinterParams(height_m=1.84, mass_kg=80.0, step_frequency_hz=4.1, top_speed_m_s=9.0,
                              faults=faults_on_leg("left", steps=range(2, 17, 4), swing_delay_ms=50.0)),
        fps=30.0, duration_s=4.0, camera="track", camera_side="left", distance_m=6.5,
        render=RenderOptions(background="plain", seed=102)),
    "h6_balanced_30fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.6, top_speed_m_s=10.0, contact_fraction=0.38),
        fps=30.0, duration_s=4.0, camera="track", camera_side="left", distance_m=7.0,
        render=RenderOptions(background="park", seed=103)),
    "h6_balanced_30fps_pan": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.4),
        fps=30.0, duration_s=4.0, camera="pan", camera_side="right", distance_m=9.0,
        render=RenderOptions(background="park", seed=104)),
    # Specified in session 26, before the swing_lag rule was revisited again (a third timing
    # measure, the swing leg against the push leg), to score the revised rule once on clips
    # it never saw (docs/METHOD.md, section 6).
    "h7_left_lag45_60fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.4, faults=faults_on_leg("left", steps=range(2, 13, 4), swing_delay_ms=45.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=6.5,
        render=RenderOptions(background="stadium", seed=111)),
    "h7_female_right_lag40_60fps_track": ClipSpec(
        params=SprinterParams(sex="female", height_m=1.70, mass_kg=60.0, top_speed_m_s=8.6, step_frequency_hz=4.5,
                              faults=faults_on_leg("right", steps=range(1, 13, 3), swing_delay_ms=40.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="left", distance_m=6.0,
        render=RenderOptions(background="park", seed=112)),
    "h7_right_lag35_60fps_track": ClipSpec(
        params=SprinterParams(height_m=1.78, mass_kg=74.0, faults=faults_on_leg("right", steps=range(1, 13, 4), swing_delay_ms=35.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=7.0,
        render=RenderOptions(background="plain", seed=113)),
    "h7_balanced_60fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.6, top_speed_m_s=9.6),
        fps=60.0, duration_s=3.0, camera="track", camera_side="left", distance_m=6.5,
        render=RenderOptions(background="stadium", seed=114)),
    "h7_left_lag50_60fps_pan": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.3, faults=faults_on_leg("left", steps=range(2, 13, 4), swing_delay_ms=50.0)),
        fps=60.0, duration_s=3.0, camera="pan", camera_side="left", distance_m=8.0,
        render=RenderOptions(background="park", seed=115)),
    "h7_right_lag50_30fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.4, faults=faults_on_leg("right", steps=range(1, 17, 4), swing_delay_ms=50.0)),
        fps=30.0, duration_s=4.0, camera="track", camera_side="right", distance_m=6.5,
        render=RenderOptions(background="stadium", seed=116)),
    "h7_left_lag45_30fps_track": ClipSpec(
        params=SprinterParams(height_m=1.80, mass_kg=75.0, step_frequency_hz=4.2,
                              faults=faults_on_leg("left", steps=range(2, 17, 4), swing_delay_ms=45.0)),
        fps=30.0, duration_s=4.0, camera="track", camera_side="left", distance_m=6.0,
        render=RenderOptions(background="park", seed=117)),
    "h7_female_balanced_30fps_track": ClipSpec(
        params=SprinterParams(sex="female", height_m=1.64, mass_kg=54.0, top_speed_m_s=8.0, step_frequency_hz=4.5),
        fps=30.0, duration_s=4.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="plain", seed=118)),
    "h7_right_lag35_120fps_track": ClipSpec(
        params=SprinterParams(step_frequency_hz=4.5, faults=faults_on_leg("right", steps=range(1, 9, 3), swing_delay_ms=35.0)),
        fps=120.0, duration_s=2.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="stadium", seed=119)),
    "h7_balanced_120fps_track": ClipSpec(
        params=SprinterParams(height_m=1.82, mass_kg=78.0, step_frequency_hz=4.4),
        fps=120.0, duration_s=2.0, camera="track", camera_side="left", distance_m=6.5,
        render=RenderOptions(background="park", seed=120)),
}


def clip_pose(info: video.VideoInfo, cache_dir: Path, flip_test: bool | None = None) -> pose.PoseTrack:
    """The clip's pose as the analyzer's *flip_test* setting gives it, from two caches.

    One pass is cached as ``NAME.landmarks.npz``, the flip test as ``NAME.flip.landmarks.npz``;
    the automatic setting (None, the analyzer's default) takes the one pass's track and, where
    :func:`analyzer.pose.flip.flip_test_wanted` asks for it, the flip test's: what the analyzer
    would produce, since its first pass is that one pass.
    """
    stem = info.path.stem
    if flip_test is not True:
        track, _ = pose.extract_pose_cached(info, cache_dir / f"{stem}.landmarks.npz", progress=False, flip_test=False)
        if flip_test is False or not pose.flip.flip_test_wanted(track):
            return track
    track, _ = pose.extract_pose_cached(info, cache_dir / f"{stem}.flip.landmarks.npz", progress=False, flip_test=True)
    return track


def analyse_clip(video_path: Path, truth: GroundTruth, cache_dir: Path, *, exact_points: bool = False,
                 flip_test: bool | None = None) -> pipeline.AnalysisResult:
    """Run the pipeline's stages on one clip with the truth's athlete values (as a user would give them).

    With *exact_points* the truth's image points replace the pose model's (:func:`exact_image_points`);
    *flip_test* as the analyzer's option (:func:`clip_pose`).
    """
    info = video.probe_video(video_path)
    track = clip_pose(info, cache_dir, flip_test)
    if exact_points:
        track = exact_image_points(track, truth)
    p = truth.params
    athlete = Athlete(p["height_m"], p["mass_kg"], p["sex"], True, True, True)
    return pipeline.analyse(info, track, athlete, pipeline.Settings(overlay=False))


def format_score(name: str, sc: Score) -> str:
    lines = [f"{name}",
             f"  detected {sc.detected_fraction:.1%}; steps matched {sc.matched_steps}/{sc.truth_steps}; "
             f"touchdown MAE {sc.touchdown_mae_frames:.2f} (bias {sc.touchdown_bias_frames:+.2f}) frames, toe-off MAE "
             f"{sc.toeoff_mae_frames:.2f} (bias {sc.toeoff_bias_frames:+.2f}) frames; "
             f"contact {sc.contact_ms[0]:.0f} ms (truth {sc.contact_ms[1]:.0f}), flight {sc.flight_ms[0]:.0f} ms "
             f"(truth {sc.flight_ms[1]:.0f})"]
    lines.append("  angle RMS (deg): " + ", ".join(f"{k.replace('_deg', '')} {v:.1f}" for k, v in sc.angle_rms_deg.items()))
    lines.append("  momentum r / RMS%peak: " + ", ".join(f"{k} {r:.2f}/{e:.0%}" for k, (r, e) in sc.momentum.items()))
    lines.append("  push drive, swing counter (true roles): "
                 + ", ".join(f"{k} {r:.2f}/{e:.0%}" for k, (r, e) in sc.push_swing.items()))
    lines.append("  lags (injected -> measured ms): " + ", ".join(f"{a:.0f}->{b:.0f}" for a, b in sc.lags))
    if sc.delays_read:
        lines.append("  injected delays read (shift above the run's median, ms): "
                     + ", ".join(f"{a:.0f}->{b:.0f}" for a, b in sc.delays_read))
    lines.append(f"  swing_lag flags: precision {sc.flag_precision:.2f}, recall {sc.flag_recall:.2f}, F1 {sc.flag_f1:.2f}")
    return "\n".join(lines)


def validation_clips(folder: Path) -> list[tuple[Path, Path]]:
    """(video, truth) of every :data:`VALIDATION_SET` clip in *folder*, rendering the missing ones."""
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for name, spec in VALIDATION_SET.items():
        clip, truth = folder / f"{name}.mp4", folder / f"{name}.truth.json"
        if not (clip.is_file() and truth.is_file()):
            print(f"rendering {name} ...", file=sys.stderr)
            make_clip(spec, clip, truth)
        clips.append((clip, truth))
    return clips


def _median_error(scores: list[Score], attr: str) -> float:
    """Median over *scores* of (ours / truth - 1) of a (ours, truth) figure, in percent."""
    return float(np.nanmedian([100.0 * (getattr(sc, attr)[0] / getattr(sc, attr)[1] - 1.0) for sc in scores]))


def format_pooled(scores: list[Score], fps: list[float]) -> str:
    """The figures pooled over all scored clips."""
    precision, recall, f1 = pooled_f1(scores)
    lines = [f"pooled over {len(scores)} clips: swing_lag flags precision {precision:.2f}, recall {recall:.2f}, F1 {f1:.2f}"]
    read = [(abs(b - a) * f / 1000.0, a * f / 1000.0) for sc, f in zip(scores, fps) for a, b in sc.delays_read]
    if read:
        of_two = [e for e, d in read if d >= 2.0]
        lines.append(f"  injected delays read within 1 frame: {sum(e <= 1.0 for e, _ in read)}/{len(read)} "
                     f"({sum(e <= 1.0 for e in of_two)}/{len(of_two)} of those of 2 frames or more; "
                     f"NaN shifts count as misses)")
    for rate in sorted(set(fps)):
        at = [sc for sc, f in zip(scores, fps) if f == rate]
        lines.append(f"  {rate:g} fps ({len(at)} clips): touchdown MAE {np.nanmean([sc.touchdown_mae_frames for sc in at]):.2f} "
                     f"frames, toe-off MAE {np.nanmean([sc.toeoff_mae_frames for sc in at]):.2f} frames (mean of clips); "
                     f"bias touchdown {np.nanmean([sc.touchdown_bias_frames for sc in at]):+.2f}, toe-off "
                     f"{np.nanmean([sc.toeoff_bias_frames for sc in at]):+.2f} frames; "
                     f"contact time {_median_error(at, 'contact_ms'):+.0f} %, flight time "
                     f"{_median_error(at, 'flight_ms'):+.0f} % (median over clips of ours/truth - 1)")
    for group in ("arms", "left_leg", "right_leg"):
        r = [sc.momentum[group][0] for sc in scores]
        lines.append(f"  {group} momentum r: median {np.nanmedian(r):.2f}, range {np.nanmin(r):.2f}-{np.nanmax(r):.2f}")
    for angle in ("hip_flexion_left_deg", "knee_flexion_left_deg"):
        rms = [sc.angle_rms_deg[angle] for sc in scores]
        lines.append(f"  {angle[:-4]} RMS: median {np.nanmedian(rms):.1f} deg, range {np.nanmin(rms):.1f}-{np.nanmax(rms):.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="*", type=Path, help="synthetic clips (default: sample_videos/*.mp4)")
    parser.add_argument("--truth", type=Path, help="truth JSON (one clip only; default: truth/NAME.truth.json beside it)")
    parser.add_argument("--cache", type=Path, default=ROOT / "reports" / ".score-cache",
                        help="pose cache folder, and where --validation renders its clips")
    parser.add_argument("--validation", action="store_true", help="also render (once) and score the validation set")
    parser.add_argument("--exact-points", action="store_true",
                        help="feed the truth's exact image points instead of the pose model's (what remains is the "
                             "error of the stages after the pose model)")
    parser.add_argument("--flip-test", action=argparse.BooleanOptionalAction, default=None,
                        help="pose each clip with the flip test (the mirrored frames too, merged; cached apart), "
                             "or with one pass (--no-flip-test); default: as the analyzer does, the flip test "
                             "where the legs are coarsely sampled")
    args = parser.parse_args(argv)
    clips = [(clip, args.truth) for clip in (args.clips or sorted((ROOT / "sample_videos").glob("*.mp4")))]
    if args.validation:
        clips += validation_clips(args.cache / "validation")
    warnings.simplefilter("ignore", RuntimeWarning)
    scores, rates = [], []
    for clip, truth_path in clips:
        if truth_path is None:
            truth_path = clip.parent / "truth" / f"{clip.stem}.truth.json"
            if not truth_path.is_file():
                truth_path = clip.with_suffix(".truth.json")
        result = analyse_clip(clip, truth := load_truth(truth_path), args.cache, exact_points=args.exact_points,
                              flip_test=args.flip_test)
        scores.append(score(result, truth))
        rates.append(result.video.fps)
        print(format_score(clip.name, scores[-1]))
    if len(scores) > 1:
        print(format_pooled(scores, rates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
