"""Video decoding: phone videos as they really arrive (team issue #2).

Clips that need no real person are generated with the ffmpeg binary of imageio-ffmpeg
from FFmpeg's ``testsrc2`` pattern (asymmetric, so a wrong rotation cannot pass); the
real-footage checks read ``../shared/videos`` and skip when it is absent.
"""
from __future__ import annotations

import csv
import os
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from analyzer.video import Frame, VideoError, VideoInfo, iter_frames, probe_video
from tests.conftest import shared_clip

FFMPEG = None


def ffmpeg(*args: str) -> None:
    """Run the ffmpeg binary shipped by imageio-ffmpeg (quiet; raises on failure)."""
    global FFMPEG
    if FFMPEG is None:
        import imageio_ffmpeg

        FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *map(str, args)], check=True)


def make_testsrc(path: Path, *, seconds: float = 1.0, rate: int = 30, size: str = "320x240",
            vf: str | None = None, extra: tuple[str, ...] = ()) -> Path:
    """An H.264 clip of FFmpeg's test pattern (keyframe every 10 frames, so seeks have somewhere to land)."""
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}", "-t", str(seconds)]
    if vf:
        args += ["-vf", vf]
    ffmpeg(*args, "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-pix_fmt", "yuv420p", *extra, path)
    return path


def frames_of(info: VideoInfo, *args: float | None, **kwargs: object) -> list[Frame]:
    return list(iter_frames(info, *args, **kwargs))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    out = {"plain": make_testsrc(d / "plain.mp4", seconds=2.0)}
    # stored as coded, shown rotated: the player turns it 90 degrees counter-clockwise
    ffmpeg("-display_rotation", "90", "-i", out["plain"], "-c", "copy", d / "rot90.mp4")
    ffmpeg("-display_rotation", "180", "-i", out["plain"], "-c", "copy", d / "rot180.mp4")
    ffmpeg("-display_rotation", "-90", "-i", out["plain"], "-c", "copy", d / "rot270.mp4")
    out |= {"rot90": d / "rot90.mp4", "rot180": d / "rot180.mp4", "rot270": d / "rot270.mp4"}
    # variable frame rate: 30 frames 1/30 s apart, then 30 frames 1/60 s apart
    out["vfr"] = make_testsrc(d / "vfr.mp4", seconds=2.0, vf="settb=1/600,setpts='if(lt(N,30),N*20,600+(N-30)*10)'",
                              extra=("-fps_mode", "vfr", "-enc_time_base", "1/600"))
    # every picture held for three frames (a 10 fps picture in a 30 fps file), then re-encoded
    out["held3"] = make_testsrc(d / "held3.mp4", seconds=2.0, vf="fps=10,fps=30")
    # a camera panning right over a wide scene at 2 px a frame: the picture moves left
    out["pan"] = make_testsrc(d / "pan.mp4", seconds=1.0, size="640x240",
                              vf="loop=loop=-1:size=1:start=0,setpts=N/30/TB,crop=320:240:x='n*2':y=0")
    return out


# --------------------------------------------------------------------------- probing


def test_probe_describes_plain_clip(clips: dict[str, Path]) -> None:
    info = probe_video(clips["plain"])
    assert (info.codec, info.width, info.height, info.rotation_deg) == ("h264", 320, 240, 0)
    assert info.frame_count == 60 and info.frame_count_source == "packets"
    assert info.fps == pytest.approx(30.0) and info.fps_source == "container"
    assert info.duration_s == pytest.approx(2.0, abs=1e-3)
    assert not info.is_variable_frame_rate


def test_every_shared_clip_probes_as_the_manifest_says(shared_videos: Path) -> None:
    with open(shared_videos / "MANIFEST.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for row in rows:
        info = probe_video(shared_videos / row["file"])
        assert (info.width, info.height) == (int(row["width"]), int(row["height"])), row["file"]
        assert info.frame_count == int(row["frames"]), row["file"]
        assert info.fps == pytest.approx(float(row["fps"]), abs=0.01), row["file"]
    for path in sorted((shared_videos / "sprint_starts").glob("*.mp4")):
        info = probe_video(path)
        assert info.frame_count > 30 and info.width == 1280 and info.height == 720, path.name
    assert probe_video(shared_videos / "davidpagnon__Sports2D__demo.mp4").codec == "vp9"


# --------------------------------------------------------------------------- rotation


@pytest.mark.parametrize(("name", "degrees", "turns"), [("rot90", 270, 1), ("rot180", 180, 2), ("rot270", 90, 3)])
def test_rotation_metadata_gives_upright_frames(clips: dict[str, Path], name: str, degrees: int, turns: int) -> None:
    """A display matrix of 90 degrees counter-clockwise is a 270 degree clockwise turn, etc."""
    plain = frames_of(probe_video(clips["plain"]), 0.0, 0.5, prefetch=0)
    info = probe_video(clips[name])
    assert info.rotation_deg == degrees
    assert (info.coded_width, info.coded_height) == (320, 240)
    assert (info.width, info.height) == ((240, 320) if turns % 2 else (320, 240))
    rotated = frames_of(info, 0.0, 0.5, prefetch=0)
    assert len(rotated) == len(plain) == 15
    for a, b in zip(plain, rotated):
        assert b.image_rgb.shape == (info.height, info.width, 3)
        np.testing.assert_array_equal(b.image_rgb, np.rot90(a.image_rgb, turns))  # same decoded data, turned


def test_downscale_keeps_upright_aspect(clips: dict[str, Path]) -> None:
    info = probe_video(clips["rot90"])
    frame = next(iter(iter_frames(info, max_side_px=160)))
    assert frame.image_rgb.shape == (160, 120, 3)
    assert frame.scale == pytest.approx(0.5)


# --------------------------------------------------------------------------- timing


def test_variable_frame_rate_follows_container_timestamps(clips: dict[str, Path]) -> None:
    info = probe_video(clips["vfr"])
    assert info.is_variable_frame_rate
    frames = frames_of(info)
    n = np.arange(len(frames))
    expected = np.where(n < 30, n / 30, 1 + (n - 30) / 60)
    times = np.array([f.time_s for f in frames])
    assert len(frames) == 90
    np.testing.assert_allclose(times, expected, atol=1e-6)
    assert np.abs(times - n / info.container_fps).max() > 0.2  # index/fps would be badly wrong
    np.testing.assert_array_equal([f.index for f in frames], n)
    assert info.duration_s == pytest.approx(times[-1] + 1 / info.fps)


def test_fps_override_times_frames_by_capture_rate(clips: dict[str, Path]) -> None:
    info = probe_video(clips["plain"], fps_override=240.0)
    assert (info.fps, info.fps_source, info.container_fps) == (240.0, "--fps", pytest.approx(30.0))
    assert info.duration_s == pytest.approx(60 / 240)
    times = [f.time_s for f in frames_of(info)]
    np.testing.assert_allclose(times, np.arange(60) / 240.0)
    assert probe_video(clips["plain"], fps_override=120, fps_source="sidecar").fps_source == "sidecar"
    with pytest.raises(VideoError, match="--fps"):
        probe_video(clips["plain"], fps_override=0)


@pytest.mark.parametrize("clip", ["plain", "vfr"])
@pytest.mark.parametrize("prefetch", [0, 4])
def test_trim_keeps_video_time_and_indices(clips: dict[str, Path], clip: str, prefetch: int) -> None:
    info = probe_video(clips[clip])
    everything = frames_of(info, prefetch=0)
    part = frames_of(info, 1.2, 1.5, prefetch=prefetch)  # starts after two keyframes: a real seek
    expected = [f for f in everything if 1.2 - 1e-9 <= f.time_s < 1.5]
    assert [f.index for f in part] == [f.index for f in expected] and part
    assert [f.time_s for f in part] == [f.time_s for f in expected]
    for a, b in zip(part, expected):
        np.testing.assert_array_equal(a.image_rgb, b.image_rgb)
    # the first trimmed frame still knows its predecessor (difference, shift)
    assert np.isfinite(part[0].diff_to_previous)


def grab_log(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The list the frame indices the decoder grabs from now on are appended to, in order."""
    import analyzer.video as video_mod

    log: list[int | None] = []
    original = video_mod._Decoder.grab

    def counting(self: object) -> int | None:
        index = original(self)  # type: ignore[arg-type]
        log.append(index)
        return index

    monkeypatch.setattr(video_mod._Decoder, "grab", counting)
    return log


@pytest.mark.parametrize("clip", ["plain", "vfr"])
def test_trim_seeks_instead_of_decoding_from_the_start(clips: dict[str, Path], clip: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    grabs = grab_log(monkeypatch)
    part = frames_of(probe_video(clips[clip]), 1.2, 1.5, prefetch=0)
    assert grabs[0] > 0 and len(grabs) < part[-1].index  # started at a keyframe, not at frame 0


@pytest.mark.parametrize("clip", ["plain", "vfr", "rot90", "rot270"])
def test_read_frames_gives_the_frames_iter_frames_gives(clips: dict[str, Path], clip: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import analyzer.video as video_mod

    info = probe_video(clips[clip])
    wanted = [3, 4, 17, 41, 42, 58, 59]  # neighbours, a keyframe (40), across keyframes, the last
    expected = {f.index: f.image_rgb for f in frames_of(info, max_side_px=200, prefetch=0) if f.index in wanted}
    grabs = grab_log(monkeypatch)
    got = list(video_mod.read_frames(info, [59, *wanted, 1000, -1], max_side_px=200))
    assert [i for i, _ in got] == wanted  # ascending, no repeats, out-of-range indices skipped
    for index, image in got:
        np.testing.assert_array_equal(image, expected[index])
    # seeks past the frames between wanted ones; on the variable-rate clip OpenCV cannot
    # place the seek to frame 50 (it seeks by the mean rate), so read_frames goes back to
    # the last keyframe it could reach (40) instead of to the start
    assert len(grabs) < (40 if clip != "vfr" else 80)


def test_trim_with_fps_override_is_in_capture_time(clips: dict[str, Path]) -> None:
    info = probe_video(clips["plain"], fps_override=120.0)
    part = frames_of(info, 0.1, 0.2)
    assert [f.index for f in part] == list(range(12, 24))
    np.testing.assert_allclose([f.time_s for f in part], np.arange(12, 24) / 120.0)


def test_end_before_start_is_refused(clips: dict[str, Path]) -> None:
    with pytest.raises(VideoError, match="--end"):
        frames_of(probe_video(clips["plain"]), 1.0, 0.5)


# --------------------------------------------------------------------------- repeats and shifts


def test_held_pictures_are_repeats(clips: dict[str, Path]) -> None:
    frames = frames_of(probe_video(clips["held3"]))
    assert len(frames) == 60
    flags = np.array([f.is_repeat for f in frames])
    np.testing.assert_array_equal(flags, np.arange(60) % 3 != 0)


def test_moving_pattern_has_no_repeats(clips: dict[str, Path]) -> None:
    assert not any(f.is_repeat for f in frames_of(probe_video(clips["plain"])))


def test_panning_camera_shows_as_background_shift(clips: dict[str, Path]) -> None:
    frames = frames_of(probe_video(clips["pan"]))
    shifts = np.array([f.background_shift_px for f in frames[1:]])
    assert frames[0].background_shift_px == (0.0, 0.0)
    np.testing.assert_allclose(np.median(shifts, axis=0), [-2.0, 0.0], atol=0.25)


def test_repeats_on_shared_clips(shared_videos: Path) -> None:
    """hato72 running holds every picture 3 frames (6 once a second); footage without holds has none."""
    hato = frames_of(probe_video(shared_clip("hato72__simple-HRNet__running.mp4")))
    flags = np.array([f.is_repeat for f in hato])
    new = np.flatnonzero(~flags)
    # new pictures every 3 frames, or 6 at the once-a-second long hold
    gaps = np.diff(new)
    assert np.mean(gaps == 3) > 0.8 and set(gaps) <= {1, 2, 3, 4, 5, 6}, gaps
    distinct_per_s = new.size / (hato[-1].time_s - hato[0].time_s)
    assert 9.0 <= distinct_per_s <= 10.5
    for name in ("pauldess1__MotionTrack__running.mp4", "mhuang24__Running-Form__IMG_5396.mp4",
                 "davidpagnon__Sports2D__demo.mp4", "hato72__simple-HRNet__movie2_b12.mp4",
                 "sinankiliclar__motion_detection__runner.mp4", "sprint_starts/hato72__simple-HRNet__movie2_b13.mp4"):
        info = probe_video(shared_clip(name))
        repeats = [f.index for f in iter_frames(info, max_side_px=640) if f.is_repeat]
        assert repeats == [], (name, repeats)


# --------------------------------------------------------------------------- reader thread


def test_reader_thread_gives_the_same_frames_and_stops_when_abandoned(clips: dict[str, Path]) -> None:
    info = probe_video(clips["vfr"])
    inline = frames_of(info, prefetch=0)
    threaded = frames_of(info, prefetch=3)
    assert [(f.index, f.time_s, f.is_repeat) for f in inline] == [(f.index, f.time_s, f.is_repeat) for f in threaded]
    before = threading.active_count()
    it = iter_frames(info, prefetch=2)
    next(it)
    it.close()  # consumer stops early: the reader must not linger
    assert threading.active_count() == before


# --------------------------------------------------------------------------- errors


def _error(path: Path) -> str:
    with pytest.raises(VideoError) as err:
        probe_video(path)
    message = str(err.value)
    assert "\n" not in message and path.name in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in _error(tmp_path / "nothing.mp4")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert "empty (0 bytes)" in _error(tmp_path / "empty.mp4")


def test_text_named_mp4(tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("athlete: A. Runner\nheight: 1.80\n")
    assert "text file" in _error(tmp_path / "notes.mp4")


def test_random_bytes(tmp_path: Path) -> None:
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    assert "cannot decode" in _error(tmp_path / "noise.mp4")


@pytest.mark.parametrize("name", ["still.png", "still.mp4"])
def test_still_image(tmp_path: Path, name: str) -> None:
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", "-f", "image2", "-c:v", "png", tmp_path / name)
    assert "still image" in _error(tmp_path / name)


def test_audio_only(tmp_path: Path) -> None:
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", tmp_path / "voice.mp4")
    assert "only audio" in _error(tmp_path / "voice.mp4")


def test_folder(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").mkdir()
    assert "folder" in _error(tmp_path / "clip.mp4")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads everything")
def test_no_read_permission(clips: dict[str, Path], tmp_path: Path) -> None:
    locked = tmp_path / "locked.mp4"
    locked.write_bytes(clips["plain"].read_bytes())
    locked.chmod(0)
    try:
        assert "no read permission" in _error(locked)
    finally:
        locked.chmod(0o644)


def test_truncated_files(clips: dict[str, Path], tmp_path: Path) -> None:
    data = (make_testsrc(tmp_path / "faststart.mp4", seconds=2.0, extra=("-movflags", "+faststart"))).read_bytes()
    cut = tmp_path / "cut30.mp4"
    cut.write_bytes(data[: int(0.3 * len(data))])
    info = probe_video(cut)  # the index is at the front: the first 30% still decodes
    decoded = frames_of(info)
    assert 1 <= len(decoded) < 60
    header_only = tmp_path / "header_only.mp4"
    header_only.write_bytes(data[:1500])
    assert "cannot decode" in _error(header_only)
    # as phones write them, the index comes last: cut anywhere, nothing can be found
    ordinary = clips["plain"].read_bytes()
    (tmp_path / "cut_phone.mp4").write_bytes(ordinary[: int(0.3 * len(ordinary))])
    assert "truncated" in _error(tmp_path / "cut_phone.mp4")


def test_vp9_webm_decodes(tmp_path: Path) -> None:
    path = tmp_path / "clip.webm"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "0.5", "-c:v", "libvpx-vp9",
           "-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k", path)
    info = probe_video(path)
    assert info.codec == "vp9" and (info.width, info.height) == (320, 240)
    assert len(frames_of(info)) == 15
