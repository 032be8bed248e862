"""The flip test (analyzer.pose.flip): mirrored frames, mapping their pose back, and the merge.

Pure array tests on a drawn runner; the flip test through the pose model on a rendered
clip, against its truth, is in ``tests/test_pipeline_synthetic.py``.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from analyzer.landmarks import INDEX, MIRROR
from analyzer.pose import PoseTrack
from analyzer.pose.swaps import legs_finely_sampled
from analyzer.pose.flip import (
    FLIP_BRIDGED_GAP_S,
    AUTO_MIN_DETECTED_PICTURES,
    FLIP_DISAGREEMENT_TORSO_FRACTION,
    flip_test_wanted,
    merge_flip_test,
    mirrored_frames,
    unmirror_track,
)
from analyzer.signals import DEFAULT_MAX_GAP_S
from analyzer.video import Frame
from tests.test_pose import LEFT_LEG, swap_labels, synthetic_runner

WIDTH = 1280
TORSO_PX = 250.0  # synthetic_runner's shoulder-to-hip distance


def make_track(xy: np.ndarray, seed: int = 0) -> PoseTrack:
    n = xy.shape[0]
    rng = np.random.default_rng(seed)
    return PoseTrack(
        frame_index=np.arange(n), time_s=np.arange(n) / 30.0, is_repeat=np.zeros(n, dtype=bool),
        background_shift_px=rng.normal(size=(n, 2)), image_xy_px=xy.copy(), image_z=rng.normal(size=(n, 33)),
        world_xyz_m=rng.normal(size=(n, 33, 3)), visibility=rng.uniform(0.5, 1.0, size=(n, 33)),
        presence=rng.uniform(0.5, 1.0, size=(n, 33)), detected=np.ones(n, dtype=bool),
        people_count=np.ones(n, dtype=np.int64), swap_fixed=np.zeros((n, 2), dtype=bool),
        pose_source=np.zeros(n, dtype=np.int8), legs_collapsed=np.zeros(n, dtype=bool),
        image_width=WIDTH, image_height=720, model_name="test.task", num_people_max=1,
        followed_person="the only person", left_right_swaps_fixed=0)


def test_unmirror_is_its_own_inverse_and_swaps_labels() -> None:
    track = make_track(synthetic_runner())
    once = unmirror_track(track)
    knee, other_knee = INDEX["left_knee"], INDEX["right_knee"]
    np.testing.assert_allclose(once.image_xy_px[:, knee, 0], WIDTH - track.image_xy_px[:, other_knee, 0])
    np.testing.assert_allclose(once.image_xy_px[:, knee, 1], track.image_xy_px[:, other_knee, 1])
    np.testing.assert_allclose(once.world_xyz_m[:, knee, 0], -track.world_xyz_m[:, other_knee, 0])
    np.testing.assert_allclose(once.visibility[:, knee], track.visibility[:, other_knee])
    np.testing.assert_allclose(once.background_shift_px[:, 0], -track.background_shift_px[:, 0])
    twice = unmirror_track(once)
    for field in ("image_xy_px", "world_xyz_m", "image_z", "visibility", "presence", "background_shift_px"):
        np.testing.assert_allclose(getattr(twice, field), getattr(track, field), err_msg=field)


def test_mirrored_frames_flip_the_picture_and_its_shift() -> None:
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    frame = Frame(index=4, time_s=0.1, image_rgb=image, is_repeat=False, background_shift_px=(2.5, -1.0))
    (flipped,) = mirrored_frames([frame])
    np.testing.assert_array_equal(flipped.image_rgb, image[:, ::-1])
    assert flipped.image_rgb.flags["C_CONTIGUOUS"]
    assert flipped.background_shift_px == (-2.5, -1.0) and flipped.index == 4 and flipped.time_s == 0.1


def test_agreeing_passes_are_averaged() -> None:
    xy = synthetic_runner()
    first = make_track(xy, seed=1)
    other = dataclasses.replace(make_track(xy + 4.0, seed=2), frame_index=first.frame_index)
    merged = merge_flip_test(first, other)
    np.testing.assert_allclose(merged.image_xy_px, xy + 2.0)
    np.testing.assert_allclose(merged.image_z, 0.5 * (first.image_z + other.image_z))
    np.testing.assert_allclose(merged.visibility, np.minimum(first.visibility, other.visibility))
    assert "flip test" in merged.followed_person


def test_a_knee_the_passes_put_far_apart_is_not_averaged() -> None:
    """A short run is left for the analysis to bridge (visibility 0); in a longer one the
    estimate nearer the neighbouring frames is kept; a small gap is averaged."""
    xy = synthetic_runner()  # 30 fps: the analysis bridges runs of up to two frames
    first = make_track(xy)
    moved = xy.copy()
    knee, ankle = INDEX["right_knee"], INDEX["right_ankle"]
    far = 1.5 * FLIP_DISAGREEMENT_TORSO_FRACTION * TORSO_PX
    moved[70:72, knee, 0] += far      # two frames: set aside, bridged later
    moved[30:34, knee, 0] += 3 * far  # four frames: the first pass's, nearer the frames either side
    moved[50:53, knee, 0] += 0.5 * far  # within the limit: averaged
    moved[30:34, ankle, 0] += 3 * far  # ankles and feet are averaged whatever the gap
    merged = merge_flip_test(first, make_track(moved))
    assert (merged.visibility[70:72, knee] == 0).all()
    np.testing.assert_allclose(merged.image_xy_px[30:34, knee], xy[30:34, knee])
    assert (merged.visibility[30:34, knee] > 0).all() and (merged.visibility[30:34, ankle] > 0).all()
    np.testing.assert_allclose(merged.image_xy_px[50:53, knee], 0.5 * (xy[50:53, knee] + moved[50:53, knee]))
    np.testing.assert_allclose(merged.image_xy_px[30:34, ankle], 0.5 * (xy[30:34, ankle] + moved[30:34, ankle]))
    others = np.ones(xy.shape[0], dtype=bool)
    others[70:72] = False
    assert (merged.visibility[others][:, knee] > 0).all()
    assert "of the 6 knee and hip positions" in merged.followed_person
    assert "2 set aside and 4 taken from the pass nearer their neighbours" in merged.followed_person


@pytest.mark.parametrize(("fps", "wanted"), [(30.0, True), (60.0, False), (120.0, False)])
def test_the_automatic_flip_test_runs_where_the_legs_are_coarsely_sampled(fps: float, wanted: bool) -> None:
    """A sprinter's 4.5 steps/s: the feet move a fifth of their separation or more per picture at 30 fps."""
    track = make_track(synthetic_runner(n=240, fps=fps))
    assert flip_test_wanted(track) == wanted
    merged = merge_flip_test(track, make_track(synthetic_runner(n=240, fps=fps), seed=1))
    assert merged.flip_test and not track.flip_test


def test_the_automatic_flip_test_needs_the_runner_in_enough_pictures() -> None:
    track = make_track(synthetic_runner(n=240, fps=30.0))
    seen = AUTO_MIN_DETECTED_PICTURES - 1
    hidden = np.arange(track.num_frames) >= seen
    xy = track.image_xy_px.copy()
    xy[hidden] = np.nan
    nobody_much = dataclasses.replace(track, image_xy_px=xy, detected=~hidden)
    assert not flip_test_wanted(nobody_much)
    repeats = dataclasses.replace(track, is_repeat=np.arange(track.num_frames) % 30 != 0)  # 8 distinct pictures
    assert not flip_test_wanted(repeats)


def test_a_track_cached_before_the_flip_test_field_reads_as_one_pass(tmp_path) -> None:
    track = dataclasses.replace(make_track(synthetic_runner(n=20)), flip_test=True)
    track.to_npz(tmp_path / "new.npz")
    assert PoseTrack.from_npz(tmp_path / "new.npz").flip_test is True
    with np.load(tmp_path / "new.npz") as z:
        old = {name: z[name] for name in z.files if name != "flip_test"}
    np.savez(tmp_path / "old.npz", **old)
    read = PoseTrack.from_npz(tmp_path / "old.npz")
    assert read.flip_test is False
    np.testing.assert_array_equal(read.image_xy_px, track.image_xy_px)


def test_the_bridged_gap_is_the_analysis_gap() -> None:
    assert FLIP_BRIDGED_GAP_S == DEFAULT_MAX_GAP_S


@pytest.mark.parametrize(("fps", "finely_sampled"), [(120.0, True), (30.0, False)])
def test_the_mirrored_pass_labels_are_aligned_before_averaging(fps: float, finely_sampled: bool) -> None:
    """Where the passes name the legs the other way round, the second takes the first's
    names; at 30 fps, where the names are unsure, those frames' knees are set aside (their
    thigh and shank angles bridged), and the feet keep the first pass's names."""
    xy = synthetic_runner(n=240, fps=fps)
    assert legs_finely_sampled(xy) == finely_sampled
    first = make_track(xy)
    swapped = make_track(swap_labels(xy, slice(20, 40), LEFT_LEG))
    merged = merge_flip_test(first, swapped)
    np.testing.assert_allclose(merged.image_xy_px, xy)
    knees = [INDEX["left_knee"], INDEX["right_knee"]]
    knees_kept = merged.visibility[:, knees] > 0
    assert knees_kept[:20].all() and knees_kept[40:].all()
    assert knees_kept[20:40].all() == finely_sampled and knees_kept[20:40].any() == finely_sampled
    assert (merged.visibility[:, [i for i in range(33) if i not in knees]] > 0).all()
    assert ("named the other way round" in merged.followed_person) != finely_sampled


def test_frames_one_pass_missed_take_the_other() -> None:
    xy = synthetic_runner()
    first, other = make_track(xy), make_track(xy)
    first.detected[10:14] = False
    first.image_xy_px[10:14] = np.nan
    other.detected[60:62] = False
    other.image_xy_px[60:62] = np.nan
    merged = merge_flip_test(first, other)
    assert merged.detected.all()
    np.testing.assert_allclose(merged.image_xy_px, xy)


def test_passes_that_followed_different_people_are_not_merged() -> None:
    xy = synthetic_runner()
    first = make_track(xy)
    someone_else = make_track(xy + np.array([3 * TORSO_PX, 0.0]))
    merged = merge_flip_test(first, someone_else)
    assert merged is first


def test_tracks_of_different_frames_are_refused() -> None:
    first = make_track(synthetic_runner(n=50))
    with pytest.raises(ValueError, match="same frames"):
        merge_flip_test(first, dataclasses.replace(first, frame_index=first.frame_index + 1))


def test_mirror_index_is_an_involution() -> None:
    assert all(MIRROR[MIRROR[i]] == i for i in range(33))


def test_flip_test_on_a_real_clip_lands_on_the_first_pass_landmarks() -> None:
    """Through the pose model on a real side view (a treadmill runner, first 4 s): the merged
    pose is found where the first pass is, and lies on it (a landmark mapped back to the
    wrong side of the picture, or under the other side's name, would be a torso length off)."""
    from analyzer.pose import extract_pose
    from analyzer.video import probe_video
    from tests.conftest import shared_clip

    info = probe_video(shared_clip("zzzhushi__running-gait-analysis__male_side.mp4"))
    single = extract_pose(info, end_s=4.0, progress=False)
    merged = extract_pose(info, end_s=4.0, progress=False, flip_test=True)
    assert merged.num_frames == single.num_frames
    assert merged.detected.mean() >= single.detected.mean() >= 0.9
    assert "flip test" in merged.followed_person
    torso = np.nanmedian(np.linalg.norm(single.image_xy_px[:, INDEX["left_shoulder"]]
                                        - single.image_xy_px[:, INDEX["left_hip"]], axis=-1))
    both = single.detected & merged.detected
    gap = np.linalg.norm(single.image_xy_px[both] - merged.image_xy_px[both], axis=-1) / torso
    assert np.nanmedian(gap) < 0.05, np.nanmedian(gap)
    knees = [INDEX["left_knee"], INDEX["right_knee"]]
    assert np.nanmedian(gap[:, knees]) < 0.1 and (merged.visibility[both][:, knees] > 0).mean() > 0.8
