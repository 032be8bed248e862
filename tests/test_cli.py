"""The command line's answers to bad input (team issue #8): no pose model runs here.

Bad option values, paths and ``athletes.csv`` cells are rejected before any work starts:
exit code 2, one line on stderr, and no output folder created. ``--help`` explains every
option, also through ``scripts/batch_analyze.py`` run from another folder.
"""
from __future__ import annotations

import errno
import math
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer import __version__, batch, cli, outputs
from analyzer.athlete import FPS_RANGE, HEIGHT_RANGE_M, MASS_RANGE_KG, SettingsError, read_sidecar

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``cli.main(argv)`` in this process: (exit code, stdout, stderr)."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse: --help, --version and its own errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(text: str) -> str:
    assert text.endswith("\n") and text.count("\n") == 1, f"expected one line, got:\n{text}"
    return text.strip()


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the analysis starts (batch.run is where the work begins)."""
    def run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the command started work despite a bad value")

    monkeypatch.setattr(batch, "run", run)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding ``videos/clip.mp4``; the default output folder would be ./reports."""
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def target(command: str, workspace: Path) -> str:
    return str(workspace / "videos" / ("clip.mp4" if command == "analyze" else ""))


def assert_nothing_written(workspace: Path) -> None:
    assert not (workspace / "reports").exists() and not (workspace / "out").exists()
    assert {p.name for p in (workspace / "videos").iterdir()} <= {"clip.mp4", "athletes.csv"}


# --------------------------------------------------------------------------- bad option values

BAD_OPTIONS = [
    (["--mass", "-70"], "-70 kg is not a human body mass"),
    (["--mass=-5"], "-5 kg is not a human body mass"),
    (["--mass", "0"], "0 kg is not a human body mass"),
    (["--mass", "seventy"], "'seventy' is not a number"),
    (["--height", "17"], "--height 17 m is not a human height"),
    (["--height", "0.3"], "--height 0.3 m is not a human height"),
    (["--height", "nan"], "'nan' is not a finite number"),
    (["--start", "3", "--end", "2"], "--start 3 s must come before --end 2 s"),
    (["--start", "4", "--end", "4"], "--start 4 s must come before --end 4 s"),
    (["--start=-1"], "--start -1 s is before the video's start"),
    (["--end", "inf"], "'inf' is not a finite number"),
    (["--fps", "0"], "--fps 0 is not a frame rate"),
    (["--fps=-30"], "--fps -30 is not a frame rate"),
    (["--sex", "x"], "argument --sex: invalid choice: 'x'"),
    (["--workers", "0"], "--workers must be at least 1, got 0"),
    (["--workers=-2"], "--workers must be at least 1, got -2"),
    (["--workers", "two"], "argument -j/--workers: invalid int value: 'two'"),
    (["--lag-threshold-ms", "0"], "--lag-threshold-ms must be positive"),
    (["--lag-threshold-ms", "nan"], "'nan' is not a finite number"),
    (["--ratio-threshold", "1.5"], "--ratio-threshold must be between 0 and 1"),
    (["--model", "missing.task"], "--model missing.task: no such file"),
    (["--model", "videos/clip.mp4"], "is not a MediaPipe .task file"),
    (["--bogus"], "unrecognized arguments: --bogus"),
]


@pytest.mark.parametrize("command", ["analyze", "batch"])
@pytest.mark.parametrize(("options", "says"), BAD_OPTIONS, ids=[" ".join(o) for o, _ in BAD_OPTIONS])
def test_bad_option_is_rejected_before_any_work(command: str, options: list[str], says: str, workspace: Path,
                                                no_work: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([command, target(command, workspace), "-o", "out", *options], capsys)
    assert code == cli.EXIT_USAGE
    line = assert_one_line(err)
    assert says in line and line.startswith("sprint-analyzer")
    assert out == ""
    assert_nothing_written(workspace)


def test_missing_argument_is_one_line(workspace: Path, no_work: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["batch"], capsys)
    assert code == cli.EXIT_USAGE
    assert "the following arguments are required: folder" in assert_one_line(err)


def _accepts(argv: list[str]) -> bool:
    """Whether parsing and validation accept *argv* (no work is started)."""
    try:
        cli.validate(cli.build_parser().parse_args(argv))
    except SettingsError:
        return False
    except SystemExit as exc:  # argparse refused the text itself
        assert exc.code == cli.EXIT_USAGE
        return False
    return True


# Any existing file that is not a folder passes analyze's path checks; no athletes.csv beside it.
SOME_FILE = str(Path(__file__))


@settings(max_examples=200, deadline=None)
@given(option=st.sampled_from([("--height", HEIGHT_RANGE_M), ("--mass", MASS_RANGE_KG), ("--fps", FPS_RANGE)]),
       value=st.floats(allow_nan=True, allow_infinity=True) | st.floats(min_value=0.0, max_value=2500.0))
def test_numeric_options_accept_exactly_their_stated_range(option: tuple[str, tuple[float, float]],
                                                           value: float) -> None:
    name, (low, high) = option
    accepted = _accepts(["analyze", SOME_FILE, f"{name}={value!r}"])
    assert accepted == (math.isfinite(value) and low <= value <= high)


@settings(max_examples=200, deadline=None)
@given(start=st.none() | st.floats(allow_nan=True, allow_infinity=True, min_value=None),
       end=st.none() | st.floats(allow_nan=True, allow_infinity=True))
def test_trim_accepts_exactly_a_forward_span(start: float | None, end: float | None) -> None:
    argv = ["analyze", SOME_FILE]
    argv += [f"--start={start!r}"] if start is not None else []
    argv += [f"--end={end!r}"] if end is not None else []
    finite = all(math.isfinite(v) for v in (start, end) if v is not None)
    expected = (finite and (start is None or start >= 0) and (end is None or end > 0)
                and (start is None or end is None or start < end))
    assert _accepts(argv) == expected


# --------------------------------------------------------------------------- paths


def test_video_that_does_not_exist(workspace: Path, no_work: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["analyze", "videos/nope.mp4"], capsys)
    assert code == cli.EXIT_USAGE
    assert assert_one_line(err) == "sprint-analyzer: error: videos/nope.mp4: no such file"
    assert_nothing_written(workspace)


def test_folder_that_does_not_exist(workspace: Path, no_work: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["batch", "vidoes"], capsys)
    assert code == cli.EXIT_USAGE
    assert assert_one_line(err) == "sprint-analyzer: error: vidoes: no such folder"
    assert_nothing_written(workspace)


def test_file_and_folder_swapped(workspace: Path, no_work: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["batch", "videos/clip.mp4"], capsys)
    assert code == cli.EXIT_USAGE and "is not a folder (use 'sprint-analyzer analyze'" in assert_one_line(err)
    code, _, err = run_cli(["analyze", "videos"], capsys)
    assert code == cli.EXIT_USAGE and "is a folder (use 'sprint-analyzer batch'" in assert_one_line(err)
    assert_nothing_written(workspace)


@pytest.mark.parametrize(("files", "says"), [
    ([], "holds no videos (it has no files)"),
    (["notes.txt", "photo.JPG", "athletes.csv", ".hidden.mp4"],
     "holds no videos: none of its 2 file(s) has a video extension (found .jpg, .txt)"),
    (["day1/clip.mp4"], "holds no videos (it has no files); add --recursive to look in its subfolders"),
])
def test_folder_without_videos(tmp_path: Path, files: list[str], says: str, no_work: None,
                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in files:
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text("video,height_m\n" if name == "athletes.csv" else "x")
    code, _, err = run_cli(["batch", str(folder), "-o", str(tmp_path / "out")], capsys)
    assert code == cli.EXIT_USAGE
    assert assert_one_line(err) == f"sprint-analyzer: error: {folder} {says}"
    assert not (tmp_path / "out").exists()


def test_output_folder_that_is_the_video_folder(workspace: Path, no_work: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["batch", "videos", "-o", "videos/"], capsys)
    assert code == cli.EXIT_USAGE
    assert "the output folder is the video folder videos; choose another, e.g. -o videos/reports" in assert_one_line(err)
    assert_nothing_written(workspace)


def test_output_folder_around_the_video_folder_still_finds_the_videos(tmp_path: Path) -> None:
    """``batch reports/raw -o reports`` must not take every video for part of the output."""
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.mp4").write_text("x")
    assert batch.find_inputs(tmp_path / "raw", exclude=tmp_path) == [(tmp_path / "raw" / "a.mp4").resolve()]


@pytest.fixture
def no_analysis(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the analysis of one video by a fake ok row (records which videos it saw)."""
    seen: list[Path] = []

    def analyse_one(video: Path, options: batch.BatchOptions, source_root: Path, position: int = 0,
                    name: str | None = None) -> dict[str, object]:
        seen.append(video)
        return {"video": str(video), "status": "ok", "message": "", "report": f"{name}/report.html",
                "steps": 3, "warnings": []}

    monkeypatch.setattr(batch, "analyse_one", analyse_one)
    return seen


def test_output_folder_under_a_file(workspace: Path, no_analysis: list[Path],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """An output folder that cannot be made (test_reliability covers a read-only one)."""
    (workspace / "results").write_text("a file, not a folder")
    code, _, err = run_cli(["batch", "videos", "-o", "results/today"], capsys)
    assert code == cli.EXIT_USAGE
    line = assert_one_line(err)
    assert line.startswith("sprint-analyzer: error: cannot write to the output folder results/today:")
    assert no_analysis == []


def test_disk_full_while_writing_the_batch_summary(workspace: Path, no_analysis: list[Path],
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def full(path: Path, *args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(outputs, "write_rows_csv", full)
    code, out, err = run_cli(["batch", "videos", "-o", "out", "-q"], capsys)
    assert code == cli.EXIT_SOME_FAILED
    line = assert_one_line(err)
    assert line.startswith("sprint-analyzer: error: cannot write the batch results: No space left on device")
    assert "batch_summary.csv" in line


# --------------------------------------------------------------------------- athletes.csv


def _sidecar(workspace: Path, text: str | bytes) -> Path:
    path = workspace / "videos" / "athletes.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


BAD_SIDECARS = [
    ("video,height_m,mass_kg\nclip.mp4,1.80,abc\n", "athletes.csv line 2: mass_kg 'abc' is not a number"),
    ("video,height_m\n*.mov,1.7\nclip.mp4,17\n", "athletes.csv line 3: height_m 17 m is not a human height"),
    ("video,sex\nclip.mp4,x\n", "athletes.csv line 2: sex must be 'male' or 'female'"),
    ("video,fps\nclip.mp4,0\n", "athletes.csv line 2: fps 0 is not a frame rate"),
    ("video,height\nclip.mp4,1.80\n", "unknown column 'height' (the columns are video, height_m, mass_kg, sex, fps)"),
    ("name,height_m\nclip.mp4,1.80\n", "the first line must be a header with a 'video' column"),
    ("video,height_m\nclip.mp4,1.80,72\n", "athletes.csv line 2: more cells than the header has columns"),
    ("video,height_m\nZo\xeb.mp4,1.70\n".encode("cp1252"), "not UTF-8 text; save it from the spreadsheet as 'CSV UTF-8'"),
]


@pytest.mark.parametrize("command", ["analyze", "batch"])
@pytest.mark.parametrize(("text", "says"), BAD_SIDECARS, ids=[s for _, s in BAD_SIDECARS])
def test_bad_sidecar_is_rejected_before_any_work(command: str, text: str | bytes, says: str, workspace: Path,
                                                 no_work: None, capsys: pytest.CaptureFixture[str]) -> None:
    _sidecar(workspace, text)
    code, _, err = run_cli([command, target(command, workspace), "-o", "out"], capsys)
    assert code == cli.EXIT_USAGE
    assert says in assert_one_line(err)
    assert_nothing_written(workspace)


def test_sidecar_in_a_subfolder_counts_only_when_recursive(workspace: Path, no_analysis: list[Path],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (workspace / "videos" / "day2").mkdir()
    (workspace / "videos" / "day2" / "athletes.csv").write_text("video,mass_kg\n*,7\n")
    code, _, _ = run_cli(["batch", "videos", "-o", "out", "-q"], capsys)
    assert code == cli.EXIT_OK and no_analysis == [(workspace / "videos" / "clip.mp4").resolve()]
    code, _, err = run_cli(["batch", "videos", "-o", "out2", "-q", "--recursive"], capsys)
    assert code == cli.EXIT_USAGE
    assert "athletes.csv line 2: mass_kg 7 kg is not a human body mass" in assert_one_line(err)
    assert not (workspace / "out2").exists()


def test_sidecar_from_a_spreadsheet(tmp_path: Path) -> None:
    """A byte-order mark, semicolons, spaces around names and empty cells are all fine."""
    path = tmp_path / "athletes.csv"
    path.write_bytes("\ufeffvideo ; height_m ; mass_kg ; sex ; fps\nanna_*.mov;1.68;57;F;\n*;;;;240\n".encode())
    anna, rest = read_sidecar(path)
    assert (anna.pattern, anna.height_m, anna.mass_kg, anna.sex, anna.fps) == ("anna_*.mov", 1.68, 57.0, "female", None)
    assert (rest.pattern, rest.height_m, rest.mass_kg, rest.sex, rest.fps) == ("*", None, None, None, 240.0)


# --------------------------------------------------------------------------- help


@pytest.mark.parametrize("command", ["analyze", "batch"])
def test_help_explains_every_option(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([command, "--help"], capsys)
    assert code == 0 and err == ""
    for option in ("--out", "--height", "--mass", "--sex", "--fps", "--start", "--end", "--model", "--overlay",
                   "--no-overlay", "--force", "--quiet", "--lag-threshold-ms", "--ratio-threshold"):
        assert option in out, option
    for text in ("athletes.csv", "video,height_m,mass_kg,sex,fps", "exit codes: 0 all videos analysed",
                 "2 usage error", "report.html, summary.json, steps.csv"):
        assert text in out, text
    if command == "batch":
        assert "--workers" in out and "--recursive" in out
    else:
        assert "--workers" not in out  # accepted for symmetry, not advertised


def test_top_level_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0 and "analyze" in out and "batch" in out
    code, out, _ = run_cli(["--version"], capsys)
    assert code == 0 and out.startswith("sprint-analyzer ")


def test_the_package_version_is_the_distribution_version() -> None:
    """One version: the skip of already-analysed videos keys on it (pipeline.Settings.fingerprint),
    so the package's and pyproject's must move together when the analysis changes."""
    with open(REPO_ROOT / "pyproject.toml", "rb") as fh:
        assert tomllib.load(fh)["project"]["version"] == __version__


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_batch_script_runs_from_another_folder(tmp_path: Path) -> None:
    script = REPO_ROOT / "scripts" / "batch_analyze.py"
    done = _run([sys.executable, str(script), "--help"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ") and "folder" in done.stdout and "--workers" in done.stdout
    # its exit codes are the command's: a bad value is 2 with one line
    done = _run([sys.executable, str(script), str(tmp_path), "--height", "17"], cwd=tmp_path)
    assert done.returncode == cli.EXIT_USAGE
    assert "--height 17 m is not a human height" in assert_one_line(done.stderr)
    assert list(tmp_path.iterdir()) == []  # no reports/ appeared in the working folder


def test_installed_command_help(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("sprint-analyzer")
    if not exe.is_file():
        pytest.skip("the sprint-analyzer console script is not installed beside this Python")
    done = _run([str(exe), "batch", "--help"], cwd=tmp_path)
    assert done.returncode == 0 and "--recursive" in done.stdout


def test_a_run_ends_by_saying_where_to_look() -> None:
    ok = {"video": "v/run.mp4", "status": "ok", "message": "", "steps": 12, "flagged_steps": 2, "report": "run/report.html"}
    rows = [ok, {"video": "v/photo.jpg", "status": "skipped", "message": "an image ('.jpg'), not a video"},
            {"video": "v/bad.mp4", "status": "error", "message": "no runner found"}]
    assert batch.closing_lines(rows, Path("reports"), True) == [
        "v/photo.jpg: skipped: an image ('.jpg'), not a video",
        "v/bad.mp4: error: no runner found",
        f"1 analysed (2 flagged steps in all), 1 skipped, 1 failed: open {Path('reports') / 'index.html'}",
    ]
    assert batch.closing_lines([ok], Path("out"), False) == [
        f"v/run.mp4: 12 steps, 2 flagged: open {Path('out') / 'run' / 'report.html'}"]
    assert batch.closing_lines([rows[2]], Path("out"), False) == ["v/bad.mp4: error: no runner found"]
