"""The analyzer fed the synthetic sprinter's exact 3D landmarks (pose model bypassed).

The truth comes from ``analyzer.synthetic.truth``, which computes momenta from the model's
exact segment frames with its own code; here the analyzer's own stages must reproduce it.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from analyzer import counterbalance, kinematics, momentum, steps
from analyzer.counterbalance import (CENTROID_LAG_MIN_FRAMES, RELATIVE_SHIFT_MIN_FRAMES, Thresholds, late_by_both,
                                     late_by_evidence, lateness_score, robust_scatter)
from analyzer.synthetic.motion import SprinterParams, StepFault, faults_on_leg, simulate
from analyzer.synthetic.truth import compute_truth

FLYING = SprinterParams()
#: A female sprinter (de Leva's female table in the model and in the analysis).
FEMALE = SprinterParams(sex="female", height_m=1.68, mass_kg=58.0, top_speed_m_s=8.5, step_frequency_hz=4.6)
LIMB_GROUPS = ("left_arm", "right_arm", "arms", "left_leg", "right_leg")


def _analyse(params: SprinterParams, fps: float, duration_s: float = 3.0, offset_frames: float = 0.0):
    t = (np.arange(0, duration_s, 1 / fps) + offset_frames / fps)
    motion = simulate(params, t)
    kin = kinematics.from_points(motion.landmarks_m, t, condition=False)
    h = momentum.angular_momentum(kin, mass_kg=params.mass_kg, height_m=params.height_m, sex=params.sex)
    gait = steps.analyse_steps(kin.points_m, t, height_m=params.height_m)
    balance = counterbalance.analyse_counterbalance(h, gait, sample_rate_hz=fps)
    return motion, kin, h, gait, balance


def _exact(params: SprinterParams):
    motion, kin, h, gait, balance = _analyse(params, 60.0)
    return motion, compute_truth(motion, params), kin, h, gait, balance


@pytest.fixture(scope="module")
def exact_60():
    return _exact(FLYING)


@pytest.fixture(scope="module", params=[FLYING, FEMALE], ids=["male", "female"])
def exact_60_both_sexes(request):
    """The default sprinter and a female one: de Leva's two tables, each checked against truth."""
    return _exact(request.param)


def test_joint_angles_match_truth_within_half_a_degree(exact_60_both_sexes) -> None:
    _, truth, kin, *_ = exact_60_both_sexes
    for name, values in kin.angles_deg.items():
        np.testing.assert_allclose(values, truth.joint_angles_deg[name], atol=0.5, err_msg=name)


def test_group_momenta_match_truth_within_two_percent_of_peak(exact_60_both_sexes) -> None:
    """RMS error of every group under 2 % of the peak group magnitude (limbs: of their own peak too)."""
    _, truth, _, h, *_ = exact_60_both_sexes
    inner = slice(2, -2)  # the spline derivative's end conditions
    peak_group = max(np.abs(truth.group_H_kg_m2_s[g][inner]).max() for g in LIMB_GROUPS)
    for group in (*LIMB_GROUPS, "torso", "whole_body"):
        ours, exact = h.groups_kg_m2_s[group][inner], truth.group_H_kg_m2_s[group][inner]
        rms = np.sqrt(np.mean((ours - exact) ** 2))
        assert rms < 0.02 * peak_group, f"{group}: RMS {rms:.3f} vs peak {peak_group:.2f}"
        if group in LIMB_GROUPS:
            assert rms < 0.02 * np.abs(exact).max(), group


def test_whole_body_momentum_is_small_against_arms_and_legs(exact_60) -> None:
    """The cancellation Hinrichs (1987) reports: whole-body H well below the arms' and legs'."""
    *_, h, _, _ = exact_60
    rms = {g: np.sqrt(np.mean(h.groups_kg_m2_s[g] ** 2)) for g in ("arms", "left_leg", "right_leg", "whole_body")}
    assert rms["whole_body"] < 0.3 * min(rms["arms"], rms["left_leg"], rms["right_leg"])


@pytest.mark.parametrize("fps, tolerance_frames", [(60.0, 1.0), (30.0, 1.5)])
def test_touchdown_and_toe_off_within_a_frame(fps: float, tolerance_frames: float) -> None:
    motion, *_ , gait, _ = _analyse(FLYING, fps, offset_frames=0.37)
    truth_td = np.array([s.touchdown_s for s in motion.steps])
    truth_to = np.array([s.toe_off_s for s in motion.steps])
    assert len(gait.steps) >= 10
    td_err, to_err = [], []
    for s in gait.steps:
        k = int(np.argmin(np.abs(truth_td - s.touchdown_s)))
        assert motion.steps[k].push_leg == s.push_leg
        td_err.append(s.touchdown_s - truth_td[k])
        to_err.append(s.toeoff_s - truth_to[k])
    assert np.mean(np.abs(td_err)) * fps <= tolerance_frames
    assert np.mean(np.abs(to_err)) * fps <= tolerance_frames


def test_roles_alternate(exact_60) -> None:
    *_, gait, _ = exact_60
    legs = [s.push_leg for s in gait.steps]
    assert all(a != b for a, b in zip(legs, legs[1:]))


def test_balanced_sprinter_is_not_flagged_and_lags_are_small(exact_60) -> None:
    *_, balance = exact_60
    lags = np.array([b.lag_ms for b in balance.steps])
    assert np.abs(lags).max() < 10.0
    assert not any(b.flagged for b in balance.steps)


@pytest.mark.parametrize("delay_ms", [33.0, 50.0])
@pytest.mark.parametrize("offset_frames", [0.0, 0.5])
def test_injected_swing_lag_is_recovered_within_a_frame(delay_ms: float, offset_frames: float) -> None:
    """A delay on every left swing reads within a frame on those steps and stays near zero on
    the others. (Delays on every step of one leg are not flagged step by step: they widen the
    run's lag spread, docs/METHOD.md section 6; the flag rule is tested on lags in
    test_lag_flags_single_out_late_steps_not_a_leg_bias.) Measured, not yet handled: a late
    swing makes the whole body turn (no ground torque in flight), and that turn gives the
    swing leg's world-frame momentum a second peak at the undelayed time, 2-4 % below the
    delayed one for a single delay after an undelayed swing (4-5 % when the previous swing
    was delayed too); at 60 fps the frames then decide which peak is read (a single delay at
    steps 2 or 6 reads 4-7 ms). Taking the body's turn out (H - yaw rate x the leg's vertical
    inertia) reads 51-54 ms on every faulted step on this input, but needs the trunk's yaw,
    which a side view does not give."""
    params = dataclasses.replace(FLYING, faults=faults_on_leg("left", range(0, 40), swing_delay_ms=delay_ms))
    motion, *_, balance = _analyse(params, 60.0, offset_frames=offset_frames)
    faulted = {s.index for s in motion.steps if s.swing_delay_ms}
    baseline = 1.0  # the balanced sprinter's own lag (ms), see the test above
    for b in balance.steps:
        k = int(np.argmin([abs(s.touchdown_s - b.step.touchdown_s) for s in motion.steps]))
        expected = delay_ms if motion.steps[k].index in faulted else 0.0
        assert b.lag_ms - baseline == pytest.approx(expected, abs=1000 / 60), b


@pytest.mark.parametrize("late_ms", [33.0, 50.0])
def test_lag_flags_single_out_late_steps_not_a_leg_bias(late_ms: float) -> None:
    """The swing_lag rule of a run with its own scatter (:func:`late_by_evidence` at 60 fps) on
    12 steps: two steps whose whole swing is late (swing shift + 0.7 x late_ms, push leg shift
    + 0.2 x late_ms and centroid lag + half of it, about the shares such a delay moves them
    through the pose model) stand out among steps scattering by a few ms. A near/far leg bias
    flags nothing (the balanced rendered sample's steps read centroid lags of -10 and +6 ms by
    push leg, docs/METHOD.md, section 6). Neither does a bulk that moves alone (the push side's
    bulk early), nor a swing waveform that moves with the push leg's (the whole step read late:
    a touchdown placed early), nor a swing leg late against the push leg with the bulk on time."""
    rng = np.random.default_rng(3)
    shift, push_leg, bulk = rng.normal(0.0, 4.0, 12), rng.normal(0.0, 4.0, 12), rng.normal(0.0, 2.0, 12)
    push_leg = 0.8 * shift + 0.6 * push_leg  # the two legs' shifts share most of their errors
    bulk_min_ms, relative_min_ms = CENTROID_LAG_MIN_FRAMES * 1000.0 / 60.0, RELATIVE_SHIFT_MIN_FRAMES * 1000.0 / 60.0

    def flagged(shift_ms: np.ndarray, push_leg_ms: np.ndarray, bulk_ms: np.ndarray) -> list[int]:
        relative = shift_ms - push_leg_ms
        score, _ = lateness_score(bulk_ms, shift_ms, relative)
        above = relative - np.median(relative)
        return [i for i in range(12)
                if late_by_evidence(score[i], bulk_ms[i], above[i], bulk_min_ms, relative_min_ms)]

    late = np.zeros(12)
    late[[4, 9]] = late_ms
    assert flagged(shift + 0.7 * late, push_leg + 0.2 * late, bulk + 0.5 * late) == [4, 9]
    by_leg = np.arange(12) % 2 == 0
    leg_bias = np.where(by_leg, 10.0, -10.0)
    assert flagged(shift + leg_bias, push_leg + leg_bias, bulk + np.where(by_leg, -10.0, 6.0)) == []
    # One measure moves and the others read the run's usual values at those steps.
    usual = {name: np.where(late > 0, np.median(v), v) for name, v in (("shift", shift), ("push_leg", push_leg),
                                                                     ("bulk", bulk))}
    assert flagged(usual["shift"], usual["push_leg"], usual["bulk"] + 0.5 * late) == []
    assert flagged(usual["shift"] + 0.7 * late, usual["push_leg"] + 0.7 * late, usual["bulk"]) == []
    assert flagged(usual["shift"] + 0.7 * late, usual["push_leg"], usual["bulk"]) == []


@pytest.mark.parametrize("late_ms", [33.0, 50.0])
def test_short_run_lag_rule_needs_peak_and_bulk(late_ms: float) -> None:
    """With too few steps for a scatter (:func:`late_by_both` at 60 fps): a step whose peak and
    bulk are both late is flagged; a peak that moves alone (a misplaced far limb) or a bulk that
    moves alone is not."""
    thresholds = Thresholds()
    peak_limit = thresholds.effective_lag_ms(60.0)
    bulk_limit = thresholds.effective_centroid_lag_ms(60.0, robust_scatter(np.zeros(4)))
    assert late_by_both(late_ms, late_ms / 2, peak_limit, bulk_limit)
    assert not late_by_both(late_ms, 0.0, peak_limit, bulk_limit)
    assert not late_by_both(0.0, late_ms / 2, peak_limit, bulk_limit)


def test_swing_shift_reads_the_delayed_steps_and_only_them() -> None:
    """On the exact kinematics with 50 ms delays on steps 3 and 8, the swing shift (against the
    run's median swing waveform) reads 20-22 ms there, above every other step's 9 ms or less,
    and the two steps are flagged, no other. (Their peak lags read 5-7 ms: the body's turn gives
    the swing leg's world-frame momentum a second peak at the undelayed time, see above; the
    shift rests on the whole waveform.)"""
    delay_ms = 50.0
    params = dataclasses.replace(FLYING, faults=(StepFault(3, swing_delay_ms=delay_ms),
                                                 StepFault(8, swing_delay_ms=delay_ms)))
    motion, *_, balance = _analyse(params, 60.0)
    shifts = np.array([b.swing_shift_ms for b in balance.steps])
    above = shifts - np.median(shifts)
    faulted = []
    for i, b in enumerate(balance.steps):
        k = int(np.argmin([abs(s.touchdown_s - b.step.touchdown_s) for s in motion.steps]))
        if motion.steps[k].swing_delay_ms:
            faulted.append(i)
            assert 0.35 * delay_ms < above[i] < 1.2 * delay_ms, b
        else:
            assert abs(above[i]) < 0.2 * delay_ms, b
    assert len(faulted) == 2
    assert [i for i, b in enumerate(balance.steps) if "swing_lag" in b.flag_kinds] == faulted


def test_the_relative_shift_reads_the_delayed_steps_and_cancels_what_both_legs_share() -> None:
    """On the exact kinematics with 50 ms delays on steps 3 and 8, the swing leg's shift against
    the push leg's (relative_shift_ms) reads ~19 ms above the run's median there, and every
    other step within 4 ms, where their swing shifts alone spread to 9 ms: the step-to-step
    variation both legs share (the step's own timing) cancels in the difference."""
    delay_ms = 50.0
    params = dataclasses.replace(FLYING, faults=(StepFault(3, swing_delay_ms=delay_ms),
                                                 StepFault(8, swing_delay_ms=delay_ms)))
    motion, *_, balance = _analyse(params, 60.0)
    delayed = np.array([bool(motion.steps[int(np.argmin([abs(s.touchdown_s - b.step.touchdown_s)
                                                        for s in motion.steps]))].swing_delay_ms)
                        for b in balance.steps])
    assert delayed.sum() == 2
    relative = np.array([b.relative_shift_ms for b in balance.steps])
    shift = np.array([b.swing_shift_ms for b in balance.steps])
    np.testing.assert_allclose(relative, shift - np.array([b.push_leg_shift_ms for b in balance.steps]))
    relative_above, shift_above = relative - np.median(relative), shift - np.median(shift)
    assert (relative_above[delayed] > 0.3 * delay_ms).all()
    assert np.abs(relative_above[~delayed]).max() < 0.1 * delay_ms
    assert np.abs(relative_above[~delayed]).max() < 0.6 * np.abs(shift_above[~delayed]).max()


def test_the_swing_shifts_band_reads_more_of_a_delay_without_more_scatter() -> None:
    """Low-passing the legs' momenta at twice the step frequency before the match (the default)
    reads more of two 50 ms delays than matching the momenta as they are, and the other steps
    scatter no more: the delay moves the swing's bulk, which the band keeps. The sprinter's
    landmarks carry 5 mm of noise (three seeds) and go through the usual conditioning."""
    params = dataclasses.replace(FLYING, faults=(StepFault(3, swing_delay_ms=50.0), StepFault(8, swing_delay_ms=50.0)))
    t = np.arange(0, 3.0, 1 / 60.0)
    motion = simulate(params, t)
    gait = steps.analyse_steps(motion.landmarks_m, t, height_m=params.height_m)
    delayed = [i for i, s in enumerate(gait.steps)
               if motion.steps[int(np.argmin([abs(m.touchdown_s - s.touchdown_s) for m in motion.steps]))].swing_delay_ms]
    assert len(delayed) == 2
    read = {"band": ([], []), "none": ([], [])}  # (delayed steps, clean steps): shift above the run's median
    for seed in range(3):
        noisy = motion.landmarks_m + np.random.default_rng(seed).normal(0.0, 0.005, motion.landmarks_m.shape)
        kin = kinematics.from_points(noisy, t, condition=True)
        h = momentum.angular_momentum(kin, mass_kg=params.mass_kg, height_m=params.height_m, sex=params.sex)
        for name, band in (("band", counterbalance.SHIFT_BAND_STEP_FREQUENCIES), ("none", None)):
            shifts = counterbalance.leg_shifts_ms(h, gait, "swing", band_step_frequencies=band)
            above = shifts - np.median(shifts)
            read[name][0].extend(above[delayed])
            read[name][1].extend(np.delete(above, delayed))
    assert np.mean(read["band"][0]) > np.mean(read["none"][0]) + 1.0
    assert robust_scatter(np.array(read["band"][1])) <= robust_scatter(np.array(read["none"][1]))
    assert min(read["band"][0]) > 0.35 * 50.0


def test_reduced_swing_amplitude_lowers_that_steps_ratio() -> None:
    """Halving one step's swing drive makes its ratio the run's lowest, well below the others.

    The push side's measured momentum drops too (the whole body turns with the imbalance),
    so the ratio falls by ~15 %, against a spread of ~3 % between normal steps.
    """
    params = dataclasses.replace(FLYING, faults=(StepFault(5, swing_amplitude_scale=0.5),))
    motion, *_, balance = _analyse(params, 60.0)
    ratios = np.array([b.counterbalance_ratio for b in balance.steps])
    median = np.median(ratios)
    # Each step found is matched to the nearest true step pushed by the same leg: the halved
    # swing brings the next foot down to the ground ~0.1 s before its planned touchdown,
    # halfway to the faulty step's own touchdown.
    weak = [i for i, b in enumerate(balance.steps)
            if min((s for s in motion.steps if s.push_leg == b.step.push_leg),
                   key=lambda s: abs(s.touchdown_s - b.step.touchdown_s)).index == 5]
    assert len(weak) == 1
    assert ratios[weak[0]] < 0.9 * median
    others = np.delete(ratios, weak[0])
    assert others.min() > 0.95 * median
    assert "under_counterbalanced" in balance.steps[weak[0]].flag_kinds


def test_ratios_scattering_beyond_half_their_median_set_no_ratio_limit(exact_60) -> None:
    """A run whose swing peaks vary from a fifth to three times their usual size step by step
    (as on slow-motion real clips) has no ratio that can stand out as short: no limit (rather
    than one at or below zero) and no under_counterbalanced flag."""
    *_, h, gait, _ = exact_60
    factors = np.resize([0.2, 3.0, 1.0, 0.4, 2.5, 0.6], len(gait.steps))
    groups = dict(h.groups_kg_m2_s)
    for leg in ("left_leg", "right_leg"):
        scaled = groups[leg].copy()
        for step, factor in zip(gait.steps, factors):
            if step.swing_leg == leg.removesuffix("_leg"):
                scaled[gait.step_index == step.step] *= factor
        groups[leg] = scaled
    balance = counterbalance.analyse_counterbalance(dataclasses.replace(h, groups_kg_m2_s=groups), gait,
                                                    sample_rate_hz=60.0)
    ratios = np.array([b.counterbalance_ratio for b in balance.steps])
    assert robust_scatter(ratios) > 0.5 * np.median(ratios)
    assert np.isnan(balance.ratio_limit)
    assert not any("under_counterbalanced" in b.flag_kinds for b in balance.steps)
