"""A standing figure of BlazePose's 33 landmarks in the runner frame, for unit tests."""
from __future__ import annotations

import numpy as np

from analyzer.landmarks import INDEX, NUM_LANDMARKS, SIDES


def standing_landmarks(height_m: float = 1.8) -> np.ndarray:
    """(33, 3) landmarks of an upright figure facing +x, feet on y = 0 (runner frame)."""
    h = height_m
    pts = np.zeros((NUM_LANDMARKS, 3))
    for side, z_sign in zip(SIDES, (-1.0, 1.0)):
        hip_z, shoulder_z = 0.049 * h * z_sign, 0.10 * h * z_sign
        for part, xyz in {
            "shoulder": (0.0, 0.818 * h, shoulder_z),
            "elbow": (0.0, 0.63 * h, shoulder_z),
            "wrist": (0.0, 0.485 * h, shoulder_z),
            "index": (0.02, 0.44 * h, shoulder_z),
            "pinky": (-0.01, 0.44 * h, shoulder_z),
            "thumb": (0.04, 0.45 * h, shoulder_z),
            "hip": (0.0, 0.53 * h, hip_z),
            "knee": (0.0, 0.285 * h, hip_z),
            "ankle": (0.0, 0.039 * h, hip_z),
            "heel": (-0.05, 0.0, hip_z),
            "foot_index": (0.2, 0.0, hip_z),
            "eye_inner": (0.09, 0.94 * h, 0.015 * z_sign),
            "eye": (0.085, 0.94 * h, 0.03 * z_sign),
            "eye_outer": (0.08, 0.94 * h, 0.045 * z_sign),
            "ear": (0.0, 0.93 * h, 0.075 * z_sign),
        }.items():
            pts[INDEX[f"{side}_{part}"]] = xyz
    pts[INDEX["nose"]] = (0.11, 0.915 * h, 0.0)
    pts[INDEX["mouth_left"]] = (0.1, 0.89 * h, -0.025)
    pts[INDEX["mouth_right"]] = (0.1, 0.89 * h, 0.025)
    return pts


def yaw_rotation(angle_rad: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations about +y (counter-clockwise from above for positive angles)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    zero, one = np.zeros_like(c), np.ones_like(c)
    # Rotating +z toward +x: (x, z) -> (x cos + z sin, -x sin + z cos).
    return np.stack([
        np.stack([c, zero, s], -1),
        np.stack([zero, one, zero], -1),
        np.stack([-s, zero, c], -1),
    ], -2)
