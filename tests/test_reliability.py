"""Reliability (team issue #8): bad input gets a clear answer, and nothing is ever lost.

* A corpus generated here (truncations, bit flips, wrong extensions, empty, image, audio,
  text, random bytes, a clip with no person, names with spaces and accents) runs through
  ``batch``: one row per file with the right status and a one-line message, error.log
  with the traceback for each failure, exit code 1, valid videos complete, no leftovers.
* Files the user may not read and output folders that cannot be written.
* An interrupted batch (Ctrl-C, SIGTERM, SIGKILL; one worker and two) re-run finishes
  only what is missing and ends equal to an uninterrupted run.
* A crash inside one video, a worker process that dies, damaged caches.
* The sidecar ``athletes.csv`` applied per video.
* Property-based tests of the event functions (analyzer.steps, analyzer.counterbalance).

The pose model runs only on 1 s cuts (360x640) of a shared real clip; those tests skip
when ``../shared/videos`` is absent. Everything else is generated with FFmpeg's test
pattern or needs no video at all.
"""
from __future__ import annotations

import csv
import html
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from analyzer import batch, cli, momentum, pipeline
from analyzer.counterbalance import PEAK_GRID_S, centroid_time, peak_time, rising_together, waveform_shift_s
from analyzer.landmarks import NUM_LANDMARKS, SIDES, side_index
from analyzer.outputs import STEP_COLUMNS, read_rows_csv
from analyzer.steps import analyse_steps, detect_contacts, foot_heights_m
from tests.conftest import SHARED_VIDEOS, shared_clip
from tests.test_video import ffmpeg, make_testsrc

#: A runner filmed from the side, whole body in view (30 fps portrait phone clip).
RUNNER = "zzzhushi__running-gait-analysis__male_side.mp4"
CLI = [sys.executable, "-m", "analyzer.cli"]
FAST = ["--no-overlay", "-q"]
#: summary.json fields that may differ between equal analyses (timing, cache use).
VOLATILE = {"stage_seconds"}


def runner_cut(dest: Path, start_s: float, seconds: float = 1.0, *extra: str) -> Path:
    """A short downscaled cut of the shared runner clip (pose takes about a second)."""
    ffmpeg("-ss", start_s, "-i", shared_clip(RUNNER), "-t", seconds, "-an", "-vf", "scale=360:640",
           "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-g", "10", *extra, dest)
    return dest


def rows_by_name(out: Path) -> dict[str, dict[str, str]]:
    return {Path(r["video"]).name: r for r in read_rows_csv(out / "batch_summary.csv")}


def partial_files(*folders: Path) -> list[Path]:
    return [p for f in folders for p in f.rglob(batch.PARTIAL_GLOB)]


def comparable_summary(folder: Path, *, copied: bool) -> dict[str, Any]:
    """summary.json without what may differ between equal analyses (and the file's identity if *copied*)."""
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    for key in VOLATILE:
        data.pop(key)
    data["pose"].pop("from_cache")
    if copied:
        data.pop("source_stamp")
        data["video"].pop("path")
    return data


def assert_same_analysis(folder: Path, reference: Path, *, copied: bool = False) -> None:
    """*folder* holds the analysis in *reference* (of the same video, or of a copy of it)."""
    for name in ("frames.csv", "steps.csv"):
        assert (folder / name).read_bytes() == (reference / name).read_bytes(), f"{folder.name}/{name} differs"
    assert comparable_summary(folder, copied=copied) == comparable_summary(reference, copied=copied)
    assert (folder / "report.html").is_file()


def assert_complete(folder: Path) -> None:
    """The output contract's files of one analysed video (without overlay.mp4)."""
    for name in ("report.html", "summary.json", "steps.csv", "frames.csv", "landmarks.npz"):
        assert (folder / name).is_file(), name
    with open(folder / "steps.csv", newline="", encoding="utf-8") as fh:
        assert tuple(next(csv.reader(fh))) == STEP_COLUMNS
    frames = read_rows_csv(folder / "frames.csv")
    assert len(frames) == json.loads((folder / "summary.json").read_text())["video"]["analysed_frames"]
    assert not (folder / "error.log").exists()


def assert_error_log(folder: Path, video: Path, message: str, *, traceback: bool = True) -> str:
    log = (folder / "error.log").read_text(encoding="utf-8")
    first, second = log.splitlines()[:2]
    assert (first, second) == (str(video), message)
    if traceback:
        assert "Traceback (most recent call last)" in log
    return log


# =========================================================================== the corpus


@dataclass(frozen=True)
class Expect:
    status: str
    message: str  # a regular expression the whole one-line message matches
    real: bool = False  # made from the shared runner clip


EXPECTED: dict[str, Expect] = {
    "Läufer ohne Person.mp4": Expect("error", r"no runner found: .*"),
    "cut header.mp4": Expect("error", r"cannot decode 'cut header\.mp4': not a video file OpenCV/FFmpeg can read.*"),
    "cut at 30%.mp4": Expect("error", r"cannot decode 'cut at 30%\.mp4': the file is incomplete \(truncated before "
                                      r"its index, the 'moov atom'\); copy it again from the camera"),
    "cut at 70%.mp4": Expect("error", r"cannot decode 'cut at 70%\.mp4': the file is incomplete .*"),
    "bit flips in header.mp4": Expect("error", r"cannot decode 'bit flips in header\.mp4': .*"),
    "bit flips in frames.mp4": Expect("error", r"no runner found: .*|cannot decode .*"),
    "notes.mp4": Expect("error", r"'notes\.mp4' is a text file, not a video"),
    "random bytes.mov": Expect("error", r"cannot decode 'random bytes\.mov': not a video file OpenCV/FFmpeg can read.*"),
    "empty.mp4": Expect("error", r"'empty\.mp4' is empty \(0 bytes\)"),
    "photo.mp4": Expect("error", r"'photo\.mp4' is a still image \(PNG\), not a video"),
    "photo.png": Expect("skipped", r"an image \('\.png'\), not a video"),
    "voice memo.m4a": Expect("skipped", r"an audio file \('\.m4a'\), not a video"),
    "audio only.mp4": Expect("error", r"'audio only\.mp4' holds only audio, no video stream"),
    "training plan.txt": Expect("skipped", r"not a video file \(extension '\.txt'\)"),
    "valid clip é.mp4": Expect("ok", r".*", real=True),
    "runner cut at 70% (fast start).mp4": Expect("ok", r".*", real=True),
}


def flip_bits(data: bytes, positions: range | list[int], seed: int) -> bytes:
    rng = random.Random(seed)
    out = bytearray(data)
    for i in positions:
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def build_corpus(folder: Path, with_runner: bool) -> None:
    folder.mkdir()
    work = folder.parent / "corpus-work"
    work.mkdir()
    pattern = make_testsrc(work / "pattern.mp4", seconds=1.0)  # index ('moov') at the end
    ffmpeg("-i", pattern, "-c", "copy", "-movflags", "+faststart", work / "fast.mp4")  # index first
    data, fast = pattern.read_bytes(), (work / "fast.mp4").read_bytes()
    shutil.copy(pattern, folder / "Läufer ohne Person.mp4")
    (folder / "cut header.mp4").write_bytes(fast[:600])
    (folder / "cut at 30%.mp4").write_bytes(data[: int(0.3 * len(data))])
    (folder / "cut at 70%.mp4").write_bytes(data[: int(0.7 * len(data))])
    (folder / "bit flips in header.mp4").write_bytes(flip_bits(fast, range(40, 600, 7), seed=1))
    rng = random.Random(2)
    (folder / "bit flips in frames.mp4").write_bytes(
        flip_bits(fast, sorted(rng.sample(range(2000, len(fast)), 200)), seed=3))
    (folder / "notes.mp4").write_text("Session notes, not a video.\nTempo 6 x 60 m.\n")
    (folder / "random bytes.mov").write_bytes(random.Random(4).randbytes(50_000))
    (folder / "empty.mp4").write_bytes(b"")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120", "-frames:v", "1", folder / "photo.png")
    shutil.copy(folder / "photo.png", folder / "photo.mp4")
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", folder / "voice memo.m4a")
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", folder / "audio only.mp4")
    (folder / "training plan.txt").write_text("6 x 60 m\n")
    if with_runner:
        runner_cut(folder / "valid clip é.mp4", 1.0)
        runner_cut(work / "runner fast.mp4", 2.0, 1.0, "-movflags", "+faststart")
        runner = (work / "runner fast.mp4").read_bytes()
        (folder / "runner cut at 70% (fast start).mp4").write_bytes(runner[: int(0.7 * len(runner))])
        (folder / "runner cut at 30% (fast start).mp4").write_bytes(runner[: int(0.3 * len(runner))])
    shutil.rmtree(work)


@dataclass
class BatchRun:
    code: int
    stdout: str
    stderr: str
    folder: Path
    out: Path
    inputs_before: dict[str, tuple[int, int]]
    rows: dict[str, dict[str, str]]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> BatchRun:
    base = tmp_path_factory.mktemp("corpus")
    folder = base / "phone dump"
    with_runner = (SHARED_VIDEOS / RUNNER).is_file()
    build_corpus(folder, with_runner)
    before = snapshot(folder)
    out = base / "reports"
    done = subprocess.run([*CLI, "batch", folder, "-o", out, "-j", "1", *FAST], capture_output=True, text=True,
                          timeout=600)
    return BatchRun(done.returncode, done.stdout, done.stderr, folder, out, before, rows_by_name(out))


def test_corpus_every_file_gets_one_row_and_exit_code_1(corpus: BatchRun) -> None:
    assert corpus.code == cli.EXIT_SOME_FAILED, corpus.stderr[-2000:]
    with open(corpus.out / "batch_summary.csv", newline="", encoding="utf-8") as fh:
        videos = [Path(r["video"]).name for r in csv.DictReader(fh)]
    assert sorted(videos) == sorted(corpus.inputs_before)  # one row each, none twice
    expected = {name for name, e in EXPECTED.items() if not e.real or (SHARED_VIDEOS / RUNNER).is_file()}
    assert expected <= set(videos)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_corpus_row_says_what_is_wrong(corpus: BatchRun, name: str) -> None:
    expect = EXPECTED[name]
    if expect.real and name not in corpus.rows:
        shared_clip(RUNNER)  # skips: the shared clips are absent
    row = corpus.rows[name]
    message = row["message"]
    assert row["status"] == expect.status, message
    assert "\n" not in message and "\r" not in message
    assert len(message) < 300 and "internal error" not in message and "Traceback" not in message
    assert re.fullmatch(expect.message, message), message
    video = corpus.folder / name
    if expect.status == "error":
        assert message, "an error needs a message"
        assert_error_log(corpus.out / Path(name).stem, video, message)
        assert row["report"] == ""
    elif expect.status == "skipped":
        assert row["report"] == "" and message
    else:
        assert row["report"] == f"{Path(name).stem}/report.html"
        assert_complete(corpus.out / Path(name).stem)


def test_corpus_failures_are_printed_one_line_each(corpus: BatchRun) -> None:
    printed = corpus.stdout.splitlines()
    for name, row in corpus.rows.items():
        if row["status"] in ("error", "skipped"):
            line = f"{row['video']}: {row['status']}: {row['message']}"
            assert printed.count(line) == 1, line


def test_corpus_leaves_inputs_alone_and_no_temporary_files(corpus: BatchRun) -> None:
    assert snapshot(corpus.folder) == corpus.inputs_before
    assert partial_files(corpus.out, corpus.folder) == []
    assert not list(corpus.out.rglob(".write-test-*"))
    index = (corpus.out / "index.html").read_text(encoding="utf-8")
    for name in corpus.rows:
        assert html.escape(name, quote=False) in index, name


def test_corpus_valid_video_is_complete(corpus: BatchRun) -> None:
    if "valid clip é.mp4" not in corpus.rows:
        shared_clip(RUNNER)
    folder = corpus.out / "valid clip é"
    assert_complete(folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["video"]["path"] == str(corpus.folder / "valid clip é.mp4")
    assert not (folder / "overlay.mp4").exists()  # --no-overlay
    assert (corpus.out / "plotly.min.js").is_file()


def test_corpus_truncated_runner_clip_says_it_is_incomplete(corpus: BatchRun) -> None:
    name = "runner cut at 30% (fast start).mp4"
    if name not in corpus.rows:
        shared_clip(RUNNER)
    row = corpus.rows[name]
    assert row["status"] == "error"
    assert re.search(r"incomplete|truncated|too short|only \d+ frames?", row["message"])


def test_corpus_truncated_runner_clip_that_analyses_warns(corpus: BatchRun) -> None:
    name = "runner cut at 70% (fast start).mp4"
    if name not in corpus.rows:
        shared_clip(RUNNER)
    warnings = json.loads((corpus.out / Path(name).stem / "summary.json").read_text())["warnings"]
    assert any(re.search(r"incomplete|truncated|ends early", w) for w in warnings), warnings


def test_analyze_one_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``analyze`` answers like a batch row: exit 1, one line, error.log; no batch files."""
    video = tmp_path / "clip.mp4"
    video.write_text("not a video")
    code = cli.main(["analyze", str(video), "-o", str(tmp_path / "out"), *FAST])
    assert code == cli.EXIT_SOME_FAILED
    assert capsys.readouterr().out == f"{video}: error: 'clip.mp4' is a text file, not a video\n"
    assert_error_log(tmp_path / "out" / "clip", video, "'clip.mp4' is a text file, not a video")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clip"]


def test_start_after_the_end_of_the_video(tmp_path: Path) -> None:
    video = make_testsrc(tmp_path / "short.mp4", seconds=1.0)
    assert cli.main(["analyze", str(video), "-o", str(tmp_path / "out"), "--start", "5", *FAST]) == 1
    message = (tmp_path / "out" / "short" / "error.log").read_text().splitlines()[1]
    assert "--start" in message and "1 s" in message, message


# =========================================================================== permissions


@pytest.fixture
def unprivileged(tmp_path: Path) -> Iterator[tuple[Path, Callable[..., subprocess.CompletedProcess[str]]]]:
    """A folder and a runner of the CLI for a user whom file permissions bind.

    Root reads and writes regardless of permissions, so as root the CLI runs as the
    'nobody' user (through util-linux's setpriv, in a folder under the system temp folder).
    """
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    prefix: list[str] = []
    base = tmp_path
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root, which ignores permissions, and setpriv is not there to drop them")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        base = Path(tempfile.mkdtemp(prefix="sprint-permissions-"))
        base.chmod(0o777)

    def run(*args: object) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("HOME", "PYTHONPATH")}
        return subprocess.run([*prefix, *CLI, *map(str, args)], capture_output=True, text=True, timeout=300,
                              cwd=base, env=env)

    try:
        yield base, run
    finally:
        if base != tmp_path:
            shutil.rmtree(base)
        else:
            for path in base.rglob("*"):
                path.chmod(0o755)


def test_file_without_read_permission(unprivileged: tuple[Path, Callable[..., Any]]) -> None:
    base, run = unprivileged
    folder = base / "videos"
    folder.mkdir()
    (folder / "locked.mp4").write_bytes(b"\x00" * 1000)
    (folder / "notes.mp4").write_text("text")
    (folder / "locked.mp4").chmod(0o000)
    folder.chmod(0o777)
    (folder / "notes.mp4").chmod(0o644)
    done = run("batch", folder, "-o", base / "out", "-j", "1", *FAST)
    assert done.returncode == cli.EXIT_SOME_FAILED, done.stderr[-2000:]
    rows = rows_by_name(base / "out")
    assert rows["locked.mp4"]["status"] == "error"
    assert rows["locked.mp4"]["message"] == "'locked.mp4': no read permission"
    assert rows["notes.mp4"]["message"] == "'notes.mp4' is a text file, not a video"  # the batch went on
    assert_error_log(base / "out" / "locked", folder / "locked.mp4", "'locked.mp4': no read permission")


def test_read_only_output_folder(unprivileged: tuple[Path, Callable[..., Any]]) -> None:
    base, run = unprivileged
    (base / "videos").mkdir()
    (base / "videos" / "clip.mp4").write_text("x")
    (base / "videos").chmod(0o755)
    (base / "out").mkdir()
    (base / "out").chmod(0o555)
    done = run("batch", base / "videos", "-o", base / "out", *FAST)
    assert done.returncode == cli.EXIT_USAGE
    lines = [line for line in done.stderr.splitlines() if line.startswith("sprint-analyzer")]
    assert lines == [f"sprint-analyzer: error: cannot write to the output folder {base / 'out'}: Permission denied"]
    assert list((base / "out").iterdir()) == []


# =========================================================================== interrupted batches


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s clip of a runner and two of 3 s (a, b, c): the interrupt is sent when the first
    video is done, and the longer ones keep the rest from finishing before it lands even when
    a loaded machine wakes the test late (with three 1 s clips a CI run under load saw all
    three finish first)."""
    folder = tmp_path_factory.mktemp("interrupt") / "session 1"
    folder.mkdir()
    for name, start, seconds in (("a", 1.0, 1.0), ("b", 2.5, 3.0), ("c", 6.0, 3.0)):
        runner_cut(folder / f"{name}.mp4", start, seconds)
    return folder


@pytest.fixture(scope="module")
def reference(session: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The outputs of an uninterrupted batch over the session."""
    out = tmp_path_factory.mktemp("reference")
    assert cli.main(["batch", str(session), "-o", str(out), "-j", "1", *FAST]) == cli.EXIT_OK
    return out


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the videos this process really analyses (not skipped as done)."""
    names: list[str] = []
    real = pipeline.analyze_video

    def spy(video: Path, *args: Any, **kwargs: Any) -> dict[str, Any]:
        names.append(Path(video).name)
        return real(video, *args, **kwargs)

    monkeypatch.setattr(pipeline, "analyze_video", spy)
    return names


def _sigint_as_from_a_terminal() -> None:
    """In the batch's child process: SIGINT handled as a terminal's shell would leave it. A
    test run started in the background of a non-interactive shell (``cmd &``) inherits SIGINT
    ignored, and Python then installs no KeyboardInterrupt handler: the "Ctrl-C" would not
    reach the batch at all (a CI rehearsal started that way saw every video finish)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def poll(condition: Callable[[], bool], proc: subprocess.Popen[bytes], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the batch ended (code {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.parametrize(("how", "workers"), [
    ("Ctrl-C", 1),      # SIGINT to the whole process group, as a terminal sends it
    ("SIGTERM", 1),     # kill PID
    ("SIGKILL", 1),     # no chance to clean up
    ("Ctrl-C", 2),      # worker processes interrupted too
])
def test_interrupted_batch_finishes_only_what_is_missing(how: str, workers: int, session: Path, reference: Path,
                                                         tmp_path: Path, analysed: list[str]) -> None:
    out = tmp_path / "out"
    names = ["a", "b", "c"]
    with open(tmp_path / "stderr.txt", "wb") as err:
        proc = subprocess.Popen([*CLI, "batch", session, "-o", out, "-j", str(workers), *FAST],
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
                                preexec_fn=_sigint_as_from_a_terminal)
        try:
            poll(lambda: any((out / n / "summary.json").is_file() for n in names), proc, "a video finished")
            if how == "Ctrl-C":
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
            code = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    stderr = (tmp_path / "stderr.txt").read_text(errors="replace")
    done_before = {n for n in names if (out / n / "summary.json").is_file()}
    assert 1 <= len(done_before) < len(names), "the interruption came too late to test anything"
    kept = {n: ((out / n / "summary.json").stat().st_mtime_ns, (out / n / "summary.json").read_bytes())
            for n in done_before}
    if how == "SIGKILL":
        assert code == -signal.SIGKILL
    else:
        assert code == 130, stderr[-2000:]
        assert "interrupted; finished videos are kept, run the same command again to finish the rest" in stderr
        assert partial_files(out) == []  # removed on the way out
        # the rows of the videos finished so far (if one had its row when interrupted)
        rows = rows_by_name(out) if (out / "batch_summary.csv").is_file() else {}
        assert {Path(v).stem for v in rows} <= done_before
        assert all(r["status"] == "ok" for r in rows.values())

    code = cli.main(["batch", str(session), "-o", str(out), "-j", "1", *FAST])

    assert code == cli.EXIT_OK
    assert sorted(analysed) == sorted(f"{n}.mp4" for n in set(names) - done_before)
    for n, (mtime, data) in kept.items():  # finished videos were not redone
        assert (out / n / "summary.json").stat().st_mtime_ns == mtime
        assert (out / n / "summary.json").read_bytes() == data
    for n in names:
        assert_same_analysis(out / n, reference / n)
        assert_complete(out / n)
    rows = rows_by_name(out)
    assert [r["status"] for r in rows.values()] == ["ok"] * 3
    assert {Path(v).stem for v, r in rows.items() if r["message"].startswith("already analysed")} == done_before
    assert partial_files(out) == []


# =========================================================================== crashes and damaged files


def seed_pose_cache(reference: Path, video_name: str, out_dir: Path) -> None:
    """The reference run's landmarks.npz (the cache is keyed by content, not name) in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(reference / video_name / "landmarks.npz", out_dir / "landmarks.npz")


def test_crash_inside_one_video_is_logged_and_the_batch_goes_on(session: Path, reference: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 analysed: list[str]) -> None:
    folder, out = tmp_path / "videos", tmp_path / "out"
    folder.mkdir()
    shutil.copy(session / "a.mp4", folder / "first.mp4")
    shutil.copy(session / "b.mp4", folder / "second.mp4")
    seed_pose_cache(reference, "a", out / "first")
    seed_pose_cache(reference, "b", out / "second")
    real = momentum.angular_momentum
    calls = []

    def faulty(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ZeroDivisionError("injected fault")
        return real(*args, **kwargs)

    monkeypatch.setattr(momentum, "angular_momentum", faulty)
    code = cli.main(["batch", str(folder), "-o", str(out), "-j", "1", *FAST])

    assert code == cli.EXIT_SOME_FAILED
    rows = rows_by_name(out)
    message = "internal error (ZeroDivisionError: injected fault); the traceback is in error.log"
    assert (rows["first.mp4"]["status"], rows["first.mp4"]["message"]) == ("error", message)
    log = assert_error_log(out / "first", folder / "first.mp4", message)
    assert "in faulty" in log and log.rstrip().endswith("ZeroDivisionError: injected fault")
    assert not (out / "first" / "summary.json").exists()
    assert rows["second.mp4"]["status"] == "ok"
    assert_same_analysis(out / "second", reference / "b", copied=True)

    monkeypatch.setattr(momentum, "angular_momentum", real)  # the fault is fixed: run again
    analysed.clear()
    assert cli.main(["batch", str(folder), "-o", str(out), "-j", "1", *FAST]) == cli.EXIT_OK
    assert analysed == ["first.mp4"]
    assert not (out / "first" / "error.log").exists()
    assert_same_analysis(out / "first", reference / "a", copied=True)


def test_damaged_outputs_of_a_killed_run_are_not_trusted(session: Path, reference: Path, tmp_path: Path,
                                                         analysed: list[str]) -> None:
    folder, out = tmp_path / "videos", tmp_path / "out"
    folder.mkdir()
    shutil.copy(session / "a.mp4", folder / "a.mp4")
    shutil.copytree(reference / "a", out / "a")
    for name in ("landmarks.npz", "summary.json"):  # half-written by something that bypassed the atomic writes
        data = (out / "a" / name).read_bytes()
        (out / "a" / name).write_bytes(data[: len(data) // 2])
    (out / "a" / ".frames.partial-k1lled.csv").write_text("frame,time_s\n0,")
    (out / "a" / "steps.csv").write_text("step\n")

    assert cli.main(["batch", str(folder), "-o", str(out), "-j", "1", *FAST]) == cli.EXIT_OK

    assert analysed == ["a.mp4"]
    assert_same_analysis(out / "a", reference / "a", copied=True)
    assert json.loads((out / "a" / "summary.json").read_text())["pose"]["from_cache"] is False
    with np.load(out / "a" / "landmarks.npz") as z:
        assert "extra__cache_key" in z.files
    assert partial_files(out) == []


def test_worker_that_dies_costs_only_its_own_video(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A native crash kills the worker process; the video running beside it is retried alone."""
    folder, out, marks = tmp_path / "videos", tmp_path / "out", tmp_path / "marks"
    folder.mkdir()
    marks.mkdir()
    for name in "abcde":
        (folder / f"{name}.mp4").write_text("stand-in: the analysis is replaced")

    def fake(video: Path, out_dir: Path, *args: Any, **kwargs: Any) -> dict[str, Any]:
        (marks / f"{video.stem}-{os.getpid()}").touch()
        if video.stem == "b":
            os.kill(os.getpid(), signal.SIGKILL)
        if video.stem == "a" and len(list(marks.glob("a-*"))) == 1:
            # the first time, a is a long analysis still running when b's worker dies
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                time.sleep(0.02)
        return {"steps": 4, "warnings": []}

    monkeypatch.setattr(pipeline, "analyze_video", fake)
    code = cli.main(["batch", str(folder), "-o", str(out), "-j", "2", "-q"])

    assert code == cli.EXIT_SOME_FAILED
    rows = rows_by_name(out)
    assert [(n, r["status"]) for n, r in rows.items()] == [
        ("a.mp4", "ok"), ("b.mp4", "error"), ("c.mp4", "ok"), ("d.mp4", "ok"), ("e.mp4", "ok")]
    assert rows["b.mp4"]["message"] == batch.WORKER_DIED
    assert_error_log(out / "b", folder / "b.mp4", batch.WORKER_DIED, traceback=False)
    attempts = sorted(p.name.split("-")[0] for p in marks.iterdir())
    assert attempts.count("a") == 2 and attempts.count("b") == 2  # a beside b, then each alone
    assert attempts.count("c") == attempts.count("d") == attempts.count("e") == 1


# =========================================================================== per-video values


def test_sidecar_values_apply_per_video(session: Path, reference: Path, tmp_path: Path,
                                        analysed: list[str]) -> None:
    folder, out = tmp_path / "videos", tmp_path / "out"
    folder.mkdir()
    shutil.copy(session / "a.mp4", folder / "anna 60m.mp4")
    shutil.copy(session / "b.mp4", folder / "ben.mp4")
    seed_pose_cache(reference, "b", out / "ben")
    (folder / "athletes.csv").write_text("video,height_m,mass_kg,sex,fps\n"
                                         "anna*.mp4,1.68,57,female,60\n"
                                         "*,1.85,80,,\n")

    assert cli.main(["batch", str(folder), "-o", str(out), "-j", "1", *FAST]) == cli.EXIT_OK

    anna = json.loads((out / "anna 60m" / "summary.json").read_text())
    ben = json.loads((out / "ben" / "summary.json").read_text())
    assert anna["athlete"] == {"height_m": 1.68, "mass_kg": 57.0, "sex": "female",
                               "height_given": True, "mass_given": True, "sex_given": True}
    assert (anna["video"]["fps"], anna["video"]["fps_source"]) == (60.0, "sidecar")
    assert ben["athlete"] == {"height_m": 1.85, "mass_kg": 80.0, "sex": "male",
                              "height_given": True, "mass_given": True, "sex_given": False}
    assert ben["video"]["fps_source"] == "container"

    # Command-line values override the sidecar; changed settings mean a fresh analysis.
    analysed.clear()
    assert cli.main(["batch", str(folder), "-o", str(out), "-j", "1", "--mass", "75", "--fps", "30", *FAST]) == 0
    assert sorted(analysed) == ["anna 60m.mp4", "ben.mp4"]
    anna = json.loads((out / "anna 60m" / "summary.json").read_text())
    assert (anna["athlete"]["mass_kg"], anna["athlete"]["height_m"], anna["athlete"]["sex"]) == (75.0, 1.68, "female")
    assert (anna["video"]["fps"], anna["video"]["fps_source"]) == (30.0, "--fps")


# =========================================================================== file names and folders


@pytest.fixture
def fake_analysis(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the analysis by writing a stand-in summary.json (no pose model); record out folders."""
    out_dirs: list[Path] = []

    def fake(video: Path, out_dir: Path, *args: Any, **kwargs: Any) -> dict[str, Any]:
        out_dirs.append(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "summary.json").write_text(json.dumps({"video": {"path": str(video)}}))
        return {"steps": 1, "warnings": []}

    monkeypatch.setattr(pipeline, "analyze_video", fake)
    return out_dirs


def test_videos_with_the_same_name_keep_separate_results(tmp_path: Path, fake_analysis: list[Path]) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("clip.mp4", "clip.MOV", "Clip.mp4", "clip.txt", "other.mp4"):
        (folder / name).write_text(name)
    assert cli.main(["batch", str(folder), "-o", str(tmp_path / "out"), "-j", "1", "-q"]) == cli.EXIT_OK
    names = [d.name for d in fake_analysis]
    assert len({n.casefold() for n in names}) == 4  # distinct even on a case-insensitive disk
    assert "other" in names
    for d in fake_analysis:
        source = json.loads((d / "summary.json").read_text())["video"]["path"]
        assert Path(source).suffix.lstrip(".").lower() in d.name.lower() or d.name == "other"
    rows = rows_by_name(tmp_path / "out")
    assert len({r["report"] for n, r in rows.items() if n != "clip.txt"}) == 4
    assert rows["clip.txt"]["status"] == "skipped"


def test_recursive_run_does_not_take_earlier_outputs_for_videos(tmp_path: Path) -> None:
    folder = tmp_path / "season"
    (folder / "day1").mkdir(parents=True)
    (folder / "day1" / "run.mp4").write_text("x")
    old = folder / "old reports"  # an earlier run's -o, inside the video folder
    (old / "run").mkdir(parents=True)
    (old / "batch_summary.csv").write_text("video\n")
    (old / "run" / "overlay.mp4").write_text("x")
    (old / "run" / "landmarks.npz").write_text("x")
    stray = folder / "day1" / "run"  # a per-video folder copied on its own
    stray.mkdir()
    (stray / "overlay.mp4").write_text("x")
    (stray / "landmarks.npz").write_text("x")
    found = batch.find_inputs(folder, recursive=True, exclude=tmp_path / "reports")
    assert found == [(folder / "day1" / "run.mp4").resolve()]


def test_link_to_a_missing_file_gets_a_row(tmp_path: Path, fake_analysis: list[Path]) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "gone.mp4").symlink_to(tmp_path / "elsewhere" / "gone.mp4")
    (folder / "here.mp4").write_text("x")
    assert cli.main(["batch", str(folder), "-o", str(tmp_path / "out"), "-j", "1", "-q"]) == cli.EXIT_SOME_FAILED
    row = rows_by_name(tmp_path / "out")["gone.mp4"]
    assert row["status"] == "error"
    assert row["message"] == f"'gone.mp4' is a link to a file that does not exist ({tmp_path / 'elsewhere' / 'gone.mp4'})"


# =========================================================================== event functions: properties


@st.composite
def frame_times(draw: st.DrawFn, n: int) -> np.ndarray:
    """n strictly increasing times with arbitrary gaps (dropped frames, pauses, slow motion)."""
    gaps = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([1 / 240, 1 / 60, 1 / 30, 0.1, 0.7])
                           | st.floats(1e-3, 1.0)))
    return draw(st.floats(0, 100)) + np.cumsum(gaps)


@st.composite
def runner_points(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(N, 33, 3) points with feet, hips and times; either a running gait or arbitrary values, NaN gaps."""
    n = draw(st.integers(0, 150))
    gait = draw(st.booleans())
    if gait:
        t = draw(st.floats(0, 100)) + np.arange(n) / draw(st.sampled_from([25.0, 30.0, 60.0, 120.0, 240.0]))
        step_hz, phase = draw(st.floats(1.0, 5.0)), draw(st.floats(0, 2 * np.pi))
    else:
        t = draw(frame_times(n))
    points = np.full((n, NUM_LANDMARKS, 3), np.nan)
    for k, side in enumerate(SIDES):
        if gait:  # the foot is down half the cycle and sweeps backward under the hips meanwhile
            angle = 2 * np.pi * step_hz * t + phase + k * np.pi + draw(st.floats(-0.3, 0.3))
            y, x = 0.3 * np.maximum(0.0, np.sin(angle)), -0.4 * np.cos(angle)
        else:
            y = draw(hnp.arrays(np.float64, n, elements=st.floats(-0.5, 1.0) | st.just(0.0)))
            x = draw(hnp.arrays(np.float64, n, elements=st.floats(-1.0, 1.0)))
        if draw(st.booleans()):
            y = np.where(draw(hnp.arrays(bool, n)), np.nan, y)
        points[:, side_index(side, "heel"), :2] = np.stack([x, y], axis=1)
        points[:, side_index(side, "foot_index"), :2] = np.stack([x + 0.2, y + 0.02], axis=1)
        points[:, side_index(side, "hip"), 0] = 0.0
    return points, t


def lowest_foot_points(points: np.ndarray) -> np.ndarray:
    return np.stack([np.fmin(points[:, side_index(s, "heel"), 1], points[:, side_index(s, "foot_index"), 1])
                     for s in SIDES], axis=1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runner_points(), st.floats(-5.0, 5.0), st.floats(0.05, 3.0))
def test_foot_heights_are_relative_to_the_ground(track: tuple[np.ndarray, np.ndarray], lift: float,
                                                 window_s: float) -> None:
    points, t = track
    heights = foot_heights_m(points, t, window_s=window_s)
    assert heights.shape == (t.size, 2)
    assert (np.isfinite(heights) == np.isfinite(lowest_foot_points(points))).all()  # unknown stays unknown
    lifted = points.copy()
    lifted[..., 1] += lift  # the same run filmed with the ground elsewhere
    np.testing.assert_allclose(foot_heights_m(lifted, t, window_s=window_s), heights, atol=1e-9)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 80).flatmap(lambda n: st.tuples(
           frame_times(n),
           hnp.arrays(np.float64, n, elements=st.floats(-0.2, 0.6) | st.just(np.nan)),
           hnp.arrays(np.float64, n, elements=st.floats(-1.0, 1.0) | st.just(np.nan)))),
       st.floats(0.0, 0.2), st.floats(0.0, 0.05), st.floats(0.0, 0.2), st.floats(0.0, 0.3), st.booleans())
def test_contacts_lie_in_the_clip_in_order(signals: tuple[np.ndarray, np.ndarray, np.ndarray], coarse_m: float,
                                           margin_m: float, min_contact_s: float, sweep_m: float,
                                           with_sweep: bool) -> None:
    t, height, forward = signals
    contacts = detect_contacts(height, t, "right", coarse_threshold_m=coarse_m, refine_margin_m=margin_m,
                               min_contact_s=min_contact_s, foot_forward_m=forward if with_sweep else None,
                               min_sweep_m=sweep_m)
    for c in contacts:
        assert c.foot == "right"
        for event in (c.touchdown_s, c.toeoff_s):
            assert math.isnan(event) or t[0] <= event <= t[-1]
        if c.complete:
            assert c.touchdown_s <= c.toeoff_s
    complete = [c for c in contacts if c.complete]  # those cut by a gap or the clip's ends: see the xfail below
    for before, after in zip(complete, complete[1:]):
        assert before.toeoff_s < after.touchdown_s  # in order, never overlapping


def test_a_contact_cut_by_the_end_of_the_clip_is_found_once() -> None:
    t = np.array([1, 2, 3, 4]) / 240
    height = np.array([0.5, -0.03125, 0.0, -0.03125])  # down, a flicker up to the threshold, down: one contact
    contacts = detect_contacts(height, t, "right", coarse_threshold_m=0.0, refine_margin_m=0.03125,
                               min_contact_s=0.0)
    assert len(contacts) == 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runner_points(), st.floats(1.0, 2.5))
def test_steps_lie_in_the_clip_with_consistent_roles(track: tuple[np.ndarray, np.ndarray], height_m: float) -> None:
    points, t = track
    frames = np.arange(t.size) + 7  # e.g. after a --start trim
    gait = analyse_steps(points, t, height_m=height_m, frame_index=frames)
    assert gait.in_contact.shape == (t.size, 2) and gait.push_leg.shape == gait.step_index.shape == (t.size,)
    assert [s.step for s in gait.steps] == list(range(1, len(gait.steps) + 1))
    for s in gait.steps:
        assert t[0] <= s.touchdown_s <= s.toeoff_s <= t[-1]
        assert s.touchdown_s <= s.next_touchdown_s <= t[-1]  # equal: see the xfail test below
        assert s.contact_s >= 0 and s.flight_s >= 0
        assert {s.push_leg, s.swing_leg} == {"left", "right"}
        assert frames[0] <= s.touchdown_frame <= s.toeoff_frame <= frames[-1]
        assert s.touchdown_frame <= s.next_touchdown_frame <= frames[-1]
        inside = gait.step_index == s.step
        assert set(gait.push_leg[inside]) <= {s.push_leg}
    assert set(gait.push_leg[gait.step_index == -1]) <= {""}
    assert set(gait.step_index) <= {-1, *(s.step for s in gait.steps)}
    assert gait.unpaired_contacts >= 0


def test_both_feet_landing_in_the_same_frame_is_not_a_step() -> None:
    t = np.arange(40) / 30.0
    angle = 2 * np.pi * 2.0 * t
    points = np.full((t.size, NUM_LANDMARKS, 3), np.nan)
    for side in SIDES:  # both feet move as one
        points[:, side_index(side, "heel"), :2] = np.stack([-0.4 * np.cos(angle), 0.3 * np.maximum(0, np.sin(angle))], 1)
        points[:, side_index(side, "foot_index"), :2] = points[:, side_index(side, "heel"), :2] + [0.2, 0.02]
        points[:, side_index(side, "hip"), 0] = 0.0
    gait = analyse_steps(points, t, height_m=1.8)
    for s in gait.steps:
        assert math.isfinite(s.step_frequency_hz) and s.step_time_s > 0


momenta = hnp.arrays(np.float64, st.integers(0, 60), elements=st.floats(-1e4, 1e4) | st.just(np.nan))


@settings(max_examples=200, deadline=None)
@given(momenta, st.floats(1 / 240, 0.5), st.floats(0.0, 100.0))
def test_peak_time_lies_within_the_samples(values: np.ndarray, dt_s: float, t0: float) -> None:
    t = t0 + dt_s * np.arange(values.size)
    when, peak = peak_time(t, values)
    finite = np.isfinite(values)
    if finite.sum() < 4:
        assert math.isnan(when) and math.isnan(peak)
        return
    # On its 0.5 ms search grid; the last grid point may pass the last sample by less than a grid step.
    assert t[finite][0] <= when <= t[finite][-1] + PEAK_GRID_S
    assert math.isfinite(peak) and peak >= values[finite][0]


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 60), elements=st.floats(-1e4, 1e4) | st.just(np.nan)),
       st.floats(1 / 240, 0.1), st.floats(-10.0, 10.0))
def test_centroid_time_lies_among_the_positive_samples(values: np.ndarray, dt_s: float, start_s: float) -> None:
    """Any signal (NaN, negative, all zero included): NaN without a positive sample, otherwise
    a time between the first and the last positive sample."""
    t = start_s + dt_s * np.arange(values.size)
    when = centroid_time(t, values)
    positive = np.isfinite(values) & (values > 0)
    if not positive.any():
        assert math.isnan(when)
    else:
        span = t[positive]
        assert span[0] - 1e-9 <= when <= span[-1] + 1e-9


def test_centroid_time_follows_a_shift_and_ignores_the_negative_part() -> None:
    t = np.arange(0.0, 0.3, 1 / 60)
    bump = np.exp(-0.5 * ((t - 0.12) / 0.03) ** 2) - 0.2
    shifted = np.exp(-0.5 * ((t - 0.15) / 0.03) ** 2) - 0.2
    assert centroid_time(t, shifted) - centroid_time(t, bump) == pytest.approx(0.03, abs=2e-3)
    assert centroid_time(t, bump) == pytest.approx(0.12, abs=2e-3)  # the -0.2 below zero is left out


# numpy warns about degenerate inputs (a near-constant fit, a ratio to a tiny peak): expected here
@pytest.mark.filterwarnings("ignore:Polyfit may be poorly conditioned", "ignore::RuntimeWarning")
@settings(max_examples=300, deadline=None)
@given(st.integers(0, 30).flatmap(lambda n: st.tuples(
           st.lists(st.floats(-1e4, 1e4) | st.just(math.nan), min_size=n, max_size=n),
           st.lists(st.floats(-1e4, 1e4) | st.just(math.nan), min_size=n, max_size=n))),
       st.floats(0.1, 1.0))
@example(([1.0, 1.0, 1.0, 1.0 + 2e-16, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0 + 4e-16]), 0.8)
# subnormal push peaks: the fit's SVD did not converge on the raw values (found by CI's run)
@example(([math.nan, math.nan, 0.0, 0.0, 6.76422983013512e-225, 0.0, 2.8676140607520277e-207,
           7.057983106647128e-208, 5.4686640239454145e-226],
          [math.nan, math.nan, math.nan, 0.0, 0.0, math.nan, 0.0, 0.0, 0.0]), 1.0)
def test_rising_together_stays_in_range(peaks: tuple[list[float], list[float]], keep_up_fraction: float) -> None:
    push, swing = peaks
    numbers = list(range(1, len(push) + 1))
    trend = rising_together(push, swing, numbers, keep_up_fraction)
    assert trend.correlation is None or -1.0 <= trend.correlation <= 1.0
    assert trend.slope is None or math.isfinite(trend.slope)
    assert trend.stops_keeping_up_at_step is None or trend.stops_keeping_up_at_step in numbers[3:]
    assert isinstance(trend.sentence, str) and trend.sentence.endswith(".")


@pytest.mark.parametrize("shift_s", [-0.041, 0.0, 0.023, 0.05])
def test_waveform_shift_reads_a_shift_between_frames(shift_s: float) -> None:
    """A swing-like lobe sampled at 60 fps, late by a shift that falls between frames, against
    its template on a 1 ms grid: the shift is read within 1 ms, also with the waveform scaled
    and offset (the correlation ignores both)."""
    lobe = lambda t: np.exp(-0.5 * ((t - 0.09) / 0.035) ** 2) - 0.3 * np.exp(-0.5 * ((t - 0.2) / 0.03) ** 2)  # noqa: E731
    grid = np.arange(-0.08, 0.31, 0.001)
    t = np.arange(0.0, 0.23, 1 / 60) + 0.004
    assert waveform_shift_s(t, 2.5 * lobe(t - shift_s) + 0.4, grid, lobe(grid), 0.08) == pytest.approx(shift_s, abs=1e-3)


def test_waveform_shift_is_nan_without_enough_overlap_or_shape() -> None:
    grid = np.arange(0.0, 0.3, 0.001)
    template = np.sin(2 * np.pi * 4 * grid)
    t = np.arange(0.0, 0.2, 1 / 60)
    assert math.isnan(waveform_shift_s(t[:3], np.sin(2 * np.pi * 4 * t[:3]), grid, template, 0.05))
    assert math.isnan(waveform_shift_s(t, np.ones_like(t), grid, template, 0.05))
    assert math.isnan(waveform_shift_s(t, np.full(t.size, np.nan), grid, template, 0.05))
