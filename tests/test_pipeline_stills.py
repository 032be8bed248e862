"""The stills' frames: kept small, and cached in the output folder so that a re-analysis
with the pose cached decodes no video (issue #7).

The clip is the synthetic example run (``analyzer.report.example``) encoded to H.264, and
``_write_visuals`` gets the landmarks it was drawn from, so no pose model runs here.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from analyzer import batch, outputs, overlay, pipeline, video
from analyzer.report.example import ExampleRun, example_run

FAULTS = {2: "swing_lag", 4: "both", 6: "under_counterbalanced"}
MAX_SIDE_PX = 960  # decoded at 960x540, stills drawn at 640x360


@pytest.fixture(scope="module")
def run() -> ExampleRun:
    return example_run(2.0, 30.0, width=1280, height=720, faults=FAULTS, stop_step=None)


def encode(run: ExampleRun, path: Path, *, brighten: int = 0) -> Path:
    """The example run's frames as an H.264 clip (keyframe every 10 frames)."""
    w, h = run.width, run.height
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
               "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", "30", "-i", "pipe:0", "-c:v", "libx264",
               "-preset", "ultrafast", "-crf", "18", "-g", "10", "-pix_fmt", "yuv420p", str(path)]
    frames = b"".join(np.clip(image.astype(int) + brighten, 0, 255).astype(np.uint8).tobytes()
                      for _, image in run.images())
    subprocess.run(command, input=frames, check=True)
    return path


@pytest.fixture(scope="module")
def clip(run: ExampleRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return encode(run, tmp_path_factory.mktemp("clip") / "run.mp4")


def visuals(run: ExampleRun, clip: Path, out: Path, *, overlay_on: bool = False, max_side_px: int = MAX_SIDE_PX,
            steps: list[dict[str, Any]] | None = None) -> list[overlay.Still]:
    """``pipeline._write_visuals`` for the example run's landmarks on *clip*, into *out*."""
    result = SimpleNamespace(
        video=video.probe_video(clip), pose=SimpleNamespace(image_xy_px=run.xy_px, visibility=run.visibility),
        settings=pipeline.Settings(overlay=overlay_on, max_side_px=max_side_px))
    out.mkdir(parents=True, exist_ok=True)
    rows = run.steps if steps is None else steps
    return pipeline._write_visuals(result, run.frames, rows, out)  # type: ignore[arg-type]


def cached_files(out: Path) -> list[Path]:
    return sorted((out / outputs.STILLS_CACHE_DIR).iterdir())


def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the video was decoded")

    monkeypatch.setattr(video, "read_frames", fail)
    monkeypatch.setattr(video, "iter_frames", fail)


def decoded_frames(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The frame indices read_frames is asked for from now on."""
    asked: list[int] = []
    real = video.read_frames

    def spy(info: video.VideoInfo, indices: Any, **kwargs: Any) -> Any:
        asked.extend(sorted(indices))
        return real(info, indices, **kwargs)

    monkeypatch.setattr(video, "read_frames", spy)
    return asked


def pixels(still: overlay.Still) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(still.jpeg, np.uint8), cv2.IMREAD_COLOR).astype(int)


def test_a_rerun_draws_the_same_stills_without_decoding(run: ExampleRun, clip: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = overlay.still_frame_indices(run.frames, run.steps)
    first = visuals(run, clip, tmp_path)
    assert len(first) == 2 * len(FAULTS) and {s.frame for s in first} == set(wanted)
    assert {(s.width, s.height) for s in first} == {(640, 360)}
    assert len(cached_files(tmp_path)) == len(wanted)

    no_decoding(monkeypatch)
    again = visuals(run, clip, tmp_path)
    assert [(s.step, s.moment, s.frame, s.jpeg) for s in again] == [(s.step, s.moment, s.frame, s.jpeg) for s in first]


def test_stills_match_those_drawn_on_the_decoded_frames(run: ExampleRun, clip: Path, tmp_path: Path) -> None:
    """The cache's JPEG round trip (quality 95) barely changes a still: against drawing on
    the decoded frames directly, as before the cache, 0.5-0.6 grey levels on average here
    (about 1.5 on the 1080p bench clip), 99 % of pixels within 9."""
    stills = visuals(run, clip, tmp_path)
    info = video.probe_video(clip)
    wanted = overlay.still_frame_indices(run.frames, run.steps)
    decoded = dict(video.read_frames(info, wanted, max_side_px=MAX_SIDE_PX))
    direct = overlay.still_frames(decoded, run.xy_px * MAX_SIDE_PX / run.width, run.visibility, run.frames, run.steps)
    assert [(s.step, s.moment, s.frame, s.width, s.height) for s in direct] == [
        (s.step, s.moment, s.frame, s.width, s.height) for s in stills]
    for a, b in zip(stills, direct):
        difference = np.abs(pixels(a) - pixels(b))
        assert difference.mean() < 1.0 and np.percentile(difference, 99) < 12, (a.frame, difference.mean())


def test_overlay_pass_keeps_small_frames_and_fills_the_same_cache(run: ExampleRun, clip: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[tuple[int, ...]] = []
    real = overlay.still_frames

    def spy(images: dict[int, np.ndarray], *args: Any, **kwargs: Any) -> list[overlay.Still]:
        sizes.extend(image.shape for image in images.values())
        return real(images, *args, **kwargs)

    monkeypatch.setattr(overlay, "still_frames", spy)
    with_overlay = visuals(run, clip, tmp_path / "on", overlay_on=True)
    assert (tmp_path / "on" / "overlay.mp4").is_file()
    assert sizes and set(sizes) == {(360, 640, 3)}, "frames kept at the stills' size, not the decoded 960x540"
    without = visuals(run, clip, tmp_path / "off")
    assert [s.jpeg for s in with_overlay] == [s.jpeg for s in without]
    assert ([p.read_bytes() for p in cached_files(tmp_path / "on")]
            == [p.read_bytes() for p in cached_files(tmp_path / "off")])


def test_only_missing_or_damaged_frames_are_decoded(run: ExampleRun, clip: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first = visuals(run, clip, tmp_path)
    files = cached_files(tmp_path)
    files[0].unlink()
    files[-1].write_bytes(files[-1].read_bytes()[:100])  # a damaged file is a miss
    (tmp_path / outputs.STILLS_CACHE_DIR / "old-f0000001.jpg").write_bytes(b"an earlier run's")
    asked = decoded_frames(monkeypatch)
    again = visuals(run, clip, tmp_path)
    wanted = overlay.still_frame_indices(run.frames, run.steps)
    assert asked == [wanted[0], wanted[-1]]
    assert [s.jpeg for s in again] == [s.jpeg for s in first]
    assert [p.name for p in cached_files(tmp_path)] == [p.name for p in files]  # the stray file is gone


def test_another_video_or_size_is_a_miss(run: ExampleRun, clip: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    video_path = tmp_path / "run.mp4"
    video_path.write_bytes(clip.read_bytes())
    out = tmp_path / "out"
    first = visuals(run, video_path, out)
    before = [p.name for p in cached_files(out)]
    wanted = overlay.still_frame_indices(run.frames, run.steps)
    asked = decoded_frames(monkeypatch)

    smaller = visuals(run, video_path, out, max_side_px=640)  # another decoding size
    assert asked == wanted
    assert {(s.width, s.height) for s in smaller} == {(640, 360)}
    assert len(cached_files(out)) == len(wanted) and not {p.name for p in cached_files(out)} & set(before)

    asked.clear()
    encode(run, video_path, brighten=40)  # the same name, other content
    brighter = visuals(run, video_path, out)
    assert asked == wanted
    assert len(brighter) == len(first)
    for a, b in zip(brighter, first):
        assert pixels(a).mean() > pixels(b).mean() + 20


def test_no_stills_no_cache_folder(run: ExampleRun, clip: Path, tmp_path: Path) -> None:
    visuals(run, clip, tmp_path)
    assert cached_files(tmp_path)
    unflagged = [dict(step, flagged=False) for step in run.steps]
    assert visuals(run, clip, tmp_path, steps=unflagged) == []
    assert not (tmp_path / outputs.STILLS_CACHE_DIR).exists()


def test_a_killed_runs_partial_cache_files_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / outputs.STILLS_CACHE_DIR
    folder.mkdir()
    (folder / ".abc-f0000001.partial-k1lled.jpg").write_bytes(b"half")
    (folder / "abc-f0000002.jpg").write_bytes(b"whole")
    batch.remove_partial_files(tmp_path)
    assert [p.name for p in folder.iterdir()] == ["abc-f0000002.jpg"]
