"""A pinhole camera in the synthetic world (runner frame: x forward, y up, z right; metres).

One camera model serves the renderer (which draws through it) and the ground truth (which
projects MediaPipe's 33 landmarks through it), so that "image truth" and "pixels drawn"
can never disagree. A camera may move (pan with the runner): every pose is per frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CameraTrack:
    """A pinhole camera, possibly moving, over N frames.

    Attributes:
        position_m: (N, 3) camera centre in the runner frame.
        look_at_m: (N, 3) point the optical axis passes through.
        focal_px: focal length in pixels (square pixels, principal point at the image centre).
        width_px, height_px: image size as the camera records it (before any rotation metadata).
        up: the world direction that appears "up" in the image (default +y).
    """

    position_m: np.ndarray
    look_at_m: np.ndarray
    focal_px: float
    width_px: int
    height_px: int
    up: tuple[float, float, float] = (0.0, 1.0, 0.0)

    @property
    def num_frames(self) -> int:
        return int(self.position_m.shape[0])

    def rotation(self) -> np.ndarray:
        """(N, 3, 3) world-to-camera rotations; camera axes: x image-right, y image-down, z forward."""
        forward = self.look_at_m - self.position_m
        forward = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
        up = np.broadcast_to(np.asarray(self.up, dtype=float), forward.shape)
        right = np.cross(forward, up)
        right = right / np.linalg.norm(right, axis=-1, keepdims=True)
        down = np.cross(forward, right)
        return np.stack([right, down, forward], axis=-2)

    def to_camera(self, points_m: np.ndarray) -> np.ndarray:
        """World points (N, ..., 3) to camera coordinates (N, ..., 3), per frame."""
        rot = self.rotation()
        rel = points_m - self.position_m.reshape((self.num_frames,) + (1,) * (points_m.ndim - 2) + (3,))
        return np.einsum("nij,n...j->n...i", rot, rel)

    def project(self, points_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project world points (N, ..., 3) to pixels.

        Returns:
            (xy_px, depth_m): pixel coordinates (N, ..., 2) with the origin at the top-left
            corner, x to the right and y down; and depth along the optical axis (N, ...).
        """
        cam = self.to_camera(points_m)
        depth = cam[..., 2]
        xy = self.focal_px * cam[..., :2] / depth[..., None]
        xy = xy + np.array([self.width_px / 2.0, self.height_px / 2.0])
        return xy, depth


def side_camera(
    runner_x_m: np.ndarray,
    *,
    distance_m: float = 9.0,
    height_m: float = 1.1,
    side: str = "left",
    pan: bool = False,
    track: bool = False,
    fixed_x_m: float | None = None,
    yaw_deg: float = 0.0,
    focal_px: float = 1400.0,
    width_px: int = 1280,
    height_px: int = 720,
) -> CameraTrack:
    """A side-view camera looking horizontally across the runner's path, square-on or turned.

    Args:
        runner_x_m: (N,) forward position of the runner (the pelvis) per frame.
        distance_m: camera distance from the point it looks at on the line of running (z = 0):
            its distance from that line when square-on (*yaw_deg* 0).
        height_m: camera height above the ground.
        side: ``"left"`` puts the camera on the runner's left (z < 0), so the runner moves
            right-to-left in the image; ``"right"`` puts it on the right (left-to-right).
        pan: the camera turns to follow the runner (fixed position, look-at moves with it),
            as a hand-held phone pivoting on the spot; the runner's image size changes.
        track: the camera travels alongside the runner at a constant distance (a dolly, or
            a cyclist filming), keeping the runner's image size; overrides *pan*.
        fixed_x_m: where a static camera looks (default: the middle of the run).
        yaw_deg: how far the camera is turned off square (deg, -90 < yaw < 90). The camera
            swings about the vertical through the point it looks at (the pelvis for *track*,
            the middle of the run, or *fixed_x_m*, for a static or panning camera), keeping
            *distance_m* from that point, so its viewing direction turns by *yaw_deg* about
            the vertical. Positive: the camera moves ahead of the runner (forward, +x), its
            optical axis points partly back along the run, and it sees the runner's front
            obliquely; negative: behind, seeing the back. The same on either *side*. 0 is
            square-on (the optical axis at right angles to the running line); otherwise the
            line of running is ``distance_m * cos(yaw)`` from the camera.
        focal_px, width_px, height_px: intrinsics and image size.
    """
    if not -90.0 < yaw_deg < 90.0:
        raise ValueError(f"yaw_deg must be between -90 and 90 (exclusive), got {yaw_deg}")
    n = runner_x_m.shape[0]
    yaw = np.radians(yaw_deg)
    ahead_m, across_m = distance_m * np.sin(yaw), distance_m * np.cos(yaw)   # exactly 0 and distance_m at yaw 0
    z = -across_m if side == "left" else across_m
    centre_x = float(fixed_x_m) if fixed_x_m is not None else float(0.5 * (runner_x_m[0] + runner_x_m[-1]))
    position = np.tile([centre_x + ahead_m, height_m, z], (n, 1)).astype(float)
    if track:
        position[:, 0] = runner_x_m + ahead_m
    look_x = runner_x_m if (pan or track) else np.full(n, centre_x)
    look_at = np.stack([look_x, np.full(n, height_m), np.zeros(n)], axis=-1)
    return CameraTrack(position, look_at, focal_px, width_px, height_px)
