"""Video decoding: phone videos as they really arrive.

Stage one of the pipeline. :func:`probe_video` checks a file and describes it
(:class:`VideoInfo`); :func:`iter_frames` streams its frames upright, with their times,
a repeated-frame flag and the global image shift against the previous frame
(:class:`Frame`).

Conventions
-----------
* **Frame index**: 0-based, in decoding (= presentation) order over the whole file, also
  when decoding starts at ``start_s``.
* **Time** ``time_s``: seconds from the start of the video as decoded. Without an fps
  override it is the frame's own container timestamp (presentation time relative to the
  video stream's start), so variable-frame-rate phone clips are timed correctly. With an
  override (a slow-motion export: a 240 fps capture saved to play at 30) it is the
  capture time ``index / fps``. ``start_s``/``end_s`` are in the same time base as
  ``time_s`` and select ``start_s <= time_s < end_s``.
* **Rotation**: phones store portrait video as landscape pictures plus a display matrix.
  ``rotation_deg`` is the clockwise rotation (0/90/180/270) that makes a stored picture
  upright, as OpenCV reports it in ``CAP_PROP_ORIENTATION_META`` (FFmpeg's
  ``-display_rotation 90``, a counter-clockwise display matrix, reads as 270). OpenCV 5
  would rotate by itself (``CAP_PROP_ORIENTATION_AUTO`` defaults to on); we switch that
  off and rotate here, after any downscaling, so frames are upright whatever the OpenCV
  build does and the cheap small image is the one rotated. ``width``/``height`` are
  always the upright size.
* **Repeated frames** (``is_repeat``): a frame whose picture is the previous one again,
  as in screen recordings and exports that hold each image for several frames. After
  re-encoding such frames are near-identical, not bit-identical. A frame is a repeat
  when its mean absolute grey difference d to the previous frame (on a 256 px grey
  copy) is below :data:`REPEAT_RATIO` times the clip's *local new-image difference*. That
  scale is built from m, the running maximum of d over :data:`REPEAT_MAX_HOLD` frames
  (which sees every new picture even when most frames are repeats): the smaller of the
  median of m over the previous :data:`_REPEAT_PAST` frames and over this frame and the
  next :data:`_REPEAT_AHEAD`. Medians ignore flashes and shot cuts; taking the smaller side
  keeps a camera that stops seeing motion (a runner leaving a static shot) from turning
  its still frames into "repeats".
* **Background shift** ``background_shift_px``: (dx, dy) in upright full-resolution
  pixels of the whole picture against the previous frame (phase correlation of the
  256 px grey copies; OpenCV's sign: content moving right gives dx > 0); a panning camera
  shows a steady non-zero dx. Under parallax it is the dominant plane's motion: on
  pauldess1 (camera tracking a runner) it reads about 2 px a frame, as the far hedge
  moves, while the road at the bottom moves 10.
* **Seeking**: ``start_s`` seeks to the last keyframe before it by frame number, then
  decodes forward; each decoded frame is placed by its timestamp in the packet index, and
  if a seek cannot be placed exactly the file is decoded from the start instead, so
  indices never drift.
* **Repeated frames found on the shared clips** (see :data:`REPEAT_RATIO`): hato72
  running (each picture held 3 frames), and 25-to-30 fps conversions where every 5th or
  6th frame repeats: mwfan (63 of 252), Sreevijnya (17 of 85), BetterForerunner (33 of
  271); one at the start of sprint_starts/movie2_b11 (frame 2, a fifth of its neighbours'
  difference: very likely a real duplicate from the phone). No other clip has any.
"""
from __future__ import annotations

import contextlib
import math
import os
import queue
import re
import subprocess
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "VideoError",
    "VideoInfo",
    "Frame",
    "probe_video",
    "iter_frames",
    "read_frames",
    "REPEAT_RATIO",
    "REPEAT_MAX_HOLD",
]

#: A frame is a repeat when its difference to the previous frame is below this fraction of
#: the clip's local new-image difference (see the module docstring). Calibrated on all
#: 34 shared clips, full length: at 0.12 every held frame of hato72 running is found but
#: its first two (encoder warm-up; 0.11 also misses one held across a keyframe), and no
#: frame of the clips without holds is flagged (the first false one appears at 0.13, in
#: a snowy static shot where the encoder repeats nearly everything).
REPEAT_RATIO = 0.12
#: Longest hold (frames showing one image) the local scale is built to see through.
REPEAT_MAX_HOLD = 8
#: Past and future frames (their differences) in the local window of the repeat test.
_REPEAT_PAST = 60
_REPEAT_AHEAD = 8
#: Longer side, in pixels, of the small grey picture used for differences and shifts.
_ANALYSIS_SIDE_PX = 256

_ROTATE_CODES = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}

_CODEC_NAMES = {"avc1": "h264", "h264": "h264", "hev1": "hevc", "hvc1": "hevc", "hevc": "hevc",
                "vp90": "vp9", "vp80": "vp8", "av01": "av1", "mp4v": "mpeg4", "mjpg": "mjpeg"}

#: Leading bytes of still-image formats, which FFmpeg would happily open as a one-frame video.
_IMAGE_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"BM", 0, "BMP"),
    (b"WEBP", 8, "WebP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"ftypheic", 4, "HEIC"),
    (b"ftypheix", 4, "HEIC"),
    (b"ftypmif1", 4, "HEIF"),
    (b"ftypavif", 4, "AVIF"),
)


class VideoError(Exception):
    """A video that cannot be analysed; ``str(err)`` is one plain line for the user."""


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` found out about a video file.

    Attributes:
        path: the file.
        codec: video codec name (``h264``, ``hevc``, ``vp9``, ...; else OpenCV's FourCC).
        container_fps: the frame rate the container declares (OpenCV ``CAP_PROP_FPS``).
        fps: the *capture* rate used for timing: the override if given, else the
            container's rate (for a variable-frame-rate clip: its mean rate).
        fps_source: ``"container"``, ``"--fps"`` or ``"sidecar"``.
        frame_count: number of frames.
        declared_frame_count: the frame count the container's header declares (0 if none);
            more than ``frame_count`` means the file ends early.
        frame_count_source: ``"packets"`` (counted in the container's packet index: exact
            for a sound file) or ``"estimate"`` (the container's declared count).
        duration_s: length of the video in the time base of ``Frame.time_s``.
        width, height: upright frame size in pixels (after rotation).
        rotation_deg: clockwise rotation (0, 90, 180, 270) applied to stored pictures.
        coded_width, coded_height: picture size as stored, before rotation.
        is_variable_frame_rate: the container timestamps are not evenly spaced (some
            interval differs from the median interval by more than a quarter of it).
        frame_times_s: container presentation time of every frame (sorted, seconds from
            the video stream's start), from the packet index; empty when unavailable.
        keyframe_times_s: container time of every keyframe (where a seek can land).
    """

    path: Path
    codec: str
    container_fps: float
    fps: float
    fps_source: str
    frame_count: int
    frame_count_source: str
    duration_s: float
    width: int
    height: int
    rotation_deg: int
    coded_width: int
    coded_height: int
    is_variable_frame_rate: bool
    frame_times_s: np.ndarray = field(repr=False, compare=False)
    keyframe_times_s: np.ndarray = field(repr=False, compare=False)
    declared_frame_count: int = 0

    @property
    def ends_early(self) -> bool:
        """The container's index declares more frames than the file holds (an incomplete copy)."""
        return self.frame_count_source == "packets" and self.declared_frame_count > self.frame_count

    @property
    def fps_overridden(self) -> bool:
        """True when timing comes from an override (``--fps`` or a sidecar), not the container."""
        return self.fps_source != "container"

    def frame_time(self, index: int | np.ndarray) -> float | np.ndarray:
        """Time (the ``Frame.time_s`` rule) of frame *index*, from the packet index."""
        idx = np.asarray(index)
        if self.fps_overridden or self.frame_times_s.size == 0:
            out = idx / self.fps
        else:
            out = self.frame_times_s[np.clip(idx, 0, self.frame_times_s.size - 1)]
        return float(out) if np.ndim(out) == 0 else out


@dataclass
class Frame:
    """One decoded frame.

    Attributes:
        index: 0-based position in decoding order over the whole file.
        time_s: seconds from the start of the video (see the module docstring).
        image_rgb: (H, W, 3) uint8 RGB, upright; downscaled if ``max_side_px`` was given.
        is_repeat: the picture repeats the previous frame's (see the module docstring).
        background_shift_px: (dx, dy) global shift of the picture against the previous
            frame, in upright full-resolution pixels; (0, 0) for the first frame.
        scale: ``image_rgb`` size over the upright full-resolution size (1.0 if not scaled).
        diff_to_previous: mean absolute grey difference to the previous frame (0-255
            scale, on a small analysis image); NaN for the first frame.
    """

    index: int
    time_s: float
    image_rgb: np.ndarray
    is_repeat: bool
    background_shift_px: tuple[float, float]
    scale: float = 1.0
    diff_to_previous: float = float("nan")


# --------------------------------------------------------------------------- probing


def _fourcc_name(value: float) -> str:
    code = int(value)
    raw = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ")
    return _CODEC_NAMES.get(raw.lower(), raw or "unknown")


def _ffmpeg_streams(path: Path) -> tuple[str | None, bool, str]:
    """(video codec, has audio, first error line) from ``ffmpeg -i``; only for error messages."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        proc = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True,
                              text=True, timeout=30, check=False)
    except Exception:  # noqa: BLE001 - a better message is a nicety, never a failure
        return None, False, ""
    text = proc.stderr
    video = re.search(r"Stream #\S+.*?: Video: ([A-Za-z0-9_]+)", text)
    audio = re.search(r"Stream #\S+.*?: Audio: ", text) is not None
    errors = [ln.split(": ", 1)[-1] for ln in text.splitlines() if str(path) in ln and ": " in ln]
    return (video.group(1) if video else None), audio, (errors[-1] if errors else "")


def _mp4_without_index(path: Path) -> bool:
    """True for an MP4/MOV (ISO media) file whose top-level boxes end before the 'moov' index.

    Phones write the index last, so a copy cut short anywhere loses it and nothing decodes.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            if fh.read(8)[4:8] != b"ftyp":
                return False
            offset = 0
            while offset + 8 <= size:
                fh.seek(offset)
                header = fh.read(16)
                box_size, kind = int.from_bytes(header[:4], "big"), header[4:8]
                if kind == b"moov":
                    return False
                if box_size == 1:
                    box_size = int.from_bytes(header[8:16], "big")
                elif box_size == 0:
                    box_size = size - offset
                if box_size < 8:
                    return False  # not a box structure we understand: say nothing
                offset += box_size
    except OSError:
        return False
    return True


def _convert_hint(path: Path) -> str:
    out = path.with_name(f"{path.stem}_h264.mp4").name
    return f"convert it with: ffmpeg -i {path.name} -c:v libx264 -pix_fmt yuv420p {out}"


def _check_file(path: Path) -> None:
    """Raise VideoError for anything that is plainly not a readable video file."""
    name = f"'{path.name}'"
    if not path.exists():
        raise VideoError(f"{name}: no such file ({path})")
    if path.is_dir():
        raise VideoError(f"{name} is a folder, not a video")
    if not os.access(path, os.R_OK):
        raise VideoError(f"{name}: no read permission")
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except PermissionError:
        raise VideoError(f"{name}: no read permission") from None
    except OSError as exc:
        raise VideoError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise VideoError(f"{name} is empty (0 bytes)")
    for magic, offset, kind in _IMAGE_MAGIC:
        if head[offset:offset + len(magic)] == magic:
            raise VideoError(f"{name} is a still image ({kind}), not a video")
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            is_text = exc.start >= len(head) - 3  # a multi-byte character cut by the 4 KiB read
        else:
            is_text = True
        if is_text:
            raise VideoError(f"{name} is a text file, not a video")


def _open_capture(path: Path, raw_packets: bool = False) -> cv2.VideoCapture:
    """Open with OpenCV's FFmpeg backend; automatic rotation off (we rotate, see module doc)."""
    params = [cv2.CAP_PROP_FORMAT, -1] if raw_packets else []
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)
    if cap.isOpened() and not raw_packets:
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
    return cap


def _packet_index(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Presentation times (s, sorted) of all video packets and of the keyframes, without decoding."""
    cap = _open_capture(path, raw_packets=True)
    times: list[float] = []
    keys: list[float] = []
    try:
        if cap.isOpened() and cap.get(cv2.CAP_PROP_FORMAT) == -1:
            while cap.grab():
                t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                times.append(t)
                if cap.get(cv2.CAP_PROP_LRF_HAS_KEY_FRAME):
                    keys.append(t)
    finally:
        cap.release()
    return np.sort(np.asarray(times, dtype=float)), np.sort(np.asarray(keys, dtype=float))


def probe_video(path: str | os.PathLike[str], fps_override: float | None = None,
                fps_source: str = "--fps") -> VideoInfo:
    """Check that *path* is a video we can decode and describe it.

    Reads the container's packet index (fast: no decoding) for exact frame count and
    timestamps, and decodes the first frame to prove the video stream decodes.

    Args:
        path: the video file.
        fps_override: capture frame rate to use for timing instead of the container's
            (slow-motion exports); ``None`` to use the container's timestamps.
        fps_source: label recorded for the override (``"--fps"`` or ``"sidecar"``).

    Raises:
        VideoError: missing, unreadable, empty, not a video (text, image, audio only,
            random bytes), an unsupported codec, or no frame decodes (truncated).
    """
    path = Path(path)
    _check_file(path)
    name = f"'{path.name}'"
    if fps_override is not None and not (math.isfinite(fps_override) and fps_override > 0):
        raise VideoError(f"--fps must be a positive number of frames per second, not {fps_override}")

    cap = _open_capture(path)
    try:
        opened = cap.isOpened()
        ok, first = cap.read() if opened else (False, None)
        codec = _fourcc_name(cap.get(cv2.CAP_PROP_FOURCC)) if opened else "unknown"
        container_fps = float(cap.get(cv2.CAP_PROP_FPS)) if opened else 0.0
        declared_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if opened else 0
        rotation = int(round(cap.get(cv2.CAP_PROP_ORIENTATION_META))) % 360 if opened else 0
        auto = cap.get(cv2.CAP_PROP_ORIENTATION_AUTO) if opened else 0
    finally:
        cap.release()

    if not opened or not ok or first is None:
        vcodec, has_audio, ff_error = _ffmpeg_streams(path)
        if not opened and vcodec is None and has_audio:
            raise VideoError(f"{name} holds only audio, no video stream")
        if _mp4_without_index(path):
            raise VideoError(f"cannot decode {name}: the file is incomplete (truncated before its index, "
                             f"the 'moov atom'); copy it again from the camera")
        if not opened and vcodec is None:
            why = f" ({ff_error})" if ff_error else ""
            raise VideoError(f"cannot decode {name}: not a video file OpenCV/FFmpeg can read{why}")
        if not opened:
            raise VideoError(f"cannot decode {name}: not a video OpenCV/FFmpeg can read "
                             f"(codec '{vcodec}'); {_convert_hint(path)}")
        raise VideoError(f"cannot decode {name}: no frame decodes (codec '{vcodec or codec}'); the file may be "
                         f"truncated or damaged, or if it plays elsewhere, {_convert_hint(path)}")
    if rotation not in (0, 90, 180, 270):
        rotation = 0
    coded_h, coded_w = first.shape[:2]
    if auto and rotation in (90, 270):  # this build ignored ORIENTATION_AUTO=0: frames came upright
        coded_w, coded_h = coded_h, coded_w
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)

    times, keys = _packet_index(path)
    if times.size >= 1:
        frame_count, count_source = int(times.size), "packets"
    else:
        frame_count, count_source = max(declared_count, 1), "estimate"
    if frame_count <= 1 and codec in ("png", "mjpeg", "gif", "bmp", "webp", "tiff"):
        raise VideoError(f"{name} is a still image ({codec}), not a video")

    intervals = np.diff(times)
    vfr = False
    mean_rate = float("nan")
    if intervals.size >= 2:
        median = float(np.median(intervals))
        vfr = bool(median > 0 and np.max(np.abs(intervals - median)) > 0.25 * median)
        span = float(times[-1] - times[0])
        mean_rate = (times.size - 1) / span if span > 0 else float("nan")
    if not (math.isfinite(container_fps) and container_fps > 0):
        container_fps = mean_rate if math.isfinite(mean_rate) else 30.0

    if fps_override is not None:
        fps, source = float(fps_override), fps_source
        duration = frame_count / fps
    else:
        fps = mean_rate if (vfr and math.isfinite(mean_rate)) else container_fps
        source = "container"
        duration = float(times[-1] - times[0]) + 1.0 / fps if times.size else frame_count / fps

    return VideoInfo(
        path=path, codec=codec, container_fps=container_fps, fps=fps, fps_source=source,
        frame_count=frame_count, frame_count_source=count_source, duration_s=duration,
        width=int(width), height=int(height), rotation_deg=rotation,
        coded_width=int(coded_w), coded_height=int(coded_h), is_variable_frame_rate=vfr,
        frame_times_s=times, keyframe_times_s=keys, declared_frame_count=max(declared_count, 0),
    )


# --------------------------------------------------------------------------- decoding


class _RepeatClassifier:
    """Online repeated-frame test with a short look-ahead (see the module docstring).

    ``push(item, diff)`` returns the items whose decision is now final, each with its
    ``is_repeat`` flag; ``flush()`` returns the rest at the end of the stream. Memory:
    :data:`_REPEAT_AHEAD` pending items and :data:`_REPEAT_PAST` numbers.
    """

    def __init__(self) -> None:
        self._recent: deque[float] = deque(maxlen=REPEAT_MAX_HOLD)  # latest differences
        self._pending: deque[tuple[object, float, float]] = deque()  # (item, diff, running max)
        self._past: deque[float] = deque(maxlen=_REPEAT_PAST)  # running maxima of decided frames

    def push(self, item: object, diff: float) -> list[tuple[object, bool]]:
        if math.isfinite(diff):  # the first frame has no difference
            self._recent.append(diff)
        self._pending.append((item, diff, max(self._recent, default=math.nan)))
        out = []
        while len(self._pending) > _REPEAT_AHEAD:
            out.append(self._decide())
        return out

    def flush(self) -> list[tuple[object, bool]]:
        return [self._decide() for _ in range(len(self._pending))]

    def _decide(self) -> tuple[object, bool]:
        item, diff, own_max = self._pending.popleft()
        ahead = [m for m in [own_max, *(m for _, _, m in self._pending)] if math.isfinite(m)]
        # the past counts once its running maxima span a whole hold (else, at the start of a
        # clip, they may not have seen a new picture yet)
        sides = (self._past, ahead) if len(self._past) >= REPEAT_MAX_HOLD else (ahead,)
        scales = [float(np.median(x)) for x in sides if len(x)]
        scale = min(scales) if scales else math.nan
        if math.isfinite(own_max):
            self._past.append(own_max)
        is_repeat = math.isfinite(diff) and scale > 0 and diff < REPEAT_RATIO * scale
        return item, bool(is_repeat)


def _analysis_grey(image_rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """Small float grey picture for differences and shifts, and its reduction factor.

    Always :data:`_ANALYSIS_SIDE_PX` on the longer side, whatever the input size, so that
    the repeat threshold means the same for every clip and ``max_side_px``: an integer box
    reduction (OpenCV's fast INTER_AREA path; edge pixels that do not fill a box are
    dropped) to between one and two times that size, then bilinear.
    """
    grey = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    k = max(1, max(h, w) // _ANALYSIS_SIDE_PX)
    if k > 1:
        h, w = h // k * k, w // k * k
        grey = cv2.resize(grey[:h, :w], (w // k, h // k), interpolation=cv2.INTER_AREA)
    factor = _ANALYSIS_SIDE_PX / max(grey.shape)
    size = (max(1, round(grey.shape[1] * factor)), max(1, round(grey.shape[0] * factor)))
    grey = cv2.resize(grey, size, interpolation=cv2.INTER_LINEAR)
    return grey.astype(np.float32), k / factor


class _Decoder:
    """Sequential decoder over one file with seeking, rotation and downscaling."""

    def __init__(self, info: VideoInfo, max_side_px: int | None) -> None:
        self.info = info
        long_side = max(info.width, info.height)
        self.scale = 1.0 if not max_side_px or long_side <= max_side_px else max_side_px / long_side
        self.cap = _open_capture(info.path)
        self.next_index = 0  # index of the next frame grab() returns (sequential decoding)
        self._pending_grab = False  # a seek already grabbed the next frame
        self.rotation = info.rotation_deg
        if self.cap.get(cv2.CAP_PROP_ORIENTATION_AUTO):  # the build rotates for us
            self.rotation = 0

    def close(self) -> None:
        self.cap.release()

    def _index_of_current(self) -> int:
        """Index of the frame just grabbed: its place in the packet index, else a counter."""
        idx = self.next_index
        times = self.info.frame_times_s
        if times.size:
            t = self.cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            j = int(np.searchsorted(times, t - 1e-6))
            if j < times.size and abs(times[j] - t) < 1e-4:
                idx = max(j, idx)
        return idx

    def keyframe_before(self, index: int) -> int:
        """Index of the last keyframe at or before frame *index* (0 when there is none
        after the start, or the file has no packet index)."""
        times, keys = self.info.frame_times_s, self.info.keyframe_times_s
        if index <= 0 or times.size == 0 or index >= times.size:
            return 0
        k = int(np.searchsorted(keys, times[index] + 1e-6)) - 1
        return int(np.searchsorted(times, keys[k] - 1e-6)) if k > 0 else 0

    def seek_to(self, first_index: int) -> bool:
        """Position so that the next grab() returns frame *first_index* (or the first after it).

        Returns False when the seek could not be placed and decoding restarts from frame 0.
        """
        key_index = self.keyframe_before(first_index)
        if key_index <= 0:  # no keyframe after the start before the target: decoding from 0 costs the same
            return True
        times = self.info.frame_times_s
        # by frame number: OpenCV turns a time into a frame number with the mean rate and,
        # in variable-rate files, overshoots; a frame number lands at or before the keyframe
        self.cap.set(cv2.CAP_PROP_POS_FRAMES, float(key_index))
        if self.cap.grab():
            idx = self._index_of_current()
            t = self.cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if abs(times[min(idx, times.size - 1)] - t) < 1e-4 and idx <= first_index:
                self.next_index = idx
                self._pending_grab = True
                return True
        # the seek landed somewhere we cannot place exactly: decode from the start instead
        self.cap.release()
        self.cap = _open_capture(self.info.path)
        self.next_index = 0
        return False

    def grab(self) -> int | None:
        """Advance one frame; return its index, or None at the end."""
        if self._pending_grab:
            self._pending_grab = False
            ok = True
        else:
            ok = self.cap.grab()
        if not ok:
            return None
        idx = self._index_of_current()
        self.next_index = idx + 1
        return idx

    def container_time(self) -> float:
        return self.cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0

    def retrieve_rgb(self) -> np.ndarray | None:
        ok, bgr = self.cap.retrieve()
        if not ok or bgr is None:
            return None
        if self.scale < 1.0:
            h, w = bgr.shape[:2]
            size = (max(1, round(w * self.scale)), max(1, round(h * self.scale)))
            # INTER_AREA averages properly but is slow for non-integer factors; below 2x
            # bilinear loses nothing the model (256x256 crops) would see
            interp = cv2.INTER_AREA if self.scale <= 0.5 else cv2.INTER_LINEAR
            bgr = cv2.resize(bgr, size, interpolation=interp)
        if self.rotation in _ROTATE_CODES:
            bgr = cv2.rotate(bgr, _ROTATE_CODES[self.rotation])
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _first_index(info: VideoInfo, start_s: float | None) -> int:
    if start_s is None or start_s <= 0:
        return 0
    if info.fps_overridden or info.frame_times_s.size == 0:
        return int(math.ceil(start_s * info.fps - 1e-9))
    return int(np.searchsorted(info.frame_times_s, start_s - 1e-9))


def _generate_frames(info: VideoInfo, start_s: float | None, end_s: float | None,
                     max_side_px: int | None, stop: threading.Event | None = None) -> Iterator[Frame]:
    """The decoding loop (runs in the reader thread when prefetching)."""
    dec = _Decoder(info, max_side_px)
    classifier = _RepeatClassifier()
    try:
        first = _first_index(info, start_s)
        dec.seek_to(max(0, first - 1))  # also decode the frame before, for its difference/shift
        prev_grey: np.ndarray | None = None
        prev_index = -1
        last_time = -math.inf
        hann: np.ndarray | None = None
        while stop is None or not stop.is_set():
            idx = dec.grab()
            if idx is None:
                break
            if idx < first - 1:
                continue
            if info.fps_overridden:
                t = idx / info.fps
            else:
                t = dec.container_time()
                if not math.isfinite(t) or t <= last_time:  # missing or non-monotonic timestamp
                    t = last_time + 1.0 / info.fps
            if end_s is not None and t >= end_s and idx >= first:
                break
            rgb = dec.retrieve_rgb()
            if rgb is None:
                continue
            grey, reduction = _analysis_grey(rgb)
            if hann is None or hann.shape != grey.shape:
                hann = cv2.createHanningWindow(grey.shape[::-1], cv2.CV_32F)
            shift_scale = reduction / dec.scale  # full-resolution pixels per analysis pixel
            diff, shift = float("nan"), (0.0, 0.0)
            if prev_grey is not None and prev_grey.shape == grey.shape and idx == prev_index + 1:
                diff = float(np.mean(np.abs(grey - prev_grey)))
                # copies: OpenCV 5's phaseCorrelate windows its inputs in place
                (dx, dy), _ = cv2.phaseCorrelate(prev_grey.copy(), grey.copy(), hann)
                shift = (float(dx) * shift_scale, float(dy) * shift_scale)
            prev_grey, prev_index, last_time = grey, idx, t
            frame = Frame(index=idx, time_s=float(t), image_rgb=rgb, is_repeat=False,
                          background_shift_px=shift, scale=dec.scale, diff_to_previous=diff)
            for done, rep in classifier.push(frame, diff):
                assert isinstance(done, Frame)
                if done.index >= first:
                    done.is_repeat = rep
                    yield done
        for done, rep in classifier.flush():
            assert isinstance(done, Frame)
            if done.index >= first:
                done.is_repeat = rep
                yield done
    finally:
        dec.close()


def read_frames(info: VideoInfo, indices: Iterable[int], *,
                max_side_px: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Decode only the frames *indices*: ``(index, RGB image)`` in ascending index order.

    The images are those :func:`iter_frames` gives for the same indices (upright,
    downscaled to ``max_side_px`` the same way), but frames before and between them are
    only grabbed (decoded, never converted), the decoder seeks to the keyframe before a
    wanted frame when one lies ahead, and decoding stops after the last wanted frame.
    An index the file does not hold (or whose frame fails to decode) is skipped.
    """
    wanted = sorted({int(i) for i in indices if int(i) >= 0})
    if not wanted:
        return
    dec = _Decoder(info, max_side_px)
    can_seek = info.keyframe_times_s.size > 1
    try:
        position = -1  # index of the last frame grabbed
        last_seek = 0  # the keyframe last sought (never seek back to it)
        i = 0
        while i < len(wanted):
            target = wanted[i]
            if can_seek:
                key_index = dec.keyframe_before(target)
                if key_index > max(position + 1, last_seek):
                    if not dec.seek_to(key_index):  # lands at or before that keyframe
                        # it could not be placed and fell back to the start (variable-rate
                        # files): return to the last keyframe that could, and go on from there
                        can_seek = False
                        dec.seek_to(last_seek)
                    last_seek = key_index
            idx = dec.grab()
            if idx is None:
                return
            position = idx
            if idx == target:
                rgb = dec.retrieve_rgb()
                if rgb is not None:
                    yield idx, rgb
            while i < len(wanted) and wanted[i] <= idx:
                i += 1
    finally:
        dec.close()


_END = object()


def iter_frames(info: VideoInfo, start_s: float | None = None, end_s: float | None = None, *,
                max_side_px: int | None = None, prefetch: int = 8) -> Iterator[Frame]:
    """Stream the frames of a probed video, upright, in order.

    Memory stays flat however long the clip: at most ``prefetch`` + a look-ahead of
    :data:`_REPEAT_AHEAD` frames are held.

    Args:
        info: from :func:`probe_video` (its fps rule sets ``time_s``).
        start_s, end_s: analyse ``start_s <= time_s < end_s`` (``None``: from the start /
            to the end). Times and indices still count from the video's start; the
            decoder seeks to the keyframe before ``start_s`` when it can place itself
            exactly, else it decodes from the start.
        max_side_px: downscale frames whose longer side exceeds this (once, for the
            model: landmarks are normalised, so nothing is lost in mapping back).
        prefetch: size of the queue fed by a reader thread that decodes while the
            consumer works (cv2 releases the GIL); 0 decodes in the calling thread.
    """
    if start_s is not None and end_s is not None and end_s <= start_s:
        raise VideoError(f"--end ({end_s:g} s) must be after --start ({start_s:g} s)")
    if prefetch <= 0:
        yield from _generate_frames(info, start_s, end_s, max_side_px)
        return

    q: queue.Queue[object] = queue.Queue(maxsize=prefetch)
    stop = threading.Event()

    def reader() -> None:
        try:
            for frame in _generate_frames(info, start_s, end_s, max_side_px, stop):
                while not stop.is_set():
                    try:
                        q.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            with contextlib.suppress(queue.Full):
                q.put(exc, timeout=1.0)

    thread = threading.Thread(target=reader, name=f"decode:{info.path.name}", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Frame)
            yield item
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                q.get_nowait()
        thread.join(timeout=5.0)
