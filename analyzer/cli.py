"""Command line: ``sprint-analyzer analyze VIDEO`` and ``sprint-analyzer batch FOLDER``.

A thin shell: it parses and validates options (before any work starts), then hands over
to :mod:`analyzer.batch`. Exit codes: 0 all analysed, 1 some videos failed, 2 usage error.
"""
from __future__ import annotations

import argparse
import contextlib
import faulthandler
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from analyzer import __version__
from analyzer.athlete import (
    SIDECAR_NAME,
    SettingsError,
    check_fps,
    check_height,
    check_mass,
    check_sex,
    check_sidecars,
    check_trim,
)
from analyzer.counterbalance import DEFAULT_LAG_THRESHOLD_MS, DEFAULT_RATIO_THRESHOLD, Thresholds

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

DESCRIPTION = """\
Sprint technique from a side-view phone video.

For each video: MediaPipe pose (BlazePose, offline), joint angles, the vertical-axis
angular momenta of arms, torso and legs (de Leva segment model), each step split into
the push side (the leg on the ground, with the arms and torso) and the swing side (the
leg in the air), and an HTML report that flags the steps where the swing side's
counterbalance comes late or falls short.

Film from the side, square to the running direction, with the whole body in view,
at 60 fps or more if the phone allows it."""

EPILOG = f"""\
examples:
  sprint-analyzer batch my_videos/                    reports into reports/
  sprint-analyzer batch my_videos/ -o out/ --height 1.78 --mass 72 --sex male
  sprint-analyzer analyze clip.mov --fps 240          a 240 fps slow-motion clip saved at 30 fps
  sprint-analyzer analyze clip.mp4 --start 2 --end 6  analyse seconds 2 to 6 only

per-video values: a file named {SIDECAR_NAME} beside the videos, e.g.
  video,height_m,mass_kg,sex,fps
  anna_60m.mov,1.68,57,female,
  slowmo_*.mp4,,,,240
  *,1.80,75,male,
(first matching row wins; empty cells are 'not given'; command-line values override it;
a bad value in it stops the run before any work, like a bad option)

outputs per video, in OUT/<video name>/: report.html, summary.json, steps.csv,
frames.csv, landmarks.npz (pose cache), overlay.mp4, and the hidden .stills-cache/
(the stills' frames). A batch adds OUT/index.html and OUT/batch_summary.csv.

interrupting (Ctrl-C) keeps every finished video; the same command again finishes the rest.

exit codes: 0 all videos analysed, 1 some failed (the rest are written), 2 usage error
(a bad option or athletes.csv value, no such input, no videos, an output folder that
cannot be written), 130 interrupted."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the usage is one ``--help`` away)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    out = common.add_argument_group("output")
    out.add_argument("-o", "--out", type=Path, default=Path("reports"), metavar="OUT",
                     help="output folder (default: reports/)")
    out.add_argument("--overlay", action=argparse.BooleanOptionalAction, default=True,
                     help="write overlay.mp4, the video with the skeleton and flags drawn (default: on)")
    out.add_argument("--force", action="store_true",
                     help="analyse again even when OUT already holds this video analysed with the same settings")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    athlete = common.add_argument_group("athlete (segment model; defaults are reported as defaults)")
    athlete.add_argument("--height", type=_number, metavar="M",
                         help="stature in metres; sets the metric scale (default: estimated from the pose model)")
    athlete.add_argument("--mass", type=_number, metavar="KG", help="body mass in kg (default: 70)")
    athlete.add_argument("--sex", choices=("male", "female"), help="de Leva segment table (default: male)")

    timing = common.add_argument_group("video and timing")
    timing.add_argument("--fps", type=_number, metavar="F",
                        help="capture rate: frames of the file per real second, for slow-motion exports "
                             "(e.g. 240 for a 240 fps clip saved to play at 30)")
    timing.add_argument("--start", type=_number, metavar="S", help="analyse from this time (s)")
    timing.add_argument("--end", type=_number, metavar="S", help="analyse up to this time (s)")
    timing.add_argument("--model", type=Path, metavar="PATH",
                        help="another pose .task file (e.g. Google's pose_landmarker_heavy.task); "
                             "default: the embedded BlazePose full model")
    timing.add_argument("--flip-test", action=argparse.BooleanOptionalAction, default=None,
                        help="pose every frame a second time mirrored and merge the two poses (about twice the "
                             "pose time). Default: only where the legs move far between pictures (a sprinter "
                             "at 30 fps), where the hip angles come ~8 deg closer to the truth on the rendered "
                             "test clips; --flip-test always (~1 deg closer at 60 fps), --no-flip-test never "
                             "(docs/METHOD.md, section 8)")

    flags = common.add_argument_group("counterbalance flags")
    flags.add_argument("--lag-threshold-ms", type=_number, default=DEFAULT_LAG_THRESHOLD_MS, metavar="MS",
                       help=f"runs of fewer than 6 steps: flag a step when the swing side peaks this much "
                            f"later than the push side and the bulk of its rotation is late too "
                            f"(default {DEFAULT_LAG_THRESHOLD_MS:g} ms; never below 1.25 frame intervals). "
                            f"Longer runs flag a step whose swing comes late by three timing measures that "
                            f"together stand out of the run's own step-to-step scatter (docs/METHOD.md, section 6)")
    flags.add_argument("--ratio-threshold", type=_number, default=DEFAULT_RATIO_THRESHOLD, metavar="R",
                       help=f"flag a step when its swing/push ratio is below R x the run's median "
                            f"(default {DEFAULT_RATIO_THRESHOLD:g})")

    parser = _Parser(prog="sprint-analyzer", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{analyze,batch}")
    p_analyze = sub.add_parser("analyze", parents=[common], help="analyse one video",
                               description="Analyse one video into OUT/<video name>/.", epilog=EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    p_analyze.add_argument("video", type=Path, help="the video file")
    p_batch = sub.add_parser("batch", parents=[common], help="analyse every video in a folder",
                             description="Analyse every video in FOLDER; write OUT/index.html and OUT/batch_summary.csv.",
                             epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p_batch.add_argument("folder", type=Path, help="folder of videos")
    p_batch.add_argument("-r", "--recursive", action="store_true", help="also look in subfolders")
    p_batch.add_argument("-j", "--workers", type=int, default=None, metavar="N",
                         help="videos analysed in parallel (default: the number of CPU cores, at most the videos)")
    p_analyze.add_argument("-j", "--workers", type=int, default=1, help=argparse.SUPPRESS)
    return parser


def validate(args: argparse.Namespace) -> None:
    """Reject bad values before any work starts (raises SettingsError)."""
    check_height(args.height)
    check_mass(args.mass)
    check_sex(args.sex)
    check_fps(args.fps)
    check_trim(args.start, args.end)
    if args.lag_threshold_ms <= 0:
        raise SettingsError("--lag-threshold-ms must be positive")
    if not 0 < args.ratio_threshold <= 1:
        raise SettingsError("--ratio-threshold must be between 0 and 1")
    if args.workers is not None and args.workers < 1:
        raise SettingsError(f"--workers must be at least 1, got {args.workers}")
    if args.model is not None:
        if not args.model.is_file():
            raise SettingsError(f"--model {args.model}: no such file")
        from analyzer.pose import PoseModelError, check_model

        try:
            check_model(args.model)
        except PoseModelError as exc:
            raise SettingsError(f"--model: {exc}") from None
    target = args.video if args.command == "analyze" else args.folder
    if not target.exists():
        raise SettingsError(f"{target}: no such {'file' if args.command == 'analyze' else 'folder'}")
    if args.command == "batch" and not target.is_dir():
        raise SettingsError(f"{target} is not a folder (use 'sprint-analyzer analyze' for one video)")
    if args.command == "analyze" and target.is_dir():
        raise SettingsError(f"{target} is a folder (use 'sprint-analyzer batch' for a folder of videos)")
    if args.command == "batch" and args.out.resolve() == target.resolve():
        raise SettingsError(f"the output folder is the video folder {target}; choose another, e.g. -o {target / 'reports'}")
    if args.command == "batch":
        check_sidecars(target, recursive=args.recursive)
    else:
        check_sidecars(target.parent, recursive=False)


def _no_videos_message(folder: Path, found: list[Path], recursive: bool) -> str:
    where = f"{folder} holds no videos"
    if found:
        extensions = ", ".join(sorted({p.suffix.lower() or "(none)" for p in found}))
        where += f": none of its {len(found)} file(s) has a video extension (found {extensions})"
    else:
        where += " (it has no files" + (", even in subfolders)" if recursive else ")")
    if not recursive and any(p.is_dir() and not p.name.startswith(".") for p in folder.iterdir()):
        where += "; add --recursive to look in its subfolders"
    return where


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill``, a closing terminal or scheduler) stops the run like Ctrl-C does:
    temporary files are removed and the finished videos' rows are written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    # a crash in native code (decoder, pose model) then says where it happened instead of dying
    # silently; not possible when stderr is no real file (captured, as in tests)
    with contextlib.suppress(OSError, ValueError):
        faulthandler.enable()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        validate(args)
    except SettingsError as exc:
        print(f"sprint-analyzer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from analyzer import batch  # heavy imports (mediapipe) only once the options are sound

    thresholds = Thresholds(lag_ms=args.lag_threshold_ms, ratio=args.ratio_threshold)
    options = batch.BatchOptions(
        out_root=args.out, height_m=args.height, mass_kg=args.mass, sex=args.sex, fps=args.fps,
        start_s=args.start, end_s=args.end, model_path=args.model, overlay=args.overlay,
        flip_test=args.flip_test, thresholds=thresholds, force=args.force, progress=not args.quiet,
        workers=args.workers or min(os.cpu_count() or 1, 4),
    )
    if args.command == "analyze":
        videos, source_root, write_index = [args.video], args.video.parent, False
    else:
        videos = batch.find_inputs(args.folder, recursive=args.recursive, exclude=args.out)
        if not any(batch.is_video_name(v) for v in videos):
            print(f"sprint-analyzer: error: {_no_videos_message(args.folder, videos, args.recursive)}", file=sys.stderr)
            return EXIT_USAGE
        source_root, write_index = args.folder, True
    try:
        with _terminate_as_interrupt():
            result = batch.run(videos, options, source_root=source_root, write_index=write_index)
    except batch.OutputError as exc:
        print(f"sprint-analyzer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # e.g. the disk filled up while writing the batch summary
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"sprint-analyzer: error: cannot write the batch results: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_SOME_FAILED
    except KeyboardInterrupt:
        print("\nsprint-analyzer: interrupted; finished videos are kept, run the same command again to finish the rest",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK if result.all_ok else EXIT_SOME_FAILED


def run(argv: list[str] | None = None) -> NoReturn:
    """The command's entry point: :func:`main`, then exit with its code.

    After an interruption the process ends at once (``os._exit``) once its output streams
    are flushed. By then every finished file is complete (written atomically), every
    temporary one removed and the worker pool shut down; but a normal interpreter shutdown
    can abort while the pose model's native threads are torn down mid-frame ("terminate
    called without an active exception", exit -6 instead of 130), as the interrupted-batch
    test caught about once in five runs on a loaded machine.
    """
    code = main(argv)
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
