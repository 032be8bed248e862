"""Overlay video and still frames: colours by role, flags, H.264 that browsers play, atomic writes."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from analyzer import overlay
from analyzer.landmarks import INDEX
from analyzer.report import palette
from analyzer.report.example import ExampleRun, example_run

PUSH = np.array(palette.hex_to_rgb(palette.PUSH), float)
SWING = np.array(palette.hex_to_rgb(palette.SWING_ON_VIDEO), float)


@pytest.fixture(scope="module")
def run() -> ExampleRun:
    return example_run(2.0, 30.0, width=480, height=270, faults={2: "swing_lag", 4: "both", 6: "under_counterbalanced"},
                       stop_step=None)


def _midpoint_colour(image: np.ndarray, xy: np.ndarray, a: str, b: str) -> np.ndarray:
    """Mean colour of a 3x3 patch at the middle of bone a-b."""
    x, y = np.round((xy[INDEX[a]] + xy[INDEX[b]]) / 2).astype(int)
    return image[y - 1:y + 2, x - 1:x + 2].reshape(-1, 3).mean(axis=0)


def _is(colour: np.ndarray, target: np.ndarray, tol: float = 40.0) -> bool:
    return float(np.abs(colour - target).max()) < tol


def _spread_pose() -> tuple[np.ndarray, np.ndarray]:
    """A pose whose two thighs are far apart (so their colours can be read) on a 400x300 image."""
    xy = np.full((33, 2), 200.0)
    for side, dx in (("left", -80.0), ("right", 80.0)):
        xy[INDEX[f"{side}_shoulder"]] = (200 + dx / 4, 60)
        xy[INDEX[f"{side}_hip"]] = (200 + dx / 4, 150)
        xy[INDEX[f"{side}_knee"]] = (200 + dx, 210)
        xy[INDEX[f"{side}_ankle"]] = (200 + dx, 280)
    return xy, np.ones(33)


@pytest.mark.parametrize("push_leg, swing_leg", [("left", "right"), ("right", "left")])
def test_push_leg_is_orange_and_swing_leg_blue(push_leg: str, swing_leg: str) -> None:
    xy, vis = _spread_pose()
    image = np.zeros((300, 400, 3), np.uint8)
    drawn = overlay.draw_skeleton(image, xy, vis, push_leg, legend=False)
    assert _is(_midpoint_colour(drawn, xy, f"{push_leg}_hip", f"{push_leg}_knee"), PUSH)
    assert _is(_midpoint_colour(drawn, xy, f"{swing_leg}_hip", f"{swing_leg}_knee"), SWING)
    assert drawn is not image and not image.any(), "the input image must not be modified"


def test_outside_a_step_the_skeleton_is_neutral() -> None:
    xy, vis = _spread_pose()
    drawn = overlay.draw_skeleton(np.zeros((300, 400, 3), np.uint8), xy, vis, "", legend=False)
    for side in ("left", "right"):
        colour = _midpoint_colour(drawn, xy, f"{side}_hip", f"{side}_knee")
        assert not _is(colour, PUSH) and not _is(colour, SWING)
        assert colour.min() > 150, "neutral bones are light grey"


def test_hidden_landmarks_are_not_drawn() -> None:
    xy, _ = _spread_pose()
    image = np.full((300, 400, 3), 90, np.uint8)
    drawn = overlay.draw_skeleton(image, xy, np.zeros(33), "left", legend=False)
    assert np.array_equal(drawn, image)
    # A landmark the pose model lost (NaN) takes its bones with it, and only those.
    lost = xy.copy()
    lost[INDEX["left_knee"]] = np.nan
    drawn = overlay.draw_skeleton(image, lost, np.ones(33), "left", legend=False)
    assert np.array_equal(_midpoint_colour(drawn, xy, "left_hip", "left_knee"), np.full(3, 90.0))
    assert _is(_midpoint_colour(drawn, xy, "right_hip", "right_knee"), SWING)


def test_flagged_frames_get_a_red_banner() -> None:
    xy, vis = _spread_pose()
    image = np.zeros((300, 400, 3), np.uint8)
    plain = overlay.draw_skeleton(image, xy, vis, "left", label="Step 7", legend=False)
    flagged = overlay.draw_skeleton(image, xy, vis, "left", flagged=True, label="Step 7",
                                    banner="Step 7: swing side late by 50 ms", legend=False)
    flag = np.array(palette.hex_to_rgb(palette.FLAG), float)
    band = flagged[2:6, 200:380].reshape(-1, 3).mean(axis=0)
    assert _is(band, flag, 30), band
    assert not plain[2:6, 200:380].any()


def test_frame_context_describes_steps_and_flags(run: ExampleRun) -> None:
    context = overlay.FrameContext(run.frames, run.steps)
    step = next(s for s in run.steps if s["flagged"])
    inside = int(run.frames["frame"][np.searchsorted(run.frames["time_s"], step["toeoff_s"])])
    push_leg, label, flagged, banner = context.describe(inside)
    assert push_leg == step["push_leg"] and flagged
    assert label.startswith(f"Step {step['step']}") and f"push: {push_leg}" in label
    assert banner == f"Step {step['step']}: swing side late by {round(step['lag_ms'])} ms"
    assert context.describe(0)[0] == "" and context.describe(0)[2] is False  # before the first step
    assert context.describe(10_000) == ("", "", False, "")  # not in the table


def test_frame_context_follows_the_frame_column_after_a_trimmed_start() -> None:
    trimmed = example_run(2.0, 30.0, width=320, height=180, start_frame=45, stop_step=None)
    context = overlay.FrameContext(trimmed.frames, trimmed.steps)
    assert context.row(45) == 0 and context.row(0) is None
    assert context.time_of(45) == pytest.approx(1.5)
    assert context.frame_at(1.52) == 45 + round(0.02 * 30)


def _probe(path: Path) -> str:
    """ffmpeg's description of a file's streams (ffmpeg -i prints it, then fails for lack of output)."""
    done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True)
    return done.stderr


def test_overlay_is_browser_playable_h264(run: ExampleRun, tmp_path: Path) -> None:
    # An odd-sized source: H.264 in yuv420p needs even sizes.
    frames = ((f, cv2.resize(img, (481, 271))) for f, img in run.images())
    xy = run.xy_px * np.array([481 / 480, 271 / 270])
    out = tmp_path / "clip" / "overlay.mp4"
    written = overlay.write_overlay(frames, xy, run.visibility, run.frames, run.steps, 30.0, out)
    assert written == len(run.frames["frame"])
    assert sorted(p.name for p in out.parent.iterdir()) == ["overlay.mp4"], "no partial files left"

    info = _probe(out)
    assert re.search(r"Video: h264 .*yuv420p", info), info
    assert "480x270" in info, info
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat"), "+faststart puts the index before the media"

    capture = cv2.VideoCapture(str(out))
    try:
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC))
        codec = fourcc.to_bytes(4, "little").decode("ascii", "replace").lower()
        assert codec in ("avc1", "h264"), codec
        decoded = 0
        while True:
            ok, image = capture.read()
            if not ok:
                break
            decoded += 1
            assert image.shape == (270, 480, 3)
    finally:
        capture.release()
    assert decoded == written


def test_overlay_downscales_to_1280_and_skips_frames_without_pose(tmp_path: Path) -> None:
    big = example_run(0.3, 30.0, width=1920, height=1080, stop_step=None)
    extra = [(10_000, np.zeros((1080, 1920, 3), np.uint8))]  # a frame the table does not know
    out = tmp_path / "overlay.mp4"
    written = overlay.write_overlay(list(big.images()) + extra, big.xy_px, big.visibility, big.frames,
                                    big.steps, 30.0, out)
    assert written == len(big.frames["frame"]) + 1
    assert "1280x720" in _probe(out)


def test_overlay_failures_leave_no_file(run: ExampleRun, tmp_path: Path) -> None:
    out = tmp_path / "overlay.mp4"
    with pytest.raises(ValueError, match="no frames"):
        overlay.write_overlay(iter(()), run.xy_px, run.visibility, run.frames, run.steps, 30.0, out)
    with pytest.raises(ValueError, match="fps"):
        overlay.write_overlay(run.images(), run.xy_px, run.visibility, run.frames, run.steps, 0.0, out)
    with pytest.raises(RuntimeError, match="ffmpeg"):
        overlay.write_overlay(run.images(), run.xy_px, run.visibility, run.frames, run.steps, 30.0, out,
                              preset="no-such-preset")
    assert list(tmp_path.iterdir()) == []


def test_still_frames_show_each_flagged_step_at_both_peaks(run: ExampleRun) -> None:
    flagged = [s for s in run.steps if s["flagged"]]
    assert flagged
    wanted = overlay.still_frame_indices(run.frames, run.steps)
    assert wanted == sorted(set(wanted))
    images = {f: run.image(f) for f in wanted}
    stills = overlay.still_frames(images, run.xy_px, run.visibility, run.frames, run.steps, max_side=320)
    assert [(s.step, s.moment) for s in stills] == [
        (step["step"], moment) for step in flagged for moment in ("push_peak", "swing_peak")]
    for still in stills:
        assert still.frame in wanted
        peak = next(s for s in flagged if s["step"] == still.step)[f"{still.moment}_s"]
        assert abs(still.time_s - peak) <= 0.5 / 30 + 1e-9, "the frame nearest the peak"
        image = cv2.imdecode(np.frombuffer(still.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[:2] == (still.height, still.width)
        assert max(image.shape[:2]) == 320
        top = cv2.cvtColor(image[3:8, 150:300], cv2.COLOR_BGR2RGB).reshape(-1, 3).mean(axis=0)
        assert _is(top, np.array(palette.hex_to_rgb(palette.FLAG), float), 45), "flag banner on the still"
    # Only the most severe flagged steps get stills when there are many.
    worst = max(flagged, key=lambda s: (len(s["flag_kinds"].split(";")), s["lag_ms"]))
    one = overlay.still_frames(images, run.xy_px, run.visibility, run.frames, run.steps, max_side=320, max_steps=1)
    assert {s.step for s in one} == {worst["step"]} and len(one) == 2
    assert set(overlay.still_frame_indices(run.frames, run.steps, max_steps=1)) == {s.frame for s in one}
    # A frame the caller could not decode is skipped, not an error.
    missing = dict(images)
    missing.pop(stills[0].frame)
    fewer = overlay.still_frames(missing, run.xy_px, run.visibility, run.frames, run.steps, max_side=320)
    assert len(fewer) == len(stills) - sum(s.frame == stills[0].frame for s in stills)
