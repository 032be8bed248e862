#!/usr/bin/env python3
"""Peak memory of every stage after pose, on long pose tracks made without running pose
for an hour (issue #7: "peak memory under 700 MB for a 10-minute 1080p clip, flat in clip
length").

How a long track is made: the benchmark clip (``benchmark.py``'s 10 s 1920x1080 60 fps
clip, generated once into ``bench/.cache/``) goes through pose once (cached there). For
each ``--frames N`` the clip is looped to N frames by stream copy (instant, as the
benchmark's long clip) and its 600-frame track is tiled to N frames (frame indices and
times continue, per-frame arrays repeat) and stored as that looped video's pose cache.
The loop is the one ``benchmark.py --long-seconds 600`` analyses: a tracking camera, so
the runner stays in view across the seam and steps keep being found (compare the steps
column with the 1 546 steps of the measured 10-minute run).

Each N is then analysed by :func:`analyzer.pipeline.analyze_video` (pose from the cache,
overlay off unless ``--overlay``) in a fresh interpreter, with the pipeline's stage
functions wrapped: before each call the peak (``VmHWM``) is reset to the current RSS by
writing 5 to ``/proc/self/clear_refs``; after it the peak and the RSS are read. So each
row's peak is that stage's own, on top of what the process held before it, and the
process peak is the largest of them. ``--with-pose`` first runs the real pose stage on
the 10 s clip in that process (and throws its track away), so that the analysis starts
from what the landmarkers leave behind, as in a run without the cache.

Linux only (``/proc``). The code measured is the ``analyzer`` package in ``--code``
(default: this checkout); the child prints the path it imported.

    .venv/bin/python bench/memory_stages.py                      # 600 and 36 000 frames
    .venv/bin/python bench/memory_stages.py --frames 36000 --with-pose
    .venv/bin/python bench/memory_stages.py --frames 36000 --assembly   # + the pose stage's track assembly
    .venv/bin/python bench/memory_stages.py --code /tmp/old      # a folder holding analyzer/
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
MIB = 1024.0 * 1024.0

#: Functions wrapped in the measuring process, in pipeline order: (module, attribute, label).
#: Missing ones are skipped, so older and newer code can be measured alike.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("analyzer.pose", "extract_pose_cached", "pose track (from the cache)"),
    ("analyzer.view", "assess_view", "view.assess_view"),
    ("analyzer.kinematics", "from_pose", "kinematics.from_pose"),
    ("analyzer.momentum", "angular_momentum", "momentum.angular_momentum"),
    ("analyzer.steps", "analyse_steps", "steps.analyse_steps"),
    ("analyzer.pipeline", "analyse_counterbalance", "analyse_counterbalance"),
    ("analyzer.pipeline", "frames_table", "pipeline.frames_table"),
    ("analyzer.pipeline", "step_rows", "pipeline.step_rows"),
    ("analyzer.outputs", "write_columns_csv", "frames.csv"),
    ("analyzer.outputs", "write_rows_csv", "steps.csv"),
    ("analyzer.pipeline", "_write_visuals", "overlay and stills"),
    ("analyzer.report", "render_report", "report.html"),
    ("analyzer.outputs", "write_json", "summary.json"),
)


# ================================================================== the measuring process

def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _rss_mb() -> float:
    return _status_kb("VmRSS") / 1024.0


def _hwm_mb() -> float:
    return _status_kb("VmHWM") / 1024.0


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
        fh.write("5")


class Meter:
    """Per-call peaks of wrapped functions, and the process's peak across all of them."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.process_peak_mb = _hwm_mb()
        self.process_peak_at = "start"
        self._open: list[float] = []  # the peak so far of each measurement under way
        self._current = "start"

    def _note_peak(self) -> float:
        hwm = _hwm_mb()
        if hwm > self.process_peak_mb:
            self.process_peak_mb, self.process_peak_at = hwm, self._current
        self._open = [max(p, hwm) for p in self._open]
        return hwm

    def measure(self, label: str, fn: Callable[[], Any]) -> Any:
        self._note_peak()  # whatever ran since the last reading (code between stages)
        outer, self._current = self._current, label
        _reset_peak()
        before = _rss_mb()
        t0 = time.perf_counter()
        self._open.append(before)
        try:
            return fn()
        finally:
            seconds = time.perf_counter() - t0
            self._note_peak()
            peak = self._open.pop()  # nested measurements reset VmHWM: the largest reading inside
            after = _rss_mb()
            self.rows.append({"stage": label, "depth": len(self._open), "seconds": seconds, "rss_before_mb": before,
                              "peak_mb": peak, "after_mb": after})
            self._current = outer
            _reset_peak()

    def wrap(self, module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            return self.measure(label, lambda: original(*args, **kwargs))

        setattr(module, name, wrapped)

    def finish(self) -> None:
        self._note_peak()


def child_main(args: argparse.Namespace) -> int:
    meter = Meter()
    start_rss = _rss_mb()

    def imports() -> Any:
        import numpy  # noqa: F401

        from analyzer import outputs, overlay, pipeline, report  # noqa: F401
        return pipeline

    pipeline = meter.measure("imports (pipeline, report, overlay)", imports)
    import analyzer
    from analyzer import pose, video

    if args.pose_clip:
        def pose_stage() -> None:
            info = video.probe_video(Path(args.pose_clip))
            pose.extract_pose(info, progress=False)

        meter.measure(f"pose on {Path(args.pose_clip).name} (track discarded)", pose_stage)

    if args.assembly:
        measure_assembly(meter, pose, Path(args.out) / "landmarks.npz")

    for module_name, attr, label in STAGES:
        module = importlib.import_module(module_name)
        if hasattr(module, attr):
            meter.wrap(module, attr, label)

    def no_pose(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the pose cache was not used: the measurement would run pose on the whole clip")

    pose.extract_pose = no_pose  # the cache must hold
    settings = pipeline.Settings(overlay=args.overlay)
    from analyzer.athlete import resolve_athlete

    athlete = resolve_athlete(height_m=None, mass_kg=None, sex=None, sidecar=None)  # as benchmark.py
    summary = meter.measure("analyze_video (whole)", lambda: pipeline.analyze_video(
        Path(args.video), Path(args.out), settings, athlete, progress=False))
    meter.finish()
    result = {
        "analyzer": str(Path(analyzer.__file__).resolve().parent),
        "frames": summary["video"]["analysed_frames"],
        "steps": summary["steps"],
        "start_rss_mb": start_rss,
        "end_rss_mb": _rss_mb(),
        "process_peak_mb": meter.process_peak_mb,
        "process_peak_at": meter.process_peak_at,
        "stage_seconds": summary.get("stage_seconds", {}),
        "rows": meter.rows,
    }
    Path(args.result).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


def measure_assembly(meter: Meter, pose: Any, npz: Path) -> None:
    """The end of the pose stage, which the analysis from the cache never runs: the track
    assembled (``extract._assemble_track``, left/right swap fix included) from a pose store
    holding the cached track's poses, one per detected frame. Skipped, with a note, for
    code without that store."""
    import numpy as np

    try:
        from analyzer.landmarks import NUM_LANDMARKS
        from analyzer.pose.detections import PoseStore, Poses, to_pixels
        from analyzer.pose.extract import _assemble_track
    except ImportError:
        print("no pose store and assembly (analyzer.pose.extract) in this code: assembly not measured",
              file=sys.stderr)
        return
    src = pose.PoseTrack.from_npz(npz)
    width, height = src.image_width, src.image_height
    view = np.array([[width, height, 0.0, 0.0, 1.0]])
    store = PoseStore()
    for t in range(src.num_frames):
        if not src.detected[t]:
            store.add(Poses.empty(), np.zeros(0, dtype=int))
            continue
        normalised = np.zeros((1, NUM_LANDMARKS, 3))
        normalised[0, :, :2] = src.image_xy_px[t] / (width, height)
        normalised[0, :, 2] = src.image_z[t]
        xy, z = to_pixels(normalised, view, width)
        store.add(Poses(xy, z, src.world_xyz_m[t][None], src.visibility[t][None], src.presence[t][None],
                              np.zeros(1, dtype=int), normalised, view), np.zeros(1, dtype=int))
    n = src.num_frames
    lists = (src.frame_index.tolist(), src.time_s.tolist(), src.is_repeat.tolist(),
             [tuple(row) for row in src.background_shift_px.tolist()])
    fps = 1.0 / float(np.median(np.diff(src.time_s))) if n > 1 else 30.0
    info = dataclasses.make_dataclass("Info", ["width", "height", "fps"])(width, height, fps)
    del src
    meter.measure(f"pose: track assembly and swap fix ({n} frames, store built from the cache)",
                  lambda: _assemble_track(info, Path(pose.DEFAULT_MODEL_PATH), *lists, store, 0, "", True))


# ======================================================================= the parent

def source_track(clip: Path) -> Any:
    """The pose track of *clip*, extracted once into ``bench/.cache/memory/`` (the pipeline's cache)."""
    from analyzer import pose, video

    settings = benchmark._settings(False)
    info = video.probe_video(clip)
    npz = CACHE_DIR / "memory" / clip.stem / "landmarks.npz"
    npz.parent.mkdir(parents=True, exist_ok=True)
    track, cached = pose.extract_pose_cached(
        info, npz, model_path=settings.model_path, start_s=settings.start_s, end_s=settings.end_s,
        max_people=settings.max_people, max_side_px=settings.max_side_px, progress=True)
    if not cached:
        print(f"pose of {clip.name} cached in {npz}", file=sys.stderr)
    return track


def tiled_track(track: Any, frames: int) -> Any:
    """*track* repeated to *frames* frames: per-frame arrays tiled, frame indices and times continuing."""
    import numpy as np

    n = track.num_frames
    reps = -(-frames // n)
    step = float(np.median(np.diff(track.time_s)))
    values: dict[str, Any] = {}
    for f in dataclasses.fields(track):
        value = getattr(track, f.name)
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
            value = np.concatenate([value] * reps)[:frames]
        values[f.name] = value
    values["frame_index"] = track.frame_index[0] + np.arange(frames, dtype=track.frame_index.dtype)
    values["time_s"] = track.time_s[0] + step * np.arange(frames)
    values["left_right_swaps_fixed"] = track.left_right_swaps_fixed * reps
    return type(track)(**values)


def prepare(clip: Path, frames: int, fps: float, short: Any, out_dir: Path, overlay: bool) -> Path:
    """The looped video of *frames* frames, with the tiled track stored as its pose cache in *out_dir*."""
    from unittest import mock

    from analyzer import pose, video

    looped = clip if frames == short.num_frames else benchmark.looped_clip(clip, frames / fps, fps)
    info = video.probe_video(looped)
    if info.frame_count != frames:
        raise SystemExit(f"{looped.name} has {info.frame_count} frames, not {frames}")
    settings = benchmark._settings(overlay)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.iterdir():  # an earlier measurement's outputs (files only)
        if stale.is_file():
            stale.unlink()
    track = tiled_track(short, frames)
    with mock.patch.object(pose, "extract_pose", lambda *a, **k: track):
        pose.extract_pose_cached(info, out_dir / "landmarks.npz", model_path=settings.model_path,
                                 start_s=settings.start_s, end_s=settings.end_s, max_people=settings.max_people,
                                 max_side_px=settings.max_side_px)
    return looped


def run_child(code: Path, video: Path, out_dir: Path, overlay: bool, with_pose: Path | None,
              assembly: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--child", "--video", str(video),
                   "--out", str(out_dir), "--result", str(result)]
        if overlay:
            command.append("--overlay")
        if with_pose is not None:
            command += ["--pose-clip", str(with_pose)]
        if assembly:
            command.append("--assembly")
        env = dict(os.environ, PYTHONPATH=str(code))
        proc = subprocess.run(command, env=env, cwd=str(code), check=False)
        if proc.returncode != 0:
            raise SystemExit(f"the measuring process failed (exit {proc.returncode})")
        return json.loads(result.read_text(encoding="utf-8"))


def format_result(r: dict[str, Any]) -> str:
    load = r.get("load_1min_before_after", [float("nan")] * 2)
    lines = [f"{r['frames']} frames, {r['steps']} steps; analyzer from {r['analyzer']}; "
             f"load {load[0]:.1f} / {load[1]:.1f} (1-minute, before / after)",
             f"process peak {r['process_peak_mb']:.0f} MB (during: {r['process_peak_at']}); "
             f"RSS {r['start_rss_mb']:.0f} MB at start, {r['end_rss_mb']:.0f} MB at the end", "",
             "| stage | s | RSS before MB | peak MB | peak above before MB | RSS after MB | kept MB |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in r["rows"]:
        name = ("  " * row["depth"]) + row["stage"] if row["depth"] else f"**{row['stage']}**"
        lines.append(f"| {name} | {row['seconds']:.2f} | {row['rss_before_mb']:.0f} | {row['peak_mb']:.0f} | "
                     f"+{row['peak_mb'] - row['rss_before_mb']:.0f} | {row['after_mb']:.0f} | "
                     f"{row['after_mb'] - row['rss_before_mb']:+.0f} |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/memory_stages.py", description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, nargs="+", default=[600, 36000],
                        help="track lengths to measure, each in its own process (default: 600 36000)")
    parser.add_argument("--clip", type=Path, default=None,
                        help="clip whose pose is tiled (default: benchmark.py's 10 s 1080p60 clip)")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="folder holding the analyzer package to measure (default: this checkout)")
    parser.add_argument("--with-pose", action="store_true",
                        help="run the pose stage on the clip first in the measuring process (about a minute)")
    parser.add_argument("--overlay", action="store_true",
                        help="write overlay.mp4 too (decodes and encodes the whole looped clip: slow)")
    parser.add_argument("--assembly", action="store_true",
                        help="first measure the pose stage's end (track assembly, swap fix) on a store of N "
                             "frames built from the tiled track; the analysis then starts from what it leaves")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where the outputs go (default: bench/.cache/memory/out)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    child = parser.add_argument_group("internal (the measuring process)")
    child.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    child.add_argument("--video", help=argparse.SUPPRESS)
    child.add_argument("--out", help=argparse.SUPPRESS)
    child.add_argument("--result", help=argparse.SUPPRESS)
    child.add_argument("--pose-clip", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.child:
        return child_main(args)
    if not Path("/proc/self/clear_refs").exists():
        raise SystemExit("needs Linux's /proc/self/clear_refs")
    code = args.code.resolve()
    if not (code / "analyzer" / "__init__.py").is_file():
        raise SystemExit(f"no analyzer package in {code}")
    clip = args.clip or benchmark.benchmark_clip(None, 10.0)
    short = source_track(clip)
    from analyzer import video

    fps = video.probe_video(clip).fps
    work = args.work_dir or CACHE_DIR / "memory" / "out"
    results = []
    for frames in args.frames:
        out_dir = work / f"{frames}f"
        looped = prepare(clip, frames, fps, short, out_dir, args.overlay)
        print(f"measuring {frames} frames ({looped.name}) ...", file=sys.stderr, flush=True)
        load_before = os.getloadavg()[0]
        r = run_child(code, looped, out_dir, args.overlay, clip if args.with_pose else None, args.assembly)
        r["load_1min_before_after"] = [load_before, os.getloadavg()[0]]
        results.append(r)
        print(format_result(r) + "\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    if "--child" in sys.argv[1:]:
        # the measuring process imports only --code's analyzer (PYTHONPATH), never this checkout's
        sys.exit(main())
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    import benchmark  # noqa: E402

    CACHE_DIR = benchmark.CACHE_DIR
    sys.exit(main())
