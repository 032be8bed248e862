"""Skeleton overlays: the push side and the swing side drawn on the video and on still frames.

Colours follow the sprint-system model: the push leg (orange) drives with the arms and the
torso (light orange), the swing leg (blue) counterbalances them. Outside a step every bone
is neutral grey. Flagged steps get a red banner that says why ("Step 7: swing side late by
50 ms"), and every frame inside a step carries its step number, push leg and time so that
a frame can be matched with the report's charts.

Images are RGB ``uint8`` arrays as displayed (rotation already applied by the caller), and
``xy_px`` are BlazePose's 33 landmarks in that image's pixels. Per-frame values come from
the ``frames`` table (the columns of ``frames.csv``), whose ``frame`` column maps a video
frame index to its row, so trimmed clips (``--start``) work unchanged.
"""
from __future__ import annotations

import functools
import math
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import cv2
import imageio_ffmpeg
import numpy as np

from analyzer.atomic import atomic_path
from analyzer.landmarks import INDEX, LEG_PARTS, NUM_LANDMARKS, SIDES, SKELETON_EDGES
from analyzer.report import palette
from analyzer.report.text import flag_kinds, flag_summary, step_number, to_bool, to_float

Role = Literal["push", "swing", "companion", "neutral"]
Moment = Literal["push_peak", "swing_peak"]

#: Landmarks below this visibility are not drawn.
MIN_VISIBILITY = 0.5
#: Still frames are made for at most this many flagged steps (the most severe): ~30 kB each,
#: two per step, keeps a long clip's report within a few MB. The overlay video shows them all.
MAX_STILL_STEPS = 24
#: Still frames are drawn at most this many pixels on their long side.
STILL_MAX_SIDE = 640

_ROLE_COLOURS: dict[Role, tuple[int, int, int]] = {
    "push": palette.hex_to_rgb(palette.PUSH),
    "swing": palette.hex_to_rgb(palette.SWING_ON_VIDEO),
    "companion": palette.hex_to_rgb(palette.PUSH_COMPANION_ON_VIDEO),
    "neutral": palette.hex_to_rgb("#E8EAED"),
}
_OUTLINE = (20, 20, 20)
_WHITE = (255, 255, 255)
_FLAG_RGB = palette.hex_to_rgb(palette.FLAG)
_FONT = cv2.FONT_HERSHEY_DUPLEX
_SUBPIXEL_BITS = 4  # cv2 drawing with 1/16 px precision
_DRAW_ORDER: dict[Role, int] = {"neutral": 0, "companion": 1, "swing": 2, "push": 3}


# ----------------------------------------------------------------------------- roles


def _landmark_role(name: str, push_leg: str) -> Role:
    """Which side of the model a landmark belongs to while *push_leg* is on the ground."""
    if push_leg not in SIDES:
        return "neutral"
    side, _, part = name.partition("_")
    if side in SIDES and part in LEG_PARTS:
        return "push" if side == push_leg else "swing"
    return "companion"


def _edge_role(a: str, b: str, push_leg: str) -> Role:
    """A bone's role: a leg bone takes its leg's role; arm and torso bones drive with the push."""
    role_a, role_b = _landmark_role(a, push_leg), _landmark_role(b, push_leg)
    if role_a == role_b:
        return role_a
    # A bone joining a leg to the trunk (shoulder-hip, hip-hip) is part of the torso.
    return "companion" if push_leg in SIDES else "neutral"


@functools.lru_cache(maxsize=4)
def _bones(push_leg: str) -> tuple[tuple[int, int, Role], ...]:
    """The skeleton's bones as (index a, index b, role), in drawing order."""
    bones = [(INDEX[a], INDEX[b], _edge_role(a, b, push_leg)) for a, b in SKELETON_EDGES]
    return tuple(sorted(bones, key=lambda bone: _DRAW_ORDER[bone[2]]))


@functools.lru_cache(maxsize=4)
def _joints(push_leg: str) -> tuple[tuple[int, Role], ...]:
    """The joints drawn as dots (every bone end, plus the nose), in drawing order."""
    names = {name for edge in SKELETON_EDGES for name in edge
             if name.split("_", 1)[-1] not in ("pinky", "index", "thumb")} | {"nose"}
    joints = [(INDEX[n], _landmark_role(n, push_leg)) for n in names]
    return tuple(sorted(joints, key=lambda joint: (_DRAW_ORDER[joint[1]], joint[0])))


# ----------------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class _Style:
    """Line widths and text sizes scaled to the image, so a 480p and a 4K frame look alike."""

    bone: int
    companion_bone: int
    joint_radius: int
    font_scale: float
    font_thickness: int
    pad: int

    @classmethod
    def for_image(cls, height: int, width: int) -> _Style:
        long_side = max(height, width)
        bone = max(2, round(long_side / 320))
        font_scale = max(0.5, long_side / 1280 * 0.85)
        return cls(
            bone=bone,
            companion_bone=max(2, round(bone * 0.7)),
            joint_radius=bone + 1,
            font_scale=font_scale,
            font_thickness=max(1, round(font_scale * 1.6)),
            pad=max(4, round(long_side / 160)),
        )


def _fixed(point: np.ndarray) -> tuple[int, int]:
    scale = 1 << _SUBPIXEL_BITS
    return int(round(float(point[0]) * scale)), int(round(float(point[1]) * scale))


def _blend_box(image: np.ndarray, x0: int, y0: int, x1: int, y1: int,
               colour: tuple[int, int, int], alpha: float) -> None:
    """Fill a rectangle with *colour* at opacity *alpha*, in place, clipped to the image."""
    h, w = image.shape[:2]
    x0, x1 = max(0, x0), min(w, x1)
    y0, y1 = max(0, y0), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return
    roi = image[y0:y1, x0:x1].astype(np.float32)
    roi = roi * (1.0 - alpha) + np.asarray(colour, np.float32) * alpha
    image[y0:y1, x0:x1] = np.clip(roi + 0.5, 0, 255).astype(np.uint8)


def _text_size(text: str, style: _Style) -> tuple[int, int, int]:
    (tw, th), baseline = cv2.getTextSize(text, _FONT, style.font_scale, style.font_thickness)
    return tw, th, baseline


def _put_text(image: np.ndarray, text: str, x: int, y_top: int, style: _Style,
              colour: tuple[int, int, int] = _WHITE) -> None:
    _, th, _ = _text_size(text, style)
    cv2.putText(image, text, (x, y_top + th), _FONT, style.font_scale, colour,
                style.font_thickness, cv2.LINE_AA)


def _draw_bones(image: np.ndarray, xy: np.ndarray, visible: np.ndarray, push_leg: str,
                style: _Style) -> None:
    bones = [(a, b, role) for a, b, role in _bones(push_leg) if visible[a] and visible[b]]
    joints = [(i, role) for i, role in _joints(push_leg) if visible[i]]
    shift = _SUBPIXEL_BITS
    width = {role: style.companion_bone if role in ("companion", "neutral") else style.bone
             for role in _ROLE_COLOURS}
    # All dark outlines first, so that no outline cuts across a coloured bone.
    for a, b, role in bones:
        cv2.line(image, _fixed(xy[a]), _fixed(xy[b]), _OUTLINE, width[role] + 2, cv2.LINE_AA, shift)
    for i, _role in joints:
        cv2.circle(image, _fixed(xy[i]), (style.joint_radius + 1) << shift, _OUTLINE, -1,
                   cv2.LINE_AA, shift)
    for a, b, role in bones:
        cv2.line(image, _fixed(xy[a]), _fixed(xy[b]), _ROLE_COLOURS[role], width[role],
                 cv2.LINE_AA, shift)
    for i, role in joints:
        cv2.circle(image, _fixed(xy[i]), style.joint_radius << shift, _ROLE_COLOURS[role], -1,
                   cv2.LINE_AA, shift)


def _draw_banner(image: np.ndarray, text: str, style: _Style) -> int:
    """A red band across the top with *text*; returns the band's height."""
    _, th, baseline = _text_size(text, style)
    height = th + baseline + 2 * style.pad
    _blend_box(image, 0, 0, image.shape[1], height, _FLAG_RGB, 0.88)
    _put_text(image, text, style.pad * 2, style.pad, style)
    return height


def _draw_label(image: np.ndarray, text: str, style: _Style) -> None:
    """*text* in a dark box at the bottom left."""
    tw, th, baseline = _text_size(text, style)
    h = image.shape[0]
    box_h = th + baseline + 2 * style.pad
    _blend_box(image, style.pad, h - style.pad - box_h, style.pad * 3 + tw, h - style.pad,
               (0, 0, 0), 0.6)
    _put_text(image, text, style.pad * 2, h - style.pad - box_h + style.pad, style)


def _draw_legend(image: np.ndarray, top: int, style: _Style) -> None:
    """Which colour is which side, at the top right under any banner."""
    entries = (("push side", _ROLE_COLOURS["push"]), ("swing leg", _ROLE_COLOURS["swing"]))
    sizes = [_text_size(text, style) for text, _ in entries]
    line_h = max(th + baseline for _, th, baseline in sizes) + style.pad
    swatch = line_h - style.pad
    box_w = swatch + style.pad * 3 + max(tw for tw, _, _ in sizes)
    x0 = image.shape[1] - style.pad - box_w
    y0 = top + style.pad
    _blend_box(image, x0, y0, x0 + box_w, y0 + line_h * len(entries) + style.pad, (0, 0, 0), 0.55)
    for row, (text, colour) in enumerate(entries):
        y = y0 + style.pad + row * line_h
        cv2.rectangle(image, (x0 + style.pad, y), (x0 + style.pad + swatch, y + swatch), colour, -1)
        _put_text(image, text, x0 + style.pad * 2 + swatch, y, style)


def draw_skeleton(
    image_rgb: np.ndarray,
    xy_px: np.ndarray,
    visibility: np.ndarray,
    push_leg: str,
    *,
    flagged: bool = False,
    label: str = "",
    banner: str = "",
    legend: bool = True,
    min_visibility: float = MIN_VISIBILITY,
) -> np.ndarray:
    """Draw the skeleton on a copy of *image_rgb* and return it.

    Args:
        image_rgb: ``(H, W, 3)`` uint8 RGB image.
        xy_px: ``(33, 2)`` landmark positions in the image's pixels (NaN = not found).
        visibility: ``(33,)`` BlazePose visibility; landmarks below *min_visibility* are skipped.
        push_leg: ``"left"`` or ``"right"`` inside a step (that leg is the push leg, the other
            the swing leg); anything else draws a neutral skeleton.
        flagged: whether the step is flagged; draws a red banner across the top.
        label: text for the bottom-left box (step number, push leg, time); ASCII only.
        banner: the banner's text on flagged steps (defaults to *label*).
        legend: draw the colour legend at the top right.
        min_visibility: visibility threshold for drawing a landmark.
    """
    image = np.ascontiguousarray(image_rgb, dtype=np.uint8).copy()
    xy = np.asarray(xy_px, dtype=np.float64).reshape(NUM_LANDMARKS, 2)
    vis = np.asarray(visibility, dtype=np.float64).reshape(NUM_LANDMARKS)
    visible = np.isfinite(xy).all(axis=1) & (np.nan_to_num(vis, nan=0.0) >= min_visibility)
    style = _Style.for_image(*image.shape[:2])
    _draw_bones(image, xy, visible, push_leg, style)
    top = _draw_banner(image, banner or label, style) if flagged and (banner or label) else 0
    if legend:
        _draw_legend(image, top, style)
    if label:
        _draw_label(image, label, style)
    return image


# ----------------------------------------------------------------------------- per-frame context


class FrameContext:
    """What to draw on each video frame: its push leg, step, label and any flag banner.

    Built once from the ``frames`` table and the step rows; shared by the overlay video
    and the still frames so that both say the same thing.
    """

    def __init__(self, frames_table: Mapping[str, np.ndarray], steps: Sequence[Mapping[str, Any]]):
        self._frame = np.asarray(frames_table["frame"]).astype(np.int64)
        self._time = np.asarray(frames_table["time_s"], dtype=np.float64)
        self._push_leg = np.asarray(frames_table["push_leg"]).astype(str)
        self._step = np.asarray(frames_table["step"]).astype(np.int64)
        self._row_of = {int(f): row for row, f in enumerate(self._frame)}
        self.steps: dict[int, Mapping[str, Any]] = {}
        for step in steps:
            number = step_number(step)
            if number is not None:
                self.steps[number] = step

    def row(self, frame: int) -> int | None:
        """The table row of video frame *frame*, or ``None`` if the table has no such frame."""
        return self._row_of.get(int(frame))

    def time_of(self, frame: int) -> float:
        """The time of video frame *frame* (NaN if the table has no such frame)."""
        row = self.row(frame)
        return float(self._time[row]) if row is not None else float("nan")

    def frame_at(self, time_s: float) -> int | None:
        """The video frame whose time is nearest *time_s* (``None`` for NaN or an empty table)."""
        if not math.isfinite(time_s) or self._time.size == 0:
            return None
        return int(self._frame[int(np.nanargmin(np.abs(self._time - time_s)))])

    def describe(self, frame: int, moment: str = "") -> tuple[str, str, bool, str]:
        """``(push_leg, label, flagged, banner)`` for one frame; *moment* is added to the label."""
        row = self.row(frame)
        if row is None:
            return "", moment, False, ""
        push_leg = self._push_leg[row]
        number = int(self._step[row])
        time_text = f"{self._time[row]:.3f} s"
        if number < 0 or push_leg not in SIDES:
            return "", "  |  ".join(t for t in (moment, time_text) if t), False, ""
        step = self.steps.get(number, {})
        parts = [f"Step {number}", f"push: {push_leg}", moment, time_text]
        label = "  |  ".join(p for p in parts if p)
        flagged = to_bool(step.get("flagged"))
        banner = f"Step {number}: {flag_summary(step)}" if flagged else ""
        return push_leg, label, flagged, banner


def _fit(image: np.ndarray, xy: np.ndarray, max_side: int, *, even: bool) -> tuple[np.ndarray, np.ndarray]:
    """Downscale *image* so its long side is at most *max_side* (and, if *even*, even-sized)."""
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if even:
        new_w, new_h = max(2, new_w // 2 * 2), max(2, new_h // 2 * 2)
    if (new_w, new_h) == (w, h):
        return image, xy
    # Area averaging is only needed against aliasing beyond 2x; linear is ~6x faster per frame.
    interpolation = cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    return resized, xy * np.array([new_w / w, new_h / h])


def _render(image_rgb: np.ndarray, xy: np.ndarray, vis: np.ndarray, context: FrameContext,
            frame: int, max_side: int, *, even: bool, moment: str = "") -> np.ndarray:
    image, xy_scaled = _fit(np.asarray(image_rgb), np.asarray(xy, np.float64), max_side, even=even)
    push_leg, label, flagged, banner = context.describe(frame, moment)
    return draw_skeleton(image, xy_scaled, vis, push_leg, flagged=flagged, label=label, banner=banner)


# ----------------------------------------------------------------------------- overlay video


def _fps_arg(fps: float) -> str:
    """*fps* as an exact ffmpeg rational (29.97 -> 30000/1001)."""
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    rate = Fraction(fps).limit_denominator(1001)
    return f"{rate.numerator}/{rate.denominator}"


def write_overlay(
    frames: Iterable[tuple[int, np.ndarray]],
    xy_px: np.ndarray,
    visibility: np.ndarray,
    frames_table: Mapping[str, np.ndarray],
    steps: Sequence[Mapping[str, Any]],
    fps: float,
    out_path: str | Path,
    *,
    max_side: int = 1280,
    crf: int = 23,
    preset: str = "superfast",
) -> int:
    """Encode the video with the skeleton drawn into *out_path* (H.264 MP4 that browsers play).

    Args:
        frames: ``(frame index, RGB image)`` in display order, e.g. straight from the decoder.
        xy_px: ``(N, 33, 2)`` landmark pixels, one row per row of *frames_table*.
        visibility: ``(N, 33)`` landmark visibility.
        frames_table: the frames.csv columns; ``frame``, ``time_s``, ``push_leg`` and ``step``
            are used.
        steps: the steps.csv rows (for flags and their reasons).
        fps: the output frame rate (the capture rate the analysis used).
        out_path: the ``.mp4`` to write; written atomically.
        max_side: the long side is downscaled to at most this many pixels; sizes are made even.
        crf, preset: libx264 quality and speed. ``superfast`` costs about a quarter less CPU
            than ``veryfast`` for files about a sixth larger (10 s of 1080p60 drawn at
            1280x720: 15 against 20 CPU s, 6.5 against 5.5 MB); ``ultrafast`` would save
            another 2 CPU s but doubles the size.

    Returns:
        The number of frames written. Raises ``ValueError`` for no frames and
        ``RuntimeError`` (with ffmpeg's message) when encoding fails.
    """
    context = FrameContext(frames_table, steps)
    xy_all = np.asarray(xy_px, dtype=np.float64)
    vis_all = np.asarray(visibility, dtype=np.float64)
    nan_xy = np.full((NUM_LANDMARKS, 2), np.nan)
    zero_vis = np.zeros(NUM_LANDMARKS)
    rate = _fps_arg(float(fps))
    written = 0
    with atomic_path(out_path) as tmp, tempfile.TemporaryFile() as errors:
        process: subprocess.Popen[bytes] | None = None
        size: tuple[int, int] | None = None
        try:
            for frame, image in frames:
                row = context.row(frame)
                xy = xy_all[row] if row is not None else nan_xy
                vis = vis_all[row] if row is not None else zero_vis
                drawn = _render(image, xy, vis, context, frame, max_side, even=True)
                if size is None:
                    size = (drawn.shape[1], drawn.shape[0])
                    process = _start_encoder(size, rate, crf, preset, tmp, errors)
                elif (drawn.shape[1], drawn.shape[0]) != size:
                    drawn = cv2.resize(drawn, size, interpolation=cv2.INTER_AREA)
                assert process is not None and process.stdin is not None
                process.stdin.write(np.ascontiguousarray(drawn).tobytes())
                written += 1
        except BrokenPipeError:
            pass  # ffmpeg stopped early; its message is reported below
        finally:
            if process is not None:
                if process.stdin is not None:
                    try:
                        process.stdin.close()
                    except BrokenPipeError:
                        pass
                process.wait()
        if process is None:
            raise ValueError("write_overlay: no frames to encode")
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip()[-2000:]
            raise RuntimeError(f"ffmpeg failed encoding {out_path} (exit {process.returncode}): {message}")
    return written


def _start_encoder(size: tuple[int, int], rate: str, crf: int, preset: str, target: Path,
                   errors: Any) -> subprocess.Popen[bytes]:
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}", "-framerate", rate,
        "-i", "pipe:0", "-an",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-movflags", "+faststart", "-f", "mp4", str(target),
    ]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)


# ----------------------------------------------------------------------------- still frames


@dataclass(frozen=True)
class Still:
    """One still frame of a flagged step, at the push side's or the swing side's peak.

    ``frame`` is the video frame nearest the peak and ``time_s`` that frame's time;
    ``width`` and ``height`` are the JPEG's pixel size.
    """

    step: int
    moment: Moment
    frame: int
    time_s: float
    jpeg: bytes
    width: int
    height: int


_MOMENTS: tuple[tuple[Moment, str, str], ...] = (
    ("push_peak", "push_peak_s", "push peak"),
    ("swing_peak", "swing_peak_s", "swing peak"),
)


def _severity(step: Mapping[str, Any]) -> tuple[int, float, float]:
    """Sort key, most severe first when reversed: more flag kinds, then later swing, then smaller ratio."""
    lag, ratio = to_float(step.get("lag_ms")), to_float(step.get("counterbalance_ratio"))
    return (len(flag_kinds(step)), lag if math.isfinite(lag) else -math.inf,
            -ratio if math.isfinite(ratio) else -math.inf)


def _still_requests(context: FrameContext, max_steps: int) -> list[tuple[int, Moment, int]]:
    """``(step, moment, frame)`` for the flagged steps' two peaks, in step order.

    At most *max_steps* steps, the most severe, so that a long clip's report stays small.
    """
    flagged = [(number, step) for number, step in context.steps.items() if to_bool(step.get("flagged"))]
    chosen = sorted(flagged, key=lambda item: _severity(item[1]), reverse=True)[:max(0, max_steps)]
    requests = []
    for number, step in sorted(chosen, key=lambda item: item[0]):
        for moment, column, _ in _MOMENTS:
            frame = context.frame_at(to_float(step.get(column)))
            if frame is not None:
                requests.append((number, moment, frame))
    return requests


def still_frame_indices(frames_table: Mapping[str, np.ndarray], steps: Sequence[Mapping[str, Any]], *,
                        max_steps: int = MAX_STILL_STEPS) -> list[int]:
    """The video frames :func:`still_frames` needs decoded, ascending and without repeats."""
    context = FrameContext(frames_table, steps)
    return sorted({frame for _, _, frame in _still_requests(context, max_steps)})


def still_image(image_rgb: np.ndarray, max_side: int = STILL_MAX_SIDE) -> np.ndarray:
    """*image_rgb* downscaled as :func:`still_frames` downscales a frame before drawing on it.

    A caller that keeps frames for the stills can keep these instead of the decoded frames
    (a quarter of the pixels of a 1280x720 frame): :func:`still_frames` draws on them as
    they are, given landmark pixels scaled to them.
    """
    return _fit(np.asarray(image_rgb), np.zeros((0, 2)), max_side, even=False)[0]


def still_frames(
    images: Mapping[int, np.ndarray],
    xy_px: np.ndarray,
    visibility: np.ndarray,
    frames_table: Mapping[str, np.ndarray],
    steps: Sequence[Mapping[str, Any]],
    *,
    max_side: int = STILL_MAX_SIDE,
    jpeg_quality: int = 80,
    max_steps: int = MAX_STILL_STEPS,
) -> list[Still]:
    """JPEG stills of each flagged step at its push peak and its swing peak, skeleton drawn.

    Ask :func:`still_frame_indices` (with the same *max_steps*) which frames to decode and
    pass them as *images* (frame index -> RGB image); a frame missing from *images* is
    skipped. Stills are at most *max_side* pixels on their long side; only the
    *max_steps* most severe flagged steps get them. Other arguments are as for
    :func:`write_overlay`. Returns the stills in step order, push peak first.
    """
    context = FrameContext(frames_table, steps)
    xy_all = np.asarray(xy_px, dtype=np.float64)
    vis_all = np.asarray(visibility, dtype=np.float64)
    titles = {moment: title for moment, _, title in _MOMENTS}
    stills = []
    for number, moment, frame in _still_requests(context, max_steps):
        image = images.get(frame)
        row = context.row(frame)
        if image is None or row is None:
            continue
        drawn = _render(image, xy_all[row], vis_all[row], context, frame, max_side, even=False,
                        moment=titles[moment])
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR),
                                   [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for frame {frame}")
        stills.append(Still(number, moment, frame, context.time_of(frame), encoded.tobytes(),
                            width=drawn.shape[1], height=drawn.shape[0]))
    return stills
