"""Linking per-frame poses into people over time and choosing the runner: the person who moved
the most against the background."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..landmarks import HIPS, INDEX, NUM_LANDMARKS
from ..signals import quiet_nan_warnings


def _body_size(xy: np.ndarray) -> np.ndarray:
    """Diagonal of the landmarks' bounding box, (...) from (..., 33, 2); NaN where absent."""
    with quiet_nan_warnings():
        return np.linalg.norm(np.nanmax(xy, axis=-2) - np.nanmin(xy, axis=-2), axis=-1)


@dataclass
class _Person:
    """A person being linked over time (image pixels, per-frame units)."""

    last_t: int
    centre: np.ndarray  # hip centre
    velocity: np.ndarray  # per frame
    size: float  # landmark bounding-box diagonal
    relative: np.ndarray  # (33, 2) landmarks minus hip centre
    pan: np.ndarray  # cumulative background shift at last_t
    travel: float = 0.0  # summed hip motion against the background, body sizes, weighted
    limbs: float = 0.0  # summed mean landmark motion relative to the hip, body sizes, weighted
    frames: int = 1

    @property
    def activity(self) -> float:
        return self.travel + self.limbs


#: Leg landmarks (hips to toes), whose visibility weighs how much a pose's motion counts.
_LEGS = np.arange(INDEX["left_hip"], NUM_LANDMARKS)


class Linker:
    """Online linking of per-frame poses into people (see :func:`link_people`).

    Each person's *activity* (travel + limb motion) is summed as it is linked, every step
    weighted by the mean visibility v of the pose's leg landmarks, as clip((v - 0.4) / 0.3,
    0, 1): a "person" the model imagines in trees or railings jitters with legs it rates
    invisible (v about 0.3-0.4 on the shared clips, against 0.65-0.9 for real runners,
    crouched ones included) and must not out-score a runner.
    """

    def __init__(self, gate: float = 0.6, gate_growth: float = 0.05, max_gap: int = 15,
                 size_ratio: float = 1.6) -> None:
        self.gate, self.gate_growth, self.max_gap, self.size_ratio = gate, gate_growth, max_gap, size_ratio
        self.people: dict[int, _Person] = {}  # everyone ever seen, by id
        self._pan = np.zeros(2)

    def live(self, t: int) -> list[int]:
        return [pid for pid, p in self.people.items() if t - p.last_t <= self.max_gap]

    def predict(self, pid: int, t: int) -> tuple[np.ndarray, float]:
        """Predicted hip centre (constant velocity) and size of person *pid* at frame *t*."""
        p = self.people[pid]
        return p.centre + p.velocity * (t - p.last_t), p.size

    def matches(self, pid: int, t: int, xy: np.ndarray) -> np.ndarray:
        """(D,) bool: which poses *xy* (D, 33, 2) lie within person *pid*'s gate at frame *t*."""
        return np.isfinite(self._distances(pid, t, xy))

    def _distances(self, pid: int, t: int, xy: np.ndarray) -> np.ndarray:
        """Hip-centre distance from the prediction in the person's body sizes; inf outside the gates."""
        pred, size = self.predict(pid, t)
        centre = xy[:, HIPS].mean(axis=1)
        dist = np.linalg.norm(centre - pred, axis=-1) / size
        ratio = _body_size(xy) / size
        gap = t - self.people[pid].last_t
        ok = (dist <= self.gate + self.gate_growth * (gap - 1)) & (ratio <= self.size_ratio) & \
            (ratio >= 1.0 / self.size_ratio)
        return np.where(ok, dist, np.inf)

    def advance(self, shift: np.ndarray | tuple[float, float]) -> None:
        """Account for a frame that is not linked (a repeated picture): the camera's pan only."""
        self._pan = self._pan + np.asarray(shift, dtype=float)

    def update(self, t: int, xy: np.ndarray, visibility: np.ndarray | None = None,
               shift: np.ndarray | tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
        """Link poses *xy* (D, 33, 2) of frame *t* (frames in increasing order); return their ids."""
        from scipy.optimize import linear_sum_assignment

        self.advance(shift)
        ids = np.full(xy.shape[0], -1, dtype=int)
        if xy.shape[0] == 0:
            return ids
        vis = np.ones(xy.shape[:2]) if visibility is None else np.asarray(visibility, dtype=float)
        weight = np.clip((vis[:, _LEGS].mean(axis=1) - 0.4) / 0.3, 0.0, 1.0)
        people = self.live(t)
        if people:
            cost = np.stack([self._distances(pid, t, xy) for pid in people])
            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e6))
            for r, c in zip(rows, cols):
                if np.isfinite(cost[r, c]):
                    ids[c] = people[r]
                    self._continue(people[r], t, xy[c], float(weight[c]))
        for k in np.flatnonzero(ids < 0):
            pid = len(self.people)
            centre = xy[k, HIPS].mean(axis=0)
            self.people[pid] = _Person(t, centre, np.zeros(2), float(_body_size(xy[k])),
                                       xy[k] - centre, self._pan.copy())
            ids[k] = pid
        return ids

    def _continue(self, pid: int, t: int, xy: np.ndarray, weight: float) -> None:
        p = self.people[pid]
        centre = xy[HIPS].mean(axis=0)
        size = float(_body_size(xy))
        gap = t - p.last_t
        p.travel += weight * float(np.linalg.norm((centre - p.centre) - (self._pan - p.pan))) / p.size
        # over a gap (missed or repeated frames) this is the gap's motion, which is what a
        # clip with each picture held three times must count
        p.limbs += weight * float(np.nanmean(np.linalg.norm((xy - centre) - p.relative, axis=-1))) / p.size
        p.velocity = 0.5 * p.velocity + 0.5 * (centre - p.centre) / gap
        p.centre, p.size, p.relative, p.pan = centre, 0.8 * p.size + 0.2 * size, xy - centre, self._pan.copy()
        p.last_t = t
        p.frames += 1

    def most_active(self, among: Sequence[int] | None = None) -> int | None:
        """The most active person (ties: seen more often, then more recently)."""
        pool = list(self.people) if among is None else list(among)
        if not pool:
            return None
        return max(pool, key=lambda pid: (self.people[pid].activity, self.people[pid].frames, self.people[pid].last_t))


def link_people(xy: np.ndarray, background_shift: np.ndarray | None = None, visibility: np.ndarray | None = None,
                *, gate: float = 0.6, gate_growth: float = 0.05, max_gap: int = 15,
                size_ratio: float = 1.6) -> np.ndarray:
    """Link per-frame poses into people over time.

    Args:
        xy: (N, K, 33, 2) image landmarks of up to K poses per frame (NaN = no pose).
        background_shift: (N, 2) global picture shift per frame (camera pan), or None.
        visibility: (N, K, 33) landmark visibility (weighs activity only), or None.
        gate: largest distance, in the person's body sizes (landmark bounding-box
            diagonals), between a pose's hip centre and the person's predicted hip centre
            (constant velocity) for the pose to continue that person.
        gate_growth: added to *gate* per frame the person has been missing.
        max_gap: frames a person may be missing and still be continued.
        size_ratio: a pose whose body size differs from the person's by more than this
            factor (either way) cannot continue that person.

    Returns:
        (N, K) int person id per pose (-1 where no pose), ids numbered from 0 in order of
        first appearance. Assignment per frame is optimal (Hungarian) within the gates.
    """
    linker = Linker(gate, gate_growth, max_gap, size_ratio)
    ids = np.full(xy.shape[:2], -1, dtype=int)
    shifts = np.zeros((xy.shape[0], 2)) if background_shift is None else np.asarray(background_shift, float)
    for t in range(xy.shape[0]):
        valid = np.flatnonzero(np.isfinite(xy[t]).all(axis=(-1, -2)))
        vis = None if visibility is None else visibility[t, valid]
        ids[t, valid] = linker.update(t, xy[t, valid], vis, shifts[t])
    return ids


def describe_choice(linker: Linker, runner: int, n_frames: int) -> str:
    if runner < 0:
        return "nobody was detected"
    p = linker.people[runner]
    text = (f"followed the person who moved the most: seen in {p.frames} of {n_frames} frames, "
            f"travelled {p.travel:.1f} body sizes against the background, limb motion {p.limbs:.1f}")
    others = sorted((q for q in linker.people.values() if q is not p), key=lambda q: -q.activity)
    if others:
        o = others[0]
        text += (f"; {len(others)} other person track(s), the most active seen in {o.frames} frames "
                 f"with travel {o.travel:.1f} and limb motion {o.limbs:.1f}")
    else:
        text += "; nobody else was detected"
    return text
