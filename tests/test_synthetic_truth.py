"""Ground truth of the synthetic sprinter: physics about the vertical axis, counterbalance
timing, injected faults, joint angles, image truth and persistence."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analyzer.landmarks import SIDES
from analyzer.segments import de_leva
from analyzer.synthetic.camera import side_camera
from analyzer.synthetic.motion import SEGMENT_ENDPOINTS, SprinterParams, StepFault, simulate
from analyzer.synthetic.truth import ANGLE_COLUMNS, GROUPS, compute_truth, load_truth, params_from_dict, save_truth

FLYING = SprinterParams()
ACCELERATING = SprinterParams(acceleration_steps=6)
FAULT_STEP = 4


def _truth(params: SprinterParams, t: np.ndarray):
    motion = simulate(params, t)
    return motion, compute_truth(motion, params)


@pytest.fixture(scope="module")
def flying():
    return _truth(FLYING, np.arange(0.0, 1.4, 1e-3))


@pytest.fixture(scope="module")
def accelerating():
    return _truth(ACCELERATING, np.arange(0.0, 2.0, 1e-3))


def _full_steps(motion):
    t = motion.time_s
    return [s for s in motion.steps if s.touchdown_s >= t[0] and s.next_touchdown_s <= t[-1]]


def _peak_time(t: np.ndarray, x: np.ndarray) -> float:
    """Time of the largest |x|, refined by a parabola through the three samples around it."""
    i = int(np.clip(np.argmax(np.abs(x)), 1, x.size - 2))
    y0, y1, y2 = np.abs(x[i - 1 : i + 2])
    shift = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
    return float(t[i] + shift * (t[1] - t[0]))


# ------------------------------------------------------------------------------------------
# Physics about the vertical axis
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["flying", "accelerating"])
def test_whole_body_momentum_constant_in_every_flight(case, request):
    """No external torque about the vertical in flight: whole-body H varies by < 1 % of the
    legs' peak momentum through every flight, and equals the model's own value."""
    motion, truth = request.getfixturevalue(case)
    t, g = truth.time_s, truth.group_H_kg_m2_s
    scale = max(np.abs(g["left_leg"]).max(), np.abs(g["right_leg"]).max())
    flights = 0
    for s in _full_steps(motion):
        inside = (t > s.toe_off_s) & (t < s.next_touchdown_s)
        whole = g["whole_body"][inside]
        assert np.ptp(whole) < 0.01 * scale, (s.index, np.ptp(whole), scale)
        flights += 1
    assert flights >= 4
    np.testing.assert_allclose(g["whole_body"], motion.model_H_kg_m2_s, atol=0.01 * scale)
    # The flights differ: contact does apply torque, so the test above is not trivially true.
    assert np.ptp(motion.model_H_kg_m2_s) > 0.05 * scale


@pytest.mark.parametrize("case", ["flying", "accelerating"])
def test_ground_torque_within_the_stated_bound(case, request):
    motion, truth = request.getfixturevalue(case)
    torque = np.gradient(truth.group_H_kg_m2_s["whole_body"], truth.time_s)
    bound = motion.params.max_ground_torque_n_m
    assert np.abs(torque).max() < 1.05 * bound
    assert motion.max_ground_torque_n_m <= bound + 1e-9
    in_flight = np.zeros(truth.time_s.size, bool)
    for s in motion.steps:
        in_flight |= (truth.time_s > s.toe_off_s + 2e-3) & (truth.time_s < s.next_touchdown_s - 2e-3)
    assert np.abs(torque[in_flight]).max() < 0.03 * bound  # numerical noise of the 1 ms differences


def test_arms_and_torso_cancel_the_legs(flying):
    """Vertical-axis momentum: arms + torso oppose the legs, so the whole body stays small."""
    _, truth = flying
    g = truth.group_H_kg_m2_s
    upper = g["arms"] + g["torso"]
    assert np.corrcoef(upper, g["legs"])[0, 1] < -0.9
    rms = {k: float(np.sqrt(np.mean(v**2))) for k, v in g.items() if k in ("legs", "whole_body")}
    assert rms["whole_body"] < 0.25 * rms["legs"]
    assert np.abs(g["whole_body"]).max() < 0.3 * np.abs(g["legs"]).max()
    # Within a step the push and swing legs turn the body the same way (METHOD: the physics
    # caution), and the arms the other way.
    for s in _full_steps(flying[0]):
        inside = (truth.time_s >= s.touchdown_s) & (truth.time_s < s.toe_off_s)
        sign = np.sign(np.mean(g["swing_leg"][inside]))
        assert np.sign(np.mean(g["push_leg"][inside])) == sign
        assert np.sign(np.mean(g["arms"][inside])) == -sign


def test_group_sums(flying):
    _, truth = flying
    total = {s: truth.segment_H_kg_m2_s(s) for s in SEGMENT_ENDPOINTS}
    for group, members in GROUPS.items():
        np.testing.assert_allclose(truth.group_H_kg_m2_s[group], sum(total[m] for m in members), atol=1e-12)
    g = truth.group_H_kg_m2_s
    np.testing.assert_allclose(g["whole_body"], g["arms"] + g["torso"] + g["legs"], atol=1e-9)
    assert sum(truth.segment_mass_kg.values()) == pytest.approx(FLYING.mass_kg, rel=1e-3)


def test_momentum_matches_an_independent_finite_difference_check():
    """Recompute every segment's momentum with other numerics: np.gradient on a 0.1 ms grid for
    velocities, and rotation vectors of the relative rotation between neighbours for ω."""
    dt = 1e-4
    t = np.arange(0.60, 0.66, dt)
    motion, truth = _truth(FLYING, t)
    table = de_leva(FLYING.sex)
    names = tuple(SEGMENT_ENDPOINTS)
    masses, coms, vels, local = [], [], [], []
    for name in names:
        prox, dist, row = SEGMENT_ENDPOINTS[name]
        p, d, seg = motion.joints_m[prox], motion.joints_m[dist], table[row]
        com = p + seg.com_fraction * (d - p)
        masses.append(seg.mass_fraction * FLYING.mass_kg)
        coms.append(com)
        vels.append(np.gradient(com, dt, axis=0))
        rot = Rotation.from_matrix(motion.segment_rotations[name])
        omega = np.zeros((t.size, 3))
        omega[1:-1] = (rot[2:] * rot[:-2].inv()).as_rotvec() / (2 * dt)  # world-frame ω, middle sample
        axis = d - p
        length = np.linalg.norm(axis, axis=1)
        e = axis / length[:, None]
        r_t, r_l = 0.5 * (seg.r_sagittal + seg.r_transverse), seg.r_longitudinal
        inertia = masses[-1] * length[:, None, None] ** 2 * (
            r_t**2 * (np.eye(3) - e[:, :, None] * e[:, None, :]) + r_l**2 * e[:, :, None] * e[:, None, :]
        )
        local.append(np.einsum("nij,nj->ni", inertia, omega)[:, 1])
    m = np.array(masses)
    com_body = np.einsum("s,snk->nk", m, np.array(coms)) / m.sum()
    vel_body = np.einsum("s,snk->nk", m, np.array(vels)) / m.sum()
    inner = slice(2, -2)
    scale = np.abs(truth.group_H_kg_m2_s["left_leg"]).max()
    for i, name in enumerate(names):
        r = coms[i] - com_body
        v = vels[i] - vel_body
        remote = m[i] * (r[:, 2] * v[:, 0] - r[:, 0] * v[:, 2])
        np.testing.assert_allclose(remote[inner], truth.H_remote_kg_m2_s[name][inner], atol=2e-3 * scale, err_msg=name)
        np.testing.assert_allclose(local[i][inner], truth.H_local_kg_m2_s[name][inner], atol=2e-3 * scale, err_msg=name)
    np.testing.assert_allclose(truth.com_m, com_body, atol=1e-12)


# ------------------------------------------------------------------------------------------
# Counterbalance timing and injected faults
# ------------------------------------------------------------------------------------------


def test_balanced_sprinter_swing_leg_and_arms_peak_together(flying):
    motion, truth = flying
    t, g = truth.time_s, truth.group_H_kg_m2_s
    for s in _full_steps(motion):
        inside = (t >= s.touchdown_s) & (t < s.next_touchdown_s)
        swing_peak = _peak_time(t[inside], g["swing_leg"][inside])
        arms_peak = _peak_time(t[inside], g["arms"][inside])
        assert abs(swing_peak - arms_peak) < 3e-3
        assert abs(swing_peak - s.drive_instant_s) < 3e-3
        # Opposite senses: the arms counterbalance the swing leg.
        assert np.sign(g["swing_leg"][inside][np.argmax(np.abs(g["swing_leg"][inside]))]) == -np.sign(
            g["arms"][inside][np.argmax(np.abs(g["arms"][inside]))]
        )


def _step_peaks(params: SprinterParams) -> dict[str, tuple[float, float]]:
    """Peak time (s) and peak |H| of the faulted step's swing leg (world and heading frame)
    and arms (heading frame), sampled every 0.25 ms around that step."""
    step_s = 1.0 / FLYING.step_frequency_hz
    start = FLYING.first_touchdown_s + FAULT_STEP * step_s
    t = np.arange(start - 0.01, start + step_s + 0.01, 2.5e-4)
    motion, truth = _truth(params, t)
    s = motion.steps[FAULT_STEP]
    inside = (t >= s.touchdown_s) & (t < s.next_touchdown_s)
    out = {}
    for key, groups, name in (
        ("swing", truth.group_H_kg_m2_s, "swing_leg"),
        ("swing_heading", truth.group_H_heading_kg_m2_s, "swing_leg"),
        ("arms_heading", truth.group_H_heading_kg_m2_s, "arms"),
    ):
        x = groups[name][inside]
        out[key] = (_peak_time(t[inside], x), float(np.abs(x).max()))
    out["steps"] = truth.steps
    return out


@pytest.fixture(scope="module")
def unfaulted_peaks():
    return _step_peaks(FLYING)


@pytest.mark.parametrize("delay_ms", [-15.0, 12.0, 30.0])
def test_swing_delay_shifts_the_swing_leg_peak_by_exactly_that_much(delay_ms, unfaulted_peaks):
    faulty = _step_peaks(dataclasses.replace(FLYING, faults=(StepFault(FAULT_STEP, swing_delay_ms=delay_ms),)))
    for key in ("swing", "swing_heading"):
        shift_ms = (faulty[key][0] - unfaulted_peaks[key][0]) * 1e3
        assert shift_ms == pytest.approx(delay_ms, abs=2.0), key
    # The push side is untouched in the heading frame: the arms' drive does not move (it only
    # feels the swing leg through the whole-body CoM velocity).
    assert faulty["arms_heading"][0] == pytest.approx(unfaulted_peaks["arms_heading"][0], abs=5e-4)
    assert faulty["steps"][FAULT_STEP]["swing_delay_ms"] == delay_ms
    assert all(s["swing_delay_ms"] == 0.0 for s in faulty["steps"] if s["index"] != FAULT_STEP)
    assert [s["touchdown_s"] for s in faulty["steps"]] == [s["touchdown_s"] for s in unfaulted_peaks["steps"]]


def test_swing_amplitude_scale_reduces_the_swing_leg_peak(unfaulted_peaks):
    weak = _step_peaks(dataclasses.replace(FLYING, faults=(StepFault(FAULT_STEP, swing_amplitude_scale=0.8),)))
    assert weak["swing_heading"][1] < 0.85 * unfaulted_peaks["swing_heading"][1]
    assert weak["swing"][1] < 0.92 * unfaulted_peaks["swing"][1]
    assert weak["swing"][0] == pytest.approx(unfaulted_peaks["swing"][0], abs=2e-3)


# ------------------------------------------------------------------------------------------
# Joint angles, roles, image truth, persistence
# ------------------------------------------------------------------------------------------


def test_joint_angles_are_sprint_like(flying):
    motion, truth = flying
    a = truth.joint_angles_deg
    assert set(a) == set(ANGLE_COLUMNS)
    for side in SIDES:
        assert 100.0 < a[f"knee_flexion_{side}_deg"].max() < 140.0
        assert 60.0 < a[f"hip_flexion_{side}_deg"].max() < 90.0
        assert -50.0 < a[f"hip_flexion_{side}_deg"].min() < -15.0
        assert 50.0 < a[f"elbow_flexion_{side}_deg"].min() and a[f"elbow_flexion_{side}_deg"].max() < 110.0
        assert 35.0 < a[f"shoulder_flexion_{side}_deg"].max() < 70.0
        assert -70.0 < a[f"shoulder_flexion_{side}_deg"].min() < -35.0
    assert 3.0 < np.median(a["trunk_lean_deg"]) < 10.0
    assert np.all(a["inter_thigh_angle_deg"] >= 0.0) and a["inter_thigh_angle_deg"].max() > 80.0
    # Pelvis and thorax counter-rotate.
    assert np.corrcoef(a["pelvis_rotation_deg"], a["thorax_rotation_deg"])[0, 1] < -0.8
    # Stance knee: yields after touchdown, extends toward toe-off.
    t = truth.time_s
    for s in _full_steps(motion):
        stance = (t >= s.touchdown_s) & (t <= s.toe_off_s)
        knee = a[f"knee_flexion_{s.push_leg}_deg"][stance]
        assert 30.0 < knee.max() < 60.0 and knee[-1] < knee.max() - 15.0


def test_roles_per_frame(flying):
    motion, truth = flying
    t = truth.time_s
    before = t < motion.steps[0].touchdown_s
    assert before.any()
    assert np.all(truth.push_leg[before] == "") and np.all(truth.step_index[before] == -1)
    assert np.all(np.isnan(truth.group_H_kg_m2_s["push_leg"][before]))
    for s in motion.steps:
        inside = (t >= s.touchdown_s) & (t < s.next_touchdown_s)
        assert np.all(truth.push_leg[inside] == s.push_leg) and np.all(truth.swing_leg[inside] == s.swing_leg)
        assert np.all(truth.step_index[inside] == s.index)
        np.testing.assert_array_equal(truth.group_H_kg_m2_s["swing_leg"][inside], truth.group_H_kg_m2_s[f"{s.swing_leg}_leg"][inside])


def test_image_truth_through_a_side_camera():
    t = np.arange(0.0, 1.0, 1 / 60)
    motion = simulate(FLYING, t)
    camera = side_camera(motion.joints_m["pelvis"][:, 0], side="left")
    truth = compute_truth(motion, FLYING, camera)
    xy, depth = camera.project(motion.landmarks_m)
    np.testing.assert_array_equal(truth.image_xy_px, xy)
    assert truth.image_xy_px.shape == (t.size, 33, 2) and np.all(truth.image_depth_m > 7.0)
    # Camera on the runner's left: the runner moves right-to-left, the left side is nearer.
    pelvis_px = truth.image_xy_px[:, [23, 24], 0].mean(axis=1)
    assert np.all(np.diff(pelvis_px) < 0)
    assert np.all(truth.image_depth_m[:, 11] < truth.image_depth_m[:, 12])



@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("yaw_deg", [-45.0, 30.0, 60.0])
def test_turned_side_camera(side, yaw_deg):
    """A tracking camera turned off square keeps its distance from the pelvis, its optical axis
    turned by the yaw; positive yaw is ahead of the runner (a front-oblique view)."""
    t = np.arange(0.0, 0.5, 1 / 30)
    motion = simulate(FLYING, t)
    pelvis = motion.joints_m["pelvis"]
    square = side_camera(pelvis[:, 0], side=side, track=True, distance_m=8.0)
    turned = side_camera(pelvis[:, 0], side=side, track=True, distance_m=8.0, yaw_deg=yaw_deg)
    np.testing.assert_allclose(np.linalg.norm(turned.position_m - turned.look_at_m, axis=-1), 8.0)
    cos_turn = np.sum(square.rotation()[:, 2] * turned.rotation()[:, 2], axis=-1)
    np.testing.assert_allclose(np.degrees(np.arccos(cos_turn)), abs(yaw_deg), atol=1e-6)
    assert np.all(np.sign(turned.position_m[:, 0] - pelvis[:, 0]) == np.sign(yaw_deg))
    # The hips' left-right separation shows in the image (~4 px square, 15-27 px at 30-60 deg).
    def hip_width(camera):
        xy, _ = camera.project(motion.landmarks_m[:, [23, 24]])
        return np.median(np.abs(xy[:, 0, 0] - xy[:, 1, 0]))

    assert hip_width(turned) > 3.0 * hip_width(square)
    # Yaw 0 is the square camera exactly; a camera on the running line is refused.
    zero = side_camera(pelvis[:, 0], side=side, track=True, distance_m=8.0, yaw_deg=0.0)
    np.testing.assert_array_equal(zero.position_m, square.position_m)
    with pytest.raises(ValueError):
        side_camera(pelvis[:, 0], side=side, track=True, yaw_deg=90.0)

def test_truth_json_round_trip(tmp_path):
    t = np.arange(0.0, 0.5, 1 / 120)
    params = dataclasses.replace(FLYING, faults=(StepFault(1, 20.0, 0.9),))
    motion = simulate(params, t)
    camera = side_camera(motion.joints_m["pelvis"][:, 0], side="right", pan=True)
    truth = compute_truth(motion, params, camera)
    path = tmp_path / "clip_truth.json"
    save_truth(truth, path)
    assert path.with_suffix(".npz").is_file()
    loaded = load_truth(path)
    for field in dataclasses.fields(truth):
        a, b = getattr(truth, field.name), getattr(loaded, field.name)
        if isinstance(a, dict) and a and isinstance(next(iter(a.values())), np.ndarray):
            assert set(a) == set(b)
            for key in a:
                np.testing.assert_array_equal(a[key], b[key])
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b, field.name
    assert loaded.steps[1]["swing_delay_ms"] == 20.0 and loaded.params["faults"][0]["swing_amplitude_scale"] == 0.9
    assert params_from_dict(loaded.params) == params


def test_truth_refuses_other_parameters(flying):
    motion, _ = flying
    with pytest.raises(ValueError):
        compute_truth(motion, dataclasses.replace(FLYING, mass_kg=80.0))
