"""View assessment on hand-made landmark arrays: trunk lean, upright frames, width ratio."""
from __future__ import annotations

import numpy as np
import pytest

from analyzer import view
from analyzer.landmarks import INDEX, NUM_LANDMARKS

TORSO_PX = 200.0


def _frames(n: int, *, separation: float, lean_deg: float = 10.0) -> np.ndarray:
    """(n, 33, 2) image landmarks: shoulders and hips only, the rest NaN.

    *separation* is the left-right image separation of shoulders and hips over the torso's
    length; *lean_deg* the trunk's lean from the image vertical (forward is +x).
    """
    xy = np.full((n, NUM_LANDMARKS, 2), np.nan)
    hip = np.array([500.0, 600.0])
    lean = np.radians(lean_deg)
    shoulder = hip + TORSO_PX * np.array([np.sin(lean), -np.cos(lean)])
    half = 0.5 * separation * TORSO_PX
    for side, sign in (("left", -1.0), ("right", 1.0)):
        xy[:, INDEX[f"{side}_hip"]] = hip + [sign * half, 0.0]
        xy[:, INDEX[f"{side}_shoulder"]] = shoulder + [sign * half, 0.0]
    return xy


def _assess(xy: np.ndarray, *, nose_nearer: bool = True) -> view.ViewAssessment:
    n = xy.shape[0]
    world = np.zeros((n, NUM_LANDMARKS, 3))
    world[:, INDEX["nose"], 2] = -0.1 if nose_nearer else 0.1
    return view.assess_view(xy, world, np.arange(n) / 30.0, image_width_px=1280)


def test_trunk_lean_reads_upright_horizontal_and_inverted() -> None:
    xy = np.concatenate([_frames(1, separation=0.1, lean_deg=a) for a in (0.0, 30.0, 90.0, 135.0)])
    np.testing.assert_allclose(view.trunk_lean_deg(xy), [0.0, 30.0, 90.0, 135.0], atol=1e-9)
    xy[0, INDEX["left_hip"]] = np.nan
    lean = view.trunk_lean_deg(xy)
    assert np.isnan(lean[0])
    assert list(view.upright_frames(xy)) == [False, True, False, False]


def test_block_crouch_does_not_make_a_side_view_look_frontal() -> None:
    """A long set position (trunk 75 deg from vertical, wide-looking) then running from the side."""
    crouch = _frames(200, separation=0.5, lean_deg=75.0)
    running = _frames(40, separation=0.12, lean_deg=20.0)
    xy = np.concatenate([crouch, running])
    assert view.width_ratio(xy) == pytest.approx(0.12)
    assessment = _assess(xy)
    assert assessment.view == "side"
    assert not any("camera view" in w for w in assessment.warnings)


def test_too_few_upright_frames_fall_back_to_every_frame() -> None:
    few = view.MIN_UPRIGHT_FRAMES - 1
    xy = np.concatenate([_frames(50, separation=0.5, lean_deg=75.0), _frames(few, separation=0.1)])
    assert view.width_ratio(xy) == pytest.approx(0.5)
    xy = np.concatenate([_frames(50, separation=0.5, lean_deg=75.0), _frames(few + 1, separation=0.1)])
    assert view.width_ratio(xy) == pytest.approx(0.1)


@pytest.mark.parametrize(("nose_nearer", "expected"), [(True, "front"), (False, "back")])
def test_upright_frontal_view_is_front_or_back(nose_nearer: bool, expected: str) -> None:
    assessment = _assess(_frames(60, separation=0.6), nose_nearer=nose_nearer)
    assert assessment.view == expected
    assert assessment.width_ratio == pytest.approx(0.6)
    assert any("camera view" in w for w in assessment.warnings)


def test_between_thresholds_is_oblique() -> None:
    middle = 0.5 * (view.SIDE_MAX_WIDTH_RATIO + view.FRONTAL_MIN_WIDTH_RATIO)
    assert _assess(_frames(60, separation=middle)).view == "oblique"


def test_no_torso_gives_unknown() -> None:
    xy = np.full((30, NUM_LANDMARKS, 2), np.nan)
    assert np.isnan(view.width_ratio(xy))
    assert _assess(xy).view == "unknown"
