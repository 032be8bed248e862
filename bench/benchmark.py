#!/usr/bin/env python3
"""Performance benchmark of sprint-analyzer (issue #7): how close the whole analysis runs
to the pose model's own speed, how batches scale across cores, and what memory costs.

Every figure is measured in its own fresh process (``multiprocessing`` spawn), so a peak
resident set size (``ru_maxrss``) belongs to that one measurement, and the measurements
of a clip run back to back, so that ratios compare like with like on a shared machine.
Per clip:

* **decode, raw**: ``cv2.VideoCapture.read`` alone, at the file's size (reference);
* **decode**: :func:`analyzer.video.iter_frames` alone, at the size the model is fed
  (``Settings.max_side_px``), with its reader thread, repeat test and shift estimate;
* **pose floor**: the same model, with the pipeline's options for its whole-frame pass
  (VIDEO mode, ``max_people`` poses), called in a bare loop on the same frames; frames are
  decoded in the same thread between calls and only the calls are timed, so the floor is
  the model alone and memory stays flat. Repeated pictures are skipped, as the pipeline
  skips them, and still count as frames;
* **analyze**: :func:`analyzer.pipeline.analyze_video` (the ``analyze`` command without
  its argument parsing), overlay off and on, from an empty output folder; stage times come
  from ``summary.json`` ``stage_seconds``. In that process the pipeline's model calls and
  model loads are counted and timed (by wrapping ``analyzer.pose``'s landmarker access in
  that process only), which says how much of the gap to the floor is extra model work.

For the benchmark clip (the first one) also:

* **cached re-analysis**: ``analyze_video`` again on the overlay-off output (pose from
  ``landmarks.npz``, the stills' frames from ``.stills-cache/``), and the same as a
  command (with its imports);
* **long clip**: the benchmark clip looped to ``--long-seconds`` (stream copy, no
  re-encoding), analysed with the overlay on (off with ``--no-overlay``), against the
  10 s figure: the memory slope;
* **batch scaling**: ``--batch-videos`` copies through :func:`analyzer.batch.run` with
  1 worker, then with ``--workers`` workers;
* **native size** (``--native``): the pose floor on full-size frames, with the landmark
  agreement between both sizes (does downscaling for the model change the landmarks?).

The benchmark clip is generated once into ``bench/.cache/``: a real side-view run from
``../shared/videos`` re-timed to 60 distinct frames per second, scaled to 1920x1080 and
looped; without the shared clips, a short synthetic sprint rendered by
:mod:`analyzer.synthetic.clips` (slow, once) is looped instead.

The code measured is the ``analyzer`` package as committed at ``HEAD``, exported into the
work folder at the start (``--code worktree`` measures the working tree instead), so that
colleagues' edits during a long run cannot mix versions between its figures.

The targets of issue #7 are printed with each figure; nothing is asserted. Run
``python bench/benchmark.py --help``; results go to ``bench/RESULTS.md`` by hand.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import io
import json
import math
import multiprocessing as mp
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

CACHE_DIR = BENCH_DIR / ".cache"
SHARED_DIR = ROOT.parent / "shared" / "videos"
#: Real clip made into the benchmark clip when present: a side view from a camera that
#: travels with the runner, who stays in view throughout (a clip whose runner leaves the
#: picture, looped, would be a new person at every loop, never followed long enough to
#: analyse). It is a 2x slow-motion export of a ~50 fps capture, so re-timed to 60 fps it
#: plays at about 1.2x real speed; 640x360 scaled up to 1920x1080.
DEFAULT_SOURCE = "pauldess1__MotionTrack__running.mp4"
MIB = 1024.0 * 1024.0


# =============================================================================== targets


@dataclass(frozen=True)
class Target:
    """One target of issue #7: ``value <op> limit`` where op is ``>=`` or ``<=``."""

    key: str
    text: str
    limit: float
    at_least: bool
    unit: str = ""

    def met(self, value: float | None) -> bool | None:
        if value is None or not math.isfinite(value):
            return None
        return value >= self.limit if self.at_least else value <= self.limit

    def describe(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.limit:g}{self.unit}"


TARGETS: tuple[Target, ...] = (
    Target("ratio_overlay_off", "analyze / pose floor, overlay off (1080p60 clip)", 0.90, True, "x"),
    Target("ratio_overlay_on", "analyze / pose floor, overlay on (1080p60 clip)", 0.75, True, "x"),
    Target("batch_speedup", "batch of 4: 1 worker time / 2 workers time", 1.70, True, "x"),
    Target("peak_rss_10min_mb", "peak memory, 10-minute 1080p clip", 700.0, False, " MB"),
    Target("report_s", "report generation per video", 2.0, False, " s"),
    Target("report_html_mb", "report.html size, 10 s clip, no overlay", 5.0, False, " MB"),
    Target("cached_s", "re-analysing a cached 10 s clip (pose skipped)", 3.0, False, " s"),
)


# =============================================================================== clips


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly; raise with its message on failure."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {proc.stderr.strip()[-500:]}")


@contextlib.contextmanager
def _partial(target: Path) -> Iterator[Path]:
    """A temporary name beside *target*, renamed onto it only when the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.partial{target.suffix}")
    try:
        yield tmp
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def _synthetic_source(fps: int) -> Path:
    """A 2 s synthetic sprint (tracking camera, 1920x1080), rendered once: about a minute."""
    from analyzer.synthetic.clips import ClipSpec, make_clip

    path = CACHE_DIR / f"synthetic_sprint_{fps}fps_2s.mp4"
    if not path.is_file():
        print(f"rendering {path.name} (no shared clips; about 0.5 s per frame, once)", file=sys.stderr)
        with _partial(path) as tmp:
            make_clip(ClipSpec(fps=float(fps), duration_s=2.0, width_px=1920, height_px=1080), tmp,
                      truth_path=tmp.with_suffix(".truth.json"))
    return path


def benchmark_clip(source: Path | None, seconds: float, fps: int = 60, width: int = 1920,
                   height: int = 1080) -> Path:
    """The benchmark clip: *source* looped, scaled to *width* x *height*, *fps* distinct frames/s.

    The source's frames are re-timed to *fps* (``setpts=N/(fps*TB)``) rather than resampled,
    so no frame is duplicated: duplicates would be "repeats", which the pipeline does not
    run the model on, and the clip would flatter it. A 30 fps source therefore plays at 2x.
    """
    if source is None:
        source = SHARED_DIR / DEFAULT_SOURCE if (SHARED_DIR / DEFAULT_SOURCE).is_file() else _synthetic_source(fps)
    frames = int(round(seconds * fps))
    path = CACHE_DIR / f"bench_{source.stem[:40]}_{width}x{height}_{fps}fps_{frames}f.mp4"
    if not path.is_file():
        print(f"generating {path.name} from {source.name}", file=sys.stderr)
        with _partial(path) as tmp:
            _ffmpeg("-stream_loop", "-1", "-i", str(source), "-an",
                    "-vf", f"setpts=N/({fps}*TB),scale={width}:{height}:flags=bicubic,setsar=1",
                    "-r", str(fps), "-frames:v", str(frames),
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                    "-movflags", "+faststart", str(tmp))
    return path


def looped_clip(clip: Path, seconds: float, fps: float) -> Path:
    """*clip* repeated to *seconds* by stream copy (no re-encoding: instant, even for 10 minutes)."""
    frames = int(round(seconds * fps))
    path = CACHE_DIR / f"{clip.stem}_loop_{frames}f.mp4"
    if not path.is_file():
        with _partial(path) as tmp:
            _ffmpeg("-stream_loop", "-1", "-i", str(clip), "-an", "-c", "copy", "-frames:v", str(frames),
                    "-movflags", "+faststart", str(tmp))
    return path


def batch_folder(clip: Path, count: int) -> Path:
    """A folder of *count* hard links (copies if linking fails) to *clip*, for batch runs."""
    folder = CACHE_DIR / f"batch_{clip.stem}_x{count}"
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(1, count + 1):
        link = folder / f"{clip.stem}_{k}{clip.suffix}"
        if not link.is_file():
            try:
                os.link(clip, link)
            except OSError:
                shutil.copyfile(clip, link)
    return folder


def shared_clips(folder: Path, pattern: str, limit: int) -> list[Path]:
    """Up to *limit* clips matching *pattern* in *folder* (none when it is absent)."""
    if limit <= 0 or not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if p.is_file())[:limit]


# =============================================================================== child side
#
# Everything from here to "parent side" runs inside a fresh measuring process.


def _cpu_seconds() -> float:
    """User + system CPU of this process (all threads) and of its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Stopwatch:
    """Wall and CPU seconds of a block (CPU of every thread, and of children that ended in it)."""

    wall_s: float = math.nan
    cpu_s: float = math.nan

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), _cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = _cpu_seconds() - self._cpu


@dataclass
class Timed:
    """What a measuring function returns: its timed region and anything else worth keeping."""

    frames: int
    wall_s: float
    cpu_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, frames: int, watch: Stopwatch, **extra: Any) -> Timed:
        return cls(frames, watch.wall_s, watch.cpu_s, extra)


def _athlete() -> Any:
    from analyzer.athlete import resolve_athlete

    return resolve_athlete(height_m=None, mass_kg=None, sex=None, sidecar=None)


def _settings(overlay: bool, flip_test: bool | None = None) -> Any:
    from analyzer.pipeline import Settings

    return Settings(overlay=overlay, flip_test=flip_test)


def measure_raw_decode(clip: str) -> Timed:
    """``cv2.VideoCapture.read`` over the whole file: the decoder's own cost."""
    import cv2

    cap = cv2.VideoCapture(clip, cv2.CAP_FFMPEG)
    frames = 0
    with Stopwatch() as watch:
        while cap.read()[0]:
            frames += 1
    cap.release()
    return Timed.of(frames, watch)


def measure_decode(clip: str, max_side_px: int | None) -> Timed:
    """:func:`analyzer.video.iter_frames` alone, as the pose stage calls it (reader thread)."""
    from analyzer import video

    info = video.probe_video(clip)
    frames = repeats = 0
    size: tuple[int, ...] = ()
    with Stopwatch() as watch:
        for frame in video.iter_frames(info, max_side_px=max_side_px):
            frames += 1
            repeats += frame.is_repeat
            size = frame.image_rgb.shape
    return Timed.of(frames, watch, repeats=repeats, model_input=f"{size[1]}x{size[0]}" if size else "")


def measure_pose_floor(clip: str, max_side_px: int | None, max_people: int, frame_limit: int) -> Timed:
    """The pose model alone: the pipeline's whole-frame landmarker in a bare loop.

    Frames are decoded in this thread between calls (``prefetch=0``), and only the calls
    (``mp.Image`` wrapping included, as in the pipeline) are timed, so nothing else runs in
    this process while the model does. Returns the landmarks (full-size pixels) too.
    """
    import mediapipe
    import numpy as np

    from analyzer import pose, video

    info = video.probe_video(clip)
    with Stopwatch() as load:
        landmarker = pose.create_landmarker(pose.check_model(None), max_people, "video")
    wall = cpu = 0.0
    frames = calls = 0
    last_ms = -1
    xy: list[np.ndarray] = []
    vis: list[np.ndarray] = []
    empty = (np.full((max_people, 33, 2), np.nan), np.zeros((max_people, 33)))
    current = empty
    with landmarker:
        for frame in video.iter_frames(info, max_side_px=max_side_px, prefetch=0):
            if frame_limit and frames >= frame_limit:
                break
            frames += 1
            if not (frame.is_repeat and calls):
                ms = max(int(round(frame.time_s * 1000.0)), last_ms + 1)
                with Stopwatch() as call:
                    result = landmarker.detect_for_video(
                        mediapipe.Image(image_format=mediapipe.ImageFormat.SRGB, data=frame.image_rgb), ms)
                wall, cpu, calls, last_ms = wall + call.wall_s, cpu + call.cpu_s, calls + 1, ms
                current = _landmark_arrays(result.pose_landmarks, max_people, info.width, info.height)
            xy.append(current[0])
            vis.append(current[1])
    return Timed(frames, wall, cpu, {
        "model_calls": calls, "model_load_s": load.wall_s,
        "detected_frames": int(sum(bool(np.isfinite(a[0]).all()) for a in xy)),
        "landmarks_xy_px": np.stack(xy) if xy else np.zeros((0, max_people, 33, 2)),
        "landmarks_visibility": np.stack(vis) if vis else np.zeros((0, max_people, 33)),
    })


def _landmark_arrays(poses: Sequence[Any], k: int, width: int, height: int) -> tuple[Any, Any]:
    """MediaPipe normalised landmarks of up to *k* poses -> ((k, 33, 2) px, (k, 33) visibility), NaN-padded."""
    import numpy as np

    xy, vis = np.full((k, 33, 2), np.nan), np.zeros((k, 33))
    for i, landmarks in enumerate(poses[:k]):
        xy[i] = [(p.x * width, p.y * height) for p in landmarks]
        vis[i] = [p.visibility or 0.0 for p in landmarks]
    return xy, vis


class ModelProbe:
    """Counts and times the pipeline's model calls (per landmarker role) and model loads.

    Wraps ``analyzer.pose.extract._Landmarkers.detect`` and ``create_landmarker`` in
    the measuring process only. If those internals are renamed the probe reports nothing
    and the benchmark still runs.
    """

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.call_s: dict[str, float] = {}
        self.loads = 0
        self.load_s = 0.0
        self.installed = False

    def install(self) -> None:
        try:
            from analyzer.pose import extract as pose_stage
        except ImportError:  # code from before the pose package
            from analyzer import pose as pose_stage

        landmarkers = getattr(pose_stage, "_Landmarkers", None)
        detect = getattr(landmarkers, "detect", None)
        create = getattr(pose_stage, "create_landmarker", None)
        if landmarkers is None or detect is None or create is None:
            return
        probe = self

        def timed_detect(self: Any, role: str, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return detect(self, role, *args, **kwargs)
            finally:
                probe.calls[role] = probe.calls.get(role, 0) + 1
                probe.call_s[role] = probe.call_s.get(role, 0.0) + time.perf_counter() - start

        def timed_create(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return create(*args, **kwargs)
            finally:
                probe.loads += 1
                probe.load_s += time.perf_counter() - start

        landmarkers.detect = timed_detect
        pose_stage.create_landmarker = timed_create
        self.installed = True

    def as_dict(self) -> dict[str, Any]:
        return {"calls": dict(self.calls), "call_s": dict(self.call_s), "loads": self.loads,
                "load_s": self.load_s} if self.installed else {}


def measure_analyze(clip: str, out_dir: str, overlay: bool, fresh: bool = True,
                    flip_test: bool | None = None) -> Timed:
    """:func:`analyzer.pipeline.analyze_video` on *clip* into *out_dir* (emptied first when *fresh*)."""
    from analyzer import pipeline

    out = Path(out_dir)
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
    probe = ModelProbe()
    probe.install()
    with Stopwatch() as watch:
        summary = pipeline.analyze_video(Path(clip), out, _settings(overlay, flip_test), _athlete(), progress=False)
    report = out / "report.html"
    overlay_file = out / "overlay.mp4"
    return Timed.of(int(summary["video"]["analysed_frames"]), watch,
                    stage_seconds=summary.get("stage_seconds", {}), from_cache=summary["pose"]["from_cache"],
                    detected_fraction=summary["pose"]["detected_fraction"], steps=summary.get("steps"),
                    flagged_steps=summary.get("flagged_steps"), report_html_bytes=report.stat().st_size,
                    overlay_bytes=overlay_file.stat().st_size if overlay_file.is_file() else 0,
                    model=probe.as_dict())


def measure_command_reanalysis(clip: str, landmarks: str, out_root: str) -> Timed:
    """``sprint-analyzer analyze CLIP --no-overlay`` as a command (a fresh interpreter, imports
    and all), its output folder seeded with the pose cache *landmarks* so that pose is skipped,
    and with the stills cache beside it (``.stills-cache/``, where the measured code keeps one),
    as the folder of an earlier analysis holds them."""
    out = Path(out_root)
    shutil.rmtree(out, ignore_errors=True)
    folder = out / Path(clip).stem  # the command's OUT/<video name>/
    folder.mkdir(parents=True)
    shutil.copyfile(landmarks, folder / "landmarks.npz")
    stills = Path(landmarks).parent / ".stills-cache"
    if stills.is_dir():
        shutil.copytree(stills, folder / stills.name)
    command = [sys.executable, "-m", "analyzer.cli", "analyze", clip, "-o", str(out), "--no-overlay", "--quiet"]
    with Stopwatch() as watch:
        proc = subprocess.run(command, cwd=_code_dir(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return Timed.of(int(summary["video"]["analysed_frames"]), watch, from_cache=summary["pose"]["from_cache"],
                    stage_seconds=summary.get("stage_seconds", {}))


def _code_dir() -> Path:
    """The folder holding the ``analyzer`` package this process imports (the measured code)."""
    import analyzer

    return Path(analyzer.__file__).resolve().parents[1]


def measure_batch(folder: str, out_root: str, workers: int, overlay: bool) -> Timed:
    """:func:`analyzer.batch.run` over every video in *folder* with *workers* processes."""
    from analyzer import batch

    out = Path(out_root)
    shutil.rmtree(out, ignore_errors=True)
    videos = batch.find_inputs(Path(folder))
    options = batch.BatchOptions(out_root=out, overlay=overlay, progress=False, force=True, workers=workers)
    with Stopwatch() as watch:
        result = batch.run(videos, options, source_root=Path(folder), write_index=True)
    frames = sum(json.loads((out / Path(r["report"]).parent / "summary.json").read_text())["video"]["analysed_frames"]
                 for r in result.rows if r["status"] == "ok")
    return Timed.of(frames, watch, videos=len(videos), workers=workers,
                    failed=[r["message"] for r in result.rows if r["status"] != "ok"])


def _child_main(conn: Any, fn: Callable[..., Timed], kwargs: dict[str, Any], log_path: str, preload: bool) -> None:
    """Entry point of a measuring process: import (if *preload*), measure, report usage through *conn*.

    Without *preload* the heavy imports fall inside the timed region, as in a command
    (and processes forked from this one import them again, as a batch's workers do).
    """
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)  # MediaPipe/TFLite and ffmpeg chatter goes to the log, not the table
    os.dup2(log, 2)
    reply: dict[str, Any]
    try:
        with Stopwatch() as imports:
            if preload:
                import mediapipe  # noqa: F401 - imported before the clock

                import analyzer.pipeline  # noqa: F401
        load_before = os.getloadavg()[0]
        timed = fn(**kwargs)
        load_after = os.getloadavg()[0]
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        reply = {"timed": timed, "import_s": imports.wall_s, "load": (load_before, load_after),
                 "peak_rss_mb": own.ru_maxrss / 1024.0, "children_peak_rss_mb": kids.ru_maxrss / 1024.0}
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as this figure's error
        traceback.print_exc()
        reply = {"error": f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"}
    conn.send(reply)
    conn.close()


# =============================================================================== parent side


@dataclass
class Figure:
    """One measurement, made in its own process.

    ``wall_s``/``cpu_s`` cover the timed region only; ``peak_rss_mb`` is the measuring
    process's peak resident set (``ru_maxrss``); ``children_peak_rss_mb`` that of the
    largest process it started and waited for: meaningful for forked workers and commands
    it ran, not for the ffmpeg encoder (Linux carries the starting process's peak into an
    exec'd child's ``ru_maxrss``); ``import_s`` the imports before the timed region;
    ``process_s`` the whole process, start to exit; ``load`` the 1-minute load average
    before and after.
    """

    clip: str
    name: str
    frames: int = 0
    wall_s: float = math.nan
    cpu_s: float = math.nan
    peak_rss_mb: float = math.nan
    children_peak_rss_mb: float = math.nan
    import_s: float = math.nan
    process_s: float = math.nan
    load: tuple[float, float] = (math.nan, math.nan)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.frames and self.wall_s > 0 else math.nan

    @property
    def cores(self) -> float:
        """CPU seconds per wall second: how many cores the measurement kept busy."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else math.nan

    @property
    def cpu_ms_per_frame(self) -> float:
        return 1000.0 * self.cpu_s / self.frames if self.frames else math.nan


def isolated(clip: str, name: str, fn: Callable[..., Timed], kwargs: dict[str, Any], log_dir: Path, *,
             preload: bool = True) -> Figure:
    """Run ``fn(**kwargs)`` in a fresh process and return its :class:`Figure` (*clip* labels it)."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", name).strip("_")
    log = log_dir / f"{len(list(log_dir.glob('*.log'))):02d}_{slug}.log"
    print(f"  {clip}: {name} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    proc = ctx.Process(target=_child_main, args=(send, fn, kwargs, str(log), preload), name=f"bench:{name}")
    proc.start()
    send.close()
    try:
        reply: dict[str, Any] = receive.recv()
    except EOFError:
        reply = {"error": f"the measuring process died (exit code {proc.exitcode}); see {log}"}
    proc.join()
    figure = Figure(clip, name, process_s=time.perf_counter() - start)
    if "error" in reply:
        figure.error = f"{reply['error']} (log: {log})"
        print(f"    failed: {figure.error}", file=sys.stderr)
        return figure
    timed: Timed = reply["timed"]
    figure.frames, figure.wall_s, figure.cpu_s, figure.extra = timed.frames, timed.wall_s, timed.cpu_s, timed.extra
    figure.peak_rss_mb, figure.children_peak_rss_mb = reply["peak_rss_mb"], reply["children_peak_rss_mb"]
    figure.import_s, figure.load = reply["import_s"], reply["load"]
    print(f"    {figure.wall_s:.1f} s, {figure.fps:.1f} frames/s, {figure.peak_rss_mb:.0f} MB, "
          f"load {figure.load[0]:.1f}", file=sys.stderr)
    return figure


def best(figures: Sequence[Figure]) -> Figure:
    """Of repeated measurements, the fastest successful one (the least disturbed)."""
    ok = [f for f in figures if f.error is None]
    return min(ok, key=lambda f: f.wall_s) if ok else figures[-1]


# =============================================================================== the plan


@dataclass
class ClipFigures:
    """Every figure of one clip, keyed by measurement name."""

    clip: Path
    info: dict[str, Any]
    figures: dict[str, Figure] = field(default_factory=dict)

    def get(self, name: str) -> Figure | None:
        figure = self.figures.get(name)
        return figure if figure is not None and figure.error is None else None

    def ratio(self, name: str, floor: str = "pose floor") -> float:
        """Throughput of *name* over the pose floor's (frames/s over frames/s)."""
        whole, base = self.get(name), self.get(floor)
        return whole.fps / base.fps if whole and base else math.nan


DECODE_RAW, DECODE, FLOOR = "decode, raw cv2", "decode, iter_frames", "pose floor"
ANALYZE_OFF, ANALYZE_ON = "analyze, overlay off", "analyze, overlay on"
CACHED, CACHED_COMMAND = "re-analyse, cached pose", "re-analyse, cached, command"
LONG, NATIVE = "analyze, long clip", "pose floor, native size"
FLIP = "analyze, flip test, overlay off"


def probe_info(clip: Path) -> dict[str, Any]:
    from analyzer import video

    info = video.probe_video(clip)
    return {"width": info.width, "height": info.height, "fps": info.fps, "frames": info.frame_count,
            "duration_s": info.duration_s, "codec": info.codec}


def measure_clip(clip: Path, args: argparse.Namespace, work: Path, *, primary: bool) -> ClipFigures:
    """The per-clip figures, back to back, each in its own process; best of ``--repeat``."""
    from analyzer.pipeline import Settings

    settings = Settings()
    result = ClipFigures(clip, probe_info(clip))
    out = work / clip.stem
    runs: dict[str, list[Figure]] = {}
    plan: list[tuple[str, Callable[..., Timed], dict[str, Any]]] = [
        (DECODE_RAW, measure_raw_decode, {"clip": str(clip)}),
        (DECODE, measure_decode, {"clip": str(clip), "max_side_px": settings.max_side_px}),
        (FLOOR, measure_pose_floor, {"clip": str(clip), "max_side_px": settings.max_side_px,
                                     "max_people": settings.max_people, "frame_limit": args.floor_frames}),
        (ANALYZE_OFF, measure_analyze, {"clip": str(clip), "out_dir": str(out / "overlay_off"), "overlay": False}),
    ]
    if not args.no_overlay:
        plan.append((ANALYZE_ON, measure_analyze,
                     {"clip": str(clip), "out_dir": str(out / "overlay_on"), "overlay": True}))
    if primary:
        plan.append((CACHED, measure_analyze,
                     {"clip": str(clip), "out_dir": str(out / "overlay_off"), "overlay": False, "fresh": False}))
        plan.append((FLIP, measure_analyze, {"clip": str(clip), "out_dir": str(out / "flip_test"), "overlay": False,
                                             "flip_test": True}))
        plan.append((CACHED_COMMAND, measure_command_reanalysis,
                     {"clip": str(clip), "landmarks": str(out / "overlay_off" / "landmarks.npz"),
                      "out_root": str(out / "command")}))
    if primary and args.native and max(result.info["width"], result.info["height"]) > settings.max_side_px:
        plan.append((NATIVE, measure_pose_floor, {"clip": str(clip), "max_side_px": None,
                                                  "max_people": settings.max_people, "frame_limit": args.floor_frames}))
    for _ in range(max(1, args.repeat)):
        for name, fn, kwargs in plan:
            preload = fn is not measure_command_reanalysis  # a command imports for itself
            runs.setdefault(name, []).append(isolated(clip.name, name, fn, kwargs, work / "logs", preload=preload))
    result.figures = {name: best(figures) for name, figures in runs.items()}
    if NATIVE in result.figures and result.get(FLOOR) and result.get(NATIVE):
        result.figures[NATIVE].extra["agreement"] = landmark_agreement(result.figures[FLOOR], result.figures[NATIVE])
    for figure in result.figures.values():  # landmarks served the comparison; keep the JSON small
        figure.extra.pop("landmarks_xy_px", None)
        figure.extra.pop("landmarks_visibility", None)
    return result


def landmark_agreement(small: Figure, native: Figure, min_visibility: float = 0.5) -> dict[str, float]:
    """How far the landmarks move when the model is fed full-size instead of downscaled frames.

    Per frame, the largest pose of each run (bounding-box diagonal); distances between the
    same landmarks, visible in both, in units of that body size. Agreement, not accuracy:
    there is no truth here.
    """
    import numpy as np

    a, b = small.extra["landmarks_xy_px"], native.extra["landmarks_xy_px"]
    va, vb = small.extra["landmarks_visibility"], native.extra["landmarks_visibility"]
    n = min(len(a), len(b))
    errors: list[float] = []
    only_one = 0
    for t in range(n):
        pa, pb = _largest_pose(a[t]), _largest_pose(b[t])
        if (pa is None) != (pb is None):
            only_one += 1
        if pa is None or pb is None:
            continue
        size = float(np.linalg.norm(np.ptp(a[t, pa], axis=0)))
        seen = (va[t, pa] >= min_visibility) & (vb[t, pb] >= min_visibility)
        if size > 0 and seen.any():
            errors.append(float(np.mean(np.linalg.norm(a[t, pa][seen] - b[t, pb][seen], axis=-1))) / size)
    if not errors:
        return {"frames_compared": 0.0, "frames_detected_by_one_only": float(only_one)}
    arr = np.asarray(errors)
    return {"frames_compared": float(arr.size), "frames_detected_by_one_only": float(only_one),
            "median_pct_body": 100 * float(np.median(arr)), "p95_pct_body": 100 * float(np.percentile(arr, 95))}


def _largest_pose(poses: Any) -> int | None:
    import numpy as np

    sizes = [float(np.linalg.norm(np.ptp(p, axis=0))) if np.isfinite(p).all() else -1.0 for p in poses]
    k = int(np.argmax(sizes))
    return k if sizes[k] > 0 else None


@dataclass
class Results:
    """Everything one benchmark run measured."""

    started: str
    machine: dict[str, Any]
    code: dict[str, Any]
    command: str
    clips: list[ClipFigures] = field(default_factory=list)
    long: Figure | None = None
    long_seconds: float = 0.0
    long_overlay: bool = True
    batch: list[Figure] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)


def machine_info() -> dict[str, Any]:
    import cv2
    import mediapipe
    import numpy

    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name")), "")
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_gb, 1), "platform": platform.platform(),
            "python": platform.python_version(), "mediapipe": mediapipe.__version__, "opencv": cv2.__version__,
            "numpy": numpy.__version__, "load_at_start": os.getloadavg()}


def _git(*args: str) -> str:
    proc = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode()


def select_code(mode: str, work: Path) -> dict[str, Any]:
    """Make this process and its children import the ``analyzer`` to measure; describe it.

    ``head``: the package as committed at HEAD, exported into *work*/code and put first on
    ``sys.path`` (spawned measuring processes inherit it; the editable install's finder
    comes after ``sys.path``). ``worktree``: the checkout's files as they are. Must run
    before anything imports ``analyzer``.
    """
    if "analyzer" in sys.modules:
        raise RuntimeError("select_code must run before analyzer is imported")
    commit = _git("rev-parse", "--short=12", "HEAD").strip()
    dirty = [line[3:] for line in _git("status", "--porcelain", "--", "analyzer").splitlines()]
    if mode == "worktree":
        return {"source": "working tree", "commit": commit, "uncommitted_files_measured": dirty}
    target = work / "code"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD", "analyzer"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    sys.path.insert(0, str(target))
    return {"source": f"HEAD exported to {target}", "commit": commit, "uncommitted_files_not_measured": dirty}


def run(args: argparse.Namespace) -> Results:
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="sprint-bench-"))
    (work / "logs").mkdir(parents=True, exist_ok=True)
    print(f"work folder (outputs and logs): {work}", file=sys.stderr)
    code = select_code(args.code, work)
    results = Results(dt.datetime.now().astimezone().isoformat(timespec="seconds"), machine_info(), code,
                      " ".join([Path(sys.executable).name, *sys.argv]))
    bench = benchmark_clip(args.source, args.seconds)
    clips = [Path(c) for c in args.clips] if args.clips else [bench, *shared_clips(args.shared_dir, args.shared_glob,
                                                                                   args.shared)]
    for i, clip in enumerate(clips):
        results.clips.append(measure_clip(clip, args, work, primary=i == 0))
    primary = clips[0]
    fps = results.clips[0].info["fps"]
    if args.long_seconds > 0:
        long_clip = looped_clip(primary, args.long_seconds, fps)
        results.long_seconds, results.long_overlay = args.long_seconds, not args.no_overlay
        kwargs = {"clip": str(long_clip), "out_dir": str(work / "long"), "overlay": results.long_overlay}
        results.long = isolated(long_clip.name, LONG, measure_analyze, kwargs, work / "logs")
    if args.batch_videos > 0:
        folder = batch_folder(primary, args.batch_videos)
        runs: dict[int, list[Figure]] = {1: [], args.workers: []}
        for _ in range(max(1, args.repeat)):  # interleaved, as the per-clip figures
            for workers, figures in runs.items():
                kwargs = {"folder": str(folder), "out_root": str(work / f"batch_{workers}"), "workers": workers,
                          "overlay": args.batch_overlay}
                name = f"batch of {args.batch_videos}, {workers} worker{'s' if workers > 1 else ''}"
                figures.append(isolated(folder.name, name, measure_batch, kwargs, work / "logs", preload=False))
        results.batch = [best(figures) for figures in runs.values()]
    results.targets = evaluate_targets(results)
    if not args.work_dir and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return results


# =============================================================================== targets


def memory_projection(results: Results, minutes: float = 10.0) -> tuple[float, float, bool]:
    """(peak RSS MB at *minutes*, slope MB per minute, measured rather than extrapolated)."""
    short = results.clips[0].get(ANALYZE_ON if results.long_overlay else ANALYZE_OFF) if results.clips else None
    long = results.long if results.long is not None and results.long.error is None else None
    if short is None or long is None:
        return math.nan, math.nan, False
    span_min = (long.frames - short.frames) / results.clips[0].info["fps"] / 60.0
    slope = (long.peak_rss_mb - short.peak_rss_mb) / span_min if span_min > 0 else math.nan
    measured = results.long_seconds >= 60.0 * minutes
    if measured:
        return long.peak_rss_mb, slope, True
    extra_min = minutes - long.frames / results.clips[0].info["fps"] / 60.0
    return long.peak_rss_mb + max(0.0, slope) * extra_min, slope, False


def evaluate_targets(results: Results) -> list[dict[str, Any]]:
    """Each target with its measured value and whether it is met (None: not measured)."""
    first = results.clips[0] if results.clips else None
    off = first.get(ANALYZE_OFF) if first else None
    cached = first.get(CACHED) if first else None
    command = first.get(CACHED_COMMAND) if first else None
    batch = [f for f in results.batch if f.error is None]
    speedup = batch[0].wall_s / batch[1].wall_s if len(batch) == 2 else math.nan
    batch_note = ""
    if len(batch) == 2:
        cores = min(os.cpu_count() or 1, batch[1].extra["workers"])
        batch_note = (f"1 worker kept {batch[0].cores:.2f} cores busy: at most {cores / batch[0].cores:.2f}x "
                      f"on {cores} cores")
    rss, _, measured = memory_projection(results)
    report_s = max((c.get(ANALYZE_OFF).extra["stage_seconds"].get("report", math.nan)  # type: ignore[union-attr]
                    for c in results.clips if c.get(ANALYZE_OFF)), default=math.nan)
    values: dict[str, tuple[float, str]] = {
        "ratio_overlay_off": (first.ratio(ANALYZE_OFF) if first else math.nan, ""),
        "ratio_overlay_on": (first.ratio(ANALYZE_ON) if first else math.nan, ""),
        "batch_speedup": (speedup, batch_note),
        "peak_rss_10min_mb": (rss, "extrapolated from the long clip's slope" if math.isfinite(rss) and not measured
                              else ""),
        "report_s": (report_s, "slowest clip"),
        "report_html_mb": (off.extra["report_html_bytes"] / MIB if off else math.nan, ""),
        "cached_s": (command.wall_s if command else math.nan,
                     f"as a command; {cached.wall_s:.2f} s in-process (imports done)" if cached else "as a command"),
    }
    rows = []
    for target in TARGETS:
        value, note = values[target.key]
        rows.append({"key": target.key, "target": target.text, "limit": target.describe(), "value": value,
                     "met": target.met(value), "note": note})
    return rows


# =============================================================================== output


def _cell(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "-" if not math.isfinite(value) else f"{value:.{digits}f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 2) -> str:
    """A plain text table: numeric columns right-aligned, text columns left-aligned."""
    cells = [[_cell(v, digits) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [i > 0 and all(isinstance(r[i], int | float) or r[i] is None for r in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        padded = (v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric, strict=True))
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


FIGURE_HEADERS = ("measurement", "frames", "wall s", "frames/s", "CPU s", "cores", "CPU ms/frame",
                  "peak RSS MB", "load")


def figure_table(figures: Sequence[Figure], children: str = "") -> str:
    """The figures as a table; *children* names a column for the children's peak RSS (workers)."""
    headers = [*FIGURE_HEADERS[:-1], *([children] if children else []), FIGURE_HEADERS[-1]]
    rows: list[list[Any]] = []
    for f in figures:
        if f.error:
            rows.append([f.name, "failed: " + f.error[:70], *([None] * (len(headers) - 2))])
            continue
        row = [f.name, f.frames, f.wall_s, f.fps, f.cpu_s, f.cores, f.cpu_ms_per_frame, f.peak_rss_mb]
        rows.append([*row, *([f.children_peak_rss_mb] if children else []), f"{f.load[0]:.1f}-{f.load[1]:.1f}"])
    return table(headers, rows)


def format_clip(c: ClipFigures) -> str:
    i = c.info
    parts = [f"clip {c.clip.name}: {i['width']}x{i['height']}, {i['fps']:.2f} fps, {i['frames']} frames, "
             f"{i['duration_s']:.1f} s, {i['codec']}"]
    decode = c.get(DECODE)
    if decode:
        parts[0] += (f"; the model is fed {decode.extra.get('model_input')}, "
                     f"{decode.extra.get('repeats', 0)} repeated frames")
    parts.append(figure_table(list(c.figures.values())))
    off = c.get(ANALYZE_OFF)
    if off:
        e = off.extra
        parts[-1] += (f"\nanalysis: runner detected in {100 * e['detected_fraction']:.0f} % of frames, "
                      f"{e['steps']} steps, {e['flagged_steps']} flagged (stills); "
                      f"report.html {e['report_html_bytes'] / 1024:.0f} kB")
    ratios = []
    for name, key in ((ANALYZE_OFF, "ratio_overlay_off"), (ANALYZE_ON, "ratio_overlay_on")):
        figure, floor = c.get(name), c.get(FLOOR)
        if figure and floor:
            target = next(t for t in TARGETS if t.key == key)
            ratios.append([name, c.ratio(name), target.describe(), floor.cpu_ms_per_frame / figure.cpu_ms_per_frame,
                           figure.cpu_ms_per_frame - floor.cpu_ms_per_frame])
    if ratios:
        parts.append(table(("whole / pose floor", "throughput ratio", "target", "CPU ratio",
                            "extra CPU ms/frame"), ratios))
    flip = c.get(FLIP)
    if flip and off:
        parts.append(f"the flip test (--flip-test) takes {off.fps / flip.fps:.2f}x the time of the same "
                     f"analysis without it ({flip.fps:.1f} against {off.fps:.1f} frames/s)")
    parts.extend(_stage_and_model_tables(c))
    native = c.get(NATIVE)
    if native and "agreement" in native.extra and c.get(FLOOR):
        a = native.extra["agreement"]
        parts.append(
            f"model fed native size vs downscaled: floor {native.fps:.1f} vs {c.get(FLOOR).fps:.1f} frames/s "  # type: ignore[union-attr]
            f"({native.cpu_ms_per_frame:.1f} vs {c.get(FLOOR).cpu_ms_per_frame:.1f} CPU ms/frame); "  # type: ignore[union-attr]
            f"landmarks differ by a median {_cell(a.get('median_pct_body'))} % of body size "
            f"(95th percentile {_cell(a.get('p95_pct_body'))} %) over {int(a['frames_compared'])} frames; "
            f"{int(a['frames_detected_by_one_only'])} frames detected at one size only")
    return "\n\n".join(parts)


def _stage_and_model_tables(c: ClipFigures) -> list[str]:
    analyses = [f for f in (c.get(ANALYZE_OFF), c.get(ANALYZE_ON), c.get(CACHED), c.get(CACHED_COMMAND)) if f]
    if not analyses:
        return []
    out = []
    stages = list(dict.fromkeys(k for f in analyses for k in f.extra["stage_seconds"]))
    rows = [[s, *(f.extra["stage_seconds"].get(s) for f in analyses)] for s in stages]
    rows.append(["(sum of stages)", *(sum(f.extra["stage_seconds"].values()) for f in analyses)])
    out.append(table(("stage seconds", *(f.name for f in analyses)), rows))
    model_rows: list[list[Any]] = []
    floor = c.get(FLOOR)
    for f in analyses:
        model = f.extra.get("model") or {}
        if not model.get("calls"):
            continue
        for role, calls in sorted(model["calls"].items()):
            seconds = model["call_s"][role]
            model_rows.append([f.name, role, calls, seconds, 1000 * seconds / calls])
        loads, load_s = model["loads"], model["load_s"]
        model_rows.append([f.name, "model loads", loads, load_s, 1000 * load_s / max(1, loads)])
        rest = f.wall_s - sum(model["call_s"].values()) - load_s
        model_rows.append([f.name, "(all but the model)", None, rest, 1000 * rest / f.frames])
    if floor:
        model_rows.append([FLOOR, "frame (bare loop)", floor.extra["model_calls"], floor.wall_s,
                           1000 * floor.wall_s / max(1, floor.extra["model_calls"])])
        model_rows.append([FLOOR, "model load", 1, floor.extra["model_load_s"], 1000 * floor.extra["model_load_s"]])
    if model_rows:
        out.append(table(("model work", "landmarker", "calls", "wall s", "ms each (per frame)"), model_rows, digits=1))
    return out


def format_results(r: Results) -> str:
    m = r.machine
    load = ", ".join(f"{x:.2f}" for x in m["load_at_start"])
    dirty = r.code.get("uncommitted_files_measured") or r.code.get("uncommitted_files_not_measured") or []
    parts = [f"sprint-analyzer benchmark, {r.started}\n{m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; "
             f"{m['platform']}; Python {m['python']}, mediapipe {m['mediapipe']}, OpenCV {m['opencv']}\n"
             f"code: analyzer at {r.code['commit']} ({r.code['source']}; uncommitted files in analyzer/: "
             f"{', '.join(dirty) or 'none'})\n"
             f"load average at start (1, 5, 15 min): {load}\ncommand: {r.command}"]
    parts.extend(format_clip(c) for c in r.clips)
    if r.long is not None and r.clips:
        short = r.clips[0].get(ANALYZE_ON if r.long_overlay else ANALYZE_OFF)
        rss, slope, measured = memory_projection(r)
        overlay = "on" if r.long_overlay else "off"
        parts.append(f"memory against clip length ({r.long_seconds:g} s loop of the benchmark clip, "
                     f"overlay {overlay})\n"
                     + figure_table([f for f in (short, r.long) if f is not None])
                     + f"\nslope {_cell(slope)} MB per minute of video; 10 minutes: {_cell(rss, 0)} MB "
                       f"({'measured' if measured else 'extrapolated'})")
    if r.batch:
        text = "batch scaling (same machine, back to back)\n" + figure_table(r.batch, children="worker RSS MB")
        if len(r.batch) == 2 and all(f.error is None for f in r.batch):
            text += f"\nspeed-up {r.batch[0].wall_s / r.batch[1].wall_s:.2f}x"
        parts.append(text)
    rows = [[t["target"], t["limit"], t["value"], {True: "met", False: "NOT met", None: "not measured"}[t["met"]],
             t["note"]] for t in r.targets]
    parts.append("targets (issue #7)\n" + table(("target", "limit", "measured", "verdict", "note"), rows))
    return "\n\n".join(parts)


def to_json(r: Results) -> str:
    def default(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if hasattr(value, "tolist"):
            return value.tolist()
        raise TypeError(type(value).__name__)

    data = dataclasses.asdict(r)
    for clip, figures in zip(data["clips"], r.clips, strict=True):  # derived figures, for readers of the JSON
        for name, figure in figures.figures.items():
            clip["figures"][name].update(fps=figure.fps, cores=figure.cores, cpu_ms_per_frame=figure.cpu_ms_per_frame)
        clip["ratios"] = {name: figures.ratio(name) for name in (ANALYZE_OFF, ANALYZE_ON)}
    return json.dumps(data, indent=2, default=default, allow_nan=True)


def from_json(text: str) -> Results:
    """A run written by :func:`to_json`, to print again (targets re-evaluated)."""
    derived = {"fps", "cores", "cpu_ms_per_frame"}

    def figure(d: dict[str, Any]) -> Figure:
        fields: dict[str, Any] = {k: v for k, v in d.items() if k not in derived}
        fields["load"] = tuple(fields["load"])
        return Figure(**fields)

    data = json.loads(text)
    clips = [ClipFigures(Path(c["clip"]), c["info"], {n: figure(f) for n, f in c["figures"].items()})
             for c in data.pop("clips")]
    long = figure(data.pop("long")) if data.get("long") else None
    batch = [figure(f) for f in data.pop("batch")]
    data.pop("targets", None)
    results = Results(**data, clips=clips, long=long, batch=batch)
    results.targets = evaluate_targets(results)
    return results


# =============================================================================== command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/benchmark.py", description=__doc__.split("\n\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Each measurement runs in its own process; on a shared machine use ratios measured in one run "
               "(and --repeat) rather than absolute speeds.\n\nexamples:\n"
               "  .venv/bin/python bench/benchmark.py                       everything (about 20-30 min)\n"
               "  .venv/bin/python bench/benchmark.py --shared 0 --long-seconds 0 --batch-videos 0   single clip\n"
               "  .venv/bin/python bench/benchmark.py --long-seconds 600    memory on a full 10-minute clip\n"
               "  .venv/bin/python bench/benchmark.py my_clip.mp4 --json out.json")
    parser.add_argument("clips", nargs="*", type=Path,
                        help="clips to measure (default: the generated benchmark clip, then shared clips); "
                             "the first gets the cached, long-clip and batch measurements")
    clips = parser.add_argument_group("clips")
    clips.add_argument("--source", type=Path, default=None,
                       help=f"clip looped into the benchmark clip (default: ../shared/videos/{DEFAULT_SOURCE}, "
                            "else a synthetic sprint)")
    clips.add_argument("--seconds", type=float, default=10.0, help="benchmark clip length (default 10 s)")
    clips.add_argument("--shared-dir", type=Path, default=SHARED_DIR, help="folder of real clips (default %(default)s)")
    clips.add_argument("--shared", type=int, default=3, metavar="N",
                       help="measure up to N real clips from --shared-dir (default 3; 0 for none)")
    clips.add_argument("--shared-glob", default="*.mp4", help="which real clips (default %(default)s)")
    what = parser.add_argument_group("measurements")
    what.add_argument("--floor-frames", type=int, default=0, metavar="N",
                      help="time the pose floor on the first N frames only (default 0: all)")
    what.add_argument("--no-overlay", action="store_true", help="skip the overlay-on analyses")
    what.add_argument("--native", action=argparse.BooleanOptionalAction, default=True,
                      help="also run the pose floor on full-size frames and compare landmarks (default: on)")
    what.add_argument("--long-seconds", type=float, default=60.0, metavar="S",
                      help="memory slope: analyse the benchmark clip looped to S seconds (default 60; "
                           "600 measures the 10-minute target directly, about 40 min here; 0 skips)")
    what.add_argument("--batch-videos", type=int, default=4, metavar="N",
                      help="batch scaling over N copies of the benchmark clip (default 4; 0 skips)")
    what.add_argument("--workers", type=int, default=2, help="workers compared with 1 (default 2)")
    what.add_argument("--batch-overlay", action="store_true", help="batch with the overlay on (default off)")
    what.add_argument("--repeat", type=int, default=1, metavar="K",
                      help="run each measurement but the long clip K times, interleaved, and keep the fastest "
                           "(default 1)")
    out = parser.add_argument_group("output")
    what.add_argument("--code", choices=("head", "worktree"), default="head",
                      help="measure the analyzer package as committed at HEAD (default), or the working tree")
    out.add_argument("--json", nargs="?", const="-", default=None, metavar="PATH",
                     help="also write every figure as JSON to PATH (no PATH: stdout, instead of the table)")
    out.add_argument("--show", type=Path, metavar="JSON",
                     help="print the tables of a run saved with --json; measure nothing")
    out.add_argument("--work-dir", type=Path, default=None,
                     help="keep analysis outputs and process logs here (default: a temporary folder)")
    out.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.workers < 2:
        raise SystemExit("--workers must be at least 2 (it is compared with 1 worker)")
    results = from_json(args.show.read_text(encoding="utf-8")) if args.show else run(args)
    if args.json == "-":
        print(to_json(results))
    else:
        print(format_results(results))
        if args.json:
            Path(args.json).write_text(to_json(results) + "\n", encoding="utf-8")
    return 0 if all(f.error is None for c in results.clips for f in c.figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
