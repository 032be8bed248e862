"""Encoding rendered frames as a phone would (H.264 through FFmpeg), written atomically."""
from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from analyzer.atomic import atomic_path


def _ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def write_video(
    frames: Iterable[np.ndarray],
    path: str | Path,
    fps: float,
    *,
    rotation_deg: int = 0,
    crf: int = 18,
    preset: str = "fast",
) -> int:
    """Encode RGB uint8 frames to an H.264 MP4 (libx264, yuv420p, +faststart), atomically.

    Args:
        frames: (H, W, 3) uint8 RGB frames *as stored* (all the same, even, size).
        path: output file; written to a temporary file beside it and renamed on success.
        fps: frame rate, written as a rational with a denominator of at most 1001 (so
            ``30000 / 1001`` stays exact).
        rotation_deg: clockwise rotation a player must apply to show the clip upright:
            0, 90, 180 or 270, as a phone records it (90: held upright, the stored frames
            are landscape and the picture is portrait). Written as the MP4 display matrix;
            OpenCV reports it as ``CAP_PROP_ORIENTATION_META`` and, with
            ``CAP_PROP_ORIENTATION_AUTO`` (its default), returns upright frames. To film
            such a clip, render through a camera rolled so that the world's "up" points to
            the stored picture's left (``CameraTrack.up`` = the world direction that should
            appear on the viewer's right, e.g. ``(-1, 0, 0)`` for ``side_camera(side="left")``).
        crf, preset: libx264 quality and speed.

    Returns:
        The number of frames written.

    Raises:
        ValueError: bad frames, size, rate or rotation (nothing is written).
        RuntimeError: ffmpeg failed (its message is included; nothing is written).

    Notes:
        With this ffmpeg (9.x) the display matrix must be set by the *input* option
        ``-display_rotation`` (counter-clockwise degrees, hence ``-rotation_deg``) together
        with ``-noautorotate``; without the latter ffmpeg turns the pixels instead of
        tagging them, and the legacy ``-metadata:s:v rotate=`` tag is silently ignored.
    """
    rotation = int(rotation_deg) % 360
    if rotation not in (0, 90, 180, 270):
        raise ValueError("rotation_deg must be a multiple of 90")
    rate = Fraction(fps).limit_denominator(1001)
    if rate <= 0:
        raise ValueError("fps must be positive")
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise ValueError("no frames to write")
    if first.dtype != np.uint8 or first.ndim != 3 or first.shape[2] != 3:
        raise ValueError(f"frames must be (H, W, 3) uint8, got {first.shape} {first.dtype}")
    height, width = first.shape[:2]
    if width % 2 or height % 2:
        raise ValueError(f"yuv420p needs an even frame size, got {width}x{height}")

    rotate_args = ["-noautorotate", "-display_rotation", str(-rotation)] if rotation else []
    count = 0
    with atomic_path(path) as tmp, tempfile.TemporaryFile() as log:
        cmd = [
            _ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            *rotate_args,
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
            "-framerate", f"{rate.numerator}/{rate.denominator}", "-i", "pipe:0",
            "-an", "-c:v", "libx264", "-preset", preset, "-crf", str(int(crf)),
            "-pix_fmt", "yuv420p", "-movflags", "+faststart",
            str(tmp),
        ]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        assert proc.stdin is not None
        broken = False
        try:
            for frame in _chain(first, it):
                if frame.shape != first.shape or frame.dtype != np.uint8:
                    raise ValueError(f"frame {count} is {frame.shape} {frame.dtype}, expected {first.shape} uint8")
                proc.stdin.write(np.ascontiguousarray(frame).data)
                count += 1
            proc.stdin.close()
        except BrokenPipeError:
            broken = True                       # ffmpeg exited early; its log says why
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        rc = proc.wait()
        if rc != 0 or broken:
            log.seek(0)
            raise RuntimeError(f"ffmpeg failed ({rc}): {log.read().decode(errors='replace').strip()}")
    return count


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest
