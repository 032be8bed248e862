"""Pose extraction (team issue #2): model checks, the landmarker's timestamps, left/right
swaps, the landmarks cache, rotation, following the runner, and detection on real clips.

Real-footage tests use short trims of ``../shared/videos`` (skipped when absent). The
detection survey over every side-view running clip is the expensive one (about 2,500
frames, 1.5-3 minutes on two busy cores); it is marked ``slow``.
"""
from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import analyzer.pose.extract as pose_extract
from analyzer.landmarks import INDEX, MIRROR
from analyzer.pose import (
    DEFAULT_MODEL_PATH,
    SWAP_GROUPS,
    PoseModelError,
    PoseTrack,
    check_model,
    collapsed_leg_frames,
    create_landmarker,
    extract_pose,
    extract_pose_cached,
    fix_left_right_swaps,
    link_people,
    load_cached_pose,
    pose_cache_key,
    save_pose_cache,
)
from analyzer.video import probe_video
from tests.conftest import shared_clip
from tests.test_video import ffmpeg, make_testsrc

HIPS = [INDEX["left_hip"], INDEX["right_hip"]]
LEFT_LEG = list(SWAP_GROUPS["legs"])
RIGHT_LEG = [MIRROR[i] for i in LEFT_LEG]


# --------------------------------------------------------------------------- model file


def test_default_model_is_a_pose_task() -> None:
    assert check_model() == DEFAULT_MODEL_PATH
    assert check_model(None).name == "pose_landmarker_full.task"


@pytest.mark.parametrize(("content", "expected"), [
    (None, "not found"),
    (b"this is not a model", "not a zip bundle"),
    ({"pose_detector.tflite": b"x"}, "lacks pose_landmarks_detector.tflite"),
])
def test_bad_model_files(tmp_path: Path, content: object, expected: str) -> None:
    path = tmp_path / "other.task"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, dict):
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in content.items():
                zf.writestr(name, data)
    with pytest.raises(PoseModelError, match=expected) as err:
        check_model(path)
    assert "\n" not in str(err.value)


def test_model_mediapipe_cannot_load_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.task"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pose_detector.tflite", b"junk")
        zf.writestr("pose_landmarks_detector.tflite", b"junk")
    check_model(path)  # the bundle looks right ...
    with pytest.raises(PoseModelError, match="cannot be loaded") as err:  # ... but is not a model
        create_landmarker(path, 1)
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- landmarker use


class FakeLandmarker:
    """Records what extract_pose asks of a landmarker; finds nobody."""

    instances: list[FakeLandmarker] = []

    def __init__(self, num_poses: int, mode: str) -> None:
        self.num_poses, self.mode = num_poses, mode
        self.timestamps: list[int] = []
        self.images = 0
        self.closed = False
        FakeLandmarker.instances.append(self)

    def __enter__(self) -> FakeLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True

    def detect_for_video(self, image: Any, timestamp_ms: int) -> Any:
        assert self.mode == "video"
        self.timestamps.append(timestamp_ms)
        return self.detect(image)

    def detect(self, image: Any) -> Any:
        self.images += 1
        return type("Result", (), {"pose_landmarks": [], "pose_world_landmarks": []})()


@pytest.fixture()
def fake_landmarkers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeLandmarker]]:
    FakeLandmarker.instances = []
    monkeypatch.setattr(pose_extract, "create_landmarker", lambda model, num, mode="video": FakeLandmarker(num, mode))
    yield FakeLandmarker.instances


def test_timestamps_strictly_increase_and_landmarkers_close(tmp_path: Path,
                                                            fake_landmarkers: list[FakeLandmarker]) -> None:
    # 3000 fps: frame times 1/3 ms apart round to repeated milliseconds
    info = probe_video(make_testsrc(tmp_path / "clip.mp4", seconds=1.0), fps_override=3000.0)
    track = extract_pose(info, progress=False)
    video_mode = [lm for lm in fake_landmarkers if lm.mode == "video"]
    assert video_mode and all(lm.closed for lm in fake_landmarkers)
    whole_frame = video_mode[0]
    assert whole_frame.num_poses == 3 and len(whole_frame.timestamps) == 30
    assert np.all(np.diff(whole_frame.timestamps) > 0)
    assert whole_frame.timestamps[0] == 0
    assert track.num_frames == 30 and not track.detected.any()
    assert np.isnan(track.image_xy_px).all() and (track.visibility == 0).all()
    assert track.followed_person == "nobody was detected"


def test_repeated_frames_are_not_rerun(tmp_path: Path, fake_landmarkers: list[FakeLandmarker]) -> None:
    info = probe_video(make_testsrc(tmp_path / "held.mp4", seconds=1.0, vf="fps=10,fps=30"))
    track = extract_pose(info, progress=False)
    assert track.is_repeat.sum() == 20
    assert len(fake_landmarkers[0].timestamps) == 10  # one inference per distinct picture


# --------------------------------------------------------------------------- linking people


def _stick(centre: tuple[float, float], height: float) -> np.ndarray:
    """A crude upright figure of 33 landmarks (hips at *centre*)."""
    rng = np.random.default_rng(0)
    xy = np.array(centre) + rng.uniform(-0.2, 0.2, (33, 2)) * height
    xy[:, 1] = centre[1] + np.linspace(-0.6, 0.4, 33) * height
    xy[HIPS] = centre
    return xy


def test_link_people_keeps_identities_and_refuses_jumps() -> None:
    n = 40
    xy = np.full((n, 3, 33, 2), np.nan)
    for t in range(n):
        xy[t, 0] = _stick((100 + 8 * t, 300), 200)  # runner, left to right
        xy[t, 1 if t % 2 else 2] = _stick((600, 300), 180)  # bystander, listed in either slot
    xy[20:23, 0] = np.nan  # the runner is missed for three frames
    xy[30, 0] = _stick((900, 100), 200)  # something far away where the runner should be
    ids = link_people(xy)
    runner = ids[0, 0]
    assert all(ids[t, 0] == runner for t in range(n) if t not in (20, 21, 22, 30))
    assert ids[30, 0] != runner
    bystander = {ids[t, 1 if t % 2 else 2] for t in range(n)}
    assert len(bystander) == 1 and runner not in bystander


# --------------------------------------------------------------------------- left/right swaps


def synthetic_runner(n: int = 120, fps: float = 30.0, step_hz: float = 4.5) -> np.ndarray:
    """(n, 33, 2) image landmarks of a side-view runner: legs and arms swing past each other."""
    t = np.arange(n) / fps
    phase = 2 * np.pi * (step_hz / 2) * t
    hip = np.stack([200 + 300 * t, np.full(n, 400.0)], axis=1)
    xy = np.repeat(hip[:, None, :], 33, axis=1).copy()
    xy[:, : INDEX["left_hip"], 1] -= 250  # head and arms' roots up at the shoulders
    for side, sign in (("left", 1.0), ("right", -1.0)):
        thigh = 0.7 * sign * np.sin(phase)
        shank = thigh - 0.6 - 0.5 * np.cos(phase + (0 if sign > 0 else np.pi))
        knee = hip + 90 * np.stack([np.sin(thigh), np.cos(thigh)], axis=1)
        ankle = knee + 90 * np.stack([np.sin(shank), np.cos(shank)], axis=1)
        for part, point in (("hip", hip), ("knee", knee), ("ankle", ankle),
                            ("heel", ankle + (-10, 5)), ("foot_index", ankle + (25, 5))):
            xy[:, INDEX[f"{side}_{part}"]] = point
        arm = -0.8 * sign * np.sin(phase)
        shoulder = hip + (0, -250)
        elbow = shoulder + 60 * np.stack([np.sin(arm), np.cos(arm)], axis=1)
        wrist = elbow + 55 * np.stack([np.sin(arm + 1.2), np.cos(arm + 1.2)], axis=1)
        for part, point in (("shoulder", shoulder), ("elbow", elbow), ("wrist", wrist), ("pinky", wrist + 5),
                            ("index", wrist + 6), ("thumb", wrist + 4)):
            xy[:, INDEX[f"{side}_{part}"]] = point
    return xy + np.random.default_rng(2).normal(0, 1.0, xy.shape)


def swap_labels(a: np.ndarray, frames: slice, left: list[int]) -> np.ndarray:
    out = a.copy()
    right = [MIRROR[i] for i in left]
    out[frames, left], out[frames, right] = a[frames, right], a[frames, left]
    return out


def test_clean_runner_with_crossing_legs_is_left_alone() -> None:
    xy = synthetic_runner()
    fixed = fix_left_right_swaps(xy)
    assert fixed.episodes == 0 and not fixed.swapped.any()
    np.testing.assert_array_equal(fixed.image_xy, xy)


def test_injected_swap_is_undone_in_every_array() -> None:
    xy = synthetic_runner()
    n = xy.shape[0]
    rng = np.random.default_rng(5)
    z, vis, pres = rng.normal(size=(n, 33)), rng.uniform(size=(n, 33)), rng.uniform(size=(n, 33))
    world = rng.normal(size=(n, 33, 3))
    bad = slice(40, 46)
    args = [swap_labels(a, bad, LEFT_LEG) for a in (xy, z, world, vis, pres)]
    originals = [a.copy() for a in args]
    fixed = fix_left_right_swaps(*args)
    for a, b in zip(args, originals):  # pure: inputs untouched
        np.testing.assert_array_equal(a, b)
    assert fixed.episodes == 1
    np.testing.assert_array_equal(np.flatnonzero(fixed.swapped[:, 0]), np.arange(40, 46))
    assert not fixed.swapped[:, 1].any()
    for got, want in zip(fixed[:5], (xy, z, world, vis, pres)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("fps, frames", [(30.0, slice(81, 85)), (60.0, slice(84, 90))])
def test_injected_arm_swap_and_missing_frames(fps: float, frames: slice) -> None:
    """An arm swap between two crossings of the arms is undone on the smooth path (30 fps: the
    legs coarsely sampled) and on the fine path (60 fps), across two undetected frames."""
    xy = synthetic_runner(n=int(4 * fps), fps=fps)
    xy[70:72] = np.nan  # not detected: splits nothing (gap <= 2) and stays NaN
    arms = list(SWAP_GROUPS["arms"])
    fixed = fix_left_right_swaps(swap_labels(xy, frames, arms))
    np.testing.assert_array_equal(np.flatnonzero(fixed.swapped[:, 1]), np.arange(frames.start, frames.stop))
    np.testing.assert_array_equal(fixed.image_xy, xy)


def test_repeated_frames_follow_their_source_frame() -> None:
    xy = synthetic_runner(fps=90.0)
    held = np.repeat(xy[::3], 3, axis=0)  # each picture three times: 30 distinct pictures a second
    repeat = np.arange(held.shape[0]) % 3 != 0
    broken = swap_labels(held, slice(61, 62), LEFT_LEG)  # one repeated frame mislabelled
    fixed = fix_left_right_swaps(broken, is_repeat=repeat)
    np.testing.assert_array_equal(fixed.image_xy, held)
    assert fixed.episodes == 1
    broken = swap_labels(held, slice(60, 66), LEFT_LEG)  # two pictures mislabelled, with their repeats
    fixed = fix_left_right_swaps(broken, is_repeat=repeat)
    np.testing.assert_array_equal(fixed.image_xy, held)
    np.testing.assert_array_equal(np.flatnonzero(fixed.swapped[:, 0]), np.arange(60, 66))


def test_flickering_labels_are_undone() -> None:
    """BlazePose's side-view swaps: single frames and flickering runs of the far leg named as the near one."""
    xy = synthetic_runner()
    broken = xy.copy()
    for frame in (40, 42, 43, 60, 61):
        broken = swap_labels(broken, slice(frame, frame + 1), LEFT_LEG)
    fixed = fix_left_right_swaps(broken)
    np.testing.assert_array_equal(np.flatnonzero(fixed.swapped[:, 0]), [40, 42, 43, 60, 61])
    np.testing.assert_array_equal(fixed.image_xy, xy)


@pytest.mark.parametrize(("fps", "frames"), [(60.0, slice(80, 92)), (120.0, slice(160, 184)), (120.0, slice(160, 200))])
def test_long_mislabelled_runs_are_undone(fps: float, frames: slice) -> None:
    """Runs up to 0.2 s at 60 fps and 0.33 s at 120 fps (the model's own on rendered clips
    are at most 0.15 s); longer ones at 60 fps are the documented cost of FINE_PATH."""
    xy = synthetic_runner(n=int(4 * fps), fps=fps)
    fixed = fix_left_right_swaps(swap_labels(xy, frames, LEFT_LEG))
    np.testing.assert_array_equal(np.flatnonzero(fixed.swapped[:, 0]), np.arange(frames.start, frames.stop))
    np.testing.assert_array_equal(fixed.image_xy, xy)


LOWER_LEFT_LEG = [INDEX[f"left_{part}"] for part in ("knee", "ankle", "heel", "foot_index")]


def collapse_legs(xy: np.ndarray, frames: list[int], apart_px: float = 2.0) -> np.ndarray:
    """Both legs drawn *apart_px* either side of the point between them (a collapse for the
    default), as BlazePose does beside a crossing."""
    out = xy.copy()
    right = [MIRROR[i] for i in LOWER_LEFT_LEG]
    for t in frames:
        middle = (out[t, LOWER_LEFT_LEG] + out[t, right]) / 2
        out[t, LOWER_LEFT_LEG], out[t, right] = middle + apart_px / 2, middle - apart_px / 2
    return out


@pytest.mark.parametrize("start", [45, 100, 150])
def test_swaps_after_collapsed_legs_are_undone(start: int) -> None:
    """The rendered lag sample's pattern: a collapsed frame, a good one, a collapsed one, then
    five frames with the labels the other way round. Judged across the collapsed frames the
    path is clear; through them it is not (the check that the test can fail)."""
    xy = synthetic_runner(n=240, fps=60.0)
    collapsed = [start, start + 2]
    broken = swap_labels(collapse_legs(xy, collapsed), slice(start + 3, start + 8), LEFT_LEG)
    others = np.ones(len(xy), dtype=bool)
    others[collapsed] = False
    fixed = fix_left_right_swaps(broken, max_collapsed_run=3)
    np.testing.assert_array_equal(np.flatnonzero(fixed.legs_collapsed), collapsed)
    np.testing.assert_allclose(fixed.image_xy[others], xy[others])
    judged_through = fix_left_right_swaps(broken)  # max_collapsed_run=0: no frame left out
    assert not judged_through.legs_collapsed.any()
    assert not np.allclose(judged_through.image_xy[others], xy[others])


def test_at_30fps_collapsed_frames_are_not_left_out() -> None:
    """The knees and the collapse handling serve finely sampled legs only (at 30 fps they
    cost a rendered clip 7 deg of hip error and a real sprint start its cadence)."""
    xy = synthetic_runner(n=120, fps=30.0)
    broken = collapse_legs(xy, [50])
    assert collapsed_leg_frames(broken, 2).tolist().count(True) == 1  # the notch is there
    assert not fix_left_right_swaps(broken, max_collapsed_run=2).legs_collapsed.any()
    fine = synthetic_runner(n=240, fps=60.0)
    assert fix_left_right_swaps(collapse_legs(fine, [100]), max_collapsed_run=3).legs_collapsed.sum() == 1


def test_only_brief_notches_are_collapses() -> None:
    xy = synthetic_runner(n=240, fps=60.0)  # legs 180 px long
    assert not collapsed_leg_frames(xy, 3).any()  # a clean runner's legs never collapse
    broken = collapse_legs(xy, [50, 51, 52, 53, 120, 0])
    # four frames are longer than the run allowed, and the clip's first frame has one neighbour
    np.testing.assert_array_equal(np.flatnonzero(collapsed_leg_frames(broken, 3)), [120])
    np.testing.assert_array_equal(np.flatnonzero(collapsed_leg_frames(broken, 4)), [50, 51, 52, 53, 120])
    # legs that come close (0.18-0.19 of the longer leg) between frames only a little further
    # apart (0.27-0.30, under twice as far) are a runner's, not a collapse
    close = collapse_legs(collapse_legs(xy, [99, 102], apart_px=0.25 * 180 / np.sqrt(2)), [100, 101],
                          apart_px=0.15 * 180 / np.sqrt(2))
    assert not collapsed_leg_frames(close, 3).any()
    notch = collapse_legs(close, [99, 102], apart_px=0.6 * 180 / np.sqrt(2))  # 0.56-0.61: a notch
    np.testing.assert_array_equal(np.flatnonzero(collapsed_leg_frames(notch, 3)), [100, 101])


def test_coarse_sampling_is_left_alone() -> None:
    """Ten pictures a second of a sprinter (hato72 running): too coarse to judge, so no 'fixes'."""
    xy = synthetic_runner(n=120, fps=10.0)
    assert fix_left_right_swaps(xy).episodes == 0


# --------------------------------------------------------------------------- real clip: one short track


@pytest.fixture(scope="module")
def side_track(tmp_path_factory: pytest.TempPathFactory) -> tuple[PoseTrack, Path]:
    """3 s of the tracking-camera side-view runner (75 frames), through the cache."""
    info = probe_video(shared_clip("pauldess1__MotionTrack__running.mp4"))
    npz = tmp_path_factory.mktemp("cache") / "landmarks.npz"
    track, from_cache = extract_pose_cached(info, npz, end_s=3.0, progress=False)
    assert not from_cache
    return track, npz


def test_real_track_shape_and_conventions(side_track: tuple[PoseTrack, Path]) -> None:
    track, _ = side_track
    n = track.num_frames
    assert n == 75 and track.detected_fraction == 1.0
    assert track.image_xy_px.shape == (n, 33, 2) and track.world_xyz_m.shape == (n, 33, 3)
    assert (track.image_width, track.image_height) == (640, 360)
    np.testing.assert_allclose(track.time_s, track.frame_index / 25.0)
    # world landmarks: metres about the mid-hip, axes along the image's (x right, y down)
    mid_hip = track.world_xyz_m[:, HIPS].mean(axis=1)
    assert np.abs(mid_hip).max() < 0.05
    image_rel = track.image_xy_px - track.image_xy_px[:, HIPS].mean(axis=1, keepdims=True)
    for axis in (0, 1):
        corr = np.corrcoef(image_rel[..., axis].ravel(), track.world_xyz_m[..., axis].ravel())[0, 1]
        assert corr > 0.9
    # z: away from the camera, like image_z
    assert np.corrcoef(track.image_z.ravel(), track.world_xyz_m[..., 2].ravel())[0, 1] > 0.9
    # a tracking camera: the background streams past (the runner goes right to left, the camera
    # follows; the far background moves about 2 px a frame, the road below 10: parallax)
    assert np.median(track.background_shift_px[1:, 0]) > 1.0


def test_real_track_swap_injection_is_undone(side_track: tuple[PoseTrack, Path]) -> None:
    track, _ = side_track
    args = (track.image_xy_px, track.image_z, track.world_xyz_m, track.visibility, track.presence)
    again = fix_left_right_swaps(*args, is_repeat=track.is_repeat)
    assert again.episodes == 0  # the stored track is already corrected: nothing more to fix
    broken = [swap_labels(a, slice(40, 46), LEFT_LEG) for a in args]
    fixed = fix_left_right_swaps(*broken, is_repeat=track.is_repeat)
    np.testing.assert_array_equal(np.flatnonzero(fixed.swapped[:, 0]), np.arange(40, 46))
    for got, want in zip(fixed[:5], args):
        np.testing.assert_array_equal(got, want)


def test_cache_reuses_landmarks_without_the_model(side_track: tuple[PoseTrack, Path],
                                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    track, npz = side_track
    info = probe_video(shared_clip("pauldess1__MotionTrack__running.mp4"))

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model ran although the cache matched")

    monkeypatch.setattr(pose_extract, "create_landmarker", no_model)
    again, from_cache = extract_pose_cached(info, npz, end_s=3.0, progress=False)
    assert from_cache
    for name in ("image_xy_px", "world_xyz_m", "visibility", "time_s", "detected", "swap_fixed"):
        np.testing.assert_array_equal(getattr(again, name), getattr(track, name))
    assert (again.followed_person, again.left_right_swaps_fixed) == (track.followed_person,
                                                                     track.left_right_swaps_fixed)
    # The automatic flip test kept one pass here (pauldess1's feet move ~0.1 of their separation
    # per picture), so the same landmarks serve --no-flip-test; --flip-test needs a second pass.
    assert not track.flip_test
    one_pass, from_cache = extract_pose_cached(info, npz, end_s=3.0, progress=False, flip_test=False)
    assert from_cache
    np.testing.assert_array_equal(one_pass.image_xy_px, track.image_xy_px)
    with pytest.raises(AssertionError, match="the model ran"):
        extract_pose_cached(info, npz, end_s=3.0, progress=False, flip_test=True)
    with pytest.raises(AssertionError, match="the model ran"):  # other settings: another key
        extract_pose_cached(info, npz, end_s=2.0, progress=False)
    key = pose_cache_key(info.path, None, {"end_s": 3.0})
    assert key != pose_cache_key(info.path, None, {"end_s": 2.0})
    assert key == pose_cache_key(info.path, DEFAULT_MODEL_PATH, {"end_s": 3.0})
    save_pose_cache(track, tmp_path / "a.npz", key)
    assert load_cached_pose(tmp_path / "a.npz", key) is not None
    assert load_cached_pose(tmp_path / "a.npz", "another key") is None
    assert load_cached_pose(tmp_path / "missing.npz", key) is None
    (tmp_path / "bad.npz").write_bytes((tmp_path / "a.npz").read_bytes()[:500])
    assert load_cached_pose(tmp_path / "bad.npz", key) is None


def test_cache_key_hashes_content_not_name(tmp_path: Path) -> None:
    a = make_testsrc(tmp_path / "a.mp4", seconds=0.3)
    b = tmp_path / "b.mp4"
    b.write_bytes(a.read_bytes())
    assert pose_cache_key(a, None, {}) == pose_cache_key(b, None, {})
    b.write_bytes(a.read_bytes() + b"\0")
    assert pose_cache_key(a, None, {}) != pose_cache_key(b, None, {})


# --------------------------------------------------------------------------- rotation


def test_phone_rotation_gives_the_same_landmarks(tmp_path: Path) -> None:
    """A clip stored sideways with a display matrix (as phones record portrait) analyses as upright."""
    source = shared_clip("pauldess1__MotionTrack__running.mp4")
    upright = tmp_path / "upright.mp4"
    ffmpeg("-i", source, "-t", "1.2", "-an", "-c:v", "libx264", "-crf", "12", "-preset", "ultrafast", upright)
    sideways = tmp_path / "sideways.mp4"
    ffmpeg("-i", upright, "-vf", "transpose=2", "-c:v", "libx264", "-crf", "12", "-preset", "ultrafast",
           tmp_path / "coded.mp4")
    ffmpeg("-display_rotation", "-90", "-i", tmp_path / "coded.mp4", "-c", "copy", sideways)
    a_info, b_info = probe_video(upright), probe_video(sideways)
    assert (b_info.coded_width, b_info.coded_height) == (360, 640)
    assert (b_info.width, b_info.height, b_info.rotation_deg) == (640, 360, 90)
    a = extract_pose(a_info, progress=False, max_people=1)
    b = extract_pose(b_info, progress=False, max_people=1)
    both = a.detected & b.detected
    assert both.mean() > 0.9
    error = np.linalg.norm(a.image_xy_px[both] - b.image_xy_px[both], axis=-1)
    # two lossy encodes apart: the same pose, to a few pixels in a 640x360 picture
    assert np.median(error) < 3.0 and np.percentile(error, 90) < 8.0


# --------------------------------------------------------------------------- following one person


@pytest.mark.parametrize("name", ["omartarek198__Pose-estimation-using-dollarpy__running.mp4",
                                  "davidpagnon__Sports2D__demo.mp4"])
def test_two_person_clips_follow_one_person(name: str) -> None:
    info = probe_video(shared_clip(name))
    track = extract_pose(info, end_s=4.0, progress=False)
    centre = track.image_xy_px[track.detected][:, HIPS].mean(axis=1)
    frames = track.frame_index[track.detected]
    step = np.linalg.norm(np.diff(centre, axis=0), axis=1) / np.diff(frames)
    diagonal = np.hypot(track.image_width, track.image_height)
    print(f"{name}: detected {track.detected_fraction:.2f}, people {track.num_people_max}, "
          f"largest hip step {step.max() / diagonal:.3f} of the diagonal; {track.followed_person}")
    assert track.num_people_max >= 2
    assert track.detected_fraction > 0.5
    assert step.max() < 0.05 * diagonal  # no jump to the other person


# --------------------------------------------------------------------------- detection survey


def _side_running_clips(root: Path) -> list[str]:
    with open(root / "MANIFEST.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    names = [r["file"] for r in rows if r["view"] == "side" and r["activity"] in ("sprint", "run", "jog")]
    return names + [f"sprint_starts/{p.name}" for p in sorted((root / "sprint_starts").glob("*.mp4"))]


@pytest.mark.slow
@pytest.mark.shared
def test_runner_found_in_side_view_clips(shared_videos: Path) -> None:
    """First 3 s of every side-view running clip: the runner is found in >= 90% of the frames
    while in view (from first to last detection; clips where the runner enters or leaves
    the picture are judged on the frames they are in it), found within 1.5 s, and never
    jumps to someone else (hip centre moves under 8% of the picture diagonal per frame)."""
    report = []
    for name in _side_running_clips(shared_videos):
        track = extract_pose(probe_video(shared_videos / name), end_s=3.0, progress=False)
        d = track.detected
        first, last = int(np.argmax(d)), len(d) - int(np.argmax(d[::-1]))
        in_view = float(d[first:last].mean()) if d.any() else 0.0
        centre = track.image_xy_px[d][:, HIPS].mean(axis=1)
        steps = np.linalg.norm(np.diff(centre, axis=0), axis=1) / np.diff(track.frame_index[d])
        jump = float(steps.max(initial=0.0)) / np.hypot(track.image_width, track.image_height)
        report.append((name, track.detected_fraction, in_view, first, jump))
        print(f"{name:55s} frames {len(d):3d} detected {track.detected_fraction:.2f} "
              f"in view {in_view:.2f} (first at frame {first}), largest hip step {jump:.3f} of the diagonal")
    # 8% of the diagonal: a switch to someone else; single-frame pose glitches of the same
    # person stay below (the largest, 5.4% on sprint_starts/movie2_b11 frame 79, is a rough
    # whole-frame pose of the runner 0.4 body sizes off)
    failing = [r for r in report if r[2] < 0.9 or r[3] > 45 or r[4] > 0.08]
    assert not failing, failing
