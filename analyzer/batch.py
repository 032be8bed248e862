"""Batch runs: find the videos, analyse each (in parallel processes), never stop on one.

Each video's outputs go to ``OUT/<name>/``; ``summary.json`` is written last, so its
presence with the same settings fingerprint and source file means the video is done
(an interrupted run re-does only what is missing, after removing the temporary files a
killed run may have left). A failing video gets ``error.log`` (with the traceback) in its
folder and one line in ``batch_summary.csv``; a worker process that dies (a crash in a
native library, or out of memory) costs only the video it was analysing.
"""
from __future__ import annotations

import json
import os
import signal
import traceback
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from analyzer import atomic, outputs
from analyzer.athlete import SettingsError, find_sidecar_row, resolve_athlete
from analyzer.counterbalance import Thresholds

VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mts", ".m2ts", ".3gp", ".mpg", ".mpeg", ".wmv", ".flv", ".ts",
})
#: Files in a video folder that are ours or the user's notes, never inputs.
IGNORED_NAMES = frozenset({"athletes.csv", ".DS_Store", "Thumbs.db", "desktop.ini"})
#: Other kinds of media a phone folder holds, named in the "skipped" message.
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".heic", ".heif", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".dng"})
AUDIO_EXTENSIONS = frozenset({".m4a", ".mp3", ".wav", ".aac", ".flac", ".ogg", ".opus", ".caf", ".aiff", ".amr"})
#: Files that mark a folder as our own output (a batch's OUT, or one video's folder).
OUTPUT_MARKERS = ("batch_summary.csv", "landmarks.npz")
#: Temporary files of atomic writes (analyzer.atomic); a killed run can leave them behind.
PARTIAL_GLOB = ".*.partial-*"


class OutputError(Exception):
    """The output folder cannot be written (one line for the user)."""


@dataclass(frozen=True)
class BatchOptions:
    """Options shared by every video of a run (per-video values may come from the sidecar)."""

    out_root: Path = Path("reports")
    height_m: float | None = None
    mass_kg: float | None = None
    sex: str | None = None
    fps: float | None = None
    start_s: float | None = None
    end_s: float | None = None
    model_path: Path | None = None
    overlay: bool = True
    flip_test: bool | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    force: bool = False
    progress: bool = True
    workers: int = 1


@dataclass
class BatchResult:
    rows: list[dict[str, Any]]

    @property
    def all_ok(self) -> bool:
        return all(r["status"] in ("ok", "skipped") and not r.get("failed") for r in self.rows)


def is_video_name(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def _is_output_folder(folder: Path) -> bool:
    return any((folder / marker).is_file() for marker in OUTPUT_MARKERS)


def find_inputs(folder: Path, *, recursive: bool = False, exclude: Path | None = None) -> list[Path]:
    """Every candidate input file in *folder* (hidden files, our outputs and the sidecar excluded).

    Files without a video extension are still returned, so that the batch summary can
    say why each was skipped rather than silently ignoring a user's file. So are links
    to missing files. In a recursive search, folders written by an earlier run (holding
    ``batch_summary.csv`` or ``landmarks.npz``) are left out wherever they are, so that
    no ``overlay.mp4`` is taken for an input.
    """
    folder = folder.resolve()
    excluded = exclude.resolve() if exclude is not None else None
    if excluded is not None and folder not in excluded.parents:
        excluded = None  # the output folder is not inside the video folder: nothing of it to skip
    pattern = "**/*" if recursive else "*"
    found = []
    output_folders: dict[Path, bool] = {}
    for path in sorted(folder.glob(pattern)):
        broken_link = path.is_symlink() and not path.exists()
        if not (path.is_file() or broken_link) or path.name.startswith(".") or path.name in IGNORED_NAMES:
            continue
        if excluded is not None and (path == excluded or excluded in path.parents):
            continue
        parents = path.relative_to(folder).parts[:-1]
        if any(part.startswith(".") for part in parents):
            continue
        if recursive and parents:
            below = [folder.joinpath(*parents[:k]) for k in range(1, len(parents) + 1)]
            if any(output_folders.setdefault(d, _is_output_folder(d)) for d in below):
                continue
        found.append(path)
    return found


def output_name(video: Path, source_root: Path) -> str:
    """Folder name for a video's outputs: its stem, prefixed by subfolders in recursive runs."""
    try:
        rel = video.resolve().relative_to(source_root.resolve())
    except ValueError:
        rel = Path(video.name)
    parts = list(rel.parent.parts) + [rel.stem]
    return "__".join(parts)


def output_names(videos: list[Path], source_root: Path) -> list[str]:
    """Output folder names for a run's inputs, distinct even where :func:`output_name` is not.

    ``clip.mp4`` and ``clip.mov`` (or ``Clip.mp4`` and ``clip.mp4``, one folder on macOS and
    Windows) would share ``OUT/clip/`` and overwrite each other's results; such videos get
    their extension in the name (``clip_mp4``, ``clip_mov``), then a number if still equal.
    Only files with a video extension take part (the others write no folder).
    """
    names = [output_name(v, source_root) for v in videos]
    counts = Counter(n.casefold() for v, n in zip(videos, names) if is_video_name(v))
    names = [f"{n}_{v.suffix.lstrip('.').lower()}" if is_video_name(v) and counts[n.casefold()] > 1 else n
             for v, n in zip(videos, names)]
    seen: Counter[str] = Counter()
    unique = []
    for v, n in zip(videos, names):
        if is_video_name(v):
            seen[n.casefold()] += 1
            if seen[n.casefold()] > 1:
                n = f"{n}_{seen[n.casefold()]}"
        unique.append(n)
    return unique


def _source_stamp(video: Path) -> dict[str, int]:
    st = video.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def already_done(out_dir: Path, fingerprint: str, stamp: dict[str, int]) -> dict[str, Any] | None:
    """The finished summary.json for these settings and this file, or None."""
    path = out_dir / "summary.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("settings_fingerprint") == fingerprint and data.get("source_stamp") == stamp:
        return data
    return None


def row_from_summary(video: Path, data: dict[str, Any], status: str, message: str, report: str) -> dict[str, Any]:
    return {
        "video": str(video), "status": status, "message": message, "steps": data.get("steps"),
        "flagged_steps": data.get("flagged_steps"), "cadence_steps_per_min": data.get("cadence_steps_per_min"),
        "mean_contact_s": data.get("mean_contact_s"), "report": report, "mean_flight_s": data.get("mean_flight_s"),
        "mean_lag_ms": data.get("mean_lag_ms"), "view": (data.get("view") or {}).get("view"),
        "fps": (data.get("video") or {}).get("fps"), "warnings": data.get("warnings") or [],
    }


def _skip_message(video: Path) -> str:
    ext = video.suffix.lower()
    if ext in IMAGE_EXTENSIONS:
        return f"an image ('{video.suffix}'), not a video"
    if ext in AUDIO_EXTENSIONS:
        return f"an audio file ('{video.suffix}'), not a video"
    return f"not a video file (extension '{video.suffix or 'none'}')"


def _error_row(video: Path, message: str) -> dict[str, Any]:
    return {"video": str(video), "status": "error", "message": message, "report": "", "warnings": []}


def _write_error_log(out_dir: Path, video: Path, message: str, details: str) -> None:
    try:
        atomic.write_text(out_dir / "error.log", f"{video}\n{message}\n\n{details}")
    except OSError:
        pass  # the row still says what went wrong


def remove_partial_files(out_dir: Path) -> None:
    """Delete the temporary files a killed run left in a video's folder (before redoing it)."""
    for path in [*out_dir.glob(PARTIAL_GLOB), *(out_dir / outputs.STILLS_CACHE_DIR).glob(PARTIAL_GLOB)]:
        try:
            path.unlink()
        except OSError:
            pass


def analyse_one(video: Path, options: BatchOptions, source_root: Path, position: int = 0,
                name: str | None = None) -> dict[str, Any]:
    """Analyse one video into OUT/<name>/; return its batch row. Never raises for bad input.

    *name* is the output folder's name (default :func:`output_name`).
    """
    from analyzer import pipeline  # imported in the worker process

    name = name or output_name(video, source_root)
    out_dir = options.out_root / name
    report = f"{name}/report.html"
    if not is_video_name(video):
        return {"video": str(video), "status": "skipped", "report": "", "warnings": [], "message": _skip_message(video)}
    if video.is_symlink() and not video.exists():
        message = f"'{video.name}' is a link to a file that does not exist ({os.readlink(video)})"
        _write_error_log(out_dir, video, message, "")
        return _error_row(video, message)
    try:
        sidecar = find_sidecar_row(video, stop_at=source_root)
        athlete = resolve_athlete(height_m=options.height_m, mass_kg=options.mass_kg, sex=options.sex, sidecar=sidecar)
        fps, fps_source = options.fps, "--fps"
        if fps is None and sidecar is not None and sidecar.fps is not None:
            fps, fps_source = sidecar.fps, "sidecar"
        settings = pipeline.Settings(fps=fps, fps_source=fps_source, start_s=options.start_s, end_s=options.end_s,
                                     model_path=options.model_path, overlay=options.overlay,
                                     flip_test=options.flip_test, thresholds=options.thresholds)
        stamp = _source_stamp(video)
        fingerprint = settings.fingerprint(athlete)
        if not options.force:
            done = already_done(out_dir, fingerprint, stamp)
            if done is not None:
                return row_from_summary(video, done, "ok", "already analysed with these settings (use --force to redo)", report)
        remove_partial_files(out_dir)
        data = pipeline.analyze_video(video, out_dir, settings, athlete, source_stamp=stamp,
                                      progress=options.progress, progress_position=position)
        (out_dir / "error.log").unlink(missing_ok=True)
        problems = data.get("problems") or []
        return row_from_summary(video, data, "ok", problems[0] if problems else "", report)
    except Exception as exc:  # one video's failure must never stop the batch
        message = str(exc) if isinstance(exc, SettingsError) else getattr(exc, "user_message", None) or _one_line(exc)
        _write_error_log(out_dir, video, message, traceback.format_exc())
        return _error_row(video, message)


def _one_line(exc: BaseException) -> str:
    from analyzer import pipeline, pose, video

    known = (video.VideoError, pose.PoseModelError, pipeline.AnalysisError)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, known):
        return text
    if isinstance(exc, OSError):
        return f"cannot write or read a file: {exc.strerror or text} ({exc.filename or ''})".replace(" ()", "")
    return f"internal error ({type(exc).__name__}: {text}); the traceback is in error.log"


def _check_writable(out_root: Path) -> None:
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        probe = out_root / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder {out_root}: {exc.strerror or exc}") from None


#: The row's message for a video whose worker process died while analysing it.
WORKER_DIED = ("the process analysing it died (a crash in a native library, or the computer ran out of "
               "memory); the other videos were not affected")


def run(videos: list[Path], options: BatchOptions, *, source_root: Path, write_index: bool) -> BatchResult:
    """Analyse *videos*; write batch_summary.csv and index.html when *write_index*.

    Raises:
        OutputError: the output folder cannot be written (before any work).
        KeyboardInterrupt: after writing the rows of the videos finished so far.
    """
    _check_writable(options.out_root)
    rows: dict[int, dict[str, Any]] = {}
    names = output_names(videos, source_root)
    workers = max(1, min(options.workers, len(videos)))
    overall = tqdm(total=len(videos), desc="videos", unit="video", disable=not options.progress or len(videos) < 2,
                   position=0, leave=True)
    try:
        if workers == 1:
            for i, video in enumerate(videos):
                overall.set_postfix_str(video.name[:40])
                rows[i] = analyse_one(video, options, source_root, position=1 if len(videos) > 1 else 0,
                                      name=names[i])
                overall.update()
        else:
            _run_parallel(videos, names, options, source_root, workers, rows, overall.update)
    finally:
        overall.close()
        ordered = [rows[i] for i in sorted(rows)]
        if write_index and ordered:
            write_batch_outputs(ordered, options.out_root)
    result = BatchResult(ordered)
    for line in closing_lines(ordered, options.out_root, write_index):
        tqdm.write(line)
    return result


def closing_lines(rows: list[dict[str, Any]], out_root: Path, batch: bool) -> list[str]:
    """What a run tells the user at its end: one line per video that failed or was skipped,
    and where to look: the index and the counts for a batch, the report for one video."""
    lines = [f"{row['video']}: {row['status']}: {row['message']}" for row in rows if row["status"] in ("error", "skipped")]
    done = [row for row in rows if row["status"] == "ok"]
    if batch and rows:
        failed = sum(row["status"] == "error" for row in rows)
        skipped = sum(row["status"] == "skipped" for row in rows)
        flagged = sum(int(row.get("flagged_steps") or 0) for row in done)
        lines.append(f"{len(done)} analysed ({flagged} flagged step{'s' if flagged != 1 else ''} in all), "
                     f"{skipped} skipped, {failed} failed: open {out_root / 'index.html'}")
    elif len(done) == 1:
        row = done[0]
        lines.append(f"{row['video']}: {row.get('steps') or 0} steps, {row.get('flagged_steps') or 0} flagged: "
                     f"open {out_root / row['report']}")
    return lines


def _worker_init() -> None:
    """Workers die on SIGTERM as usual (the pool ends its workers that way); the main
    process alone turns it into an interruption (see analyzer.cli)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run_parallel(videos: list[Path], names: list[str], options: BatchOptions, source_root: Path, workers: int,
                  rows: dict[int, dict[str, Any]], advance: Any) -> None:
    """Fill *rows* using a pool of worker processes.

    When a worker dies, every video then in flight fails with the pool. Those that were
    running beside others are suspects, not culprits: each is analysed again alone in a
    fresh pool, and only a video whose worker dies while it runs alone is an error.
    """
    queue = deque(range(len(videos)))
    suspects: deque[int] = deque()
    pending: dict[Future, int] = {}
    slot_of: dict[Future, int] = {}
    pool: ProcessPoolExecutor | None = None
    slots: list[int] = []

    def died(i: int) -> None:
        out_dir = options.out_root / names[i]
        _write_error_log(out_dir, videos[i], WORKER_DIED,
                         "The worker process ended without a Python traceback (killed by a signal or a fault "
                         "in native code).\n")
        rows[i] = _error_row(videos[i], WORKER_DIED)
        advance()

    try:
        while queue or suspects or pending:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
                slots = list(range(1, workers + 1))
            while slots and (queue or suspects) and not (suspects and pending):
                alone = bool(suspects)  # a suspect runs with nothing beside it
                i = suspects.popleft() if alone else queue.popleft()
                slot = slots.pop(0)
                try:
                    fut = pool.submit(analyse_one, videos[i], options, source_root, slot, names[i])
                except BrokenProcessPool:  # broke since the last wait: its futures say which ran
                    (suspects if alone else queue).appendleft(i)
                    slots.append(slot)
                    break
                pending[fut], slot_of[fut] = i, slot
                if alone:
                    break
            if not pending:  # the pool broke with nothing in flight
                pool.shutdown(wait=True)
                pool = None
                continue
            in_flight = len(pending)
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = []
            for fut in done:
                i = pending.pop(fut)
                slots.append(slot_of.pop(fut))
                try:
                    rows[i] = fut.result()
                except BrokenProcessPool:
                    broken.append(i)
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. the result could not be sent back
                    rows[i] = _error_row(videos[i], f"the process analysing it failed ({type(exc).__name__}: {exc})")
                advance()
            if broken:
                if in_flight == 1:
                    died(broken[0])
                else:
                    suspects.extend(sorted(broken))
                for fut, i in list(pending.items()):  # the rest of the broken pool's futures
                    suspects.append(i)
                    del pending[fut], slot_of[fut]
                pool.shutdown(wait=True)
                pool = None
    except BaseException:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            for fut, i in pending.items():  # videos that finished while the pool wound down
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    rows[i] = fut.result()
        raise
    if pool is not None:
        pool.shutdown(wait=True)


def write_batch_outputs(rows: list[dict[str, Any]], out_root: Path) -> None:
    """batch_summary.csv and index.html for the rows so far."""
    csv_rows = [dict(r, warnings=" | ".join(r.get("warnings") or [])) for r in rows]
    outputs.write_rows_csv(out_root / "batch_summary.csv", outputs.BATCH_COLUMNS, csv_rows)
    from analyzer.report import render_index

    render_index(rows, out_root)
