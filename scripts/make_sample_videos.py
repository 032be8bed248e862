#!/usr/bin/env python3
"""Generate ``sample_videos/`` from the synthetic sprinter, reproducibly (fixed seeds).

    python scripts/make_sample_videos.py            # all clips (a few minutes on 2 cores)
    python scripts/make_sample_videos.py --only balanced

Each clip ``NAME.mp4`` gets its exact ground truth in ``sample_videos/truth/NAME.truth.json``
(+ ``.npz``): events, roles, joint angles, segment and group angular momenta, injected
faults, and the image positions of BlazePose's 33 landmarks (analyzer/synthetic/truth.py).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzer.synthetic.clips import ClipSpec, make_clip  # noqa: E402
from analyzer.synthetic.motion import SprinterParams, faults_on_leg  # noqa: E402
from analyzer.synthetic.render import RenderOptions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "sample_videos"

#: The sample clips. Seeds fix the scenery and the sensor noise.
SAMPLES: dict[str, ClipSpec] = {
    # A sprinter at top speed, filmed from a camera travelling alongside, 60 fps: balanced.
    "sprinter_balanced_60fps": ClipSpec(
        params=SprinterParams(),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="stadium", seed=11),
    ),
    # The same sprinter whose LEFT swing leg drives forward 50 ms late on every other left swing.
    "sprinter_left_swing_lag_60fps": ClipSpec(
        params=SprinterParams(faults=faults_on_leg("left", steps=range(2, 13, 4), swing_delay_ms=50.0)),
        fps=60.0, duration_s=3.0, camera="track", camera_side="right", distance_m=6.0,
        render=RenderOptions(background="park", seed=12),
    ),
    # A phone held upright (portrait, rotation tag), 30 fps, panning with an accelerating
    # runner who goes right to left, a jogger in the background.
    "phone_portrait_30fps_pan_bystander": ClipSpec(
        params=SprinterParams(acceleration_steps=6, height_m=1.75, mass_kg=68.0),
        fps=30.0, duration_s=2.0, width_px=720, height_px=1280, camera="pan", camera_side="left",
        distance_m=6.0, focal_px=950.0,
        render=RenderOptions(background="plain", second_person=True, noise_sigma=3.0, seed=13),
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(SAMPLES), action="append", help="generate only these clips")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: sample_videos/)")
    args = parser.parse_args(argv)
    for name in args.only or SAMPLES:
        t0 = time.perf_counter()
        video = args.out / f"{name}.mp4"
        make_clip(SAMPLES[name], video, args.out / "truth" / f"{name}.truth.json", crf=23)
        print(f"{video.relative_to(ROOT) if video.is_relative_to(ROOT) else video}: "
              f"{video.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
