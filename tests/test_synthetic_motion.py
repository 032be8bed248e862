"""The synthetic sprinter's kinematics: events, roles, foot plant, continuity, geometry."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from analyzer.landmarks import INDEX, SIDES
from analyzer.synthetic.motion import (
    SEGMENT_ENDPOINTS,
    SprinterParams,
    StepFault,
    faults_on_leg,
    simulate,
    swing_leg_of_step,
)

FLYING = SprinterParams()
ACCELERATING = SprinterParams(acceleration_steps=8)
#: de Leva's female proportions: shorter thighs, so the pelvis runs lower (leg_proportion).
FEMALE = SprinterParams(sex="female", height_m=1.68, mass_kg=58.0, top_speed_m_s=8.5, step_frequency_hz=4.6)


@pytest.fixture(scope="module")
def flying():
    return simulate(FLYING, np.arange(0.0, 1.6, 1e-3))


@pytest.fixture(scope="module")
def accelerating():
    return simulate(ACCELERATING, np.arange(0.0, 2.6, 2e-3))


def test_shapes_and_names(flying):
    n = flying.time_s.size
    assert flying.landmarks_m.shape == (n, 33, 3)
    needed = {"head_top", "neck", "pelvis", "chest"} | {
        f"{s}_{p}" for s in SIDES
        for p in ("shoulder", "elbow", "wrist", "hand", "hip", "knee", "ankle", "heel", "toe", "ball")
    }
    assert needed <= set(flying.joints_m)
    assert all(v.shape == (n, 3) for v in flying.joints_m.values())
    for name in SEGMENT_ENDPOINTS:
        rot = flying.segment_rotations[name]
        assert rot.shape == (n, 3, 3)
        np.testing.assert_allclose(rot @ np.swapaxes(rot, -1, -2), np.broadcast_to(np.eye(3), rot.shape), atol=1e-9)
        np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-9)
    assert np.all(np.isfinite(flying.landmarks_m))


def test_events_ordered_and_roles_alternate(flying, accelerating):
    for motion in (flying, accelerating):
        steps = motion.steps
        assert [s.index for s in steps] == list(range(len(steps)))
        for a, b in zip(steps, steps[1:]):
            assert a.touchdown_s < a.toe_off_s < a.next_touchdown_s == pytest.approx(b.touchdown_s)
            assert b.push_leg == a.swing_leg and b.swing_leg == a.push_leg
        assert steps[0].push_leg == motion.params.first_push_leg
        assert steps[0].touchdown_s == pytest.approx(motion.params.first_touchdown_s)
        for side in SIDES:
            own = [s for s in steps if s.push_leg == side]
            td = motion.events.touchdown_s[side]
            np.testing.assert_allclose(td[td >= steps[0].touchdown_s], [s.touchdown_s for s in own])
            # Each foot: touchdown < toe-off < next touchdown of the same foot.
            to = motion.events.toe_off_s[side]
            to = to[to > td[0]]
            assert np.all(td[: to.size] < to) and np.all(to[: td.size - 1] < td[1:])


def test_contact_and_flight_times_match_params(flying):
    for s in flying.steps:
        assert s.step_s == pytest.approx(1.0 / FLYING.step_frequency_hz)
        assert s.contact_s == pytest.approx(FLYING.contact_fraction / FLYING.step_frequency_hz)
        assert s.flight_s == pytest.approx((1.0 - FLYING.contact_fraction) / FLYING.step_frequency_hz)
        assert s.toe_off_s - s.touchdown_s == pytest.approx(s.contact_s)


def test_acceleration_rises_to_top_speed(accelerating):
    steps = accelerating.steps
    speed = np.array([s.speed_m_s for s in steps])
    contact = np.array([s.contact_s for s in steps])
    step_time = np.array([s.step_s for s in steps])
    n = ACCELERATING.acceleration_steps
    assert speed[0] == pytest.approx(ACCELERATING.start_speed_m_s)
    assert np.all(np.diff(speed[: n + 1]) > 0) and np.allclose(speed[n:], ACCELERATING.top_speed_m_s)
    assert np.all(np.diff(contact[: n + 1]) < 0) and np.all(np.diff(step_time[: n + 1]) < 0)
    # Measured pelvis speed over each step follows the plan within 2 %.
    t, x = accelerating.time_s, accelerating.joints_m["pelvis"][:, 0]
    for s in steps[1:-1]:
        mean_speed = (np.interp(s.next_touchdown_s, t, x) - np.interp(s.touchdown_s, t, x)) / s.step_s
        assert mean_speed == pytest.approx(s.speed_m_s, rel=0.02)
    lean = np.degrees(accelerating.trunk_lean_rad)
    assert lean[0] > 15.0 and abs(lean[-1] - ACCELERATING.trunk_lean_deg) < 0.5


@pytest.mark.parametrize("params", [FLYING, ACCELERATING, FEMALE], ids=["flying", "accelerating", "female"])
def test_ball_of_foot_planted_during_contact(params):
    """Ball of the stance foot fixed on the ground to < 0.01 mm; the foot only pivots about it
    by the whole-body yaw change (the free moment), so the toe tip slides <= 5 mm, exactly
    ``toe length x Δψ``; nothing goes below the ground."""
    motion = simulate(params, np.arange(0.0, 2.0, 2e-4))
    t, joints = motion.time_s, motion.joints_m
    for s in motion.steps:
        inside = (t >= s.touchdown_s) & (t <= s.toe_off_s)
        if not inside.any():
            continue
        ball = joints[f"{s.push_leg}_ball"][inside]
        toe = joints[f"{s.push_leg}_toe"][inside]
        assert np.abs(ball - ball[0]).max() < 1e-5
        assert np.abs(ball[:, 1]).max() < 1e-9
        assert np.abs(toe[:, 1]).max() < 1e-9
        slide = np.linalg.norm(toe - toe[0], axis=1)
        turn = np.abs(motion.yaw_rad[inside] - motion.yaw_rad[inside][0])
        np.testing.assert_allclose(slide, 2 * motion.body.toe_m * np.sin(turn / 2), atol=1e-6)
        assert slide.max() < 5e-3
        assert joints[f"{s.push_leg}_heel"][inside, 1].min() > 0.01
    for side in SIDES:
        for part in ("heel", "toe", "ball", "ankle"):
            assert joints[f"{side}_{part}"][:, 1].min() > -1e-9


@pytest.mark.parametrize("params", [FLYING, ACCELERATING, FEMALE], ids=["flying", "accelerating", "female"])
def test_swing_foot_clears_the_ground(params):
    """Away from its own touchdown and toe-off (30 ms), the swing foot is >= 3 cm up."""
    motion = simulate(params, np.arange(0.0, 2.5, 1e-3))
    t = motion.time_s
    for side in SIDES:
        td, to = motion.events.touchdown_s[side], motion.events.toe_off_s[side]
        for lift in to:
            later = td[td > lift]
            if later.size == 0:
                continue
            swing = (t > lift + 0.03) & (t < later[0] - 0.03)
            for part in ("toe", "heel"):
                assert motion.joints_m[f"{side}_{part}"][swing, 1].min() > 0.03


def test_joint_paths_are_c1_through_events():
    """Velocity jumps across touchdown and toe-off shrink with the differencing step (C1)."""
    motion = simulate(FLYING, np.arange(0.0, 1.0, 1e-3))
    events = np.concatenate([motion.events.touchdown_s[s] for s in SIDES] + [motion.events.toe_off_s[s] for s in SIDES])

    def largest_jump(eps: float) -> float:
        offsets = np.array([-3, -1, 1, 3]) * eps
        m = simulate(FLYING, (events[:, None] + offsets).ravel())
        worst = 0.0
        for x in m.joints_m.values():
            x = x.reshape(events.size, 4, 3)
            jump = (x[:, 3] - x[:, 2]) / (2 * eps) - (x[:, 1] - x[:, 0]) / (2 * eps)
            worst = max(worst, float(np.linalg.norm(jump, axis=-1).max()))
        return worst

    coarse, fine = largest_jump(2e-5), largest_jump(5e-6)
    assert fine < 0.03  # m/s
    assert fine < 0.35 * coarse  # ~linear in the step: a finite acceleration jump, no velocity jump


def test_rigid_segments_and_dimensions(flying):
    body, joints = flying.body, flying.joints_m
    for side in SIDES:
        for a, b, length in (
            ("hip", "knee", body.thigh_m), ("knee", "ankle", body.shank_m),
            ("shoulder", "elbow", body.upper_arm_m), ("elbow", "wrist", body.forearm_m), ("wrist", "hand", body.hand_m),
        ):
            d = np.linalg.norm(joints[f"{side}_{a}"] - joints[f"{side}_{b}"], axis=-1)
            np.testing.assert_allclose(d, length, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(joints["chest"] - joints["pelvis"], axis=-1), body.trunk_m, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(joints["head_top"] - joints["mid_gonion"], axis=-1), body.head_m, atol=1e-9)
    hips = np.linalg.norm(joints["left_hip"] - joints["right_hip"], axis=-1)
    np.testing.assert_allclose(hips, 2 * body.hip_half_width_m, atol=1e-9)
    standing = body.ankle_height_m + body.shank_m + body.thigh_m + body.trunk_m + body.neck_m + body.head_m
    assert standing == pytest.approx(FLYING.height_m)


def test_landmarks_are_anatomical(flying):
    lm = flying.landmarks_m
    joints = flying.joints_m
    for side in SIDES:
        for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel"):
            np.testing.assert_array_equal(lm[:, INDEX[f"{side}_{part}"]], joints[f"{side}_{part}"])
        np.testing.assert_array_equal(lm[:, INDEX[f"{side}_foot_index"]], joints[f"{side}_toe"])
        # Knuckles and thumb within a hand's length of the 3rd metacarpal head.
        for part in ("pinky", "index", "thumb"):
            assert np.linalg.norm(lm[:, INDEX[f"{side}_{part}"]] - joints[f"{side}_hand"], axis=-1).max() < flying.body.hand_m
    # The face looks forward: nose ahead of the ears; left features on the left (z < right's z).
    heading = np.stack([np.cos(flying.yaw_rad), np.sin(flying.yaw_rad)], axis=-1)  # (x, -z) of the heading
    nose_vs_ears = lm[:, INDEX["nose"]] - 0.5 * (lm[:, INDEX["left_ear"]] + lm[:, INDEX["right_ear"]])
    assert np.all(nose_vs_ears[:, 0] * heading[:, 0] - nose_vs_ears[:, 2] * heading[:, 1] > 0.05)
    for a, b in (("left_eye", "right_eye"), ("left_ear", "right_ear"), ("mouth_left", "mouth_right")):
        assert np.all(lm[:, INDEX[a], 2] < lm[:, INDEX[b], 2])
    assert np.all(lm[:, INDEX["nose"], 1] > lm[:, INDEX["left_shoulder"], 1] + 0.10)


def test_result_does_not_depend_on_requested_times():
    a = simulate(FLYING, np.arange(0.0, 1.0, 1 / 240))
    picked = a.time_s[::7]
    b = simulate(FLYING, picked)
    np.testing.assert_allclose(b.landmarks_m, a.landmarks_m[::7], atol=1e-9)
    np.testing.assert_allclose(b.yaw_rad, a.yaw_rad[::7], atol=1e-12)


def test_fault_keeps_events_and_only_moves_the_swing_leg():
    t = np.arange(0.0, 1.4, 1e-3)
    base = simulate(FLYING, t)
    k = 3
    faulty = simulate(dataclasses.replace(FLYING, faults=(StepFault(k, 30.0),)), t)
    assert [(s.touchdown_s, s.toe_off_s) for s in faulty.steps] == [(s.touchdown_s, s.toe_off_s) for s in base.steps]
    assert faulty.steps[k].swing_delay_ms == 30.0 and base.steps[k].swing_delay_ms == 0.0
    step = base.steps[k]
    swing = step.swing_leg
    # Relative to the pelvis (yaw and drift removed by subtracting the pelvis and comparing
    # shapes in the heading frame): the push leg and the arms are untouched, the swing ankle moves.
    def local(m, name):
        c, s_ = np.cos(m.yaw_rad), np.sin(m.yaw_rad)
        r = m.joints_m[name] - m.joints_m["pelvis"]
        return np.stack([c * r[:, 0] - s_ * r[:, 2], r[:, 1], s_ * r[:, 0] + c * r[:, 2]], axis=-1)
    inside = (t > step.touchdown_s) & (t < step.toe_off_s)
    for name in (f"{step.push_leg}_ankle", "left_wrist", "right_wrist"):
        np.testing.assert_allclose(local(faulty, name)[inside], local(base, name)[inside], atol=1e-9)
    moved = np.linalg.norm(local(faulty, f"{swing}_ankle")[inside] - local(base, f"{swing}_ankle")[inside], axis=-1)
    assert moved.max() > 0.05


def test_faults_on_leg_picks_the_steps_where_that_leg_swings():
    faults = faults_on_leg("left", range(10), swing_delay_ms=20.0)
    assert [f.step for f in faults] == [0, 2, 4, 6, 8]
    assert all(swing_leg_of_step(f.step, "right") == "left" for f in faults)
    faults = faults_on_leg("left", range(10), swing_amplitude_scale=0.8, first_push_leg="left")
    assert [f.step for f in faults] == [1, 3, 5, 7, 9]
    params = SprinterParams(first_push_leg="left", faults=faults)
    motion = simulate(params, np.arange(0.0, 1.0, 1e-2))
    assert all((s.swing_amplitude_scale == 0.8) == (s.swing_leg == "left") for s in motion.steps)


def test_faults_on_leg_refuses_steps_where_that_leg_never_swings():
    """Asking for the left leg's delay in steps where only the right leg swings is a mistake in
    the clip's definition (a render named for a lag that has none), not an empty request."""
    with pytest.raises(ValueError, match="even steps"):
        faults_on_leg("left", range(1, 13, 4), swing_delay_ms=40.0)
    assert faults_on_leg("left", [], swing_delay_ms=40.0) == ()


@pytest.mark.parametrize(
    "change",
    [{"height_m": 3.0}, {"contact_fraction": 0.9}, {"first_push_leg": "middle"}, {"faults": (StepFault(1), StepFault(1))}],
)
def test_bad_parameters_are_refused(change):
    with pytest.raises(ValueError):
        SprinterParams(**change)


def test_bad_faults_and_times_are_refused():
    with pytest.raises(ValueError):
        StepFault(2, swing_delay_ms=200.0)
    with pytest.raises(ValueError):
        simulate(FLYING, np.array([-5.0, 0.0]))
