"""Signal conditioning: known answers, and properties that must hold for any input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from analyzer import signals


def test_hampel_rejects_a_spike_and_keeps_the_rest() -> None:
    t = np.linspace(0, 1, 101)
    x = np.sin(2 * np.pi * 2 * t)
    x[40] += 5.0
    cleaned, outliers = signals.hampel(x, window=7)
    assert outliers[40] and outliers.sum() == 1
    assert np.isnan(cleaned[40])
    np.testing.assert_array_equal(cleaned[~outliers], x[~outliers])


def _hampel_unblocked(values: np.ndarray, window: int, n_sigmas: float) -> tuple[np.ndarray, np.ndarray]:
    """The Hampel filter computed over all rows at once (the filter before it was blocked)."""
    from numpy.lib.stride_tricks import sliding_window_view

    flat = np.asarray(values, dtype=float).reshape(len(values), -1)
    half = window // 2
    windows = sliding_window_view(np.pad(flat, ((half, half), (0, 0)), mode="edge"), window, axis=0)
    with np.errstate(all="ignore"), signals.quiet_nan_warnings():
        median = np.nanmedian(windows, axis=-1)
        mad = 1.4826 * np.nanmedian(np.abs(windows - median[..., None]), axis=-1)
    deviation = np.abs(flat - median)
    floor = 1e-9 * (1.0 + np.abs(median))
    outliers = np.isfinite(deviation) & (deviation > n_sigmas * np.maximum(mad, floor))
    cleaned = flat.copy()
    cleaned[outliers] = np.nan
    return cleaned.reshape(values.shape), outliers.reshape(values.shape)


@pytest.mark.parametrize("window", [3, 7])
def test_hampel_in_blocks_equals_all_rows_at_once(window: int) -> None:
    rng = np.random.default_rng(7)
    n = 3 * signals.HAMPEL_BLOCK_ROWS + 517  # several blocks and a partial one
    x = np.cumsum(rng.normal(size=(n, 4, 3)), axis=0)
    x[rng.random(x.shape) < 0.05] = np.nan                       # scattered missing samples
    spikes = rng.random(x.shape) < 0.01
    x[spikes] += 40.0
    x[1000:1300, 1] = np.nan                                      # a long gap
    x[signals.HAMPEL_BLOCK_ROWS - 2 : signals.HAMPEL_BLOCK_ROWS + 3, 2, 0] = 5.0  # flat run across a block edge
    x[signals.HAMPEL_BLOCK_ROWS, 3, 1] += 100.0                   # spike on a block edge
    expected_cleaned, expected_outliers = _hampel_unblocked(x, window, 3.0)
    assert expected_outliers.sum() > 100
    for block_rows in (signals.HAMPEL_BLOCK_ROWS, 1000, 5, 1):
        cleaned, outliers = signals.hampel(x, window=window, block_rows=block_rows)
        np.testing.assert_array_equal(outliers, expected_outliers)
        np.testing.assert_array_equal(cleaned, expected_cleaned)  # NaN in the same places, same bits


def test_fill_gaps_bridges_short_gaps_only() -> None:
    t = np.arange(20) / 10.0
    x = t.copy()
    x[3:5] = np.nan      # 0.3 s between valid neighbours: bridged with max_gap 0.3
    x[10:15] = np.nan    # 0.6 s: left missing
    x[0] = np.nan        # leading: never extrapolated
    filled, mask = signals.fill_gaps(x, t, max_gap_s=0.3)
    np.testing.assert_allclose(filled[3:5], t[3:5])
    assert np.isnan(filled[10:15]).all() and np.isnan(filled[0])
    assert mask[3:5].all() and not mask[10:15].any()


def test_lowpass_is_zero_phase_and_attenuates_noise() -> None:
    fs = 60.0
    t = np.arange(0, 4, 1 / fs)
    clean = np.sin(2 * np.pi * 2.0 * t)
    rng = np.random.default_rng(0)
    noisy = clean + 0.2 * rng.standard_normal(t.size)
    out = signals.lowpass(noisy, fs, 6.0)
    inner = slice(30, -30)
    # White noise keeps about sqrt(6 / 30) = 45 % of its spread below 6 Hz at 60 fps.
    assert np.std(out[inner] - clean[inner]) < 0.55 * np.std(noisy[inner] - clean[inner])
    # Zero phase: a 2 Hz sine comes through without delay (peak times agree within 1 ms).
    lag = np.argmax(np.correlate(signals.lowpass(clean, fs, 12.0)[inner], clean[inner], "full")) - (clean[inner].size - 1)
    assert lag == 0


def test_lowpass_filters_runs_separately_around_nan() -> None:
    x = np.ones(100)
    x[50] = np.nan
    out = signals.lowpass(x, 60.0, 10.0)
    assert np.isnan(out[50])
    np.testing.assert_allclose(out[np.isfinite(out)], 1.0, atol=1e-9)


def test_default_cutoff_follows_frame_rate() -> None:
    assert signals.default_cutoff_hz(60) == 12.0
    assert signals.default_cutoff_hz(30) == pytest.approx(9.0)
    with pytest.raises(ValueError):
        signals.default_cutoff_hz(0)


@pytest.mark.parametrize("rate_hz, cutoff_hz", [(25.0, 11.25), (30.0, 13.5), (60.0, 15.0), (240.0, 15.0)])
def test_toe_off_cutoff_is_above_the_momentum_cutoff_and_below_nyquist(rate_hz: float, cutoff_hz: float) -> None:
    assert signals.toeoff_cutoff_hz(rate_hz) == pytest.approx(cutoff_hz)
    assert signals.default_cutoff_hz(rate_hz) < signals.toeoff_cutoff_hz(rate_hz) < 0.5 * rate_hz


def test_derivative_uses_real_times() -> None:
    t = np.cumsum(np.r_[0, np.full(10, 0.01), np.full(10, 0.03)])  # variable frame rate
    np.testing.assert_allclose(signals.derivative(3.0 * t, t), 3.0)


def test_derivative_in_column_blocks_equals_one_spline_over_all_columns() -> None:
    """The blocks only bound memory: every column's derivative is bit-identical."""
    from scipy import interpolate

    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.01, 0.03, 400))
    x = np.cumsum(rng.normal(size=(400, 7, 3)), axis=0)
    x[50:60, 2, 1] = np.nan  # a column with a gap goes run by run
    flat = x.reshape(400, -1)
    complete = np.isfinite(flat).all(axis=0)
    expected = signals.derivative(x, t, block_columns=flat.shape[1])
    np.testing.assert_array_equal(
        expected.reshape(400, -1)[:, complete],
        interpolate.CubicSpline(t, flat[:, complete], axis=0)(t, 1),
    )
    for block_columns in (signals.DERIVATIVE_BLOCK_COLUMNS, 5, 1):
        np.testing.assert_array_equal(signals.derivative(x, t, block_columns=block_columns), expected)


series = hnp.arrays(
    np.float64,
    st.integers(min_value=0, max_value=200),
    elements=st.one_of(st.floats(-1e3, 1e3), st.just(np.nan)),
)


def _overshoot_fraction(fs: float) -> float:
    """How far past its input's range the low-pass in force at *fs* can go, as a fraction of
    that range: (sum |h| - 1) / 2 for its zero-phase impulse response h (unit DC gain), the
    exact bound for any input confined to the range. 0.19-0.22 at 60 fps and above, 0.35
    where the cutoff is 0.3 x the rate."""
    from scipy import signal as sp_signal

    cutoff = min(signals.default_cutoff_hz(fs), 0.45 * fs)
    sos = sp_signal.butter(4, cutoff / (0.5 * fs), output="sos")
    impulse = np.zeros(4001)
    impulse[2000] = 1.0
    return float((np.abs(sp_signal.sosfiltfilt(sos, impulse)).sum() - 1.0) / 2.0)


@settings(max_examples=150, deadline=None)
@given(series, st.floats(min_value=10, max_value=240))
@example(np.array([np.nan] * 12 + [0.0, np.nan, np.nan, 1.0]), 173.0)
def test_condition_never_crashes_and_stays_in_range(x: np.ndarray, fs: float) -> None:
    """Any length, any gaps and NaNs: no exception, same shape, and values within the
    input's range widened by the filter's own overshoot bound (the Hampel filter only
    removes samples and gaps are bridged linearly, so neither widens the range). The
    example is a 4-sample run at the end, which a shortened odd-extension pad once turned
    into -0.26..-0.10 for a 0..1 ramp."""
    t = np.arange(x.size) / fs
    out = signals.condition(x, t, sample_rate_hz=fs).values
    assert out.shape == x.shape
    finite_in = x[np.isfinite(x)]
    finite_out = out[np.isfinite(out)]
    if finite_in.size:
        span = np.ptp(finite_in)
        slack = _overshoot_fraction(fs) * span + 1e-9 * (1.0 + np.abs(finite_in).max())
        assert finite_out.min() >= finite_in.min() - slack
        assert finite_out.max() <= finite_in.max() + slack
    else:
        assert finite_out.size == 0
    # Missing stays missing where nothing could be bridged: no value appears before the first sample.
    if finite_in.size:
        first = int(np.flatnonzero(np.isfinite(x))[0])
        assert np.isnan(out[:first]).all()


@settings(max_examples=100, deadline=None)
@given(series)
def test_hampel_only_removes(x: np.ndarray) -> None:
    cleaned, outliers = signals.hampel(x, window=5)
    keep = ~outliers
    np.testing.assert_array_equal(cleaned[keep], x[keep])
    assert not (outliers & np.isnan(x)).any()


def _limb_path_px(n: int = 240, rate_hz: float = 60.0, noise_px: float = 1.5, seed: int = 3
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time_s, true, measured): a knee-like point in pixels circling at a sprinter's stride
    frequency (2.2 Hz, 60 px) with its second harmonic, measured with Gaussian noise."""
    t = np.arange(n) / rate_hz
    phase = 2 * np.pi * 2.2 * t
    true = np.stack([60 * np.sin(phase) + 12 * np.sin(2 * phase), 25 * np.cos(phase)], axis=-1)
    measured = true + np.random.default_rng(seed).normal(0.0, noise_px, true.shape)
    return t, true, measured


def test_outliers_from_smooth_finds_short_misplacements_a_hampel_filter_misses() -> None:
    # A pose model's misplaced frames: one frame 25 px off, a run of two frames 20 px off,
    # on a limb that moves ~20 px per frame (a Hampel window's spread hides them).
    t, _, xy = _limb_path_px()
    jumps = {50: (25.0, 0.0), 121: (0.0, -20.0), 122: (0.0, -20.0), 190: (-18.0, 12.0)}
    for frame, offset in jumps.items():
        xy[frame] += offset
    outliers = signals.outliers_from_smooth(xy, t, cutoff_hz=12.0)
    assert outliers.shape == (t.size,)
    assert outliers[list(jumps)].all()
    assert outliers.sum() <= len(jumps) + 2  # at most two clean samples among 236
    _, hampel_outliers = signals.hampel(xy, window=7)
    assert not hampel_outliers.any(axis=-1)[list(jumps)].all()


def test_outliers_from_smooth_judges_each_point_by_its_own_noise_and_never_flags_missing() -> None:
    t, true, noisy = _limb_path_px(noise_px=4.0)
    points = np.stack([true, noisy], axis=1)  # (N, 2 points, 2): one exact, one noisy
    points[30:33, 1] = np.nan
    for floor, exact_flagged in ((1.0, 0), (0.0, None)):
        outliers = signals.outliers_from_smooth(points, t, cutoff_hz=12.0, min_sigma=floor)
        assert outliers.shape == (t.size, 2)
        assert not outliers[30:33, 1].any()
        assert outliers[:, 1].mean() < 0.01  # 6 sigma of its own 4 px noise
        if exact_flagged is not None:
            assert outliers[:, 0].sum() == exact_flagged  # a pixel's floor keeps exact input whole
    # A 15 px jump is nothing beside 4 px noise at 6 sigma, but stands out on a 1.5 px point.
    t, _, quiet = _limb_path_px(noise_px=1.5)
    quiet[100] += (15.0, 0.0)
    noisy[100] += (15.0, 0.0)
    assert signals.outliers_from_smooth(quiet, t, cutoff_hz=12.0)[100]
    assert not signals.outliers_from_smooth(noisy, t, cutoff_hz=12.0)[100]
