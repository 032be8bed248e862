"""Signal conditioning for landmark trajectories: outliers, gaps, zero-phase low-pass.

Every function here is a plain function over numpy arrays whose first axis is time
(shape ``(N, ...)``); any trailing shape is filtered column by column. NaN marks a
missing sample (no detection, low visibility, rejected outlier, repeated image).

The order used by :func:`condition` follows Sports2D / Pose2Sim practice
(``../shared/docs/references.md``): reject outliers with a Hampel filter, fill short
gaps, then low-pass with a 4th-order zero-phase Butterworth. One cutoff is used for
every signal that enters an angular-momentum sum (docs/METHOD.md, section 4).
"""
from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import interpolate
from scipy import signal as sp_signal

from analyzer.runs import true_runs

#: Default low-pass cutoff at high frame rates (Hz). Pose2Sim advises 6-15 Hz for running;
#: sprint limb motion carries the stride frequency (~2.2 Hz) and its first harmonics.
DEFAULT_CUTOFF_HZ = 12.0
#: The cutoff never exceeds this fraction of the sampling rate (0.5 is Nyquist).
MAX_CUTOFF_FRACTION_OF_FS = 0.3
#: Gaps longer than this stay missing (seconds).
DEFAULT_MAX_GAP_S = 0.1
#: Toe-offs are read from the feet low-passed at this cutoff (Hz; :func:`toeoff_cutoff_hz`).
#: A toe-off is followed by the fastest vertical motion of the foot in the stride (about
#: 0.5 m up within 70 ms): a lower cutoff spreads that rise back into the contact and the
#: toe-off reads early. Through the pose model on the 42 validation renders (toe-offs on the
#: foot's straight path, :func:`analyzer.steps._event_time`), 15 Hz against the momentum cutoff
#: moves the toe-offs' mean absolute error from 0.60 to 0.49 frames at 30 fps, 0.82 to 0.72 at
#: 60 fps and 1.34 to 1.18 at 120 fps; 20-27 Hz at 60 fps is noisier (docs/METHOD.md, section 5).
TOEOFF_CUTOFF_HZ = 15.0


def default_cutoff_hz(sample_rate_hz: float) -> float:
    """The low-pass cutoff (Hz) used at *sample_rate_hz*: ``min(12 Hz, 0.3 fs)``.

    At 60 fps and above this is 12 Hz; at 30 fps, 9 Hz; at 25 fps, 7.5 Hz. Where the
    video carries repeated images, pass the *distinct-image* rate.
    """
    if not np.isfinite(sample_rate_hz) or sample_rate_hz <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate_hz}")
    return float(min(DEFAULT_CUTOFF_HZ, MAX_CUTOFF_FRACTION_OF_FS * sample_rate_hz))


#: A low-pass over rows that repeat or bridge missing images may not reach past this share of
#: the rows' own rate (the distinct-image cutoff can exceed it when images repeat).
MAX_ROW_CUTOFF_FRACTION = 0.45


def toeoff_cutoff_hz(sample_rate_hz: float) -> float:
    """The low-pass cutoff (Hz) of the foot heights toe-offs are read from.

    ``min(TOEOFF_CUTOFF_HZ, 0.45 fs)``, never below :func:`default_cutoff_hz`: 15 Hz at 60 fps
    and above, 13.5 Hz at 30 fps (where the momentum cutoff is 9 Hz). These heights enter
    no angular momentum; touchdowns, which align the steps' waveforms in the counterbalance
    analysis, keep the momentum cutoff (docs/METHOD.md, section 5).
    """
    return float(max(default_cutoff_hz(sample_rate_hz), min(TOEOFF_CUTOFF_HZ, MAX_ROW_CUTOFF_FRACTION * sample_rate_hz)))


def _row_rate_hz(time_s: np.ndarray) -> float:
    """The rate of the rows (Hz): one over their median spacing."""
    return 1.0 / float(np.median(np.diff(time_s)))


def _row_rate_and_cutoff(time_s: np.ndarray, cutoff_hz: float) -> tuple[float, float]:
    """(rate of the rows, the cutoff capped at :data:`MAX_ROW_CUTOFF_FRACTION` of it) (Hz)."""
    frame_rate = _row_rate_hz(time_s)
    return frame_rate, min(cutoff_hz, MAX_ROW_CUTOFF_FRACTION * frame_rate)


def _as_2d(values: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    arr = np.asarray(values, dtype=float)
    columns = int(np.prod(arr.shape[1:], dtype=int))
    return arr.reshape(arr.shape[0], columns), arr.shape


#: Rows of samples :func:`hampel` processes at once: its window statistics materialise
#: (rows, columns, window) arrays, so blocks keep its memory bounded on long clips
#: (about 25 MB for 99 columns, and about as fast as larger blocks).
HAMPEL_BLOCK_ROWS = 1024


def hampel(
    values: np.ndarray,
    window: int = 7,
    n_sigmas: float = 3.0,
    *,
    block_rows: int = HAMPEL_BLOCK_ROWS,
) -> tuple[np.ndarray, np.ndarray]:
    """Hampel outlier filter along axis 0.

    A sample is an outlier when it differs from the median of the centred window of
    ``window`` samples by more than ``n_sigmas`` scaled median absolute deviations
    (MAD x 1.4826). Outliers become NaN (to be filled by :func:`fill_gaps`), unlike the
    textbook filter which replaces them by the median: a replaced value would hide that
    the sample was never measured.

    Args:
        values: (N, ...) samples; NaN is ignored in the window statistics.
        window: odd window length in samples (>= 3).
        n_sigmas: threshold in robust standard deviations.
        block_rows: rows computed at once (each block reads the ``window // 2`` rows either
            side it needs), which bounds memory; the output does not depend on it.

    Returns:
        (cleaned, outliers): cleaned copy with outliers set to NaN, and the boolean mask.
    """
    if window < 3 or window % 2 == 0:
        raise ValueError("window must be an odd integer >= 3")
    if block_rows < 1:
        raise ValueError("block_rows must be >= 1")
    flat, shape = _as_2d(values)
    outliers = np.zeros_like(flat, dtype=bool)
    if flat.shape[0] >= window:
        for rows, windows in _sliding_windows(flat, window, block_rows):
            outliers[rows] = _hampel_block(windows, flat[rows], n_sigmas)
    cleaned = flat.copy()
    cleaned[outliers] = np.nan
    return cleaned.reshape(shape), outliers.reshape(shape)


def _sliding_windows(flat: np.ndarray, window: int, block_rows: int) -> Iterator[tuple[slice, np.ndarray]]:
    """(rows, windows) for blocks of *block_rows* rows of *flat* (N, C): the centred windows
    of *window* samples of each row as a (rows, C, window) view, the ends repeated at the
    edges. Blocks bound the memory the windows' statistics take on long clips."""
    if block_rows < 1:
        raise ValueError("block_rows must be >= 1")
    n, half = flat.shape[0], window // 2
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        # the block's rows and the half window either side, the ends repeated at the edges
        lo, hi = max(start - half, 0), min(stop + half, n)
        padded = np.pad(flat[lo:hi], ((half - (start - lo), half - (hi - stop)), (0, 0)), mode="edge")
        yield slice(start, stop), sliding_window_view(padded, window, axis=0)


def _hampel_block(windows: np.ndarray, block: np.ndarray, n_sigmas: float) -> np.ndarray:
    """Outlier mask of *block* (rows, C), given its (rows, C, window) centred windows."""
    with np.errstate(all="ignore"), quiet_nan_warnings():
        median = np.nanmedian(windows, axis=-1)
        mad = 1.4826 * np.nanmedian(np.abs(windows - median[..., None]), axis=-1)
    deviation = np.abs(block - median)
    # A MAD of zero (flat window) must not flag tiny numerical differences.
    floor = 1e-9 * (1.0 + np.abs(median))
    return np.isfinite(deviation) & (deviation > n_sigmas * np.maximum(mad, floor))


def running_median(values: np.ndarray, window: int, *, block_rows: int = HAMPEL_BLOCK_ROWS) -> np.ndarray:
    """Median of the centred *window* samples (odd, >= 3) along axis 0, NaN ignored; the
    ends are repeated at the edges. A run of fewer than ``window // 2 + 1`` displaced
    samples does not move it."""
    if window < 3 or window % 2 == 0:
        raise ValueError("window must be an odd integer >= 3")
    flat, shape = _as_2d(values)
    out = np.full_like(flat, np.nan)
    for rows, windows in _sliding_windows(flat, window, block_rows):
        with quiet_nan_warnings():
            out[rows] = np.nanmedian(windows, axis=-1)
    return out.reshape(shape)


#: Median of the length of an isotropic 2-D Gaussian residual, in units of its per-axis SD
#: (the Rayleigh distribution's median, sqrt(2 ln 2)).
RAYLEIGH_MEDIAN = float(np.sqrt(2.0 * np.log(2.0)))


def outliers_from_smooth(
    points: np.ndarray,
    time_s: np.ndarray,
    *,
    cutoff_hz: float,
    n_sigmas: float = 6.0,
    min_sigma: float = 0.0,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    max_iterations: int = 4,
    median_window: int = 5,
) -> np.ndarray:
    """Points that stand off the smooth path of the others (a pose model's misplaced frames).

    Each point's distance from a smooth path is its residual. A point is an outlier where
    its residual exceeds *n_sigmas* times its own noise level, estimated robustly over the
    clip as the median residual / :data:`RAYLEIGH_MEDIAN` (the per-axis SD of 2-D Gaussian
    noise). The first path is low-passed (:func:`lowpass`, gaps bridged by
    :func:`fill_gaps`) from the points' running median over *median_window* samples, which
    a misplaced run of up to ``median_window // 2`` frames does not move: a low-pass alone
    is pulled toward such a run and rings around it, so that the run's clean neighbours
    stand further off than the run itself. Each later path is low-passed from the points
    less the outliers found, and the test is repeated until the set stops changing (at most
    *max_iterations* passes).

    A Hampel filter on each coordinate (:func:`hampel`) misses these: a limb moving fast
    spreads its window's values, which raises its threshold above a one- or two-frame jump
    of a tenth of a leg length. Judged from the smooth path, the motion itself is no
    residual; only what the low-pass would remove is.

    Args:
        points: (N, ..., D) positions (the last axis holds a point's coordinates, e.g.
            image pixels); NaN where missing.
        time_s: (N,) sample times (s); the low-pass runs at their rate.
        cutoff_hz: the low-pass cutoff (Hz) that draws the smooth path (capped as in
            :func:`condition`).
        n_sigmas: threshold in units of each point's noise SD.
        min_sigma: floor of the noise SD (units of *points*): a point measured better than
            this (a smooth landmark, or exact input) is judged as if it were this noisy, so
            that the low-pass's own small misfit at a sharp turn is not taken for an outlier.
        max_gap_s: gaps (missing or rejected samples) up to this long are bridged before
            the low-pass.
        max_iterations: passes at most.
        median_window: samples of the running median that draws the first path (odd).

    Returns:
        (N, ...) bool: the outlying samples (never a missing one).
    """
    points = np.asarray(points, dtype=float)
    outliers = np.zeros(points.shape[:-1], dtype=bool)
    if points.shape[0] < max(4, median_window):
        return outliers
    frame_rate, cutoff_hz = _row_rate_and_cutoff(time_s, cutoff_hz)
    kept = running_median(points, median_window)
    kept[np.isnan(points)] = np.nan
    for _ in range(max_iterations):
        path = lowpass(fill_gaps(kept, time_s, max_gap_s=max_gap_s)[0], frame_rate, cutoff_hz)
        residual = np.linalg.norm(points - path, axis=-1)
        with quiet_nan_warnings():
            sigma = np.nanmedian(residual, axis=0) / RAYLEIGH_MEDIAN
        found = np.isfinite(residual) & (residual > n_sigmas * np.maximum(np.nan_to_num(sigma), max(min_sigma, 1e-12)))
        if np.array_equal(found, outliers):
            break
        outliers = found
        kept = points.copy()
        kept[outliers] = np.nan
    return outliers


@contextlib.contextmanager
def quiet_nan_warnings() -> Iterator[None]:
    """Silence numpy's 'All-NaN slice' / 'Mean of empty slice' warnings inside a block.

    Missing samples are NaN by design here, so those warnings say nothing new.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def fill_gaps(values: np.ndarray, time_s: np.ndarray, max_gap_s: float = DEFAULT_MAX_GAP_S) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate interior runs of NaN no longer than *max_gap_s*.

    Leading and trailing NaN (before the first or after the last valid sample) are never
    extrapolated, and longer gaps stay NaN.

    Args:
        values: (N, ...) samples.
        time_s: (N,) strictly increasing sample times in seconds.
        max_gap_s: the longest gap (time between the valid samples either side) to bridge.

    Returns:
        (filled, was_filled): the filled copy and the mask of samples that were filled.
    """
    flat, shape = _as_2d(values)
    time_s = np.asarray(time_s, dtype=float)
    if time_s.shape[0] != flat.shape[0]:
        raise ValueError("time_s and values differ in length")
    filled = flat.copy()
    was_filled = np.zeros_like(flat, dtype=bool)
    for col in range(flat.shape[1]):
        column = flat[:, col]
        valid = np.isfinite(column)
        if valid.sum() < 2 or valid.all():
            continue
        idx_valid = np.flatnonzero(valid)
        # For each missing sample: the valid neighbours before and after it.
        missing = np.flatnonzero(~valid)
        after_pos = np.searchsorted(idx_valid, missing)
        interior = (after_pos > 0) & (after_pos < idx_valid.size)
        missing, after_pos = missing[interior], after_pos[interior]
        before = idx_valid[after_pos - 1]
        after = idx_valid[after_pos]
        short = (time_s[after] - time_s[before]) <= max_gap_s + 1e-9
        missing, before, after = missing[short], before[short], after[short]
        if missing.size == 0:
            continue
        weight = (time_s[missing] - time_s[before]) / (time_s[after] - time_s[before])
        filled[missing, col] = (1 - weight) * column[before] + weight * column[after]
        was_filled[missing, col] = True
    return filled.reshape(shape), was_filled.reshape(shape)


def lowpass(values: np.ndarray, sample_rate_hz: float, cutoff_hz: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth low-pass along axis 0, run by run over finite samples.

    ``scipy.signal.sosfiltfilt`` applies the filter forward and backward, so the
    effective order is ``2 * order`` and the phase lag is zero (event times do not
    shift). NaN samples split the signal into runs that are filtered separately. A run
    no longer than the filter's default padding is extended by its end values (constant
    padding: the steady state the filter starts from) rather than by a shortened odd
    extension, which left the filter's start-up transient in the output (a 4-sample ramp
    from 0 to 1 at 173 Hz came out as -0.26 to -0.10); runs of fewer than 4 samples are
    left as they are.

    Args:
        values: (N, ...) samples.
        sample_rate_hz: sampling rate (Hz).
        cutoff_hz: -3 dB cutoff of the single pass (Hz), below the Nyquist frequency.
        order: Butterworth order of the single pass.
    """
    nyquist = 0.5 * sample_rate_hz
    if not 0 < cutoff_hz < nyquist:
        raise ValueError(f"cutoff {cutoff_hz} Hz must lie between 0 and Nyquist ({nyquist} Hz)")
    sos = sp_signal.butter(order, cutoff_hz / nyquist, output="sos")
    flat, shape = _as_2d(values)
    out = flat.copy()
    finite = np.isfinite(flat)
    default_pad = 3 * (2 * len(sos) + 1)
    if finite.all():
        if flat.shape[0] > default_pad:
            return sp_signal.sosfiltfilt(sos, flat, axis=0).reshape(shape)
    for col in range(flat.shape[1]):
        for start, stop in true_runs(finite[:, col]):
            length = stop - start
            if length < 4:
                continue
            run = flat[start:stop, col]
            if length > default_pad:
                out[start:stop, col] = sp_signal.sosfiltfilt(sos, run)
            else:
                held = np.pad(run, default_pad, mode="edge")
                out[start:stop, col] = sp_signal.sosfiltfilt(sos, held, padlen=0)[default_pad:-default_pad]
    return out.reshape(shape)


@dataclass(frozen=True)
class Conditioned:
    """Result of :func:`condition`.

    Attributes:
        values: (N, ...) conditioned samples (NaN where still missing).
        time_s: (N,) sample times (s).
        cutoff_hz: low-pass cutoff used (Hz).
        outliers: mask of samples the Hampel filter rejected.
        filled: mask of samples bridged by interpolation (including repeated images).
    """

    values: np.ndarray
    time_s: np.ndarray
    cutoff_hz: float
    outliers: np.ndarray
    filled: np.ndarray


def clean(
    values: np.ndarray,
    time_s: np.ndarray,
    *,
    sample_rate_hz: float,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    hampel_window_s: float = 0.1,
    hampel_sigmas: float = 3.0,
) -> Conditioned:
    """Hampel outlier rejection and gap filling: :func:`condition` without its low-pass.

    For samples to be low-passed at more than one cutoff (:func:`lowpass_rows` each time);
    the result's ``cutoff_hz`` is NaN. Arguments as :func:`condition`'s.
    """
    frame_rate = _row_rate_hz(time_s) if len(time_s) > 1 else sample_rate_hz
    window = max(3, int(round(hampel_window_s * frame_rate)) | 1)
    cleaned, outliers = hampel(values, window=window, n_sigmas=hampel_sigmas)
    filled_values, filled = fill_gaps(cleaned, time_s, max_gap_s=max_gap_s)
    del cleaned  # each step returns a copy: hold two at most (long clips)
    return Conditioned(filled_values, np.asarray(time_s, dtype=float), float("nan"), outliers, filled)


def lowpass_rows(values: np.ndarray, time_s: np.ndarray, cutoff_hz: float, sample_rate_hz: float) -> np.ndarray:
    """Zero-phase low-pass at *cutoff_hz* of samples taken at *time_s* (rows at one rate),
    the cutoff capped at :data:`MAX_ROW_CUTOFF_FRACTION` of the rows' rate (*sample_rate_hz*
    stands for that rate with fewer than two rows)."""
    frame_rate, row_cutoff = _row_rate_and_cutoff(time_s, cutoff_hz) if len(time_s) > 1 else (sample_rate_hz, cutoff_hz)
    return lowpass(values, frame_rate, row_cutoff)


def condition(
    values: np.ndarray,
    time_s: np.ndarray,
    *,
    sample_rate_hz: float,
    cutoff_hz: float | None = None,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    hampel_window_s: float = 0.1,
    hampel_sigmas: float = 3.0,
) -> Conditioned:
    """Hampel outlier rejection, gap filling and zero-phase low-pass, in that order.

    Args:
        values: (N, ...) raw samples with NaN where missing.
        time_s: (N,) sample times (s), strictly increasing.
        sample_rate_hz: the rate of *independent* samples (the distinct-image rate).
        cutoff_hz: low-pass cutoff; default :func:`default_cutoff_hz`.
        max_gap_s: longest gap to interpolate over (s).
        hampel_window_s: Hampel window length (s), at least 3 samples.
        hampel_sigmas: Hampel threshold.
    """
    cutoff = default_cutoff_hz(sample_rate_hz) if cutoff_hz is None else float(cutoff_hz)
    cleaned = clean(values, time_s, sample_rate_hz=sample_rate_hz, max_gap_s=max_gap_s,
                    hampel_window_s=hampel_window_s, hampel_sigmas=hampel_sigmas)
    smoothed = lowpass_rows(cleaned.values, time_s, cutoff, sample_rate_hz)
    return dataclasses.replace(cleaned, values=smoothed, cutoff_hz=cutoff)


#: Columns :func:`derivative` fits one spline to at once: a spline keeps 4 coefficients
#: per sample and column (and its solver a few more arrays of the columns' size), so
#: blocks keep its memory bounded on long clips. Each column's spline is solved on its own
#: anyway, so the result does not depend on it.
DERIVATIVE_BLOCK_COLUMNS = 8


def derivative(values: np.ndarray, time_s: np.ndarray, *,
               block_columns: int = DERIVATIVE_BLOCK_COLUMNS) -> np.ndarray:
    """Time derivative along axis 0 (units per second), from a cubic spline through each run.

    A not-a-knot cubic spline through every run of finite samples is differentiated at
    the samples: third-order accurate, against second order for central differences (at
    60 fps that is the difference between ~0.5 % and ~2.5 % error on a sprinting limb's
    momentum). It uses the actual sample times, so variable frame rates are handled. Runs
    of fewer than 4 samples fall back to central differences; NaN stays NaN. Complete
    columns are fitted *block_columns* at a time, which bounds memory and does not change
    the result.
    """
    if block_columns < 1:
        raise ValueError("block_columns must be >= 1")
    values = np.asarray(values, dtype=float)
    time_s = np.asarray(time_s, dtype=float)
    if values.shape[0] < 2:
        return np.full_like(values, np.nan)
    flat, shape = _as_2d(values)
    out = np.full_like(flat, np.nan)
    finite = np.isfinite(flat)
    full_columns = finite.all(axis=0)
    if flat.shape[0] >= 4 and full_columns.any():
        columns = np.flatnonzero(full_columns)
        for start in range(0, columns.size, block_columns):
            block = columns[start : start + block_columns]
            out[:, block] = interpolate.CubicSpline(time_s, flat[:, block], axis=0)(time_s, 1)
    for col in np.flatnonzero(~full_columns):
        for start, stop in true_runs(finite[:, col]):
            t, x = time_s[start:stop], flat[start:stop, col]
            if stop - start >= 4:
                out[start:stop, col] = interpolate.CubicSpline(t, x)(t, 1)
            elif stop - start >= 2:
                out[start:stop, col] = np.gradient(x, t)
    return out.reshape(shape)
