"""Frame-rate truth: slowed and frame-repeating copies of the synthetic sprinter, and unit checks."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from analyzer import cli, framerate
from analyzer.synthetic.truth import load_truth
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_videos" / "sprinter_balanced_60fps.mp4"
TRUTH = REPO_ROOT / "sample_videos" / "truth" / "sprinter_balanced_60fps.truth.json"


def _ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def _analyse(video: Path, out: Path, *extra: str) -> dict:
    assert cli.main(["analyze", str(video), "-o", str(out), "--no-overlay", "-q", "--height", "1.8", *extra]) == 0
    return json.loads((out / video.stem / "summary.json").read_text())


@pytest.fixture(scope="module")
def true_cadence() -> float:
    truth = load_truth(TRUTH)
    step_times = [s["next_touchdown_s"] - s["touchdown_s"] for s in truth.steps]
    return 60.0 / float(np.median(step_times))


@pytest.mark.slow
def test_slow_motion_copy_is_called_out_and_recovered(tmp_path: Path, true_cadence: float) -> None:
    """The 60 fps clip re-timed to play 4x slower (15 fps), as a phone's slow-motion export."""
    slowed = tmp_path / "slowed_4x.mp4"
    _ffmpeg("-itsscale", "4", "-i", str(SAMPLE), "-c", "copy", str(slowed))
    naive = _analyse(slowed, tmp_path / "naive")
    assert naive["video"]["fps"] == pytest.approx(15.0, rel=0.01)
    check = naive["timing_check"]
    assert not check["plausible"] and check["suggested_fps"] == 60.0
    assert any("--fps 60" in w for w in naive["warnings"])
    fixed = _analyse(slowed, tmp_path / "fixed", "--fps", "60")
    assert fixed["video"]["fps_source"] == "--fps"
    assert fixed["timing_check"]["plausible"]
    assert fixed["cadence_steps_per_min"] == pytest.approx(true_cadence, rel=0.05)
    assert fixed["video"]["repeated_frames"] == 0


@pytest.mark.slow
def test_repeated_frames_are_found_and_timing_recovered(tmp_path: Path, true_cadence: float) -> None:
    """Every image held for 3 frames at 60 fps (a 3x slowed export that repeats images)."""
    held = tmp_path / "held_3x.mp4"
    _ffmpeg("-i", str(SAMPLE), "-vf", "setpts=3*PTS,fps=60", "-c:v", "libx264", "-crf", "20", "-pix_fmt", "yuv420p",
            str(held))
    naive = _analyse(held, tmp_path / "naive")
    video = naive["video"]
    assert video["distinct_images_per_s"] == pytest.approx(20.0, rel=0.1)
    assert video["repeated_frames"] >= 0.6 * video["analysed_frames"]
    assert naive["timing_check"]["suggested_fps"] == 180.0
    fixed = _analyse(held, tmp_path / "fixed", "--fps", "180")
    assert fixed["timing_check"]["plausible"]
    assert fixed["cadence_steps_per_min"] == pytest.approx(true_cadence, rel=0.08)


def test_plausible_timing_says_nothing() -> None:
    check = framerate.check_timing(cadence_steps_per_min=260, mean_contact_s=0.09, fps_used=60, fps_source="container")
    assert check.plausible and check.sentence is None and check.suggested_fps is None


@pytest.mark.parametrize("fps, cadence, sweep, repeats, expected", [
    (29.97, 25.0, 1.0, 1.0, 240.0),   # a 240 fps capture played at 30: a jog
    (25.0, 94.0, 1.0, 1.0, 50.0),     # a 50 fps capture played at 25
    (30.0, 77.0, 1.27, 3.1, 90.0),    # each image held 3 frames: a sprint
    (15.0, 66.0, 1.3, 1.0, 60.0),     # a 60 fps capture played at 15
])
def test_slow_motion_suggestion(fps: float, cadence: float, sweep: float, repeats: float, expected: float) -> None:
    check = framerate.check_timing(cadence_steps_per_min=cadence, mean_contact_s=0.3, fps_used=fps,
                                   fps_source="container", stride_sweep=sweep, repeat_factor=repeats)
    assert not check.plausible
    assert check.suggested_fps == expected
    assert f"--fps {expected:g}" in check.sentence


def test_impossibly_fast_timing_is_named_without_a_suggestion() -> None:
    check = framerate.check_timing(cadence_steps_per_min=600, mean_contact_s=0.02, fps_used=240, fps_source="--fps")
    assert not check.plausible and check.suggested_fps is None and "--fps" in check.sentence


def test_a_frame_of_uncertainty_is_allowed() -> None:
    """At 30 fps a 90 ms contact can measure 57 ms: not impossible."""
    check = framerate.check_timing(cadence_steps_per_min=250, mean_contact_s=0.057, fps_used=30,
                                   fps_source="container", frame_interval_s=1 / 30)
    assert check.plausible
