"""The view check on rendered clips: the synthetic sprinter filmed square-on and 60° off square.

No shared real clip is filmed obliquely (the one labelled so is square to its treadmill belt,
docs/METHOD.md, section 8, View), so the oblique warning is tested on renders: a camera
tracking the runner, turned about the pelvis (``ClipSpec.camera_yaw_deg``, + ahead of the
runner), through the real pose model and the pure pipeline. Clips are short and small
(1.5 s at 30 fps, 640x360) so that render and pose take ~15 s for both.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from analyzer import pipeline, pose, video, view
from analyzer.athlete import Athlete
from analyzer.synthetic.clips import ClipSpec, make_clip

#: The default sprinter and tracking camera 8 m away, the picture halved (focal with it).
SPEC = ClipSpec(fps=30.0, duration_s=1.5, width_px=640, height_px=360, focal_px=550.0, distance_m=8.0)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[float], pipeline.AnalysisResult]:
    """Render, pose and analyse the clip turned by a given yaw (deg), once per session."""
    folder: Path = tmp_path_factory.mktemp("view_rendered")
    params = SPEC.params
    athlete = Athlete(params.height_m, params.mass_kg, params.sex, True, True, True)
    cache: dict[float, pipeline.AnalysisResult] = {}

    def analysed(yaw_deg: float) -> pipeline.AnalysisResult:
        if yaw_deg not in cache:
            path = folder / f"yaw_{yaw_deg:+.0f}.mp4"
            make_clip(dataclasses.replace(SPEC, camera_yaw_deg=yaw_deg), path)
            info = video.probe_video(path)
            track = pose.extract_pose(info, progress=False)
            cache[yaw_deg] = pipeline.analyse(info, track, athlete, pipeline.Settings(overlay=False))
        return cache[yaw_deg]

    return analysed


def _view_warnings(result: pipeline.AnalysisResult) -> list[str]:
    return [w for w in result.warnings if "camera view" in w]


def test_square_render_is_a_side_view_without_warning(rendered) -> None:
    result = rendered(0.0)
    assert result.pose.detected_fraction >= 0.95
    assert result.view.view == "side"
    assert result.view.width_ratio < view.SIDE_MAX_WIDTH_RATIO - 0.1      # 0.095 measured
    assert not _view_warnings(result)


def test_render_60_degrees_off_square_is_called_oblique(rendered) -> None:
    """Ahead of the runner, 60° off square: width ratio 0.37 (the square render's 0.095)."""
    result = rendered(60.0)
    assert result.pose.detected_fraction >= 0.95
    assert result.view.view == "oblique"
    assert view.SIDE_MAX_WIDTH_RATIO < result.view.width_ratio < view.FRONTAL_MIN_WIDTH_RATIO
    assert not result.view.counterbalance_trusted
    (warning,) = _view_warnings(result)
    assert "oblique" in warning and result.warnings[0] == warning
    assert not any(s.flag_kinds for s in result.balance.steps)
