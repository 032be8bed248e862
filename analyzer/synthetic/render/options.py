"""What a render is asked for: the body's joints (:class:`RenderBody`), its clothes, the
picture's options, and one rendered frame."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from analyzer.landmarks import NUM_LANDMARKS, SIDES

RGB = tuple[int, int, int]

#: Joints a body must provide (runner frame, metres, one (N, 3) array each).
JOINT_NAMES: tuple[str, ...] = ("head_top", "neck", "pelvis", "chest") + tuple(
    f"{side}_{part}"
    for side in SIDES
    for part in ("shoulder", "elbow", "wrist", "hand", "hip", "knee", "ankle", "heel", "toe", "ball")
)

#: Distance beyond the body's mid-plane (fraction of stature) over which far-side
#: darkening ramps in: about the hip joint's distance from the midline.
FAR_SIDE_WIDTH = 0.05
#: Stature for which the radii in the part table are given; a body's radii scale with
#: its own height.
REFERENCE_HEIGHT_M = 1.78
#: Height of the vertex (head top) above the ear canals for the reference head.
HEAD_TOP_ABOVE_EARS_M = 0.13


# --------------------------------------------------------------------------------------
# Inputs and options
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderBody:
    """One person's motion, exactly as the renderer needs it.

    Attributes:
        joints_m: every name in :data:`JOINT_NAMES` mapped to an (N, 3) array of positions in
            the runner frame. ``heel``, ``toe`` (tip) and ``ball`` are points on the shoe's
            surface (back of the heel, tip, sole under the ball of the foot); ``head_top``
            is the vertex; the others are joint centres (``hand`` is the third metacarpal
            head, ``neck`` the base of the neck (mid-shoulder will do), ``pelvis`` mid-hip,
            ``chest`` mid-shoulder).
        landmarks_m: (N, 33, 3) BlazePose landmarks in the same frame. The face landmarks
            (nose, ears) turn the head; ``index``, ``pinky`` and ``thumb`` shape the hands.
        height_m: standing height; limb thickness scales with it.
    """

    joints_m: Mapping[str, np.ndarray]
    landmarks_m: np.ndarray
    height_m: float

    def __post_init__(self) -> None:
        missing = [name for name in JOINT_NAMES if name not in self.joints_m]
        if missing:
            raise ValueError(f"RenderBody.joints_m lacks {missing}")
        n = self.landmarks_m.shape[0]
        if self.landmarks_m.shape != (n, NUM_LANDMARKS, 3):
            raise ValueError(f"landmarks_m must be (N, {NUM_LANDMARKS}, 3), got {self.landmarks_m.shape}")
        for name in JOINT_NAMES:
            if np.shape(self.joints_m[name]) != (n, 3):
                raise ValueError(f"joints_m[{name!r}] must be ({n}, 3), got {np.shape(self.joints_m[name])}")
        if not self.height_m > 0:
            raise ValueError("height_m must be positive")

    @property
    def num_frames(self) -> int:
        return int(self.landmarks_m.shape[0])


@dataclass(frozen=True)
class Outfit:
    """Colours of one person (sRGB, 0-255)."""

    skin: RGB = (186, 128, 94)
    hair: RGB = (38, 28, 22)
    shirt: RGB = (28, 78, 178)
    shorts: RGB = (26, 26, 34)
    shoes: RGB = (232, 92, 36)
    sole: RGB = (236, 236, 230)


_JOGGER_OUTFIT = Outfit(skin=(232, 190, 160), hair=(120, 84, 50), shirt=(196, 58, 52),
                        shorts=(60, 64, 80), shoes=(245, 245, 245), sole=(70, 70, 70))


@dataclass(frozen=True)
class RenderOptions:
    """How a clip looks.

    Attributes:
        width_px, height_px: output size. ``None`` uses the camera's size (or, if the other
            side is given, keeps its aspect ratio); otherwise the camera is rescaled to it
            (same aspect ratio required), so projected pixel coordinates scale by
            ``width_px / camera.width_px``.
        background: ``"stadium"`` (stands full of spectators behind advertising boards),
            ``"park"`` (hedge and tree line under the sky) or ``"plain"`` (a low wall with
            posters); the track is the same in all three.
        noise_sigma: standard deviation of the Gaussian sensor noise, in 8-bit levels.
        lens_blur_px: Gaussian blur (sigma, pixels) applied to the whole frame; 0 disables.
        vignette: relative darkening of the image corners (0 disables).
        motion_blur_samples: sub-frame renders averaged per frame; 1 disables motion blur.
        shutter_fraction: exposure time as a fraction of the frame interval (for motion blur).
        second_person: draw a smaller, slower jogger behind the runner (farther from the
            camera). It is drawn before the runner and never over it.
        second_person_depth_m: how much farther from the camera than the runner the jogger
            runs (its lane), metres.
        second_person_speed: the jogger's speed and cadence as a fraction of the runner's.
        second_person_scale: the jogger's size relative to the runner.
        second_person_phase: where in the runner's motion the jogger's (slowed) motion
            starts, as a fraction of the clip (0-1).
        second_person_lead_m: the jogger's forward offset from the runner at mid-clip.
        outfit, second_outfit: colours of the runner and of the jogger.
        light_direction: direction toward the sun as (forward, up, toward the camera);
            the third component follows the camera's side of the track.
        far_side_darkening: how much darker a part is drawn whose axis lies beyond the
            pelvis, away from the camera, by a hip half-width (5% of stature) or more; the
            far arm and leg are in the body's shade.
        lanes, runner_lane, lane_width_m: the track; the runner runs along z = 0 in the
            middle of lane ``runner_lane`` (lane 1 is the inside lane, on the far side).
        seed: seeds the scenery (spectators, boards, trees, texture grain) and the noise.
    """

    width_px: int | None = None
    height_px: int | None = None
    background: Literal["stadium", "park", "plain"] = "stadium"
    noise_sigma: float = 2.0
    lens_blur_px: float = 0.6
    vignette: float = 0.18
    motion_blur_samples: int = 1
    shutter_fraction: float = 0.5
    second_person: bool = False
    second_person_depth_m: float = 6.0
    second_person_speed: float = 0.45
    second_person_scale: float = 0.95
    second_person_phase: float = 0.3
    second_person_lead_m: float = -2.5
    outfit: Outfit = field(default_factory=Outfit)
    second_outfit: Outfit = field(default_factory=lambda: _JOGGER_OUTFIT)
    light_direction: tuple[float, float, float] = (0.35, 0.8, 0.5)
    far_side_darkening: float = 0.35
    lanes: int = 8
    runner_lane: int = 4
    lane_width_m: float = 1.22
    seed: int = 0

    def __post_init__(self) -> None:
        if self.background not in ("stadium", "park", "plain"):
            raise ValueError(f"unknown background {self.background!r}")
        if self.motion_blur_samples < 1:
            raise ValueError("motion_blur_samples must be >= 1")
        if not 0.0 < self.shutter_fraction <= 1.0:
            raise ValueError("shutter_fraction must be in (0, 1]")
        if not 0.0 < self.second_person_speed <= 1.0:
            raise ValueError("second_person_speed must be in (0, 1]")
        if not 1 <= self.runner_lane <= self.lanes:
            raise ValueError("runner_lane must be one of the lanes")


@dataclass(frozen=True)
class RenderedFrame:
    """One output frame and what the runner covers in it.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        runner_alpha: (H, W) float32 in [0, 1], the main runner's coverage of each pixel
            (before lens blur and noise; averaged over sub-frames with motion blur).
    """

    image: np.ndarray
    runner_alpha: np.ndarray
