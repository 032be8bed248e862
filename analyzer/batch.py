"""Batch runs: find the videos, analyse each (in parallel processes), never stop on one.

Each video's outputs go to ``OUT/<name>/``; ``summary.json`` is written last, so its
presence with the same settings fingerprint and source file means the video is done
(an interrupted run re-does only what is missing). A failing video gets ``error.log``
(with the traceback) in its folder and one line in ``batch_summary.csv``.
"""
from __future__ import annotations

import json
import os
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
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


def find_inputs(folder: Path, *, recursive: bool = False, exclude: Path | None = None) -> list[Path]:
    """Every candidate input file in *folder* (hidden files, our outputs and the sidecar excluded).

    Files without a video extension are still returned, so that the batch summary can
    say why each was skipped rather than silently ignoring a user's file.
    """
    folder = folder.resolve()
    excluded = exclude.resolve() if exclude is not None else None
    pattern = "**/*" if recursive else "*"
    found = []
    for path in sorted(folder.glob(pattern)):
        if not path.is_file() or path.name.startswith(".") or path.name in IGNORED_NAMES:
            continue
        if excluded is not None and (path == excluded or excluded in path.parents):
            continue
        if any(part.startswith(".") for part in path.relative_to(folder).parts[:-1]):
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


def analyse_one(video: Path, options: BatchOptions, source_root: Path, position: int = 0) -> dict[str, Any]:
    """Analyse one video into OUT/<name>/; return its batch row. Never raises for bad input."""
    from analyzer import pipeline  # imported in the worker process

    name = output_name(video, source_root)
    out_dir = options.out_root / name
    report = f"{name}/report.html"
    error_row = lambda msg: {"video": str(video), "status": "error", "message": msg, "report": "", "warnings": []}  # noqa: E731
    if video.suffix.lower() not in VIDEO_EXTENSIONS:
        return {"video": str(video), "status": "skipped", "report": "", "warnings": [],
                "message": f"not a video file (extension '{video.suffix or 'none'}')"}
    try:
        sidecar = find_sidecar_row(video, stop_at=source_root)
        athlete = resolve_athlete(height_m=options.height_m, mass_kg=options.mass_kg, sex=options.sex, sidecar=sidecar)
        fps, fps_source = options.fps, "--fps"
        if fps is None and sidecar is not None and sidecar.fps is not None:
            fps, fps_source = sidecar.fps, "sidecar"
        settings = pipeline.Settings(fps=fps, fps_source=fps_source, start_s=options.start_s, end_s=options.end_s,
                                     model_path=options.model_path, overlay=options.overlay,
                                     thresholds=options.thresholds)
        stamp = _source_stamp(video)
        fingerprint = settings.fingerprint(athlete)
        if not options.force:
            done = already_done(out_dir, fingerprint, stamp)
            if done is not None:
                return row_from_summary(video, done, "ok", "already analysed with these settings (use --force to redo)", report)
        data = pipeline.analyze_video(video, out_dir, settings, athlete, source_stamp=stamp,
                                      progress=options.progress, progress_position=position)
        (out_dir / "error.log").unlink(missing_ok=True)
        return row_from_summary(video, data, "ok", "; ".join(data.get("warnings", [])[:1]), report)
    except SettingsError as exc:
        return error_row(str(exc))
    except Exception as exc:  # one video's failure must never stop the batch
        message = getattr(exc, "user_message", None) or _one_line(exc)
        try:
            atomic.write_text(out_dir / "error.log", f"{video}\n{message}\n\n{traceback.format_exc()}")
        except OSError:
            pass
        return error_row(message)


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


def run(videos: list[Path], options: BatchOptions, *, source_root: Path, write_index: bool) -> BatchResult:
    """Analyse *videos*; write batch_summary.csv and index.html when *write_index*."""
    _check_writable(options.out_root)
    rows: dict[int, dict[str, Any]] = {}
    workers = max(1, min(options.workers, len(videos)))
    overall = tqdm(total=len(videos), desc="videos", unit="video", disable=not options.progress or len(videos) < 2,
                   position=0, leave=True)
    try:
        if workers == 1:
            for i, video in enumerate(videos):
                overall.set_postfix_str(video.name[:40])
                rows[i] = analyse_one(video, options, source_root, position=1 if len(videos) > 1 else 0)
                overall.update()
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                pending: dict[Future, int] = {}
                queue = list(enumerate(videos))
                slots = list(range(1, workers + 1))
                slot_of: dict[Future, int] = {}
                while queue or pending:
                    while queue and slots:
                        i, video = queue.pop(0)
                        slot = slots.pop(0)
                        fut = pool.submit(analyse_one, video, options, source_root, slot)
                        pending[fut], slot_of[fut] = i, slot
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        i = pending.pop(fut)
                        slots.append(slot_of.pop(fut))
                        try:
                            rows[i] = fut.result()
                        except Exception as exc:  # a worker that died (e.g. out of memory)
                            rows[i] = {"video": str(videos[i]), "status": "error", "report": "", "warnings": [],
                                       "message": f"the worker analysing it stopped ({type(exc).__name__})"}
                        overall.update()
    finally:
        overall.close()
        ordered = [rows[i] for i in sorted(rows)]
        if write_index and ordered:
            write_batch_outputs(ordered, options.out_root)
    result = BatchResult(ordered)
    for row in ordered:
        if row["status"] == "error":
            tqdm.write(f"{row['video']}: error: {row['message']}")
        elif row["status"] == "skipped":
            tqdm.write(f"{row['video']}: skipped: {row['message']}")
    return result


def write_batch_outputs(rows: list[dict[str, Any]], out_root: Path) -> None:
    """batch_summary.csv and index.html for the rows so far."""
    csv_rows = [dict(r, warnings=" | ".join(r.get("warnings") or [])) for r in rows]
    outputs.write_rows_csv(out_root / "batch_summary.csv", outputs.BATCH_COLUMNS, csv_rows)
    from analyzer.report import render_index

    render_index(rows, out_root)
