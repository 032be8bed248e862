"""The flip test: the pose model run a second time on the mirrored frames, and the two merged.

Pose networks are not exactly mirror-symmetric, so the pose found in a mirrored picture,
mapped back, is a second estimate whose errors are partly independent of the first. Averaging
the two ("flip test", as in Xiao et al. 2018, Simple Baselines for Human Pose Estimation, and
Sun et al. 2019, HRNet) is standard test-time augmentation in pose estimation. Where the two
estimates of a knee or hip lie far apart, one of them has misplaced the joint and the average
would sit between a right and a wrong place: in a short run of such frames that landmark is
given visibility 0, so the analysis treats it as missing and bridges it from its neighbours in
time; in a longer run the estimate nearer the path through the frames either side is kept. The
two passes also
name the legs independently: where the sampling is coarse (30 fps for a sprinter, where the
swap correction of :mod:`analyzer.pose.swaps` leaves ~3 % of frames with the legs the wrong way
round), a frame whose legs the two passes name the other way round gets its knees set aside
the same way (the feet keep the first pass's names, for the contacts); over the rendered clips
the two passes were wrong together in 5 frames, where the first alone was wrong in 73.

Measured on the 33 rendered validation clips (docs/METHOD.md, section 8): at 60 fps the median
hip error fell from 6.8 to 5.6 degrees RMS and the knee's from 10.0 to 8.7, at 30 fps from 16.7
to 9.3 and from 16.0 to 14.1; the legs' momentum correlation with the truth rose from 0.92 to
0.94 and the swing_lag flags' F1 from 0.78 to 0.82. On the real side-view clips, where there is
no truth, the thigh and shank lengths in the picture vary less from frame to frame with the
averaged image points than with the first pass alone on 24 of 27 clips. The cost is a second pass of
the pose model: about twice the pose time.

By default (``flip_test=None``, "auto") the second pass runs only where it matters most: where
the first pass finds the legs coarsely sampled (:func:`flip_test_wanted`; a sprinter filmed at
30 fps), the hip error halves, and the time of the two passes over a 30 fps clip is that of
one pass over the same clip at 60 fps.

Pure functions over :class:`~analyzer.pose.track.PoseTrack` (no I/O): :func:`flip_test_wanted`
decides the automatic case, :func:`mirrored_frames` feeds the second pass,
:func:`unmirror_track` maps its result back onto the picture, and :func:`merge_flip_test`
combines the two.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

import numpy as np

from ..landmarks import HIPS, INDEX, MIRROR, SIDES
from ..runs import true_runs
from ..video import Frame
from .swaps import SWAP_GROUPS, legs_finely_sampled, swap_sides
from .track import PoseTrack

#: The automatic flip test needs the runner in at least this many distinct pictures of the first
#: pass (fewer give no sampling measure, and a clip with nobody in it gains nothing).
AUTO_MIN_DETECTED_PICTURES = 10

#: A knee or hip whose two estimates lie further apart than this fraction of the clip's median
#: torso length (shoulder to hip, in the picture) is not averaged (:func:`merge_flip_test`).
#: Chosen on the validation clips (0.15 against 0.3, and against doing so for every landmark,
#: which cost steps and flags).
FLIP_DISAGREEMENT_TORSO_FRACTION = 0.15

#: ... or more than this many times the clip's median gap between the two passes' knees and
#: hips, if that is more: a small, blurred runner's two estimates scatter more (median gaps of
#: 0.06-0.11 torso lengths on the shared sprint-start clips, 0.03-0.05 on the renders), and a
#: fixed limit there set aside up to a third of the knees and left half the hip angles unknown.
FLIP_DISAGREEMENT_MEDIAN_FACTOR = 3.5

#: Runs of disagreeing frames spanning at most this long (from the frame before to the frame
#: after) are set aside for the analysis to bridge: the longest gap it bridges
#: (``analyzer.signals.DEFAULT_MAX_GAP_S``; the pose stage does not import the later stages).
FLIP_BRIDGED_GAP_S = 0.1

#: The landmarks a disagreement concerns (the joints whose angles the report prints). Ankles
#: and feet are left averaged: setting them aside as well lost touchdowns and swing_lag flags.
GATED_PARTS: tuple[str, ...] = ("hip", "knee")

#: Where the legs are coarsely sampled, the landmarks set aside in a frame whose legs the two
#: passes name the other way round. The knees alone: the thigh and shank angles are then bridged
#: from the frames either side, while the feet keep the first pass's names for the contacts. On
#: the eight 30 fps renders this kept the hip error of setting aside the whole lower leg (median
#: of the left hip 8.1 against 16.9 degrees RMS with one pass) and found 115 of their 122 steps
#: against 87 (one pass 110); on the shared 30 fps sprint starts the feet set aside cost
#: touchdowns (docs/METHOD.md, section 8).
UNSURE_PARTS: tuple[str, ...] = ("knee",)

#: Changes when :func:`merge_flip_test` changes, so that flip-test poses cached by an earlier
#: merge are posed again (2: the knees alone set aside where the passes name the legs apart).
MERGE_VERSION = 2

#: Poses of the two passes whose mid-hips lie further apart than this many torso lengths are
#: not the same person: the mirrored pass is then not used in that frame.
SAME_PERSON_TORSO_LENGTHS = 1.0

#: The two passes followed the same runner if at least this share of the frames both found agree.
SAME_RUNNER_MIN_FRACTION = 0.9

_MIRROR = np.asarray(MIRROR)
_GATED = np.array([INDEX[f"{side}_{part}"] for side in SIDES for part in GATED_PARTS])
_UNSURE = np.array([INDEX[f"{side}_{part}"] for side in SIDES for part in UNSURE_PARTS])


def mirrored_frames(frames: Iterable[Frame]) -> Iterator[Frame]:
    """The same frames, each picture flipped left to right (and its background shift with it)."""
    for frame in frames:
        dx, dy = frame.background_shift_px
        yield dataclasses.replace(frame, image_rgb=np.ascontiguousarray(frame.image_rgb[:, ::-1]),
                                  background_shift_px=(-dx, dy))


def unmirror_track(track: PoseTrack) -> PoseTrack:
    """Map a track found on mirrored pictures back onto the original pictures.

    x becomes ``image_width - x`` (the model's normalised x becomes 1 - x), every landmark
    takes its left/right counterpart's label (a left knee in the mirror is the right knee),
    world x changes sign and so does the background's horizontal shift. Applying it twice
    gives the track back.
    """
    xy = track.image_xy_px[:, _MIRROR].copy()
    xy[..., 0] = track.image_width - xy[..., 0]
    world = track.world_xyz_m[:, _MIRROR].copy()
    world[..., 0] *= -1.0
    shift = track.background_shift_px.copy()
    shift[:, 0] *= -1.0
    return dataclasses.replace(
        track, image_xy_px=xy, world_xyz_m=world, image_z=track.image_z[:, _MIRROR].copy(),
        visibility=track.visibility[:, _MIRROR].copy(), presence=track.presence[:, _MIRROR].copy(),
        background_shift_px=shift)


def _torso_length_px(xy: np.ndarray) -> float:
    """Median shoulder-to-hip distance over the frames and both sides (NaN if never seen)."""
    lengths = np.concatenate([np.linalg.norm(xy[:, INDEX[f"{s}_shoulder"]] - xy[:, INDEX[f"{s}_hip"]], axis=-1)
                              for s in SIDES])
    return float(np.nanmedian(lengths)) if np.isfinite(lengths).any() else float("nan")


def _align_labels(reference: np.ndarray, arrays: list[np.ndarray], frames: np.ndarray) -> dict[str, np.ndarray]:
    """Swap, in place, each limb group's left/right labels of *arrays* in the *frames* where
    the other labelling lies nearer *reference* (``arrays[0]`` holds the compared points).
    Returns, per group, the (N,) frames so swapped: where the two passes disagreed."""
    points = arrays[0]
    crossed_by_group = {}
    for name, left in SWAP_GROUPS.items():
        lft = np.asarray(left)
        rgt = _MIRROR[lft]

        def spread(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.nansum(np.linalg.norm(reference[:, a] - points[:, b], axis=-1), axis=1)

        crossed = frames & (spread(lft, rgt) + spread(rgt, lft) < spread(lft, lft) + spread(rgt, rgt))
        for arr in arrays:
            swap_sides(arr, np.flatnonzero(crossed), lft, rgt)
        crossed_by_group[name] = crossed
    return crossed_by_group


def _short_runs(mask: np.ndarray, time_s: np.ndarray, max_gap_s: float) -> np.ndarray:
    """The (N, L) *mask*'s runs of consecutive frames, per column, that have frames on both
    sides no more than *max_gap_s* apart (the gaps the analysis bridges)."""
    n = mask.shape[0]
    out = np.zeros_like(mask)
    for j in np.flatnonzero(mask.any(axis=0)):
        for start, end in true_runs(mask[:, j]):
            if start > 0 and end < n and time_s[end] - time_s[start - 1] <= max_gap_s + 1e-9:
                out[start:end, j] = True
    return out


def _nearer_to_path(average_xy: np.ndarray, first_xy: np.ndarray, mirrored_xy: np.ndarray,
                    apart: np.ndarray, time_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each run of the (N, 33) landmarks *apart*, which estimate lies nearer the path
    drawn straight through the averaged positions just before and after the run (or the one
    of them that exists): (first's, mirrored's, neither: nothing on either side)."""
    n = apart.shape[0]
    take_first, take_mirrored, neither = (np.zeros_like(apart) for _ in range(3))
    for j in np.flatnonzero(apart.any(axis=0)):
        for start, end in true_runs(apart[:, j]):
            sides = [k for k in (start - 1, end) if 0 <= k < n and np.isfinite(average_xy[k, j]).all()]
            if not sides:
                neither[start:end, j] = True
                continue
            t = time_s[start:end]
            path = np.stack([np.interp(t, time_s[sides], average_xy[sides, j, c]) for c in range(2)], axis=-1)
            nearer_mirrored = (np.linalg.norm(mirrored_xy[start:end, j] - path, axis=-1)
                               < np.linalg.norm(first_xy[start:end, j] - path, axis=-1))
            take_mirrored[start:end, j] = nearer_mirrored
            take_first[start:end, j] = ~nearer_mirrored
    return take_first, take_mirrored, neither


def setting_name(flip_test: bool | None) -> str:
    """The flip test's setting as users name it: ``auto`` (None), ``on`` (True) or ``off`` (False)."""
    return "auto" if flip_test is None else ("on" if flip_test else "off")


def flip_test_wanted(first: PoseTrack) -> bool:
    """Whether the automatic flip test poses the mirrored frames too, after *first* (the first pass).

    Yes where the runner was found in at least :data:`AUTO_MIN_DETECTED_PICTURES` distinct
    pictures and the legs are coarsely sampled (:func:`legs_finely_sampled` is False: the feet
    move a fifth of their separation or more from picture to picture, a sprinter at 30 fps).
    There one pass leaves a few frames per clip with the legs named the wrong way round, which
    raise the hip error from ~8 to ~17 degrees RMS on the rendered clips, and the second pass's
    independent labels catch them (docs/METHOD.md, section 8). Finely sampled clips (60 fps and
    above, and slow-motion exports) gain ~1 degree for twice the pose time, so they keep one pass.
    """
    seen = int(np.sum(first.detected & ~first.is_repeat))
    return seen >= AUTO_MIN_DETECTED_PICTURES and not legs_finely_sampled(first.image_xy_px, first.is_repeat)


def merge_flip_test(first: PoseTrack, mirrored: PoseTrack,
                    disagreement_torso_fraction: float = FLIP_DISAGREEMENT_TORSO_FRACTION) -> PoseTrack:
    """Combine a track with the track of the same frames posed mirrored (already unmirrored).

    In the frames where both found the runner (their mid-hips within
    :data:`SAME_PERSON_TORSO_LENGTHS` torso lengths): each limb group of *mirrored* takes the
    left/right labels that lie nearer *first*'s; image points, relative depth and world points
    are averaged; visibility and presence are the lower of the two. A knee or hip whose two
    estimates lie more than *disagreement_torso_fraction* x the torso length apart (or
    :data:`FLIP_DISAGREEMENT_MEDIAN_FACTOR` x the clip's median gap, if more) is not averaged:
    in a run of such frames spanning at most :data:`FLIP_BRIDGED_GAP_S` it gets visibility 0,
    in a longer run it takes the estimate nearer the straight path through the frames either
    side. Where the legs are coarsely sampled (:func:`legs_finely_sampled`), the
    :data:`UNSURE_PARTS` (the knees) of frames whose legs the two passes named the other way
    round get visibility 0. Frames only one pass found take that pass's pose. Everything else (times,
    people, swap records) is *first*'s. If the passes followed different people (fewer than
    :data:`SAME_RUNNER_MIN_FRACTION` of the frames both found agree), *first* is returned.

    Args:
        first: the track of the frames as they are.
        mirrored: :func:`unmirror_track` of the track of the mirrored frames.
        disagreement_torso_fraction: see :data:`FLIP_DISAGREEMENT_TORSO_FRACTION`.

    Raises:
        ValueError: the tracks do not cover the same frames.
    """
    if not np.array_equal(first.frame_index, mirrored.frame_index):
        raise ValueError("the two passes of the flip test do not cover the same frames")
    xy, z, world = first.image_xy_px.copy(), first.image_z.copy(), first.world_xyz_m.copy()
    vis, pres = first.visibility.copy(), first.presence.copy()
    m_xy, m_z, m_world = mirrored.image_xy_px.copy(), mirrored.image_z.copy(), mirrored.world_xyz_m.copy()
    m_vis, m_pres = mirrored.visibility.copy(), mirrored.presence.copy()

    torso = _torso_length_px(np.concatenate([xy[first.detected], m_xy[mirrored.detected]]))
    hip_gap = np.linalg.norm(xy[:, HIPS].mean(axis=1) - m_xy[:, HIPS].mean(axis=1), axis=-1)
    same = np.nan_to_num(hip_gap, nan=np.inf) <= SAME_PERSON_TORSO_LENGTHS * torso
    found_by_both = first.detected & mirrored.detected
    if not found_by_both.any() or same[found_by_both].mean() < SAME_RUNNER_MIN_FRACTION:
        return first
    both = found_by_both & same
    only_mirrored = mirrored.detected & ~first.detected

    disagreed = _align_labels(xy, [m_xy, m_z, m_world, m_vis, m_pres], both)["legs"]
    gap = np.linalg.norm(xy - m_xy, axis=-1)
    f_xy, f_z, f_world = xy.copy(), z.copy(), world.copy()
    xy[both] = 0.5 * (xy[both] + m_xy[both])
    z[both] = 0.5 * (z[both] + m_z[both])
    world[both] = 0.5 * (world[both] + m_world[both])
    vis[both] = np.minimum(vis[both], m_vis[both])
    pres[both] = np.minimum(pres[both], m_pres[both])
    typical = np.nanmedian(gap[np.ix_(both, _GATED)]) / torso if both.any() else 0.0
    limit = max(disagreement_torso_fraction, FLIP_DISAGREEMENT_MEDIAN_FACTOR * float(np.nan_to_num(typical)))
    apart = both[:, None] & (np.nan_to_num(gap, nan=0.0) > limit * torso)
    apart[:, np.setdiff1d(np.arange(apart.shape[1]), _GATED)] = False
    # Two estimates far apart: the average would lie between a right and a wrong place. A short
    # run of such frames is left to the analysis to bridge; in a longer one, the estimate nearer
    # the path through the frames either side of the run is kept (with no such frame, neither).
    bridged = _short_runs(apart, first.time_s, FLIP_BRIDGED_GAP_S)
    vis[bridged] = 0.0
    take_first, take_mirrored, neither = _nearer_to_path(xy, f_xy, m_xy, apart & ~bridged, first.time_s)
    for ours, a, b in ((xy, f_xy, m_xy), (z, f_z, m_z), (world, f_world, m_world)):
        ours[take_first] = a[take_first]
        ours[take_mirrored] = b[take_mirrored]
    vis[neither] = 0.0
    # Coarse sampling: which pass has the legs the right way round is not known, so neither's knees
    # are trusted. Whole runs, even those too long to bridge: a knee left unknown rather than the
    # other leg's (keeping the first pass's names in the longer runs brought the 30 fps renders'
    # hip error back from 8 to 17 degrees RMS). The feet keep the first pass's names: set aside,
    # they cost touchdowns (UNSURE_PARTS).
    unsure = disagreed if not legs_finely_sampled(first.image_xy_px, first.is_repeat) else np.zeros_like(disagreed)
    vis[np.ix_(unsure, _UNSURE)] = 0.0

    for ours, theirs in ((xy, m_xy), (z, m_z), (world, m_world), (vis, m_vis), (pres, m_pres)):
        ours[only_mirrored] = theirs[only_mirrored]
    source = first.pose_source.copy()
    source[only_mirrored] = mirrored.pose_source[only_mirrored]
    return dataclasses.replace(
        first, image_xy_px=xy, image_z=z, world_xyz_m=world, visibility=vis, presence=pres,
        detected=first.detected | mirrored.detected, pose_source=source,
        legs_collapsed=first.legs_collapsed | mirrored.legs_collapsed, flip_test=True,
        followed_person=(f"{first.followed_person} (flip test: averaged with the mirrored pictures' pose; "
                         f"of the {int(apart.sum())} knee and hip positions the two passes put more than "
                         f"{limit:.2g} torso lengths apart, {int(bridged.sum() + neither.sum())} set aside and "
                         f"{int(take_first.sum() + take_mirrored.sum())} taken from the pass nearer their neighbours"
                         + (f"; the knees of {int(unsure.sum())} frames whose legs the two passes named the "
                            "other way round set aside" if unsure.any() else "") + ")"))
