#!/usr/bin/env python3
"""Score the full pipeline (pose model included) on synthetic clips against their exact truth.

    python scripts/score_synthetic.py                       # the clips in sample_videos/
    python scripts/score_synthetic.py clip.mp4 --truth clip.truth.json

Prints, per clip: detection, event errors (frames), joint-angle RMS error, group angular
momentum agreement (correlation, RMS error as a share of the true peak), the model's push
and swing quantities under the true roles, per-step lags against injected delays, and the
swing_lag flags' precision, recall and F1. Pose results are cached in --cache.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzer import pipeline, pose, video  # noqa: E402
from analyzer.athlete import Athlete  # noqa: E402
from analyzer.synthetic.scoring import Score, score  # noqa: E402
from analyzer.synthetic.truth import GroundTruth, load_truth  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def analyse_clip(video_path: Path, truth: GroundTruth, cache_dir: Path) -> pipeline.AnalysisResult:
    """Run the pipeline's stages on one clip with the truth's athlete values (as a user would give them)."""
    info = video.probe_video(video_path)
    track, _ = pose.extract_pose_cached(info, cache_dir / f"{video_path.stem}.landmarks.npz", progress=False)
    p = truth.params
    athlete = Athlete(p["height_m"], p["mass_kg"], p["sex"], True, True, True)
    return pipeline.analyse(info, track, athlete, pipeline.Settings(overlay=False))


def format_score(name: str, sc: Score) -> str:
    lines = [f"{name}",
             f"  detected {sc.detected_fraction:.1%}; steps matched {sc.matched_steps}/{sc.truth_steps}; "
             f"touchdown MAE {sc.touchdown_mae_frames:.2f} frames, toe-off MAE {sc.toeoff_mae_frames:.2f} frames"]
    lines.append("  angle RMS (deg): " + ", ".join(f"{k.replace('_deg', '')} {v:.1f}" for k, v in sc.angle_rms_deg.items()))
    lines.append("  momentum r / RMS%peak: " + ", ".join(f"{k} {r:.2f}/{e:.0%}" for k, (r, e) in sc.momentum.items()))
    lines.append("  push drive, swing counter (true roles): "
                 + ", ".join(f"{k} {r:.2f}/{e:.0%}" for k, (r, e) in sc.push_swing.items()))
    lines.append("  lags (injected -> measured ms): " + ", ".join(f"{a:.0f}->{b:.0f}" for a, b in sc.lags))
    lines.append(f"  swing_lag flags: precision {sc.flag_precision:.2f}, recall {sc.flag_recall:.2f}, F1 {sc.flag_f1:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="*", type=Path, help="synthetic clips (default: sample_videos/*.mp4)")
    parser.add_argument("--truth", type=Path, help="truth JSON (one clip only; default: truth/NAME.truth.json beside it)")
    parser.add_argument("--cache", type=Path, default=ROOT / "reports" / ".score-cache", help="pose cache folder")
    args = parser.parse_args(argv)
    clips = args.clips or sorted((ROOT / "sample_videos").glob("*.mp4"))
    warnings.simplefilter("ignore", RuntimeWarning)
    for clip in clips:
        truth_path = args.truth or clip.parent / "truth" / f"{clip.stem}.truth.json"
        if not truth_path.is_file():
            truth_path = clip.with_suffix(".truth.json")
        result = analyse_clip(clip, truth := load_truth(truth_path), args.cache)
        print(format_score(clip.name, score(result, truth)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
