"""Left/right label swaps of the legs and arms: detected by temporal continuity and undone."""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..landmarks import ARM_PARTS, HIPS, LEG_PARTS, MIRROR, longer_leg_length, side_index
from ..signals import quiet_nan_warnings

#: The knees, ankles, heels and toes of both sides: what a leg collapse misplaces.
LOWER_LEGS = np.array([side_index(s, p) for s in ("left", "right") for p in ("knee", "ankle", "heel", "foot_index")])

#: Limb groups whose left/right labels :func:`fix_left_right_swaps` checks, as the
#: runner's *left* landmark indices (the right ones are their ``MIRROR``).
SWAP_GROUPS: dict[str, tuple[int, ...]] = {
    "legs": tuple(side_index("left", p) for p in LEG_PARTS),
    "arms": tuple(side_index("left", p) for p in ARM_PARTS),
}


#: Per limb group, the (left) landmarks whose paths, relative to the mid-hip, decide its
#: labels: the feet for the legs and the elbow and hand for the arms, the parts that stay
#: apart through most of a stride (the hips and shoulders nearly coincide in a side view).
SWAP_CUES: dict[str, tuple[int, ...]] = {
    "legs": tuple(side_index("left", p) for p in ("ankle", "heel", "foot_index")),
    "arms": tuple(side_index("left", p) for p in ("elbow", "wrist", "pinky", "index", "thumb")),
}
#: The legs' cues where the sampling is fine (:data:`FINE_STEP_TO_SEPARATION`): the knees
#: too. The knees pass each other when the feet are apart and the other way round, so
#: together they never all coincide. On the 11 rendered clips at 60 and 120 fps (pose model
#: included) the knees with :data:`FINE_PATH` and :func:`collapsed_leg_frames` took the hip
#: flexion RMS median from 18.9 to 7.8 deg. At 30 fps they did not help (a rendered clip's
#: hip error grew from 17 to 24 deg, and a real 30 fps sprint start, hato72 movie1_a4, read
#: 128 steps/min instead of 189), so coarser segments keep the feet alone.
FINE_LEG_CUES: tuple[int, ...] = tuple(side_index("left", p) for p in ("knee", "ankle", "heel", "foot_index"))
#: Sampling too coarse for the nearest path: the cue landmarks move, frame to frame, more
#: than this share of the distance between the left and right ones (medians over the
#: segment). Feet: synthetic runner at 4.5 steps/s 0.12 at 60 fps, 0.24 at 30 fps, 0.66
#: at 10 fps; rendered samples 0.13 (60 fps) and 0.29 (30 fps); real clips 0.07-0.39,
#: except 30 fps sprint starts with a small runner (hato72 movie2_b10, b11: 0.52, 0.66).
MAX_STEP_TO_SEPARATION = 0.5
#: Sampling fine enough for the legs' :data:`FINE_PATH`: the feet move less than this share
#: of their separation per picture (see :data:`MAX_STEP_TO_SEPARATION` for the figures:
#: 60 fps and above for a sprinter).
FINE_STEP_TO_SEPARATION = 0.2
#: A frame whose legs the model drew on top of each other: the largest left-right distance
#: among the knees, ankles, heels and toes is under this share of the frame's longer leg
#: (hip-knee-ankle path, image pixels). A sprinter's legs at speed never come that close
#: from the side: the rendered sprinter's truth never reads below 0.42 on a tracking
#: camera (0.21 on the pans, where the clip's runner size doubles), because the swing foot
#: is high when the knees pass each other; slower real runners' legs do, hence
#: :data:`COLLAPSE_NOTCH`. See :func:`collapsed_leg_frames`.
COLLAPSED_LEG_SEPARATION = 0.2
#: Longest run of collapsed frames (seconds) treated as the model's mistake; longer runs are
#: a runner standing side-on, left alone.
COLLAPSED_LEG_MAX_RUN_S = 0.05
#: A collapse is a notch: the frames on either side of the run have at least this many
#: times its largest separation. Real runners' legs come close for longer (sprint starts,
#: small far runners: hato72's clips have 10-70 % of frames under the separation limit);
#: with the notch, 0-27 frames per real clip are left out (0-11 on side views, checked by
#: eye on pauldess1: the model drew both legs on the stance leg while the swing foot was
#: clearly behind).
COLLAPSE_NOTCH = 2.0


class SwapCorrection(NamedTuple):
    """Result of :func:`fix_left_right_swaps`: corrected copies and what was changed."""

    image_xy: np.ndarray
    image_z: np.ndarray | None
    world_xyz: np.ndarray | None
    visibility: np.ndarray | None
    presence: np.ndarray | None
    swapped: np.ndarray  # (N, G) bool: frame's labels of group g were swapped back
    episodes: int  # runs of consecutive swapped frames, summed over groups
    legs_collapsed: np.ndarray  # (N,) bool: frames left out of the legs' pass


def swap_sides(a: np.ndarray, frames: np.ndarray, left: np.ndarray, right: np.ndarray) -> None:
    """In place: exchange landmarks *left* and *right* on *frames* of array (N, 33, ...)."""
    if frames.size == 0:
        return
    rows = frames[:, None]
    a[rows, left], a[rows, right] = a[rows, right], a[rows, left]


class SwapModel(NamedTuple):
    """Weights of :func:`_viterbi_swaps`' costs, each term in units of its median over the
    segment with the model's labels: the labelled paths' frame-to-frame displacement and
    acceleration, a change of labelling between consecutive frames, and one frame with
    exchanged labels."""

    displacement: float
    acceleration: float
    switch: float
    state: float


#: Dense sampling: the nearest path (it undoes the model's single wrong frames and
#: flickering runs), with a little smoothness so that limbs passing close to each other
#: still pass rather than bounce off each other, and no switch cost (a switch cost would
#: rather leave a flicker alone or stretch it into a long wrong episode).
NEAREST_PATH = SwapModel(displacement=1.0, acceleration=0.3, switch=0.0, state=0.3)
#: Fine sampling of the legs (the feet move less than :data:`FINE_STEP_TO_SEPARATION` of
#: their separation between pictures: 60 fps and above for a sprinter): the nearest path of
#: the knees and feet (:data:`FINE_LEG_CUES`), judged across collapsed frames, with half
#: the smoothness. Between such close pictures a landmark's acceleration is mostly the
#: model's jitter, and at 0.3 it carried the path through the model's own swaps beside a
#: leg crossing: on 14 rendered clips, pose model included, hip flexion RMS median 10.1
#: and 8.6 deg (left, right) against 8.1 and 7.4 with this, and ``swing_lag`` F1 0.38
#: against 0.54. The cost: a mislabelled run of 16 frames or more at 60 fps (a step's
#: length) is moved to the legs' nearest crossings rather than undone (sine-curve runner,
#: ``tests/test_pose.py``); the model's own runs on those clips are at most 9 frames.
#: The arms take it too where the legs are finely sampled (:func:`_arms_model_for`).
FINE_PATH = NEAREST_PATH._replace(acceleration=0.15)
#: Coarse sampling (the limbs move more than :data:`MAX_STEP_TO_SEPARATION` of their
#: separation between pictures, where the nearest path means little): smoothness alone,
#: with a switch cost, which fixes only clear episodes. These are the weights of the
#: previous labelling (then over whole limbs), checked frame by frame on pauldess1 at
#: 25 fps, where the episodes found gave its 13-frame contacts; on movie2_b11 they keep
#: the 3 steps that no correction at all loses.
SMOOTH_PATH = SwapModel(displacement=0.0, acceleration=1.0, switch=3.0, state=1.0)


#: Frames per block in :func:`_path_terms`. Its intermediates are (2, 2, 2, block, 2, J, 2)
#: float64: about 10 MB per temporary for the arms' five cue landmarks at 4 096 frames,
#: where the whole segment's at once were about 30 MB per 10 000 frames (about 145 MB of
#: transient for the arms of a 10-minute 60 fps clip, on top of the pose stage).
PATH_TERM_BLOCK_FRAMES = 4096


def _path_terms(pos: np.ndarray, block_frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The labelled paths' displacement and acceleration terms of :func:`_viterbi_swaps`.

    *pos* (M, 2, J, 2) as there, M >= 3. Returns ``disp`` (2, 2, M-1): ``disp[a, b, t]``
    from frame t in state a to frame t+1 in state b, and ``acc`` (2, 2, 2, M-2):
    ``acc[c, a, b, t]`` over frames (t, t+1, t+2) in states (c, a, b); each the mean over
    the two sides and J landmarks of a Euclidean norm (pixels per frame, per frame squared).
    Computed *block_frames* (default :data:`PATH_TERM_BLOCK_FRAMES`) frames at a time, so
    that the transient stays bounded whatever the segment's length; every element goes
    through the same operations as when computed at once, so the result is bit-identical
    (tested).
    """
    m = pos.shape[0]
    states = np.stack([pos, pos[:, ::-1]])  # (2, M, 2, J, 2)
    disp = np.empty((2, 2, m - 1))
    acc = np.empty((2, 2, 2, m - 2))
    step = max(1, int(PATH_TERM_BLOCK_FRAMES if block_frames is None else block_frames))
    for lo in range(0, m - 1, step):
        hi = min(lo + step, m - 1)
        disp[..., lo:hi] = np.linalg.norm(states[None, :, lo + 1:hi + 1] - states[:, None, lo:hi],
                                          axis=-1).mean(axis=(-1, -2))
    for lo in range(0, m - 2, step):
        hi = min(lo + step, m - 2)
        x0 = states[:, None, None, lo:hi]
        x1 = states[None, :, None, lo + 1:hi + 1]
        x2 = states[None, None, :, lo + 2:hi + 2]
        acc[..., lo:hi] = np.linalg.norm(x2 - 2 * x1 + x0, axis=-1).mean(axis=(-1, -2))
    return disp, acc


def _viterbi_swaps(pos: np.ndarray, model: SwapModel) -> np.ndarray:
    """Labelling (M,) bool of one limb group over M frames of one continuous segment.

    *pos* (M, 2, J, 2): [left, right] cue landmarks relative to the mid-hip. Each frame
    either keeps its labels (state 0) or exchanges them (state 1). The labelling minimises
    the weighted sum (:class:`SwapModel`) of the labelled paths' displacements and
    accelerations (mean over the J landmarks, each in units of its median with the model's
    labels, which keeps the pass conservative where motion is coarsely sampled), the
    changes of state and the frames in state 1. The segment's first and last frames have
    a neighbour on one side only, so they are exchanged only at a cost of at least one
    median term.
    """
    m = pos.shape[0]
    if m < 3:
        return np.zeros(m, dtype=bool)
    disp, acc = _path_terms(pos)
    disp = model.displacement * disp / (float(np.median(disp[0, 0])) or 1.0)
    triple = model.acceleration * acc / (float(np.median(acc[0, 0, 0])) or 1.0) + disp[None, :, :, 1:]
    unary = np.zeros((m, 2))
    unary[:, 1] = model.state
    unary[[0, -1], 1] = max(model.state, 1.0)
    switch = np.array([[0.0, 1.0], [1.0, 0.0]]) * model.switch  # [from, to]
    # cost[a, b]: best total with frame t+1 in state a and frame t+2 in state b
    cost = unary[0][:, None] + unary[1][None, :] + disp[:, :, 0] + switch
    back = np.zeros((m - 2, 2, 2), dtype=np.int8)
    for t in range(m - 2):
        total = cost[:, :, None] + triple[:, :, :, t] + switch[None, :, :]  # (c, a, b)
        back[t] = np.argmin(total, axis=0)
        cost = np.min(total, axis=0) + unary[t + 2][None, :]
    a, b = np.unravel_index(int(np.argmin(cost)), cost.shape)
    out = np.zeros(m, dtype=bool)
    out[-1], out[-2] = bool(b), bool(a)
    for t in range(m - 3, -1, -1):
        c = back[t, a, b]
        out[t] = bool(c)
        a, b = c, a
    return out


def collapsed_leg_frames(image_xy: np.ndarray, max_run_frames: int) -> np.ndarray:
    """Frames (N,) bool where the model drew both legs on top of each other, briefly.

    A frame is low where the largest left-right image distance among the knees, ankles,
    heels and toes is under :data:`COLLAPSED_LEG_SEPARATION` of the frame's longer leg
    (hip-knee-ankle path). A run of at most *max_run_frames* low frames is a collapse when
    the frames on either side of it are at least :data:`COLLAPSE_NOTCH` times further
    apart (a notch, not legs that stay close). BlazePose does this for single frames
    beside the legs' crossing in side views and often puts the labels back the other way
    round after it: the collapsed frame sits where a real crossing would, so the path
    alone cannot tell a swap from a crossing across it (the rendered lag sample's frames
    23 and 25, then 26-30 swapped). Runs touching the ends of the clip are not judged.

    Args:
        image_xy: (N, 33, 2) image landmarks (pixels); NaN where not detected.
        max_run_frames: longest run counted as a collapse (frames); 0 finds none.
    """
    left, right = LOWER_LEGS[:4], LOWER_LEGS[4:]
    with quiet_nan_warnings():
        separation = np.linalg.norm(image_xy[:, left] - image_xy[:, right], axis=-1).max(axis=-1)
        ratio = separation / longer_leg_length(image_xy)
    low = ratio < COLLAPSED_LEG_SEPARATION
    out = np.zeros(low.shape, dtype=bool)
    padded = np.concatenate([[False], low, [False]])
    starts = np.flatnonzero(padded[1:] & ~padded[:-1])
    ends = np.flatnonzero(~padded[1:] & padded[:-1])
    n = ratio.shape[0]
    for a, b in zip(starts, ends):
        if b - a > max_run_frames or a == 0 or b == n:
            continue
        deepest = ratio[a:b].max()
        if ratio[a - 1] >= COLLAPSE_NOTCH * deepest and ratio[b] >= COLLAPSE_NOTCH * deepest:
            out[a:b] = True
    return out


def _swap_model_for(step_to_separation: float) -> SwapModel:
    """:data:`NEAREST_PATH` where the cue landmarks move, frame to frame, less than
    :data:`MAX_STEP_TO_SEPARATION` of their left-right separation
    (:func:`_step_to_separation`), else :data:`SMOOTH_PATH`."""
    return NEAREST_PATH if step_to_separation < MAX_STEP_TO_SEPARATION else SMOOTH_PATH


def _arms_model_for(legs_fine: bool) -> SwapModel:
    """The arms' model: :data:`FINE_PATH` where the legs are finely sampled
    (:data:`FINE_STEP_TO_SEPARATION`), else :data:`SMOOTH_PATH`.

    The arms' own step-to-separation does not tell a sprinter at 30 fps from one at 60 (the
    elbows and hands move 0.16-0.39 of their separation per picture at 30 fps, 0.09-0.29 at
    60 on the rendered clips), but the feet's does. Counted on the 42 rendered validation
    clips (pose model included, elbow and wrist labels checked against the truth in frames
    where the arms are apart): at 30 fps 178 of 1 215 frames had the arms the wrong way round
    with :data:`NEAREST_PATH` (it swapped them as they passed each other), 32 with no
    correction and 11 with the smooth path; at 60 fps 69 of 4 039 with the nearest path and
    68 with the fine path, at 120 fps 25 and 1 of 1 076 (the smooth path 103 and 27, none 182
    and 24). The fine path halves the acceleration weight for the reason it does for the legs.
    """
    return FINE_PATH if legs_fine else SMOOTH_PATH


def _step_to_separation(pos: np.ndarray) -> float:
    """The cue landmarks' frame-to-frame movement as a share of their left-right separation
    (medians over the segment; infinite below two frames). *pos* as in :func:`_viterbi_swaps`."""
    if pos.shape[0] < 2:
        return float("inf")
    step = np.median(np.linalg.norm(np.diff(pos, axis=0), axis=-1).mean(axis=-1))
    separation = np.median(np.linalg.norm(pos[:, 0] - pos[:, 1], axis=-1).mean(axis=-1))
    return float(step / separation) if separation > 0 else float("inf")


def _cue_paths(xy: np.ndarray, mid_hip: np.ndarray, frames: np.ndarray, cue_left: np.ndarray) -> np.ndarray:
    """(M, 2, J, 2) [left, right] cue landmarks of *frames* relative to the mid-hip."""
    rows = frames[:, None]
    mirror = np.asarray(MIRROR)
    return np.stack([xy[rows, cue_left] - mid_hip[frames], xy[rows, mirror[cue_left]] - mid_hip[frames]], axis=1)


def legs_finely_sampled(image_xy: np.ndarray, is_repeat: np.ndarray | None = None) -> bool:
    """Whether the feet move less than :data:`FINE_STEP_TO_SEPARATION` of their left-right
    separation from one distinct picture to the next (median over the clip): the sampling
    at which the legs' labels follow from their paths (60 fps and above for a sprinter).
    *image_xy* (N, 33, 2), NaN rows undetected; *is_repeat* (N,) pictures repeating the last."""
    repeat = np.zeros(image_xy.shape[0], dtype=bool) if is_repeat is None else np.asarray(is_repeat, dtype=bool)
    frames = np.flatnonzero(np.isfinite(image_xy).all(axis=(-1, -2)) & ~repeat)
    mid_hip = image_xy[:, HIPS].mean(axis=1, keepdims=True)
    pos = _cue_paths(image_xy, mid_hip, frames, np.asarray(SWAP_CUES["legs"]))
    return bool(_step_to_separation(pos) < FINE_STEP_TO_SEPARATION)


def fix_left_right_swaps(image_xy: np.ndarray, image_z: np.ndarray | None = None,
                         world_xyz: np.ndarray | None = None, visibility: np.ndarray | None = None,
                         presence: np.ndarray | None = None, *, is_repeat: np.ndarray | None = None,
                         max_gap: int = 2, max_collapsed_run: int = 0) -> SwapCorrection:
    """Detect and undo left/right label swaps of the legs and arms by temporal continuity.

    Pure: the inputs are not modified. For each limb group (:data:`SWAP_GROUPS`) and each
    segment of detected frames (gaps of more than *max_gap* missing frames split
    segments), a two-state Viterbi pass (:func:`_viterbi_swaps`) chooses per frame
    whether the group's left and right labels are exchanged so that the group's cue
    landmarks (:data:`SWAP_CUES`) take the nearest path from frame to frame that still
    passes where limbs pass each other (:data:`NEAREST_PATH`; :data:`SMOOTH_PATH` where the
    sampling is coarse; the arms follow the legs' sampling, :func:`_arms_model_for`).
    BlazePose's swaps in side views are near/far confusions: the model keeps calling the
    near leg by one name (its depth goes with the label, so depth cannot tell) but now and
    then puts that name on the far leg, for
    single frames or flickering runs. Repeated frames
    (*is_repeat*) show the same picture as the frame before, so they are left out of that
    pass and instead take the labelling that is closer to the (corrected) previous frame.
    Whatever is swapped in the image is swapped identically in ``image_z``,
    ``world_xyz``, ``visibility`` and ``presence``. Where the legs are finely sampled (60
    fps and above for a sprinter; :data:`FINE_PATH`), the knees join the feet as cues and
    frames where the model drew both legs on top of each other (:func:`collapsed_leg_frames`,
    runs of at most *max_collapsed_run*) are left out of the legs' pass, so that the path is
    judged across them; they say nothing about which leg is which.

    Measured on eight rendered clips against their truth (30, 60 and 120 fps; tracking,
    panning and static cameras), through the whole pipeline, both labellings applied to the
    same pose output: leg angular momentum r 0.62-0.90 (median 0.80) and hip flexion RMS
    6-25 deg, against 0.30-0.68 (median 0.60) and 13-38 deg with the previous labelling
    (whole limbs, by acceleration alone, with a switch cost); arms r median 0.85 against 0.70.
    Without the acceleration term (nearest path alone) one 60 fps clip's legs came out
    better (r 0.87 against 0.68), the other seven the same, but a simple runner drawn from
    sine curves had its legs exchanged at every crossing at 30 fps; an acceleration weight
    of 0.5 or more brought back wrong whole-step episodes on the rendered clips; a state
    penalty of 0.3 or 0.5 gave the same legs. Where the sampling is coarse (a real 30 fps
    sprint start: hato72 movie2_b11, feet moving 0.66 of their separation per picture) the
    nearest path means little and the smooth-path model decides (:func:`_swap_model_for`).
    Later (14 rendered clips, the same way): with the knees among the cues, collapsed
    frames left out and :data:`FINE_PATH` where the legs are finely sampled (60 fps and
    above), leg momentum r median 0.88 and 0.89 (left, right) and hip flexion RMS median
    8.1 and 7.4 deg, against 0.74, 0.76 and 18.7, 19.6 deg before; the remaining large
    errors are on 30 fps and panned clips.

    Args:
        image_xy: (N, 33, 2) image landmarks; NaN rows are frames without a person.
        image_z, world_xyz, visibility, presence: (N, 33[, 3]) companions, or None.
        is_repeat: (N,) bool, frames repeating the previous picture.
        max_gap: longest run of missing frames a segment bridges.
        max_collapsed_run: longest run of collapsed-leg frames left out (0: none).

    Returns:
        :class:`SwapCorrection` with corrected copies, the (N, G) swapped mask and the
        number of swap episodes (runs of consecutive corrected frames, per group).
    """
    xy = np.array(image_xy, dtype=float, copy=True)
    companions = [None if a is None else np.array(a, copy=True) for a in (image_z, world_xyz, visibility, presence)]
    swapped, episodes, collapsed = fix_swaps_in_place(xy, companions, is_repeat=is_repeat, max_gap=max_gap,
                                                       collapsed_legs=collapsed_leg_frames(xy, max_collapsed_run))
    return SwapCorrection(xy, *companions, swapped=swapped, episodes=episodes, legs_collapsed=collapsed)


def fix_swaps_in_place(xy: np.ndarray, companions: Sequence[np.ndarray | None], *,
                        is_repeat: np.ndarray | None = None, max_gap: int = 2,
                        collapsed_legs: np.ndarray | None = None) -> tuple[np.ndarray, int, np.ndarray]:
    """:func:`fix_left_right_swaps` on arrays the caller owns, corrected in place (no copies:
    :func:`_assemble_track` holds the only reference to a long clip's track, 2.1 KB per
    frame). *xy* (N, 33, 2) float64, *companions* (N, 33[, 3]) or None; *collapsed_legs*
    (N,) frames that finely sampled segments judge the legs across. Returns the (N, G)
    swapped mask, the number of episodes and the (N,) collapsed frames so left out."""
    n = xy.shape[0]
    repeat = np.zeros(n, dtype=bool) if is_repeat is None else np.asarray(is_repeat, dtype=bool)
    detected = np.isfinite(xy).all(axis=(-1, -2))

    swapped = np.zeros((n, len(SWAP_GROUPS)), dtype=bool)
    collapsed = np.zeros(n, dtype=bool) if collapsed_legs is None else np.asarray(collapsed_legs, dtype=bool)
    left_out = np.zeros(n, dtype=bool)
    mirror = np.asarray(MIRROR)
    mid_hip = xy[:, HIPS].mean(axis=1, keepdims=True)  # the same whichever hip is which
    usable = np.flatnonzero(detected & ~repeat)  # distinct pictures, split where over max_gap are missing
    segments = np.split(usable, np.flatnonzero(np.diff(usable) > max_gap + 1) + 1) if usable.size else []
    # The feet's sampling, per segment, from the model's own labels: it decides both groups' models.
    legs_sampling = [_step_to_separation(_cue_paths(xy, mid_hip, seg, np.asarray(SWAP_CUES["legs"])))
                     for seg in segments]
    for g, (name, left_t) in enumerate(SWAP_GROUPS.items()):
        left = np.asarray(left_t)
        right = mirror[left]
        # 1) distinct pictures: Viterbi per continuous segment
        for seg, feet_step_to_separation in zip(segments, legs_sampling):
            legs_fine = feet_step_to_separation < FINE_STEP_TO_SEPARATION
            if name == "legs" and legs_fine:
                judged = seg[~collapsed[seg]]
                left_out[seg] = collapsed[seg]
                swapped[judged, g] = _viterbi_swaps(_cue_paths(xy, mid_hip, judged, np.asarray(FINE_LEG_CUES)),
                                                    FINE_PATH)
            else:
                model = _swap_model_for(feet_step_to_separation) if name == "legs" else _arms_model_for(legs_fine)
                swapped[seg, g] = _viterbi_swaps(_cue_paths(xy, mid_hip, seg, np.asarray(SWAP_CUES[name])), model)
        swap_sides(xy, np.flatnonzero(swapped[:, g]), left, right)
        # 2) repeated pictures: follow the frame they repeat
        for t in np.flatnonzero(detected & repeat):
            if t == 0 or not detected[t - 1]:
                continue
            keep = np.linalg.norm(xy[t, left] - xy[t - 1, left], axis=-1).sum() + \
                np.linalg.norm(xy[t, right] - xy[t - 1, right], axis=-1).sum()
            swap = np.linalg.norm(xy[t, right] - xy[t - 1, left], axis=-1).sum() + \
                np.linalg.norm(xy[t, left] - xy[t - 1, right], axis=-1).sum()
            if swap < keep:
                swapped[t, g] = True
                swap_sides(xy, np.array([t]), left, right)
        for arr in companions:
            if arr is not None:
                swap_sides(arr, np.flatnonzero(swapped[:, g]), left, right)

    padded = np.pad(swapped, ((1, 0), (0, 0)))
    return swapped, int(np.sum(padded[1:] & ~padded[:-1])), left_out
