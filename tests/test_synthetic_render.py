"""The synthetic renderer: what it draws is found by the pose model, encodes to a video
OpenCV reads back exactly (size, frames, rate, rotation), and is reproducible.

The figure rendered here is a small running model built in this file (limbs swinging
sinusoidally in the sagittal plane while the body moves forward), so the renderer is
tested independently of ``analyzer.synthetic.motion``. The pose model is run through the
project's own pose stage (``analyzer.pose.extract_pose``: MediaPipe PoseLandmarker in
VIDEO mode with the embedded full model), on the encoded MP4.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from analyzer.landmarks import INDEX, LANDMARK_NAMES
from analyzer.synthetic.camera import CameraTrack, side_camera
from analyzer.synthetic.render import (
    JOINT_NAMES,
    RenderBody,
    RenderOptions,
    SceneRenderer,
    render_frames,
    write_video,
)


# --------------------------------------------------------------------------------------
# A running test figure
# --------------------------------------------------------------------------------------


def _sagittal(angle_deg: np.ndarray, length: float) -> np.ndarray:
    """(N, 3) vector of ``length`` at ``angle_deg`` from straight down, positive forward."""
    a = np.radians(angle_deg)
    return np.stack([length * np.sin(a), -length * np.cos(a), np.zeros_like(a)], axis=-1)


def running_figure(
    num_frames: int,
    fps: float,
    *,
    height_m: float = 1.78,
    speed_m_s: float = 7.0,
    stride_hz: float = 2.2,
    start_x_m: float = 0.0,
    standing: bool = False,
) -> RenderBody:
    """A runner with sinusoidal limb swings moving forward along z = 0.

    Segment lengths are fractions of ``height_m`` (close to de Leva's). Phase ``phi`` is
    the right leg's: the right thigh is forward at phi = pi/2, the left arm with it.
    ``standing`` gives a still figure, left arm a little forward and right arm a little
    back (for occlusion tests).
    """
    h = height_m
    t = np.arange(num_frames) / fps
    phi = 2.0 * np.pi * stride_hz * t
    zero = np.zeros_like(t)
    thigh, shank = 0.245 * h, 0.246 * h
    upper_arm, forearm = 0.186 * h, 0.146 * h
    hip_half, shoulder_half = 0.049 * h, 0.100 * h
    trunk_len = 0.288 * h
    lean = zero + (0.0 if standing else 9.0)
    trunk_up = np.stack([np.sin(np.radians(lean)), np.cos(np.radians(lean)), zero], axis=-1)

    feet_low = np.full(num_frames, np.inf)
    rel: dict[str, np.ndarray] = {}
    for side, sign, phase in (("right", 1.0, 0.0), ("left", -1.0, np.pi)):
        p = phi + phase
        if standing:
            thigh_a, knee_flex, foot_a = zero, zero, zero
            arm_a, elbow_flex = zero + (25.0 if side == "left" else -10.0), zero + 10.0
        else:
            thigh_a = 18.0 + 42.0 * np.sin(p)
            knee_flex = 70.0 + 55.0 * np.sin(p + 0.9)
            foot_a = 12.0 + 18.0 * np.sin(p - 0.8)
            arm_a = -8.0 - 50.0 * np.sin(p)
            elbow_flex = 85.0 + 15.0 * np.sin(p)
        yaw = zero if standing else np.radians(6.0) * np.sin(p)
        hip = np.stack([sign * hip_half * np.sin(yaw), zero, sign * hip_half * np.cos(yaw)], axis=-1)
        knee = hip + _sagittal(thigh_a, thigh)
        ankle = knee + _sagittal(thigh_a - knee_flex, shank)
        # Foot: along the sole from heel to toe, tilted toes-down by foot_a.
        c, s = np.cos(np.radians(foot_a)), np.sin(np.radians(foot_a))
        along = np.stack([c, -s, zero], axis=-1)
        up = np.stack([s, c, zero], axis=-1)
        ankle_h = 0.039 * h
        heel = ankle - ankle_h * up - 0.05 * along
        ball = ankle - ankle_h * up + 0.145 * along
        toe = ankle - ankle_h * up + 0.2 * along + 0.01 * up
        shoulder = trunk_len * trunk_up + np.stack([-sign * shoulder_half * np.sin(yaw), zero,
                                                    sign * shoulder_half * np.cos(yaw)], axis=-1)
        elbow = shoulder + _sagittal(arm_a, upper_arm)
        wrist = elbow + _sagittal(arm_a + elbow_flex, forearm)
        fore = _sagittal(arm_a + elbow_flex, 1.0)
        hand = wrist + 0.085 * fore
        out = np.array([0.0, 0.0, sign])
        rel |= {f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": ankle, f"{side}_heel": heel,
                f"{side}_ball": ball, f"{side}_toe": toe, f"{side}_shoulder": shoulder,
                f"{side}_elbow": elbow, f"{side}_wrist": wrist, f"{side}_hand": hand,
                f"{side}_index": wrist + 0.16 * fore + 0.01 * out,
                f"{side}_pinky": wrist + 0.14 * fore + 0.03 * out,
                f"{side}_thumb": wrist + 0.07 * fore - 0.03 * out}
        feet_low = np.minimum(feet_low, np.minimum.reduce([heel[:, 1], ball[:, 1], toe[:, 1]]))

    # Head: ears 0.11 H above mid-shoulder along the trunk, upright, looking straight ahead.
    chest = trunk_len * trunk_up
    ears = chest + 0.11 * h * trunk_up + np.array([0.02, 0.0, 0.0])

    def head(forward: float, up: float, right: float) -> np.ndarray:
        return ears + np.array([forward, up, right])

    rel |= {"pelvis": np.zeros((num_frames, 3)), "chest": chest, "neck": chest + 0.03 * trunk_up,
            "head_top": head(0.0, 0.13, 0.0), "nose": head(0.115, -0.02, 0.0)}
    for side, sign in (("left", -1.0), ("right", 1.0)):
        rel |= {f"{side}_ear": head(0.0, 0.0, sign * 0.075),
                f"{side}_eye_inner": head(0.095, 0.03, sign * 0.017),
                f"{side}_eye": head(0.09, 0.03, sign * 0.032),
                f"{side}_eye_outer": head(0.084, 0.03, sign * 0.045)}
    rel |= {"mouth_left": head(0.1, -0.05, -0.022), "mouth_right": head(0.1, -0.05, 0.022)}

    # Pelvis: forward at constant speed; its height keeps the lowest foot on the ground.
    pelvis_y = -feet_low + (0.004 if not standing else 0.0)
    pelvis = np.stack([start_x_m + speed_m_s * t, pelvis_y, zero], axis=-1)
    world = {name: pelvis + np.broadcast_to(v, (num_frames, 3)) for name, v in rel.items()}
    landmark_source = {"left_foot_index": "left_toe", "right_foot_index": "right_toe"}
    landmarks = np.stack([world[landmark_source.get(n, n)] for n in LANDMARK_NAMES], axis=1)
    joints = {name: world[name] for name in JOINT_NAMES}
    return RenderBody(joints, landmarks, height_m)


def pan_clip(seconds: float, fps: float, **kw) -> tuple[RenderBody, CameraTrack]:
    """The running figure over ``seconds`` with a side camera panning to follow it."""
    n = int(round(seconds * fps))
    body = running_figure(n, fps, **kw)
    return body, side_camera(body.joints_m["pelvis"][:, 0], pan=True)


QUIET = RenderOptions(noise_sigma=0.0, lens_blur_px=0.0, vignette=0.0)


def _skin_or_shirt(pixel: np.ndarray, options: RenderOptions = QUIET) -> str:
    """Which of the runner's skin and shirt albedos a lit pixel's chromaticity is closer to."""

    def chroma(c: np.ndarray) -> np.ndarray:
        c = np.asarray(c, dtype=float)
        return c / c.sum()
    skin, shirt = options.outfit.skin, options.outfit.shirt
    d_skin = np.linalg.norm(chroma(pixel) - chroma(skin))
    d_shirt = np.linalg.norm(chroma(pixel) - chroma(shirt))
    return "skin" if d_skin < d_shirt else "shirt"


# --------------------------------------------------------------------------------------
# The pose model finds the rendered runner where it truly is
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runner_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RenderBody, CameraTrack]:
    """2 s at 60 fps, 1280x720, panning camera, encoded to MP4."""
    body, camera = pan_clip(2.0, 60.0)
    path = tmp_path_factory.mktemp("render") / "runner.mp4"
    count = write_video(render_frames(body, camera), path, 60.0)
    assert count == body.num_frames
    return path, body, camera


@pytest.mark.slow
def test_pose_stage_finds_the_runner_where_he_is(runner_clip) -> None:
    from analyzer.pose import extract_pose
    from analyzer.video import probe_video

    path, body, camera = runner_clip
    track = extract_pose(probe_video(path), max_people=1, progress=False)
    assert track.num_frames == body.num_frames
    assert track.detected_fraction >= 0.98

    truth, _ = camera.project(body.landmarks_m)                       # (N, 33, 2) pixels
    found = track.detected
    error = np.linalg.norm(track.image_xy_px[found] - truth[track.frame_index[found]], axis=-1)
    error_pct = 100.0 * error / camera.height_px
    for part in ("hip", "knee", "ankle", "shoulder"):
        cols = [INDEX[f"{side}_{part}"] for side in ("left", "right")]
        assert np.median(error_pct[:, cols]) < 3.0, part
    # Most frames keep every one of these landmarks close, not just the median frame.
    legs = [INDEX[f"{s}_{p}"] for s in ("left", "right") for p in ("hip", "knee", "ankle")]
    assert np.mean(error_pct[:, legs].max(axis=1) < 5.0) > 0.8


# --------------------------------------------------------------------------------------
# Encoding: OpenCV reads back what was written
# --------------------------------------------------------------------------------------


def _read_all(path: Path) -> tuple[list[np.ndarray], float, float]:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened()
    fps, meta = cap.get(cv2.CAP_PROP_FPS), cap.get(cv2.CAP_PROP_ORIENTATION_META)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame[..., ::-1])
    cap.release()
    return frames, fps, meta


def _same_picture(decoded: np.ndarray, rendered: np.ndarray) -> bool:
    """Equal up to what H.264 drops: sensor noise, fine texture, 4:2:0 chroma.

    Compared at a 2-pixel blur the encoded frame is within ~1.3 levels of its source, while
    two frames 1/6 s apart differ by ~25.
    """
    blur = [cv2.GaussianBlur(np.asarray(x, np.float32), (0, 0), 2.0) for x in (decoded, rendered)]
    return float(np.mean(np.abs(blur[0] - blur[1]))) < 2.5


def test_mp4_decodes_at_its_size_count_and_rate(runner_clip) -> None:
    path, body, camera = runner_clip
    frames, fps, meta = _read_all(path)
    assert len(frames) == body.num_frames
    assert frames[0].shape == (camera.height_px, camera.width_px, 3)
    assert fps == pytest.approx(60.0, abs=1e-6)
    assert meta == 0
    renderer = SceneRenderer(body, camera)
    assert _same_picture(frames[0], renderer.render(0).image)
    assert _same_picture(frames[-1], renderer.render(body.num_frames - 1).image)
    assert not _same_picture(frames[10], renderer.render(0).image)


@pytest.mark.parametrize("fps", [30.0, 240.0, 30000 / 1001])
def test_any_frame_rate_round_trips(tmp_path: Path, fps: float) -> None:
    body = running_figure(12, fps)
    camera = side_camera(body.joints_m["pelvis"][:, 0], width_px=320, height_px=180, focal_px=350.0)
    path = tmp_path / "clip.mp4"
    write_video(render_frames(body, camera), path, fps)
    frames, got_fps, _ = _read_all(path)
    assert len(frames) == 12 and frames[0].shape == (180, 320, 3)
    assert got_fps == pytest.approx(fps, rel=1e-6)


def test_portrait_clip_plays_upright(tmp_path: Path) -> None:
    """A phone held upright: landscape pictures stored, a 90 degree display rotation."""
    body = running_figure(6, 30.0, standing=True)
    # Stored-frame camera rolled so that world "up" points to the left of the stored picture
    # (image up = -x): rotating the picture 90 degrees clockwise shows the world upright.
    camera = dataclasses.replace(
        side_camera(body.joints_m["pelvis"][:, 0], width_px=640, height_px=360, focal_px=700.0),
        up=(-1.0, 0.0, 0.0),
    )
    stored = list(render_frames(body, camera, QUIET))
    path = tmp_path / "portrait.mp4"
    write_video(stored, path, 30.0, rotation_deg=90)

    frames, _, meta = _read_all(path)                     # OpenCV applies the rotation by default
    assert meta == 90
    assert len(frames) == 6 and frames[0].shape == (640, 360, 3)      # height > width
    upright = np.rot90(stored[0], k=-1)                   # the stored picture turned clockwise
    assert _same_picture(frames[0], upright)
    # ... and in that picture the head is above the feet and the sky above the track.
    xy, _ = camera.project(body.landmarks_m[:1])
    display_y = xy[0, :, 0]                               # clockwise: stored x becomes display y
    assert display_y[INDEX["nose"]] < display_y[INDEX["left_ankle"]] - 100
    top, bottom = frames[0][:40].reshape(-1, 3).mean(axis=0), frames[0][-40:].reshape(-1, 3).mean(axis=0)
    assert top[2] > top[0]                                # sky: blue over red
    assert bottom[0] > bottom[2] + 40                     # track: red over blue

    with pytest.raises(ValueError):
        write_video(stored, tmp_path / "bad.mp4", 30.0, rotation_deg=45)


def test_write_video_is_atomic_and_checks_frames(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    odd = np.zeros((11, 20, 3), np.uint8)
    with pytest.raises(ValueError):
        write_video([odd], path, 30.0)
    good = np.zeros((12, 20, 3), np.uint8)
    with pytest.raises(ValueError):
        write_video([good, np.zeros((14, 20, 3), np.uint8)], path, 30.0)
    with pytest.raises(RuntimeError, match="ffmpeg"):
        write_video([good] * 3, path, 30.0, preset="no-such-preset")
    assert not path.exists() and list(tmp_path.iterdir()) == []     # no partial file left behind
    assert write_video([good] * 3, path, 30.0) == 3 and path.stat().st_size > 0


# --------------------------------------------------------------------------------------
# What is drawn
# --------------------------------------------------------------------------------------


def test_rendering_is_deterministic_for_a_seed() -> None:
    body, camera = pan_clip(0.1, 60.0)
    a = SceneRenderer(body, camera, RenderOptions(seed=3))
    b = SceneRenderer(body, camera, RenderOptions(seed=3))
    c = SceneRenderer(body, camera, RenderOptions(seed=4))
    for i in (0, 5):                                      # any order, same pictures
        assert np.array_equal(a.render(i).image, b.render(i).image)
    assert np.array_equal(a.render(2).image, a.render(2).image)
    assert not np.array_equal(a.render(2).image, c.render(2).image)


def test_runner_is_drawn_at_its_projection() -> None:
    body, camera = pan_clip(0.2, 60.0)
    renderer = SceneRenderer(body, camera, QUIET)
    xy, _ = camera.project(body.landmarks_m)
    for i in (0, 11):
        alpha = renderer.render(i).runner_alpha
        ys, xs = np.nonzero(alpha > 0.5)
        # The silhouette spans the projected landmarks (plus limb thickness, a few pixels).
        assert xs.min() <= xy[i, :, 0].min() + 2 and xs.max() >= xy[i, :, 0].max() - 2
        assert ys.min() <= xy[i, :, 1].min() and ys.max() >= xy[i, :, 1].max() - 2
        assert ys.max() - ys.min() < 1.15 * (xy[i, :, 1].max() - xy[i, :, 1].min()) + 20
        for name in ("left_hip", "right_knee", "left_ankle", "left_ear", "right_shoulder"):
            x, y = xy[i, INDEX[name]].astype(int)
            assert alpha[y, x] > 0.99, name


def test_far_limbs_pass_behind_the_trunk_and_are_darker() -> None:
    # Standing side-on: seen from the left, the right arm hangs behind the trunk.
    body = running_figure(1, 60.0, standing=True)
    camera = side_camera(body.joints_m["pelvis"][:, 0], distance_m=5.0)
    image = SceneRenderer(body, camera, QUIET).render(0).image
    xy, _ = camera.project(body.landmarks_m)
    px = {name: image[int(xy[0, INDEX[name], 1]), int(xy[0, INDEX[name], 0])] for name in ("left_elbow", "right_elbow")}
    assert _skin_or_shirt(px["left_elbow"]) == "skin"       # near arm, in front of the shirt
    assert _skin_or_shirt(px["right_elbow"]) == "shirt"     # far arm, behind the trunk

    # Running: a frame where the knees are well apart; the far (right) knee is darker.
    body, camera = pan_clip(0.5, 60.0)
    xy, _ = camera.project(body.landmarks_m)
    apart = np.linalg.norm(xy[:, INDEX["left_knee"]] - xy[:, INDEX["right_knee"]], axis=-1)
    i = int(np.argmax(apart))
    image = SceneRenderer(body, camera, QUIET).render(i).image.astype(float)

    def luminance(name: str) -> float:
        x, y = xy[i, INDEX[name]].astype(int)
        return float(image[y - 2:y + 3, x - 2:x + 3].mean())

    assert luminance("right_knee") < 0.85 * luminance("left_knee")


def test_panning_camera_scrolls_the_background_static_one_does_not() -> None:
    body, pan = pan_clip(0.5, 60.0)
    static = side_camera(body.joints_m["pelvis"][:, 0], pan=False)
    a, b = 10, 13
    # Pan: the stands and the track move by the camera's turn (a pure rotation: no parallax).
    renderer = SceneRenderer(body, pan, QUIET)
    fa, fb = (renderer.render(i).image.astype(np.float32).mean(axis=2) for i in (a, b))
    rot = pan.rotation()
    cols = slice(pan.width_px // 2 - 128, pan.width_px // 2 + 128)
    for rows in (slice(0, 128), slice(592, 720)):         # stands above the runner; near track
        # Where the patch's centre pixel goes: any point on its ray will do (no parallax).
        centre = np.array([0.0, ((rows.start + rows.stop) / 2.0 - pan.height_px / 2.0) / pan.focal_px, 1.0])
        seen = pan.position_m[a] + 20.0 * rot[a].T @ centre
        xy, _ = pan.project(np.broadcast_to(seen, (pan.num_frames, 1, 3)))
        expected = xy[b, 0] - xy[a, 0]
        assert abs(expected[0]) > 20                       # the camera did turn
        window = cv2.createHanningWindow((256, 128), cv2.CV_32F)
        shift, _ = cv2.phaseCorrelate(fa[rows, cols], fb[rows, cols], window)
        assert np.allclose(shift, expected, atol=0.5), (shift, expected)

    # Static: every pixel column away from the runner (and its shadow) is unchanged.
    renderer = SceneRenderer(body, static, QUIET)
    ra, rb = renderer.render(a), renderer.render(b)
    cols = np.flatnonzero(((ra.runner_alpha > 0) | (rb.runner_alpha > 0)).any(axis=0))
    away = np.ones(static.width_px, bool)
    away[max(cols.min() - 150, 0): cols.max() + 150] = False
    assert away.sum() > 200
    assert np.array_equal(ra.image[:, away], rb.image[:, away])
    assert np.abs(ra.image.astype(int) - rb.image.astype(int)).max() > 50     # the runner moved


@pytest.mark.parametrize(("motion", "yaw_deg"), [("static", 0.0), ("pan", 0.0), ("track", 0.0), ("pan", -40.0),
                                                ("track", 60.0)])
def test_scenery_shortcuts_match_casting_every_ray(motion: str, yaw_deg: float) -> None:
    """Static, panning and tracking cameras reuse work across frames, square or turned off
    square; the result must be the scenery that casting every pixel's ray afresh gives (up to
    resampling for a pan)."""
    body = running_figure(30, 60.0)
    camera = side_camera(body.joints_m["pelvis"][:, 0], pan=motion == "pan", track=motion == "track",
                         yaw_deg=yaw_deg, width_px=640, height_px=360, focal_px=700.0)
    backdrop = SceneRenderer(body, camera, QUIET)._backdrop
    assert backdrop.mode == {"static": "static", "pan": "panorama", "track": "track"}[motion]
    fast = [backdrop.image(i) for i in (3, 29)]
    backdrop.mode = "rays"
    exact = [backdrop.image(i) for i in (3, 29)]
    for a, b in zip(fast, exact):
        if motion == "pan":
            # The panorama is resampled once more (a little blur): compare at a 1-pixel blur,
            # where this is ~1.7 levels and a 1-pixel misalignment ~3.7.
            a, b = (cv2.GaussianBlur(x, (0, 0), 1.0) for x in (a, b))
            assert np.mean(np.abs(a - b)) < 2.4
        elif yaw_deg == 0.0:
            assert np.allclose(a, b, atol=1e-3)
        else:
            # Turned, the shifted texture coordinates round differently in float32: one level
            # on under 0.1 % of the pixels, against tens of levels for a misplaced texture.
            diff = np.abs(a - b)
            assert diff.max() <= 1.0 and np.mean(diff.max(axis=-1) > 1e-3) < 0.002
    assert not np.allclose(exact[0], exact[1]) or motion == "static"


def test_second_person_runs_behind_and_never_covers_the_runner() -> None:
    body, camera = pan_clip(1.0, 60.0)
    solo = SceneRenderer(body, camera, QUIET)
    duo = SceneRenderer(body, camera, dataclasses.replace(QUIET, second_person=True, second_person_lead_m=0.0))
    overlapped = 0
    for i in (20, 30, 40):
        a, b = solo.render(i), duo.render(i)
        assert np.array_equal(a.runner_alpha, b.runner_alpha)
        changed = np.any(a.image != b.image, axis=2)
        assert changed.sum() > 500                        # the jogger is drawn
        inside = a.runner_alpha >= 1.0
        assert not np.any(changed & inside)                # ... but never over the runner
        ys, xs = np.nonzero(a.runner_alpha > 0)
        box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
        overlapped += int(changed[box].sum() > 0)
        # It is smaller: farther away and scaled.
        jy = np.nonzero(changed)[0]
        assert jy.max() - jy.min() < 0.8 * (ys.max() - ys.min())
    assert overlapped > 0                                 # the test did put it behind him


def test_motion_blur_softens_the_moving_runner_only() -> None:
    body = running_figure(30, 60.0, start_x_m=-1.0)
    camera = side_camera(body.joints_m["pelvis"][:, 0], pan=False)
    sharp = SceneRenderer(body, camera, QUIET).render(15)
    blurred = SceneRenderer(body, camera, dataclasses.replace(QUIET, motion_blur_samples=6)).render(15)

    def partial(alpha: np.ndarray) -> int:
        return int(np.count_nonzero((alpha > 0.05) & (alpha < 0.95)))

    assert partial(blurred.runner_alpha) > 2 * partial(sharp.runner_alpha)
    # The static scenery far from the runner is the same picture.
    far = cv2.dilate((blurred.runner_alpha > 0).astype(np.uint8), np.ones((61, 61))) == 0
    far[300:] = False                                     # and away from the contact shadow
    assert np.abs(sharp.image.astype(int) - blurred.image.astype(int))[far].max() <= 1


def test_output_size_option_rescales_the_camera() -> None:
    body, camera = pan_clip(0.1, 60.0)
    half = SceneRenderer(body, camera, dataclasses.replace(QUIET, width_px=640, height_px=360)).render(3)
    full = SceneRenderer(body, camera, QUIET).render(3)
    assert half.image.shape == (360, 640, 3)
    small = cv2.resize(full.runner_alpha, (640, 360), interpolation=cv2.INTER_AREA)
    assert np.abs(small - half.runner_alpha).mean() < 0.01
    with pytest.raises(ValueError):
        SceneRenderer(body, camera, dataclasses.replace(QUIET, width_px=640, height_px=480))


def test_backgrounds_and_inputs_are_checked() -> None:
    body, camera = pan_clip(0.05, 60.0)
    for style in ("stadium", "park", "plain"):
        image = SceneRenderer(body, camera, RenderOptions(background=style)).render(0).image
        assert image.shape == (720, 1280, 3) and image.dtype == np.uint8
        assert image[:100].std() > 3.0                    # something to see above the runner
    with pytest.raises(ValueError):
        RenderOptions(background="moon")
    joints = dict(body.joints_m)
    del joints["left_ball"]
    with pytest.raises(ValueError):
        RenderBody(joints, body.landmarks_m, body.height_m)
    with pytest.raises(ValueError):
        SceneRenderer(body, side_camera(np.zeros(body.num_frames + 1)), QUIET)
