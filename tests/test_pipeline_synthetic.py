"""The whole pipeline, pose model included, on the rendered sample clips against their truth.

These guard the figures that ``scripts/score_synthetic.py`` prints (docs/METHOD.md,
"Limits"); the bounds are looser than the figures so that ordinary pose jitter does not
fail them, and tight enough that a regression in any stage does.
"""
from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from analyzer import outputs, pipeline
from analyzer.athlete import Athlete
from analyzer.synthetic.scoring import exact_image_points, score, truth_steps
from analyzer.synthetic.truth import load_truth
from tests.conftest import REPO_ROOT

SAMPLES = REPO_ROOT / "sample_videos"
CLIPS = ("sprinter_balanced_60fps", "sprinter_left_swing_lag_60fps", "phone_portrait_30fps_pan_bystander")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Each sample clip through analyze_video (the real edge), then scored from its pose cache."""
    out = tmp_path_factory.mktemp("reports")
    results = {}
    for name in CLIPS:
        truth = load_truth(SAMPLES / "truth" / f"{name}.truth.json")
        p = truth.params
        athlete = Athlete(p["height_m"], p["mass_kg"], p["sex"], True, True, True)
        settings = pipeline.Settings(overlay=False)
        summary = pipeline.analyze_video(SAMPLES / f"{name}.mp4", out / name, settings, athlete, progress=False)
        # Re-run the pure stages on the cached pose to get the in-memory result for scoring.
        from analyzer import pose, video

        info = video.probe_video(SAMPLES / f"{name}.mp4")
        track, cached = pose.extract_pose_cached(info, out / name / "landmarks.npz", progress=False)
        assert cached, "the second pass must come from the pose cache"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = pipeline.analyse(info, track, athlete, settings)
        results[name] = (summary, result, truth, score(result, truth), out / name)
    return results


def test_runner_found_in_every_frame_of_the_60fps_renders(analysed: dict) -> None:
    for name in CLIPS[:2]:
        assert analysed[name][3].detected_fraction >= 0.98, name


@pytest.mark.parametrize("name, max_frames", [(CLIPS[0], 1.25), (CLIPS[1], 1.25), (CLIPS[2], 1.5)])
def test_touchdown_and_toe_off_errors(analysed: dict, name: str, max_frames: float) -> None:
    """Events of the steps found. The 30 fps portrait pan finds few of its 8 steps: its far
    foot is placed centimetres off by the pose model, and its scale follows the runner's
    distance (docs/METHOD.md, section 4, "Scale") with a ~5 % error that moves the ground by
    ~6 cm 1.2 m below the picture's centre: 1 step, where one scale for the clip found 2 (and
    the validation pans 4 and 4 where the followed scale finds 7 and 9)."""
    sc = analysed[name][3]
    assert sc.matched_steps >= (8 if "60fps" in name else 1)
    assert sc.touchdown_mae_frames <= max_frames
    assert sc.toeoff_mae_frames <= max_frames


@pytest.mark.parametrize("name, intervals", [(CLIPS[0], 1.0), (CLIPS[1], 1.0), (CLIPS[2], 1.5)])
def test_the_headline_contact_and_flight_times_match_the_truth(analysed: dict, name: str, intervals: float) -> None:
    """The report's mean contact and flight times (medians over the steps found), within one
    image interval of the truth's at 60 fps, and within one and a half at 30 fps, where a
    contact spans 2-3 images. Measured: on the 60 fps samples contact 93 and 99 ms against
    91, flight 134 and 126 ms against 136; on the 30 fps pan contact 65 ms against 99 and
    flight 138 against 132 (over the twelve 30 fps renders the contacts read a median 11 %
    short through the pose model, and 8 % long on their exact image points; docs/METHOD.md,
    section 5)."""
    summary, result, truth, _, _ = analysed[name]
    true_steps = truth_steps(truth).steps
    tolerance_s = intervals / result.kinematics.sample_rate_hz
    assert summary["mean_contact_s"] == pytest.approx(np.median([s.contact_s for s in true_steps]), abs=tolerance_s)
    assert summary["mean_flight_s"] == pytest.approx(np.median([s.flight_s for s in true_steps]), abs=tolerance_s)


def test_the_30fps_clip_is_told_its_contacts_read_short(analysed: dict) -> None:
    assert any("contact times read short" in w for w in analysed[CLIPS[2]][0]["warnings"])
    assert not any("contact times read short" in w for name in CLIPS[:2] for w in analysed[name][0]["warnings"])


def test_roles_alternate_on_the_60fps_clips(analysed: dict) -> None:
    for name in CLIPS[:2]:
        legs = [s.push_leg for s in analysed[name][1].steps.steps]
        pairs = list(zip(legs, legs[1:]))
        assert sum(a != b for a, b in pairs) >= 0.8 * len(pairs), name


def test_joint_angles_track_the_truth(analysed: dict) -> None:
    """Measured 6.7-9.3 deg RMS for the hips and 8.6-12.3 for the knees since landmarks off
    their smooth path are set aside (7.2-9.0 and 9.5-11.7 before, METHOD section 4
    "Filtering"; before the knees joined the swap cues and collapsed frames were left out,
    7.8-18.1 and 9.5-11.9)."""
    for name in CLIPS[:2]:
        rms = analysed[name][3].angle_rms_deg
        assert rms["trunk_lean_deg"] < 5.0, name
        for angle in ("hip_flexion_left_deg", "hip_flexion_right_deg", "knee_flexion_left_deg", "knee_flexion_right_deg"):
            assert rms[angle] < (11.0 if angle.startswith("hip") else 14.0), (name, angle, rms[angle])


def test_flip_test_brings_hip_and_knee_angles_closer_to_the_truth(analysed: dict) -> None:
    """The pose of the mirrored frames merged in (analyzer.pose.flip). Measured on the
    balanced sample: hips 5.4 and 4.7 deg RMS, knees 7.1 and 6.8, where the single pass
    gives 7.0, 6.7, 8.6 and 9.2 (mean 6.0 against 7.9)."""
    from analyzer import pose, video

    name = CLIPS[0]
    single, truth = analysed[name][3], analysed[name][2]
    info = video.probe_video(SAMPLES / f"{name}.mp4")
    track = pose.extract_pose(info, progress=False, flip_test=True)
    p = truth.params
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = pipeline.analyse(info, track, Athlete(p["height_m"], p["mass_kg"], p["sex"], True, True, True),
                                  pipeline.Settings(overlay=False))
    flipped = score(result, truth)
    legs = ("hip_flexion_left_deg", "hip_flexion_right_deg", "knee_flexion_left_deg", "knee_flexion_right_deg")
    before = np.mean([single.angle_rms_deg[a] for a in legs])
    after = np.mean([flipped.angle_rms_deg[a] for a in legs])
    assert after < before - 1.0, (before, after)
    assert max(flipped.angle_rms_deg[a] for a in legs) < 8.5, flipped.angle_rms_deg
    assert flipped.detected_fraction >= single.detected_fraction
    assert min(flipped.momentum[g][0] for g in ("left_leg", "right_leg")) > 0.88, flipped.momentum


def test_the_flip_test_runs_by_itself_on_the_30fps_sample_only(analysed: dict) -> None:
    """The default setting ("auto", analyzer.pose.flip.flip_test_wanted): the 30 fps sprinter's
    feet move far between pictures, the 60 fps sprinters' do not; summary.json says which."""
    for name in CLIPS:
        summary, result = analysed[name][0], analysed[name][1]
        assert summary["pose"]["flip_test_setting"] == "auto"
        assert summary["signals"]["toeoff_cutoff_hz"] == pytest.approx(13.5 if "30fps" in name else 15.0), name
        assert summary["pose"]["flip_test"] is ("30fps" in name), name
        assert result.pose.flip_test is ("30fps" in name), name
        assert ("flip test" in result.pose.followed_person) is ("30fps" in name), name


def test_limb_momenta_follow_the_truth(analysed: dict) -> None:
    """Measured: legs r 0.90-0.93 with RMS errors 29-32 % of peak (0.89-0.90 before landmarks
    off their smooth path were set aside; 0.66-0.90 before the swap changes of METHOD section
    8), arms 0.76-0.98 (19-35 %), push drive 0.71-0.97, swing counter 0.88-0.90."""
    for name in CLIPS[:2]:
        sc = analysed[name][3]
        for group in ("arms", "left_leg", "right_leg"):
            r, rms = sc.momentum[group]
            assert r > (0.85 if group.endswith("leg") else 0.65) and rms < 0.5, (name, group, r, rms)
        assert sc.push_swing["push_drive"][0] > 0.6
        assert sc.push_swing["swing_counter"][0] > 0.8


def test_the_30fps_samples_arms_keep_their_names(analysed: dict) -> None:
    """At 30 fps the arms are relabelled on the smooth path (analyzer.pose.swaps._arms_model_for):
    the nearest path named the elbows and hands the wrong way round as they passed each other.
    Measured on the portrait pan: arms r 0.94 with the truth, RMS error 29 % of peak, where the
    nearest path gave 0.75 and 39 %."""
    sc = analysed[CLIPS[2]][3]
    r, rms = sc.momentum["arms"]
    assert r > 0.88 and rms < 0.34, (r, rms)


def test_a_run_too_short_for_its_own_scatter_is_told_its_flags_are_hints(analysed: dict) -> None:
    """The portrait pan finds 5 steps, one short of a scatter estimate; the 60 fps samples 12."""
    for name in CLIPS:
        summary = analysed[name][0]
        short = summary["counterbalance"]["lag_rule"] == "peak_and_bulk"
        assert short is (summary["steps"] < 6), name
        assert any("cannot be measured" in w for w in summary["warnings"]) is short, name
    assert analysed[CLIPS[2]][0]["counterbalance"]["lag_rule"] == "peak_and_bulk"


def test_injected_swing_lag_reads_later_than_the_clean_steps(analysed: dict) -> None:
    lags = analysed[CLIPS[1]][3].lags
    faulted = [measured for injected, measured in lags if injected > 0]
    clean = [measured for injected, measured in lags if injected == 0]
    assert len(faulted) >= 2
    # Single steps scatter by tens of ms through the pose model; the faulted ones read later.
    assert np.median(faulted) > np.median(clean) + 20.0
    # As the flag's reason gives it (the swing shift above the run's median): 61-70 ms for 50 ms.
    read = analysed[CLIPS[1]][3].delays_read
    assert len(read) == len(faulted)
    assert all(abs(measured - injected) <= 1.5 * 1000.0 / 60.0 for injected, measured in read)


@pytest.mark.parametrize("name", CLIPS[:2])
def test_stages_after_the_pose_model_meet_the_targets_on_exact_image_points(analysed: dict, name: str) -> None:
    """The truth's own image points through every later stage: what the pose model's error
    leaves of the issue's targets. Hip and knee within 3 deg RMS (1.0-2.0 measured), limb
    momenta r > 0.95, injected lags read within a frame, every delayed step flagged and no
    other (scripts/score_synthetic.py --exact-points)."""
    _, result, truth, *_ = analysed[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        exact = pipeline.analyse(result.video, exact_image_points(result.pose, truth), result.athlete, result.settings)
    sc = score(exact, truth)
    for angle in ("hip_flexion_left_deg", "hip_flexion_right_deg", "knee_flexion_left_deg", "knee_flexion_right_deg"):
        assert sc.angle_rms_deg[angle] < 3.0, angle
    for group in ("arms", "left_leg", "right_leg"):
        assert sc.momentum[group][0] > 0.95, group
    assert sc.matched_steps == sc.truth_steps >= 10
    frame_ms = 1000.0 / result.video.fps
    assert all(abs(measured - injected) <= frame_ms for injected, measured in sc.lags)
    assert all(abs(measured - injected) <= frame_ms for injected, measured in sc.delays_read)
    delayed = sum(1 for injected, _ in sc.lags if injected > 0)
    assert sc.flag_counts == (delayed, 0, 0)


def test_balanced_clip_has_no_swing_lag_flag(analysed: dict) -> None:
    """The issue's target: no swing_lag flag on the balanced clip. Through the pose model its
    steps' lags still scatter by tens of ms, with the two legs' steps reading medians of about
    +32 and -14 ms (docs/METHOD.md section 6); the threshold rises with that run's own spread, so none
    of the 12 stands out. The typical lag is near zero and few steps carry any flag."""
    summary, result = analysed[CLIPS[0]][:2]
    assert summary["steps"] >= 10
    lags = [b.lag_ms for b in result.balance.steps]
    assert abs(np.nanmedian(lags)) < 20.0
    assert summary["flags"]["swing_lag"] == 0
    assert summary["flagged_steps"] <= 0.3 * summary["steps"]


def test_a_pan_from_one_spot_is_called_out(analysed: dict) -> None:
    """The portrait pan's runner grows and shrinks in the picture; the side-on tracking
    renders keep one size and get no such note."""
    pan = analysed[CLIPS[2]][0]
    assert pan["scale"]["follows_distance"] is True
    assert any("follows the runner from one spot" in w for w in pan["warnings"])
    for name in CLIPS[:2]:
        assert not any("from one spot" in w for w in analysed[name][0]["warnings"]), name


def test_outputs_follow_the_contract(analysed: dict) -> None:
    summary, result, _, _, folder = analysed[CLIPS[0]]
    written = json.loads((folder / "summary.json").read_text())
    for key in ("video", "athlete", "pose", "view", "steps", "flags", "cadence_steps_per_min", "mean_contact_s",
                "mean_flight_s", "warnings", "versions"):
        assert key in written
    for key in ("path", "fps", "fps_source", "distinct_images_per_s", "frame_count", "duration_s", "width", "height",
                "rotation_deg"):
        assert key in written["video"]
    assert written["view"]["view"] == "side"
    assert written["athlete"]["height_given"] is True
    steps = outputs.read_rows_csv(folder / "steps.csv")
    assert len(steps) == written["steps"] == len(result.steps.steps)
    assert set(outputs.STEP_COLUMNS) <= set(steps[0])
    assert {row["flagged"] for row in steps} <= {"true", "false"}
    assert {row["push_leg"] for row in steps} <= {"left", "right"}
    frames = outputs.read_rows_csv(folder / "frames.csv")
    assert len(frames) == written["video"]["analysed_frames"]
    for column in ("frame", "time_s", "detected", "push_leg", "hip_flexion_left_deg", "H_arms_kg_m2_s",
                   "H_torso_kg_m2_s", "H_push_leg_kg_m2_s", "H_swing_leg_kg_m2_s", "H_whole_body_kg_m2_s",
                   "H_arms_norm", "push_drive_norm", "swing_counter_norm"):
        assert column in frames[0]
    assert (folder / "report.html").is_file() and (folder / "landmarks.npz").is_file()


def test_portrait_clip_is_analysed_upright(analysed: dict) -> None:
    summary = analysed[CLIPS[2]][0]
    assert summary["video"]["rotation_deg"] in (90, 270)
    assert summary["video"]["height"] > summary["video"]["width"]
    assert summary["view"]["camera_moving"] is True


def test_a_cached_rerun_decodes_no_video(analysed: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Analysing the same video again into its folder: the pose from landmarks.npz, the
    stills' frames from .stills-cache, and the same stills in the report (issue #7)."""
    from analyzer import pose, video

    summary, _, truth, _, folder = analysed[CLIPS[1]]
    assert summary["flagged_steps"] > 0
    stills = re.findall(r"data:image/jpeg;base64,[A-Za-z0-9+/=]+", (folder / "report.html").read_text())
    assert stills and (folder / outputs.STILLS_CACHE_DIR).is_dir()

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the video was decoded")

    for module, name in ((video, "iter_frames"), (video, "read_frames"), (pose, "extract_pose")):
        monkeypatch.setattr(module, name, fail)
    p = truth.params
    athlete = Athlete(p["height_m"], p["mass_kg"], p["sex"], True, True, True)
    again = pipeline.analyze_video(SAMPLES / f"{CLIPS[1]}.mp4", folder, pipeline.Settings(overlay=False), athlete,
                                   progress=False)
    assert again["pose"]["from_cache"] and again["flagged_steps"] == summary["flagged_steps"]
    assert re.findall(r"data:image/jpeg;base64,[A-Za-z0-9+/=]+", (folder / "report.html").read_text()) == stills
