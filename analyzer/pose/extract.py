"""Running BlazePose over a video's frames and following the runner (:func:`extract_pose`)."""
from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import memory
from ..landmarks import HIPS, NUM_LANDMARKS
from ..video import Frame, VideoInfo, iter_frames
from . import flip
from .detections import PoseStore, Poses, View, dedupe, result_to_poses
from .model import check_model, create_landmarker, native_stderr_silenced
from .people import Linker, describe_choice
from .swaps import COLLAPSED_LEG_MAX_RUN_S, LOWER_LEGS, SWAP_GROUPS, collapsed_leg_frames, fix_swaps_in_place
from .track import PoseTrack

#: Frames are downscaled to this longer side before the model (it sees 256x256 crops;
#: decoding cost, not accuracy, grows with size beyond this).
DEFAULT_MAX_SIDE_PX = 1280


def _progress_bar(progress: Any, total: int, desc: str, position: int | None) -> tuple[Any, bool]:
    """(bar, owned): a tqdm bar, the caller's tqdm-like object, or a no-op."""
    if progress is False or progress is None:
        return _NoBar(), True
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=desc, unit="frame", position=position,
                   leave=position is None, disable=None, dynamic_ncols=True, file=sys.stderr)
        return bar, True
    if hasattr(progress, "reset"):
        progress.reset(total=total)
    if hasattr(progress, "set_description"):
        progress.set_description(desc)
    return progress, False


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _expected_frames(info: VideoInfo, start_s: float | None, end_s: float | None) -> int:
    times = info.frame_time(np.arange(info.frame_count))
    lo = -np.inf if start_s is None else start_s - 1e-9
    hi = np.inf if end_s is None else end_s - 1e-9
    return int(np.count_nonzero((times >= lo) & (times < hi)))


def _square_tiles(width: int, height: int) -> list[View]:
    """Overlapping squares (side = the shorter image side) covering a wide or tall frame.

    BlazePose's person detector sees the whole input letterboxed to 224x224, so in a wide
    frame a small runner shrinks below what it can find; squares of the short side keep
    the detector's scale at that of a square frame. A near-square frame is one tile.
    """
    side, long_side = min(width, height), max(width, height)
    if long_side < 1.25 * side:
        return [View(0, 0, width, height)]
    count = int(math.ceil((long_side - side) / (0.75 * side))) + 1
    starts = np.round(np.linspace(0, long_side - side, count)).astype(int)
    if width >= height:
        return [View(int(x), 0, side, side) for x in starts]
    return [View(0, int(y), side, side) for y in starts]


def _runner_window(centre: np.ndarray, size: float, width: int, height: int) -> View:
    """A square around a person (hip *centre*, bounding-box diagonal *size*, model-image px)."""
    side = int(np.clip(32 * round(2.2 * size / 32), 192, min(width, height)))
    x0 = int(np.clip(round(centre[0] - side / 2), 0, width - side))
    y0 = int(np.clip(round(centre[1] - side / 2), 0, height - side))
    return View(x0, y0, side, side)


class _Landmarkers:
    """The PoseLandmarkers one video needs, created on first use and closed together."""

    def __init__(self, model: Path, max_people: int) -> None:
        self.model, self.max_people = model, max_people
        self._stack = contextlib.ExitStack()
        self._made: dict[str, Any] = {}
        self._last_ms: dict[str, int] = {}

    def __enter__(self) -> _Landmarkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _get(self, role: str) -> Any:
        if role not in self._made:
            num, mode = {"frame": (self.max_people, "video"), "runner": (1, "video"),
                         "search": (self.max_people, "image")}[role]
            self._made[role] = self._stack.enter_context(create_landmarker(self.model, num, mode))
        return self._made[role]

    def detect(self, role: str, image: np.ndarray, time_s: float) -> Any:
        import mediapipe as mp

        mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=image)
        first_use = role not in self._made
        landmarker = self._get(role)
        # The native graph logs its set-up on the first inference (see native_stderr_silenced).
        with native_stderr_silenced() if first_use else contextlib.nullcontext():
            if role == "search":
                return landmarker.detect(mp_image)
            # VIDEO mode: integer ms, strictly increasing over this landmarker's life
            ts = max(int(round(time_s * 1000.0)), self._last_ms.get(role, -1) + 1)
            self._last_ms[role] = ts
            return landmarker.detect_for_video(mp_image, ts)


def extract_pose(info: VideoInfo, *, model_path: str | os.PathLike[str] | None = None,
                 start_s: float | None = None, end_s: float | None = None, max_people: int = 3,
                 progress: bool | Any = True, progress_position: int | None = None,
                 max_side_px: int | None = DEFAULT_MAX_SIDE_PX, prefetch: int = 8,
                 fix_swaps: bool = True, flip_test: bool | None = None) -> PoseTrack:
    """Run BlazePose over a video (or a ``start_s``..``end_s`` part) and follow the runner.

    Per distinct picture (repeated frames reuse the previous result):

    1. the whole frame goes to a VIDEO-mode landmarker looking for up to *max_people*
       (every other picture only while step 2 holds the most active person);
    2. if the current runner candidate (the most active person so far) is not among those
       poses, a second VIDEO-mode landmarker looks in a square window around where the
       candidate is predicted (small, distant runners that step 1 misses);
    3. twice a second, and every few frames while nobody is seen, an IMAGE-mode
       landmarker searches overlapping square tiles of the frame (see
       :func:`_square_tiles`), which finds people too small for step 1.

    Poses are de-duplicated, linked into people over time (:func:`link_people`'s rules)
    and the person who moved the most (hip travel against the background plus limb
    motion) is followed; frames where that person is not found are "not detected",
    never filled with someone else. Left/right swaps are then corrected
    (:func:`fix_left_right_swaps`). With the flip test all of this is done a second time on
    the mirrored frames and the two poses are merged (:mod:`analyzer.pose.flip`); the
    track's ``flip_test`` says whether it was. All landmarkers are closed before returning.

    Args:
        info: from :func:`analyzer.video.probe_video`.
        model_path: a pose landmarker ``.task``; None for the embedded full model.
        start_s, end_s: the analysed range (``start_s <= time_s < end_s``).
        max_people: poses per frame the model looks for.
        progress: True for a tqdm bar on stderr (silent when not a terminal), False for
            none, or a tqdm-like object to update (batch runs).
        progress_position: tqdm ``position`` of the bar (one line per worker).
        max_side_px: downscale frames to this longer side for the model (None: never).
        prefetch: decoded frames queued by the reader thread (0: decode inline).
        fix_swaps: correct left/right label swaps.
        flip_test: also pose the mirrored frames and merge (about twice the pose time):
            True always, False never, None (default) where the first pass finds the legs
            coarsely sampled (:func:`analyzer.pose.flip.flip_test_wanted`).

    Raises:
        PoseModelError: the model file is missing or not a pose ``.task``.
        analyzer.video.VideoError: the video cannot be decoded.
    """
    model = check_model(model_path)
    expected = _expected_frames(info, start_s, end_s)
    bar, owned = _progress_bar(progress, (2 if flip_test else 1) * expected, info.path.name, progress_position)
    tracks: list[PoseTrack] = []
    try:
        for mirrored in (False, True):
            if mirrored:
                if not (flip_test or (flip_test is None and flip.flip_test_wanted(tracks[0]))):
                    break
                if flip_test is None and hasattr(bar, "total") and hasattr(bar, "refresh"):
                    bar.total += expected  # the automatic second pass: the bar grows to both passes
                    bar.refresh()
                if hasattr(bar, "set_description"):
                    bar.set_description(f"{info.path.name} (mirrored)")
            frames = iter_frames(info, start_s, end_s, max_side_px=max_side_px, prefetch=prefetch)
            try:
                tracks.append(_one_pass(info, model, flip.mirrored_frames(frames) if mirrored else frames,
                                        max(1, int(max_people)), bar, fix_swaps))
            finally:
                # closed here, not when this frame is freed: on an interrupt the traceback keeps
                # the frame (and an unclosed generator's decoding thread) alive until shutdown
                close = getattr(frames, "close", None)
                if close is not None:
                    close()
    finally:
        if owned:
            bar.close()
    if len(tracks) == 2:
        return flip.merge_flip_test(tracks[0], flip.unmirror_track(tracks[1]))
    return tracks[0]


def _one_pass(info: VideoInfo, model: Path, frames: Iterable[Frame], k_max: int, bar: Any,
              fix_swaps: bool) -> PoseTrack:
    """Steps 1-3 of :func:`extract_pose` over *frames*, and the followed runner's track."""
    rate = info.container_fps if info.container_fps > 0 else 30.0
    search_every = max(1, int(round(rate / 2)))  # frames between routine searches
    search_when_lost = max(1, int(round(rate / 6)))  # ... and while nobody is seen
    linker = Linker(max_gap=max(2, int(round(0.5 * rate))))

    index: list[int] = []
    times: list[float] = []
    repeats: list[bool] = []
    shifts: list[tuple[float, float]] = []
    store = PoseStore()
    with _Landmarkers(model, k_max) as models:
        previous: Poses | None = None
        last_search = -search_every
        window_for: int | None = None  # whom the runner window followed last
        window_missed: dict[int, int] = {}  # person -> last frame the window did not find them
        window_held = False  # the window found its person in the last distinct picture
        distinct = 0
        for t, frame in enumerate(frames):
            if frame.is_repeat and previous is not None:
                # the same picture: the same poses and people, and nothing moved
                linker.advance(frame.background_shift_px)
                store.repeat()
            else:
                # while the window holds the most active person (a small runner), the whole
                # frame is looked at every other picture only (it cannot see that runner
                # well; it is there for the others)
                distinct += 1
                skip_whole = (window_held and distinct % 2 == 0
                              and window_for == linker.most_active(linker.live(t)))
                poses, searched, window_for = _detect_frame(
                    models, frame.image_rgb, frame.time_s, frame.scale, info.width, linker, window_for,
                    window_missed, search_when_lost, t, last_search, search_every, search_when_lost,
                    skip_whole)
                last_search = t if searched else last_search
                previous = poses
                frame_ids = linker.update(t, poses.xy, poses.vis, frame.background_shift_px)
                # the window stays with whoever it found, even if it was sent for another
                found_by_window = frame_ids[poses.source == 1]
                window_held = found_by_window.size > 0
                window_for = int(found_by_window[0]) if window_held else window_for
                store.add(poses, frame_ids)
            index.append(frame.index)
            times.append(frame.time_s)
            repeats.append(frame.is_repeat)
            shifts.append(frame.background_shift_px)
            bar.update(1)

    # The landmarkers are closed and the reader thread has stopped: the memory their
    # threads freed (about 170 MB on a 1080p clip, in their own malloc arenas, which this
    # thread's allocations cannot reuse) goes back before the track is assembled on top.
    memory.release_free_heap()
    most_active = linker.most_active()
    runner = -1 if most_active is None else most_active
    return _assemble_track(info, model, index, times, repeats, shifts, store, runner,
                           describe_choice(linker, runner, len(index)), fix_swaps)


def _detect_frame(models: _Landmarkers, image: np.ndarray, time_s: float, scale: float, full_width: int,
                  linker: Linker, window_for: int | None, window_missed: dict[int, int], retry: int,
                  t: int, last_search: int, search_every: int, search_when_lost: int,
                  skip_whole: bool = False) -> tuple[Poses, bool, int | None]:
    """Steps 1-3 of :func:`extract_pose` on one picture.

    Returns the de-duplicated poses (closer views first: runner window, search tiles,
    whole frame), whether the tiles were searched, and whom the runner window followed
    (None when it found nobody). The window goes to the most active live person who is
    small in the frame (body size under half the shorter side: the whole-frame pass sees
    such people coarsely) or whom the whole-frame pass did not see; it keeps its previous
    person while that one still qualifies, so that its tracking holds. A person the
    window did not find is not looked for again for *retry* frames (*window_missed*,
    updated here), so a phantom cannot hold the window while the runner waits. With
    *skip_whole* the whole-frame pass is left out (the caller does so on every other
    picture while the window holds its person).
    """
    h, w = image.shape[:2]
    whole = View(0, 0, w, h)
    found = [Poses.empty() if skip_whole else
             result_to_poses(models.detect("frame", image, time_s), whole, scale, full_width, 0)]
    small = 0.5 * min(h, w) / scale
    wanted = [pid for pid in linker.live(t)
              if (linker.people[pid].size < small or not linker.matches(pid, t, found[0].xy).any())
              and t - window_missed.get(pid, -retry - 1) > retry]
    target = window_for if window_for in wanted else linker.most_active(wanted)
    if target is not None:
        centre, size = linker.predict(target, t)
        view = _runner_window(centre * scale, size * scale, w, h)
        in_window = result_to_poses(models.detect("runner", view.crop(image), time_s), view, scale, full_width, 1)
        found.insert(0, in_window)
        if not linker.matches(target, t, in_window.xy).any():
            window_missed[target] = t
            target = None
    anyone = sum(len(p) for p in found) > 0
    tiles = _square_tiles(w, h)
    due = t - last_search >= (search_every if anyone else search_when_lost)
    searched = len(tiles) > 1 and due
    if searched:
        for view in tiles:
            found.insert(-1, result_to_poses(models.detect("search", view.crop(image), time_s), view, scale,
                                              full_width, 2))
    poses = Poses.concat(found)
    # a pose whose hips lie outside the picture is no runner we could analyse (the
    # whole-frame pass can keep tracking a phantom just beyond the edge)
    hips = poses.xy[:, HIPS].mean(axis=1) * scale
    inside = np.all((hips >= 0) & (hips <= (w, h)), axis=1)
    return dedupe(poses.take(np.flatnonzero(inside))), searched, target


def _assemble_track(info: VideoInfo, model: Path, index: Sequence[int], times: Sequence[float],
                    repeats: Sequence[bool], shifts: Sequence[tuple[float, float]], store: PoseStore,
                    runner: int, description: str, fix_swaps: bool) -> PoseTrack:
    n = len(index)
    xy = np.full((n, NUM_LANDMARKS, 2), np.nan)
    z = np.full((n, NUM_LANDMARKS), np.nan)
    world = np.full((n, NUM_LANDMARKS, 3), np.nan)
    vis = np.zeros((n, NUM_LANDMARKS))
    pres = np.zeros((n, NUM_LANDMARKS))
    detected = np.zeros(n, dtype=bool)
    source = np.full(n, -1, dtype=np.int8)
    for t in range(n):
        row = store.find(t, runner) if runner >= 0 else None
        if row is not None:
            xy[t], z[t], world[t], vis[t], pres[t], source[t] = store.pose(row, info.width)
            detected[t] = True
    is_repeat = np.asarray(repeats, dtype=bool).reshape(n)
    counts = np.array(store.count, dtype=np.int64).reshape(n)

    swap_fixed = np.zeros((n, len(SWAP_GROUPS)), dtype=bool)
    collapsed = np.zeros(n, dtype=bool)
    episodes = 0
    if fix_swaps and n:  # in place: these arrays are ours (fix_left_right_swaps would copy them)
        collapsed = collapsed_leg_frames(xy, max(1, round(COLLAPSED_LEG_MAX_RUN_S * info.fps)))
        swap_fixed, episodes, collapsed = fix_swaps_in_place(xy, (z, world, vis, pres), is_repeat=is_repeat,
                                                              collapsed_legs=collapsed)
        vis[np.ix_(collapsed, LOWER_LEGS)] = 0.0

    return PoseTrack(
        frame_index=np.asarray(index, dtype=np.int64).reshape(n),
        time_s=np.asarray(times, dtype=float).reshape(n),
        is_repeat=is_repeat,
        background_shift_px=np.asarray(shifts, dtype=float).reshape(n, 2),
        image_xy_px=xy, image_z=z, world_xyz_m=world, visibility=vis, presence=pres,
        detected=detected,
        people_count=counts,
        swap_fixed=swap_fixed,
        pose_source=source,
        legs_collapsed=collapsed,
        image_width=int(info.width), image_height=int(info.height),
        model_name=model.name,
        num_people_max=int(counts.max(initial=0)),
        followed_person=description,
        left_right_swaps_fixed=episodes,
    )
