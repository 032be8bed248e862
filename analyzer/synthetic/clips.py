"""Synthetic clips: the sprinter, a camera, the renderer, the video file and its truth.

One function, :func:`make_clip`, serves ``scripts/make_sample_videos.py`` and the tests
that run the whole pipeline (pose model included) against the exact truth. A clip is the
video ``NAME.mp4`` and its ground truth ``NAME.truth.json`` (+ ``NAME.truth.npz``) beside it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analyzer.synthetic.camera import CameraTrack, side_camera
from analyzer.synthetic.motion import SprinterMotion, SprinterParams, simulate
from analyzer.synthetic.render import RenderBody, RenderOptions, render_frames, write_video
from analyzer.synthetic.truth import compute_truth, save_truth


@dataclass(frozen=True)
class ClipSpec:
    """Everything that defines a synthetic clip (deterministic for a given spec).

    Attributes:
        params: the sprinter (speed, build, faults...).
        fps: frame rate of the file.
        duration_s: clip length (s), starting just before the first touchdown.
        width_px, height_px: the UPRIGHT picture size (portrait when height > width).
        portrait_stored_landscape: store portrait pictures as landscape frames with a 90°
            rotation tag, as phones do (only when height > width).
        camera: ``"static"``, ``"pan"`` (turns to follow) or ``"track"`` (travels alongside).
        camera_side: ``"left"`` (runner goes right-to-left) or ``"right"`` (left-to-right).
        camera_yaw_deg: the camera turned off square about the vertical through the point it
            looks at (deg, -90 < yaw < 90; see :func:`~analyzer.synthetic.camera.side_camera`):
            positive ahead of the runner (a front-oblique view), negative behind (back-oblique),
            0 square-on.
        distance_m: camera distance from the runner's line (from the point it looks at when turned).
        focal_px: focal length for the upright picture (pixels).
        render: renderer options (noise, blur, bystander, seed...).
        start_s: time of the first frame (s of the sprinter's clock).
    """

    params: SprinterParams = field(default_factory=SprinterParams)
    fps: float = 60.0
    duration_s: float = 3.0
    width_px: int = 1280
    height_px: int = 720
    portrait_stored_landscape: bool = True
    camera: str = "track"
    camera_side: str = "right"
    camera_yaw_deg: float = 0.0
    distance_m: float = 8.0
    focal_px: float = 1100.0
    render: RenderOptions = field(default_factory=RenderOptions)
    start_s: float = 0.0

    @property
    def rotation_deg(self) -> int:
        return 90 if (self.height_px > self.width_px and self.portrait_stored_landscape) else 0


def clip_camera(spec: ClipSpec, motion: SprinterMotion) -> CameraTrack:
    """The camera of *spec* following the sprinter's pelvis."""
    pelvis_x = motion.joints_m["pelvis"][:, 0]
    return side_camera(
        pelvis_x, distance_m=spec.distance_m, side=spec.camera_side, pan=spec.camera == "pan",
        track=spec.camera == "track", yaw_deg=spec.camera_yaw_deg, focal_px=spec.focal_px, width_px=spec.width_px,
        height_px=spec.height_px,
    )


def make_clip(spec: ClipSpec, video_path: str | Path, truth_path: str | Path | None = None, *, crf: int = 20) -> Path:
    """Render *spec* to *video_path* and write its truth; return the truth's JSON path.

    The truth goes to *truth_path* (default: ``NAME.truth.json`` beside the video), with
    its arrays in an ``.npz`` beside that. *crf* is the H.264 quality (lower is better).
    """
    video_path = Path(video_path)
    time_s = spec.start_s + np.arange(int(round(spec.duration_s * spec.fps))) / spec.fps
    motion = simulate(spec.params, time_s)
    camera = clip_camera(spec, motion)
    body = RenderBody(joints_m=motion.joints_m, landmarks_m=motion.landmarks_m, height_m=spec.params.height_m)
    frames = render_frames(body, camera, spec.render)
    if spec.rotation_deg:
        frames = (np.ascontiguousarray(np.rot90(f, k=1)) for f in frames)
    write_video(frames, video_path, spec.fps, rotation_deg=spec.rotation_deg, crf=crf)
    truth = compute_truth(motion, spec.params, camera)
    truth_path = Path(truth_path) if truth_path is not None else video_path.with_suffix(".truth.json")
    save_truth(truth, truth_path)
    meta = {"fps": spec.fps, "duration_s": spec.duration_s, "camera": spec.camera, "camera_side": spec.camera_side,
            "width_px": spec.width_px, "height_px": spec.height_px, "rotation_deg": spec.rotation_deg}
    if spec.camera_yaw_deg:     # only when turned, so square clips' truth files stay as they were
        meta["camera_yaw_deg"] = spec.camera_yaw_deg
    _annotate(truth_path, meta)
    return truth_path


def _annotate(truth_path: Path, meta: dict) -> None:
    """Add how the clip was filmed to the truth JSON (atomically)."""
    import json

    from analyzer import atomic

    data = json.loads(truth_path.read_text())
    data["clip"] = meta
    atomic.write_text(truth_path, json.dumps(data, indent=1) + "\n")


def with_faults(spec: ClipSpec, **changes: object) -> ClipSpec:
    """A copy of *spec* with sprinter parameters changed."""
    return dataclasses.replace(spec, params=dataclasses.replace(spec.params, **changes))
