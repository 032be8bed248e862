"""MediaPipe BlazePose's 33 landmarks: names, indices and left/right pairs.

One table serves every stage (pose extraction, the synthetic sprinter, kinematics,
the overlay), so that "left" and "right" mean the same everywhere: the *runner's*
left and right, as BlazePose labels them. So does the one measure of the body that
several stages take from landmarks: the legs' length (:func:`leg_lengths`).
"""
from __future__ import annotations

import numpy as np

LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear",
    "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
    "left_pinky", "right_pinky",
    "left_index", "right_index",
    "left_thumb", "right_thumb",
    "left_hip", "right_hip",
    "left_knee", "right_knee",
    "left_ankle", "right_ankle",
    "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)
NUM_LANDMARKS = len(LANDMARK_NAMES)
assert NUM_LANDMARKS == 33

INDEX: dict[str, int] = {name: i for i, name in enumerate(LANDMARK_NAMES)}

SIDES: tuple[str, str] = ("left", "right")
#: The two hips' indices: their mean is the mid-hip, whichever is labelled which.
HIPS: np.ndarray = np.array([INDEX["left_hip"], INDEX["right_hip"]])


def side_index(side: str, part: str) -> int:
    """Index of ``"{side}_{part}"``, e.g. ``side_index("left", "knee") == 25``."""
    return INDEX[f"{side}_{part}"]


def _mirror(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    if name == "mouth_left":
        return "mouth_right"
    if name == "mouth_right":
        return "mouth_left"
    return name


#: ``MIRROR[i]`` is the index of landmark *i*'s left/right counterpart (itself for the nose).
MIRROR: tuple[int, ...] = tuple(INDEX[_mirror(n)] for n in LANDMARK_NAMES)

def leg_lengths(points: np.ndarray) -> np.ndarray:
    """(N, 2) thigh + shank length (hip-knee-ankle path) of the left and right leg, in the
    units of *points* (N, 33, k); NaN where a leg's landmarks are unknown."""
    out = []
    for side in SIDES:
        hip, knee, ankle = (points[:, side_index(side, p)] for p in ("hip", "knee", "ankle"))
        out.append(np.linalg.norm(knee - hip, axis=-1) + np.linalg.norm(ankle - knee, axis=-1))
    return np.stack(out, axis=1)


def longer_leg_length(points: np.ndarray) -> np.ndarray:
    """(N,) the longer side's thigh + shank length in the units of *points*; NaN where
    neither leg is seen."""
    legs = leg_lengths(points)
    seen = np.isfinite(legs)
    return np.where(seen.any(axis=1), np.max(np.where(seen, legs, -np.inf), axis=1), np.nan)


#: Landmark indices of one leg, proximal to distal (hip, knee, ankle, heel, toe tip).
LEG_PARTS: tuple[str, ...] = ("hip", "knee", "ankle", "heel", "foot_index")
#: Landmark indices of one arm, proximal to distal.
ARM_PARTS: tuple[str, ...] = ("shoulder", "elbow", "wrist", "pinky", "index", "thumb")

#: Bones drawn in overlays and still frames: (landmark a, landmark b).
SKELETON_EDGES: tuple[tuple[str, str], ...] = tuple(
    (f"{s}_{a}", f"{s}_{b}")
    for s in SIDES
    for a, b in (
        ("shoulder", "elbow"), ("elbow", "wrist"), ("wrist", "index"), ("wrist", "pinky"),
        ("hip", "knee"), ("knee", "ankle"), ("ankle", "heel"), ("heel", "foot_index"),
        ("ankle", "foot_index"), ("shoulder", "hip"),
    )
) + (("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"))
