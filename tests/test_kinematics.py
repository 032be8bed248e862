"""Kinematics: angle conventions, direction independence, scale and depth."""
from __future__ import annotations

import numpy as np
import pytest

from analyzer import kinematics
from analyzer.landmarks import HIPS, INDEX, SIDES
from tests.body_fixtures import standing_landmarks
from tests.test_pose import synthetic_runner

T = np.arange(0, 1.0, 1 / 60.0)


def _rotate_sagittal(points: np.ndarray, pivot: str, moving: tuple[str, ...], angle_deg: float) -> np.ndarray:
    """Rotate landmarks *moving* about landmark *pivot* in the x-y plane (positive: swing forward)."""
    out = points.copy()
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    p = out[INDEX[pivot]]
    for name in moving:
        d = out[INDEX[name]] - p
        # Positive angle turns a downward vector toward +x (forward).
        out[INDEX[name], 0] = p[0] + c * d[0] - s * d[1]
        out[INDEX[name], 1] = p[1] + s * d[0] + c * d[1]
    return out


def test_standing_figure_has_zero_angles() -> None:
    angles = kinematics.joint_angles_deg(standing_landmarks()[None])
    for name in ("hip_flexion_left_deg", "knee_flexion_right_deg", "shoulder_flexion_left_deg",
                 "elbow_flexion_right_deg", "trunk_lean_deg", "pelvis_rotation_deg", "thorax_rotation_deg",
                 "inter_thigh_angle_deg", "thigh_angle_left_deg"):
        assert angles[name][0] == pytest.approx(0.0, abs=1e-9), name
    assert abs(angles["ankle_dorsiflexion_left_deg"][0]) < 1.0


def test_flexion_signs() -> None:
    leg = ("right_knee", "right_ankle", "right_heel", "right_foot_index")
    pts = _rotate_sagittal(standing_landmarks(), "right_hip", leg, 60.0)  # thigh forward
    pts = _rotate_sagittal(pts, "right_knee", leg[1:], -90.0)  # shank folds back
    a = kinematics.joint_angles_deg(pts[None])
    assert a["hip_flexion_right_deg"][0] == pytest.approx(60.0)
    assert a["knee_flexion_right_deg"][0] == pytest.approx(90.0)
    assert a["thigh_angle_right_deg"][0] == pytest.approx(60.0)
    assert a["inter_thigh_angle_deg"][0] == pytest.approx(60.0)
    arm = ("left_elbow", "left_wrist", "left_index", "left_pinky", "left_thumb")
    pts = _rotate_sagittal(standing_landmarks(), "left_shoulder", arm, -40.0)  # arm back
    pts = _rotate_sagittal(pts, "left_elbow", arm[1:], 90.0)  # forearm forward
    a = kinematics.joint_angles_deg(pts[None])
    assert a["shoulder_flexion_left_deg"][0] == pytest.approx(-40.0)
    assert a["elbow_flexion_left_deg"][0] == pytest.approx(90.0)


def _image_of(points_m: np.ndarray, direction: int, px_per_m: float = 200.0) -> np.ndarray:
    """Side-camera image (pixels, y down) of runner-frame points travelling in *direction*."""
    x = 640 + direction * points_m[..., 0] * px_per_m
    y = 650 - points_m[..., 1] * px_per_m
    return np.stack([x, y], axis=-1)


def _running_like(height_m: float = 1.8, times: np.ndarray = T) -> np.ndarray:
    base = standing_landmarks(height_m)
    frames = []
    for t in times:
        phase = 2 * np.pi * 2.2 * t
        pts = base.copy()
        for side, sign in zip(SIDES, (1, -1)):
            leg = tuple(f"{side}_{p}" for p in ("knee", "ankle", "heel", "foot_index"))
            pts = _rotate_sagittal(pts, f"{side}_hip", leg, 40 * sign * np.sin(phase))
            pts = _rotate_sagittal(pts, f"{side}_knee", leg[1:], -60 - 40 * np.sin(phase + 1))
        pts[:, 0] += 9.0 * t
        frames.append(pts)
    return np.array(frames)


@pytest.mark.parametrize("direction", [1, -1])
def test_direction_of_travel_does_not_change_angles(direction: int) -> None:
    truth = _running_like()
    image = _image_of(truth, direction)
    world = truth - truth[:, [INDEX["left_hip"], INDEX["right_hip"]]].mean(1, keepdims=True)
    kin = kinematics.from_pose(image, world, np.ones(image.shape[:2]), T, image_width_px=1280, image_height_px=720,
                               height_m=1.8, camera_moving=False)
    assert kin.frame.direction == direction
    expected = kinematics.joint_angles_deg(truth)
    inner = slice(6, -6)
    for name in ("hip_flexion_left_deg", "knee_flexion_right_deg", "thigh_angle_left_deg", "trunk_lean_deg"):
        np.testing.assert_allclose(kin.angles_deg[name][inner], expected[name][inner], atol=1.5, err_msg=name)
    # The scale comes from the athlete's height through the legs' length.
    assert kin.frame.scale_source == "height"
    assert kin.frame.m_per_px == pytest.approx(1 / 200.0, rel=0.03)


def test_measured_depth_sign_follows_direction() -> None:
    """MediaPipe's world z grows away from the camera; the runner's right faces a camera it passes left-to-right."""
    world = np.zeros((1, 33, 3))
    world[0, INDEX["right_hip"], 2] = -0.1   # closer to the camera
    world[0, INDEX["left_hip"], 2] = 0.1
    z = kinematics.lateral_positions_m(world, direction=1, height_m=1.8, method="measured")
    assert z[0, INDEX["right_hip"]] > 0 > z[0, INDEX["left_hip"]]
    z = kinematics.lateral_positions_m(world, direction=-1, height_m=1.8, method="measured")
    assert z[0, INDEX["right_hip"]] < 0 < z[0, INDEX["left_hip"]]


def test_scale_from_world_landmarks_when_height_unknown() -> None:
    truth = _running_like(1.7)
    image = _image_of(truth, 1, px_per_m=150.0)
    scale = kinematics.estimate_scale(image, truth, height_m=None, sex="male", time_s=T)
    assert scale.source == "world_landmarks"
    assert not scale.follows_distance
    assert scale.m_per_px == pytest.approx(1 / 150.0, rel=0.02)
    assert scale.height_m == pytest.approx(1.7, rel=0.05)


def _lowest_foot_m(points_m: np.ndarray) -> np.ndarray:
    feet = [INDEX[f"{s}_{p}"] for s in SIDES for p in ("heel", "foot_index")]
    return points_m[:, feet, 1].min(axis=1)


@pytest.mark.parametrize("follow", [True, False])
def test_scale_follows_a_runner_whose_size_in_the_picture_doubles(follow: bool, monkeypatch) -> None:
    """A camera 1 m up, panning to keep the runner centred while the runner's distance halves:
    the runner's size in the picture doubles and the ground moves down the picture. With the
    scale taken frame by frame from the legs, and pixels measured from the picture's centre,
    the scale is recovered within 5 % and the feet's lowest points stay on one level; with
    one scale for the clip (the check that this test can fail) the ground drifts by tens of cm."""
    times = np.arange(0, 3.0, 1 / 60.0)
    truth = _running_like(1.8, times)
    px_per_m = np.linspace(120.0, 240.0, times.size)[:, None]
    hips = truth[:, [INDEX["left_hip"], INDEX["right_hip"]], 0].mean(axis=1, keepdims=True)
    image = np.stack([640 + (truth[..., 0] - hips) * px_per_m, 360 + (1.0 - truth[..., 1]) * px_per_m], axis=-1)
    world = truth - truth[:, [INDEX["left_hip"], INDEX["right_hip"]]].mean(1, keepdims=True)
    if not follow:
        monkeypatch.setattr(kinematics, "SCALE_VARIATION_LIMIT", np.inf)
    kin = kinematics.from_pose(image, world, np.ones(image.shape[:2]), times, image_width_px=1280,
                               image_height_px=720, height_m=1.8, camera_moving=True)
    assert kin.frame.scale_follows_distance == follow
    inner = slice(30, -30)
    lowest = _lowest_foot_m(kin.points_m)[inner] - _lowest_foot_m(truth)[inner]
    drift_m = np.ptp(lowest)
    if follow:
        recovered = 1.0 / kin.frame.m_per_px_by_frame[inner]
        np.testing.assert_allclose(recovered / px_per_m[inner, 0], np.median(recovered / px_per_m[inner, 0]), rtol=0.05)
        assert drift_m < 0.05
        low, high = kin.frame.m_per_px_range
        assert high / low > 1.5
    else:
        assert drift_m > 0.3


def test_tilted_camera_is_levelled() -> None:
    truth = _running_like()
    # Feet touch the ground at changing heights as the runner crosses: ground y drifts.
    truth = truth.copy()
    low = np.minimum(truth[:, INDEX["left_foot_index"], 1], truth[:, INDEX["right_foot_index"], 1])
    truth[..., 1] -= low.min()
    image = _image_of(truth, 1)
    tilt = np.radians(5.0)
    centre = np.array([640.0, 360.0])
    rot = np.array([[np.cos(tilt), np.sin(tilt)], [-np.sin(tilt), np.cos(tilt)]])
    tilted = (image - centre) @ rot.T + centre
    estimated = kinematics.estimate_tilt_rad(tilted, 1280, camera_moving=False)
    assert np.degrees(estimated) == pytest.approx(5.0, abs=1.5)


def test_a_misplaced_knee_is_set_aside_and_a_foot_that_stops_is_not() -> None:
    truth = _running_like()
    image = _image_of(truth, 1) + np.random.default_rng(5).normal(0.0, 1.0, truth.shape[:2] + (2,))
    knee, heel = INDEX["left_knee"], INDEX["left_heel"]
    image[30, knee] += (35.0, 0.0)  # the model's jump: a sixth of this runner's leg, one frame
    image[29:31, heel] += (0.0, 35.0)  # exempt: judged as feet never are (docs/METHOD.md, "Filtering")
    world = truth - truth[:, [INDEX["left_hip"], INDEX["right_hip"]]].mean(1, keepdims=True)
    kin = kinematics.from_pose(image, world, np.ones(image.shape[:2]), T, image_width_px=1280, image_height_px=720,
                               height_m=1.8, camera_moving=False)
    assert kin.image_outliers.shape == image.shape[:2]
    assert kin.image_outliers[30, knee]
    assert not kin.image_outliers[:, kinematics.OUTLIER_EXEMPT].any()
    assert kin.image_outliers.mean() < 0.005
    # The knee is re-created from the frames around it: within 1 cm of the truth, where
    # the jump (0.17 m) low-passed would still leave it several centimetres off.
    knee_m = kin.points_m[30, knee, :2] - kin.points_m[30, INDEX["left_hip"], :2]
    true_m = truth[30, knee, :2] - truth[30, INDEX["left_hip"], :2]
    assert np.linalg.norm(knee_m - true_m) < 0.01


def test_a_stray_detection_at_the_start_does_not_reverse_the_direction() -> None:
    """A pan keeps the runner mid-picture; a few frames of another detection 500 px to the
    right at the start read as ~2.8 leg lengths of travel to the left. The body's facing
    (knees and toes ahead) says right, clearly, and decides; mirrored, everything says left."""
    xy = synthetic_runner(n=120)
    xy[..., 0] -= (xy[:, HIPS, 0].mean(axis=1) - 640.0)[:, None]  # the pan: hips mid-picture
    assert kinematics.estimate_direction(xy) == 1
    stray = xy.copy()
    stray[:12, :, 0] += 500.0
    assert kinematics.estimate_direction(stray) == 1
    mirrored = stray.copy()
    mirrored[..., 0] = 1280.0 - mirrored[..., 0]
    assert kinematics.estimate_direction(mirrored) == -1
    crossing = synthetic_runner(n=120)  # a static camera: the hips cross the picture, rightward
    assert kinematics.estimate_direction(crossing) == 1
