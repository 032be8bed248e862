"""Counterbalance: the push side's rotational drive against the swing side's counter-rotation.

Definitions (docs/METHOD.md, section 6, where the physics is argued). For a step whose
push leg is on side σ (σ = +1 right, -1 left)::

    swing counter-rotation   S(t) = -σ · H_swing_leg(t)
    push-side drive          P(t) =  σ · [ H_arms(t) + H_torso(t) ]

H is vertical-axis angular momentum about the whole-body centre of mass (positive
counter-clockwise from above). Both are positive when each side does what the
sprint-system model asks: the swing leg travelling forward on its side, the arms and
torso turning the push side forward. The push leg's own momentum about the centre of mass
has the swing leg's sense (the caution in ``../shared/docs/sprint-system-model.md``); its
share of the push side's rotation acts through the ground, as the angular impulse the
ground gives the body during contact, reported per step as ``ground_impulse`` but kept
out of P because video measures it poorly (the change of whole-body momentum it rests on
is several times its true size in error on the synthetic sprinter).

Per step: the peak times of P and S within the step, their lag (swing later = positive),
a centroid lag (when the bulk of each side's rotation comes: a timing measure robust to
noise), the swing shift (how much later than in the run's usual step the swing waveform
comes), the same shift of the push leg and their difference (the swing leg against the push
leg of the same step), the ratio of the peaks (swing / push), and flags where the swing side
arrives late (by the centroid lag, the swing shift and the relative shift together, against
the run's own scatter; by peak and centroid in runs too short for one) or falls short.
Across steps: whether the swing side rises together with the push side.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import interpolate

from analyzer.landmarks import SIDES
from analyzer.momentum import AngularMomentum
from analyzer.signals import lowpass
from analyzer.steps import Step, StepAnalysis

#: A swing peak later than this is a lag flag, unless the frame rate cannot resolve it (ms).
#: The balanced synthetic sprinter shows 0-4 ms; at 60 fps the floor below makes it 21 ms.
DEFAULT_LAG_THRESHOLD_MS = 15.0
#: The lag threshold is never below this many frame intervals of the distinct-image rate.
LAG_THRESHOLD_MIN_FRAMES = 1.25
#: A late step must also stand out of the run's own spread: its centroid lag must exceed this
#: many times the run's scatter of centroid lags (robust SD about their median,
#: :func:`robust_scatter`), i.e. lie clearly outside the athlete's step-to-step variation and
#: the measurement noise. (The same factor bounds the ratio's spread.)
LAG_NOISE_FACTOR = 2.0
#: The centroid-lag threshold is never below this many frame intervals of the distinct-image rate.
CENTROID_LAG_MIN_FRAMES = 0.5
#: Fewer steps than this give no scatter estimate.
MIN_STEPS_FOR_SCATTER = 6
#: With a scatter estimate, a late step's relative shift (its swing leg against its push leg)
#: must exceed the run's median by this many frame intervals of the distinct-image rate (and its
#: centroid lag :data:`CENTROID_LAG_MIN_FRAMES`).
RELATIVE_SHIFT_MIN_FRAMES = 0.5
#: With a scatter estimate, a late step's :func:`lateness_score` must exceed this many times the
#: run's step-to-step scatter. Chosen on 22 rendered clips and checked on nine held out; kept
#: when the relative shift joined the score (docs/METHOD.md, section 6).
LATENESS_LIMIT = 1.5
#: The swing shift is searched within this share of the run's median step time either way,
#: and the run's median swing waveform extends by as much beyond each step's ends.
SHIFT_SEARCH_STEP_FRACTION = 0.35
#: Resolution of the shift search (s), refined between grid points by a parabola.
SHIFT_GRID_S = 0.002
#: Before the swing shift is matched, the legs' momenta are low-passed at this many times the
#: run's step frequency (2nd-order Butterworth, zero phase): a step's swing waveform lives in
#: the step frequency and its first harmonic, the pose noise above them.
SHIFT_BAND_STEP_FREQUENCIES = 2.0
#: A step whose swing/push peak ratio is below this fraction of the run's median falls short.
#: On the synthetic sprinter, halving the swing drive lowers the ratio by ~25 %; normal steps vary by ~2 %.
DEFAULT_RATIO_THRESHOLD = 0.85
#: "Not keeping up": the swing/push ratio stays below this fraction of the early steps' ratio.
KEEP_UP_FRACTION = 0.8


@dataclass(frozen=True)
class Thresholds:
    """Flag thresholds (all options of the CLI, documented in docs/METHOD.md section 6).

    Attributes:
        lag_ms: a swing peak later than the push peak by more than this is ``swing_lag``
            (when the centroid lag confirms it, :meth:`effective_centroid_lag_ms`); raised to
            :data:`LAG_THRESHOLD_MIN_FRAMES` frame intervals when the frame rate is coarse.
        ratio: counterbalance ratio below ``ratio x`` the run's median ratio is
            ``under_counterbalanced`` (relative, because the balanced ratio depends on the
            athlete's build and speed).
        keep_up_fraction: see :func:`rising_together`.
    """

    lag_ms: float = DEFAULT_LAG_THRESHOLD_MS
    ratio: float = DEFAULT_RATIO_THRESHOLD
    keep_up_fraction: float = KEEP_UP_FRACTION

    def effective_lag_ms(self, sample_rate_hz: float) -> float:
        """The peak-lag threshold in force: the option, raised to what the frame rate resolves."""
        return float(max(self.lag_ms, LAG_THRESHOLD_MIN_FRAMES * 1000.0 / sample_rate_hz))

    @staticmethod
    def effective_centroid_lag_ms(sample_rate_hz: float, centroid_lag_noise_ms: float) -> float:
        """The centroid-lag threshold in force: :data:`LAG_NOISE_FACTOR` x the run's scatter
        of centroid lags, and never below :data:`CENTROID_LAG_MIN_FRAMES` frame intervals."""
        floor = CENTROID_LAG_MIN_FRAMES * 1000.0 / sample_rate_hz
        noise = LAG_NOISE_FACTOR * centroid_lag_noise_ms if np.isfinite(centroid_lag_noise_ms) else 0.0
        return float(max(floor, noise))


@dataclass(frozen=True)
class StepBalance:
    """Counterbalance of one step (the steps.csv columns beyond the timing ones).

    Attributes (beyond the peaks, their times and the ratio):
        lag_ms: swing peak time minus push peak time (ms; swing later is positive).
        lag_centroid_ms: the same for the centroids of the two sides' positive parts (ms).
        swing_shift_ms: how much later than in this run's usual step the swing side's
            rotation came, matched against the run's median swing waveform (ms; NaN with
            fewer than :data:`MIN_STEPS_FOR_SCATTER` steps).
        push_leg_shift_ms: the same for the push leg's own rotation (:func:`leg_shifts_ms`).
        relative_shift_ms: ``swing_shift_ms - push_leg_shift_ms``: how much later than usual
            the swing leg came against the push leg of the same step. Errors common to both
            legs (where the touchdown was placed, the pelvis) cancel in it.
        lateness: the step's combined evidence of a late swing, in units of the run's own
            step-to-step scatter (:func:`lateness_score`; NaN without a scatter estimate).
    """

    step: Step
    push_peak_s: float
    swing_peak_s: float
    lag_ms: float
    lag_centroid_ms: float
    swing_shift_ms: float
    push_leg_shift_ms: float
    relative_shift_ms: float
    lateness: float
    push_peak_kg_m2_s: float
    swing_peak_kg_m2_s: float
    counterbalance_ratio: float
    ground_impulse_kg_m2_s: float
    flag_kinds: tuple[str, ...] = ()
    flag_reason: str = ""

    @property
    def flagged(self) -> bool:
        return bool(self.flag_kinds)


@dataclass(frozen=True)
class RisingTogether:
    """Does the swing side rise with the push side across the run's steps?

    Attributes:
        slope: least-squares slope of swing peak on push peak (1 = rising together).
        correlation: Pearson correlation of the two peaks across steps.
        stops_keeping_up_at_step: first step from which the swing/push ratio stays below
            ``keep_up_fraction`` of the early steps' ratio while the push side keeps its
            level, or None.
        sentence: the finding in plain words.
    """

    slope: float | None
    correlation: float | None
    stops_keeping_up_at_step: int | None
    sentence: str


@dataclass(frozen=True)
class Counterbalance:
    """Per-frame push/swing quantities and per-step balance.

    Attributes:
        time_s: (N,) sample times (s).
        push_leg_kg_m2_s, swing_leg_kg_m2_s: (N,) momentum of the leg in each role (NaN outside steps).
        push_drive_kg_m2_s, swing_counter_kg_m2_s: (N,) P(t) and S(t) (NaN outside steps).
        steps: per-step balance.
        rising: the across-steps trend.
        lag_threshold_ms: the peak-lag threshold in force (frame rate included).
        lag_scatter_ms: the run's step-to-step scatter of peak lags (NaN with few steps).
        centroid_lag_threshold_ms: the centroid-lag threshold in force (scatter and frame rate included).
        centroid_lag_scatter_ms: the run's step-to-step scatter of centroid lags (NaN with few steps).
        swing_shift_scatter_ms, relative_shift_scatter_ms: the run's step-to-step scatter of
            swing shifts and of relative shifts (NaN with few steps).
        late_bulk_min_ms, late_relative_shift_min_ms: with a scatter estimate, the least
            centroid lag of a late step and the least excess of its relative shift over the
            run's median (:data:`CENTROID_LAG_MIN_FRAMES` and :data:`RELATIVE_SHIFT_MIN_FRAMES`
            frame intervals); NaN when the run is too short.
        ratio_limit: the counterbalance ratio below which a step is flagged (absolute: the
            relative threshold times the run's median, lowered by the run's scatter); NaN
            when that leaves no positive limit (the run's ratios scatter too widely).
        thresholds: the thresholds used.
    """

    time_s: np.ndarray
    push_leg_kg_m2_s: np.ndarray
    swing_leg_kg_m2_s: np.ndarray
    push_drive_kg_m2_s: np.ndarray
    swing_counter_kg_m2_s: np.ndarray
    steps: tuple[StepBalance, ...]
    rising: RisingTogether
    lag_threshold_ms: float
    lag_scatter_ms: float = float("nan")
    centroid_lag_threshold_ms: float = float("nan")
    centroid_lag_scatter_ms: float = float("nan")
    swing_shift_scatter_ms: float = float("nan")
    relative_shift_scatter_ms: float = float("nan")
    late_bulk_min_ms: float = float("nan")
    late_relative_shift_min_ms: float = float("nan")
    ratio_limit: float = float("nan")
    thresholds: Thresholds = field(default_factory=Thresholds)


def robust_scatter(values: np.ndarray) -> float:
    """1.4826 x the median absolute deviation of the finite values; NaN with fewer than
    :data:`MIN_STEPS_FOR_SCATTER` of them."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < MIN_STEPS_FOR_SCATTER:
        return float("nan")
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def side_sign(leg: str) -> float:
    """σ: +1 for the right leg, -1 for the left (docs/METHOD.md, section 2)."""
    return {"right": 1.0, "left": -1.0}[leg]


#: Resolution of the peak search on the spline through the samples (s).
PEAK_GRID_S = 0.0005


def peak_time(time_s: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Time and value of a signal's maximum, between samples.

    A cubic spline through the finite samples is searched on a 0.5 ms grid. At video
    frame rates a broad or double-topped peak is poorly placed by its largest sample (or
    a parabola through it and its neighbours); the spline follows the sampled curve
    between frames. On the synthetic sprinter at 60 fps this recovers injected swing
    delays of 33 and 50 ms as 32 and 53 ms, where the largest sample gave 14-51 ms.

    Returns (NaN, NaN) with fewer than 4 finite samples.
    """
    ok = np.isfinite(values)
    if ok.sum() < 4:
        return float("nan"), float("nan")
    t, x = time_s[ok], values[ok]
    spline = interpolate.CubicSpline(t, x)
    fine = np.clip(np.arange(t[0], t[-1] + PEAK_GRID_S, PEAK_GRID_S), t[0], t[-1])
    y = spline(fine)
    i = int(np.argmax(y))
    return float(fine[i]), float(y[i])


def centroid_time(time_s: np.ndarray, values: np.ndarray) -> float:
    """When the bulk of a signal's positive part comes: its first moment in time (s).

    ``sum(t * max(x, 0)) / sum(max(x, 0))`` over the finite samples (uniformly spaced, as the
    conditioned signals are). Where a peak time rests on the few samples near the top, this
    rests on the whole lobe, so pose noise moves it far less: through the pose model on the
    synthetic sprinter, the per-step centroid lag scatters by 8-12 ms where the peak lag
    scatters by 25-40 ms (docs/METHOD.md, section 6). It reads only part of a delay that
    shifts the start of a swing but not its end. NaN when no sample is positive.
    """
    ok = np.isfinite(values) & np.isfinite(time_s)
    weights = np.clip(values[ok], 0.0, None)
    if not weights.size or weights.max() <= 0:
        return float("nan")
    weights /= weights.max()  # so that tiny (subnormal) values keep their proportions
    return float(np.dot(time_s[ok], weights) / weights.sum())


def leg_rotation(groups: dict[str, np.ndarray], step: Step, role: str) -> np.ndarray:
    """(N,) -σ · H_leg(t) of *step*'s push or swing leg (*role*), over the whole clip.

    With the swing leg this is S(t) (module docstring). The push leg's own momentum about the
    centre of mass has the swing leg's sense, so the same sign makes both positive as each
    leg does its job; only its timing is used (:func:`leg_shifts_ms`).
    """
    leg = {"push": step.push_leg, "swing": step.swing_leg}[role]
    return -side_sign(step.push_leg) * groups[f"{leg}_leg"]


def swing_counter(groups: dict[str, np.ndarray], step: Step) -> np.ndarray:
    """(N,) S(t) = -σ · H_swing_leg(t) with *step*'s roles, over the whole clip (module docstring)."""
    return leg_rotation(groups, step, "swing")


def waveform_shift_s(time_s: np.ndarray, values: np.ndarray, template_time_s: np.ndarray,
                     template: np.ndarray, max_shift_s: float) -> float:
    """How much later than *template* the waveform *values* comes (s).

    The shift d in [-max_shift_s, max_shift_s] that maximises the correlation coefficient
    between ``values(t)`` and ``template(t - d)`` over the samples where both exist, searched
    on a :data:`SHIFT_GRID_S` grid and refined by a parabola through the best point and its
    neighbours. Matching the whole waveform, not its top or its centroid, makes every sample
    count: through the pose model a step's swing-side shift scatters by ~13 ms where its peak
    time scatters by ~25 ms (docs/METHOD.md, section 6).

    Args:
        time_s: (n,) sample times of the waveform (s).
        values: (n,) the waveform (NaN where missing).
        template_time_s: (m,) increasing times of the template (s), on the same time base.
        template: (m,) the template (NaN where undefined).
        max_shift_s: largest shift searched either way (s).

    Returns NaN when fewer than 4 samples overlap at every shift, or the waveform is flat.
    """
    ok = np.isfinite(values) & np.isfinite(time_s)
    t, x = np.asarray(time_s, dtype=float)[ok], np.asarray(values, dtype=float)[ok]
    shifts = np.arange(-max_shift_s, max_shift_s + 0.5 * SHIFT_GRID_S, SHIFT_GRID_S)
    scores = np.full(shifts.size, -np.inf)
    for i, shift in enumerate(shifts):
        y = np.interp(t - shift, template_time_s, template, left=np.nan, right=np.nan)
        both = np.isfinite(y)
        if both.sum() < 4:
            continue
        a, b = x[both] - x[both].mean(), y[both] - y[both].mean()
        norm = np.linalg.norm(a) * np.linalg.norm(b)
        if norm > 0:
            scores[i] = np.dot(a, b) / norm
    best = int(np.argmax(scores))
    if not np.isfinite(scores[best]):
        return float("nan")
    offset = 0.0
    if 0 < best < shifts.size - 1 and np.isfinite(scores[best - 1 : best + 2]).all():
        before, top, after = scores[best - 1 : best + 2]
        curvature = before - 2.0 * top + after
        if curvature < 0:
            offset = 0.5 * (before - after) / curvature
    return float(shifts[best] + offset * SHIFT_GRID_S)


def leg_shifts_ms(momentum: AngularMomentum, steps: StepAnalysis, role: str = "swing",
                  band_step_frequencies: float | None = SHIFT_BAND_STEP_FREQUENCIES) -> np.ndarray:
    """(K,) per step, how much later than in the run's usual step its push or swing leg
    (*role*) rotates (ms).

    Each step's leg rotation (:func:`leg_rotation`; for the swing leg S(t), the module
    docstring), in time since its touchdown, is matched (:func:`waveform_shift_s`) over the
    step against the run's median waveform of that role: the median across steps on a 1 ms
    grid, taken from :data:`SHIFT_SEARCH_STEP_FRACTION` of the median step time before each
    touchdown to as long after the next (with each step's own roles, so that the template
    extends past the step's ends and a late step's swing is not pinned at them). Because the
    median is over all steps, a minority of late steps barely moves it.

    S is taken from the legs' momenta low-passed at *band_step_frequencies* times the run's
    step frequency (None: as they are): the correlation otherwise weighs most the high
    frequencies, where the differentiation behind every momentum has raised the pose noise and
    a step's waveform carries little. Through the pose model on 14 renders this lowers the clean steps' scatter
    from 12.7 to 11.2 ms and raises the share of an injected delay read from 0.69 to 0.86
    (docs/METHOD.md, section 6). All NaN with fewer than :data:`MIN_STEPS_FOR_SCATTER` steps.
    """
    shifts = np.full(len(steps.steps), np.nan)
    if len(steps.steps) < MIN_STEPS_FOR_SCATTER:
        return shifts
    t = momentum.time_s
    step_time = float(np.median([s.step_time_s for s in steps.steps]))
    sample_rate_hz = 1.0 / float(np.median(np.diff(t)))
    legs = {f"{side}_leg": momentum.groups_kg_m2_s[f"{side}_leg"] for side in SIDES}
    if band_step_frequencies is not None:
        band_hz = min(band_step_frequencies / step_time, 0.45 * sample_rate_hz)
        legs = {name: lowpass(h, sample_rate_hz, band_hz, order=2) for name, h in legs.items()}
    margin = SHIFT_SEARCH_STEP_FRACTION * step_time
    grid = np.arange(-margin, step_time + margin, 0.001)
    waveforms = []
    for step in steps.steps:
        around = (t >= step.touchdown_s - margin) & (t <= step.next_touchdown_s + margin)
        waveforms.append((t[around] - step.touchdown_s, leg_rotation(legs, step, role)[around]))
    resampled = np.array([np.interp(grid, tt, x, left=np.nan, right=np.nan) if tt.size else np.full(grid.size, np.nan)
                          for tt, x in waveforms])
    seen = np.isfinite(resampled).any(axis=0)
    template = np.full(grid.size, np.nan)
    template[seen] = np.nanmedian(resampled[:, seen], axis=0)
    for k, (step, (tt, x)) in enumerate(zip(steps.steps, waveforms)):
        within = (tt >= 0.0) & (tt < step.step_time_s)
        shifts[k] = 1000.0 * waveform_shift_s(tt[within], x[within], grid, template, margin)
    return shifts


def lateness_score(*measures_ms: np.ndarray) -> tuple[np.ndarray, tuple[float, ...]]:
    """Each step's combined evidence of a late swing side, in units of the run's own scatter.

    ``sum(z) / sqrt(n)`` over the *n* timing measures given (each a (K,) array, later =
    larger), z being a measure's departure from the run's median in units of its robust
    scatter (:func:`robust_scatter`). The analysis gives three: the centroid lag, the swing
    shift and the relative shift. Each responds to a late swing, and their errors come partly
    from different parts of the signal (the arms enter only the centroid lag; where the
    touchdown was placed moves the swing shift, not the relative shift), so their sum
    separates late steps from the others better than any alone (docs/METHOD.md, section 6).
    Returns the scores (NaN without a scatter estimate for every measure) and the scatters (ms).
    """
    values = [np.asarray(m, dtype=float) for m in measures_ms]
    scatters = tuple(robust_scatter(v) for v in values)
    if not all(s > 0 for s in scatters):
        return np.full(values[0].shape, np.nan), scatters
    z = [(v - np.nanmedian(v)) / s for v, s in zip(values, scatters)]
    return np.sum(z, axis=0) / np.sqrt(len(z)), scatters


def role_signals(momentum: AngularMomentum, steps: StepAnalysis) -> dict[str, np.ndarray]:
    """Per-frame push-leg, swing-leg momenta and P(t), S(t) from the step roles."""
    groups = momentum.groups_kg_m2_s
    n = momentum.time_s.size
    out = {k: np.full(n, np.nan) for k in ("push_leg", "swing_leg", "push_drive", "swing_counter")}
    upper_body = groups["arms"] + groups["torso"]
    for step in steps.steps:
        inside = steps.step_index == step.step
        if not inside.any():
            continue
        out["push_leg"][inside] = groups[f"{step.push_leg}_leg"][inside]
        out["swing_leg"][inside] = groups[f"{step.swing_leg}_leg"][inside]
        out["push_drive"][inside] = side_sign(step.push_leg) * upper_body[inside]
        out["swing_counter"][inside] = swing_counter(groups, step)[inside]
    return out


def analyse_counterbalance(
    momentum: AngularMomentum,
    steps: StepAnalysis,
    *,
    sample_rate_hz: float,
    thresholds: Thresholds = Thresholds(),
) -> Counterbalance:
    """Per-step counterbalance and flags.

    Args:
        momentum: group angular momenta.
        steps: events and roles.
        sample_rate_hz: distinct-image rate (sets the lowest resolvable lag).
        thresholds: flag thresholds.
    """
    roles = role_signals(momentum, steps)
    t = momentum.time_s
    swing_shift = leg_shifts_ms(momentum, steps, "swing")
    push_leg_shift = leg_shifts_ms(momentum, steps, "push")
    raw: list[dict] = []
    for step, shift, push_shift in zip(steps.steps, swing_shift, push_leg_shift):
        inside = steps.step_index == step.step
        tt = t[inside]
        push, swing = roles["push_drive"][inside], roles["swing_counter"][inside]
        push_t, push_peak = peak_time(tt, push)
        swing_t, swing_peak = peak_time(tt, swing)
        whole = momentum.groups_kg_m2_s["whole_body"]
        impulse = side_sign(step.push_leg) * (
            np.interp(step.toeoff_s, t, whole) - np.interp(step.touchdown_s, t, whole)
        )
        raw.append(dict(
            step=step,
            push_peak_s=push_t,
            swing_peak_s=swing_t,
            lag_ms=1000.0 * (swing_t - push_t),
            lag_centroid_ms=1000.0 * (centroid_time(tt, swing) - centroid_time(tt, push)),
            swing_shift_ms=float(shift),
            push_leg_shift_ms=float(push_shift),
            relative_shift_ms=float(shift - push_shift),
            push_peak_kg_m2_s=push_peak,
            swing_peak_kg_m2_s=swing_peak,
            counterbalance_ratio=swing_peak / push_peak if push_peak > 0 else float("nan"),
            ground_impulse_kg_m2_s=float(impulse),
        ))
    # Both legs' steps together: through the pose model, the steps pushed by the leg nearer
    # the camera and by the far leg read lags that differ systematically (docs/METHOD.md
    # section 6), so a scatter taken leg by leg would let that bias flag every step of one leg.
    lag_noise = robust_scatter(np.array([r["lag_ms"] for r in raw], dtype=float))
    lag_threshold = thresholds.effective_lag_ms(sample_rate_hz)
    bulk_lags = np.array([r["lag_centroid_ms"] for r in raw], dtype=float)
    shifts = np.array([r["swing_shift_ms"] for r in raw], dtype=float)
    relative = np.array([r["relative_shift_ms"] for r in raw], dtype=float)
    lateness, (centroid_noise, shift_noise, relative_noise) = lateness_score(bulk_lags, shifts, relative)
    centroid_threshold = thresholds.effective_centroid_lag_ms(sample_rate_hz, centroid_noise)
    bulk_min = CENTROID_LAG_MIN_FRAMES * 1000.0 / sample_rate_hz
    relative_min = RELATIVE_SHIFT_MIN_FRAMES * 1000.0 / sample_rate_hz
    relative_median = float(np.nanmedian(relative)) if np.isfinite(relative).any() else float("nan")
    shift_median = float(np.nanmedian(shifts)) if np.isfinite(shifts).any() else float("nan")
    for r, score in zip(raw, lateness):
        r["lateness"] = float(score)
    ratios = np.array([r["counterbalance_ratio"] for r in raw], dtype=float)
    median_ratio = float(np.nanmedian(ratios)) if np.isfinite(ratios).any() else float("nan")
    ratio_noise = robust_scatter(ratios)
    # A step falls short when its ratio is below `ratio` x the median, and also below the
    # median by more than the run's own scatter allows (measurement noise included).
    ratio_limit = min(thresholds.ratio * median_ratio,
                      median_ratio - LAG_NOISE_FACTOR * ratio_noise if np.isfinite(ratio_noise) else np.inf)
    if not ratio_limit > 0:
        # The run's ratios scatter more than half their median (or the median is not positive):
        # no ratio can stand out as short, and a limit at or below zero would read as nonsense.
        ratio_limit = float("nan")
    rising = rising_together(
        [r["push_peak_kg_m2_s"] for r in raw], [r["swing_peak_kg_m2_s"] for r in raw],
        [r["step"].step for r in raw], thresholds.keep_up_fraction,
    )
    balances = []
    for r in raw:
        kinds, reasons = [], []
        if np.isfinite(r["lateness"]):
            relative_above = r["relative_shift_ms"] - relative_median
            if late_by_evidence(r["lateness"], r["lag_centroid_ms"], relative_above, bulk_min, relative_min):
                kinds.append("swing_lag")
                reasons.append(f"the swing leg came {relative_above:.0f} ms later than usual after the push leg "
                               f"(limit {relative_min:.0f} ms; {r['swing_shift_ms'] - shift_median:+.0f} ms against "
                               f"this run's usual step) and the bulk of its rotation {r['lag_centroid_ms']:.0f} ms "
                               f"after the push side's (limit {bulk_min:.0f} ms): together {r['lateness']:.1f} times "
                               f"this run's step-to-step scatter (limit {LATENESS_LIMIT:g})")
        elif late_by_both(r["lag_ms"], r["lag_centroid_ms"], lag_threshold, centroid_threshold):
            kinds.append("swing_lag")
            reasons.append(f"the swing side peaked {_ms(r['lag_ms'], lag_threshold)} after the push side "
                           f"(limit {_ms(lag_threshold, r['lag_ms'])}) and the bulk of its rotation "
                           f"{_ms(r['lag_centroid_ms'], centroid_threshold)} after the push side's (limit "
                           f"{_ms(centroid_threshold, r['lag_centroid_ms'])})")
        if np.isfinite(r["counterbalance_ratio"]) and r["counterbalance_ratio"] < ratio_limit:
            kinds.append("under_counterbalanced")
            reasons.append(
                f"the swing side reached only {r['counterbalance_ratio'] / median_ratio:.0%} of this run's usual "
                f"counterbalance (limit {ratio_limit / median_ratio:.0%})"
            )
        if rising.stops_keeping_up_at_step == r["step"].step:
            kinds.append("not_keeping_up")
            reasons.append("from here on the swing side stops rising with the push side")
        reason = ""
        if reasons:
            joined = "; ".join(reasons)
            reason = f"Step {r['step'].step} ({r['step'].push_leg} push): {joined}."
        balances.append(StepBalance(**r, flag_kinds=tuple(kinds), flag_reason=reason))
    return Counterbalance(
        time_s=t,
        push_leg_kg_m2_s=roles["push_leg"],
        swing_leg_kg_m2_s=roles["swing_leg"],
        push_drive_kg_m2_s=roles["push_drive"],
        swing_counter_kg_m2_s=roles["swing_counter"],
        steps=tuple(balances),
        rising=rising,
        lag_threshold_ms=lag_threshold,
        lag_scatter_ms=lag_noise,
        centroid_lag_threshold_ms=centroid_threshold,
        centroid_lag_scatter_ms=centroid_noise,
        swing_shift_scatter_ms=shift_noise,
        relative_shift_scatter_ms=relative_noise,
        late_bulk_min_ms=bulk_min if np.isfinite(lateness).any() else float("nan"),
        late_relative_shift_min_ms=relative_min if np.isfinite(lateness).any() else float("nan"),
        ratio_limit=float(ratio_limit) if raw else float("nan"),
        thresholds=thresholds,
    )


def late_by_evidence(lateness: float, lag_centroid_ms: float, relative_shift_above_median_ms: float,
                     bulk_min_ms: float, relative_min_ms: float) -> bool:
    """The ``swing_lag`` rule for a run long enough to measure its own scatter: the step's
    :func:`lateness_score` exceeds :data:`LATENESS_LIMIT`, and its swing side is late against
    its push side by each measure that compares the two: the bulk of its rotation after the
    push side's (arms and torso) by more than *bulk_min_ms* (:data:`CENTROID_LAG_MIN_FRAMES`
    frame intervals: the centroid reads only part of a delay), and the swing leg after the
    push leg by more than usual (the relative shift above the run's median) by more than
    *relative_min_ms* (:data:`RELATIVE_SHIFT_MIN_FRAMES`).

    A whole step read late (the touchdown placed early: both legs' waveforms move) raises the
    swing shift and not the relative shift, and is not flagged. Through the pose model
    (``scripts/score_synthetic.py --validation``; docs/METHOD.md, section 6) this rule flags
    52 of the 62 delays of the 42 renders it was chosen on with 2 false flags, where the
    swing shift's floor in place of the relative shift's, and a score without the relative
    shift, flagged 43 with 5.
    """
    return bool(np.isfinite(lateness) and np.isfinite(lag_centroid_ms) and np.isfinite(relative_shift_above_median_ms)
                and lateness > LATENESS_LIMIT and lag_centroid_ms > bulk_min_ms
                and relative_shift_above_median_ms > relative_min_ms)


def late_by_both(lag_ms: float, lag_centroid_ms: float, lag_threshold_ms: float, centroid_threshold_ms: float) -> bool:
    """The ``swing_lag`` rule for a run too short to measure its own scatter (fewer than
    :data:`MIN_STEPS_FOR_SCATTER` steps; :func:`late_by_evidence` otherwise): the swing
    side's peak is late beyond the peak-lag threshold **and** the bulk of its rotation is
    late beyond the centroid-lag threshold.

    Through the pose model a single step's peak lag scatters by tens of ms (a misplaced far
    limb moves a broad peak), about as much as the delays to be found; the centroid lag
    scatters 3-4 times less but reads only part of a delay. Requiring both keeps the steps
    whose whole swing is late and drops many of those whose peak alone moved: on the three
    samples and five validation renders, 4 of 10 injected delays flagged with 5 false flags
    where one scale per clip and the peak lag alone (with a scatter-raised threshold) flagged
    3 with 4, and 1 of 7 with 4 false flags where that flagged 1 with 6 on six clips rendered
    afterwards (docs/METHOD.md, section 6).
    """
    return bool(np.isfinite(lag_ms) and np.isfinite(lag_centroid_ms)
                and lag_ms > lag_threshold_ms and lag_centroid_ms > centroid_threshold_ms)


def _ms(value: float, other: float) -> str:
    """Milliseconds, whole unless two values to compare would then read equal ("47 ms (limit 47 ms)")."""
    digits = 0 if round(value) != round(other) else 1
    return f"{value:.{digits}f} ms"


def _slope_and_correlation(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    """Least-squares slope of *y* on *x* and their Pearson correlation; None where undefined.

    Computed on the values divided by their largest magnitudes, so that peaks of any size
    (down to subnormal ones, where the fit's SVD fails to converge) give finite answers.
    """
    x_scale = float(np.max(np.abs(x))) or 1.0
    y_scale = float(np.max(np.abs(y))) or 1.0
    xs, ys = x / x_scale, y / y_scale
    if not np.ptp(xs) > 0:
        return None, None
    slope = float(np.polyfit(xs, ys, 1)[0]) * y_scale / x_scale
    correlation = float(np.clip(np.corrcoef(xs, ys)[0, 1], -1.0, 1.0)) if np.ptp(ys) > 0 else None
    return (slope if np.isfinite(slope) else None), correlation


def rising_together(
    push_peaks: list[float], swing_peaks: list[float], step_numbers: list[int], keep_up_fraction: float = KEEP_UP_FRACTION
) -> RisingTogether:
    """Trend of the swing side's peak against the push side's across steps.

    The swing side "stops keeping up" at the first step from which the swing/push ratio
    stays (for that step and the next) below ``keep_up_fraction`` of the median ratio of
    the first three steps, and below it by more than twice the run's ratio scatter (so that
    measurement noise is not read as a trend). Needs at least four steps.
    """
    push = np.asarray(push_peaks, dtype=float)
    swing = np.asarray(swing_peaks, dtype=float)
    ok = np.isfinite(push) & np.isfinite(swing) & (push > 0)
    if ok.sum() < 4:
        return RisingTogether(None, None, None, "Too few steps to judge whether the swing side rises with the push side.")
    p, s, numbers = push[ok], swing[ok], np.asarray(step_numbers)[ok]
    slope, correlation = _slope_and_correlation(p, s)
    ratio = s / p
    baseline = float(np.median(ratio[:3]))
    scatter = robust_scatter(ratio)
    limit = min(keep_up_fraction * baseline, baseline - LAG_NOISE_FACTOR * scatter if np.isfinite(scatter) else np.inf)
    below = ratio < limit
    stop = None
    for i in range(3, ratio.size):
        if below[i] and (i + 1 == ratio.size or below[i + 1]):
            stop = int(numbers[i])
            break
    if stop is not None:
        sentence = f"The swing side kept up with the push side until step {stop}, then fell behind."
    elif correlation is not None and correlation > 0.5:
        sentence = "The swing side rose and fell together with the push side across the steps."
    else:
        sentence = "The swing side kept its share of the push side's rotation across the steps."
    return RisingTogether(slope, correlation, stop, sentence)
