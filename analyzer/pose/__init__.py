"""Pose extraction, offline: MediaPipe PoseLandmarker (Tasks API) over a video.

Stage two of the pipeline: :func:`extract_pose` runs BlazePose over the decoded frames
(:mod:`analyzer.video`), follows the runner when several people are in view, corrects
left/right label swaps (:func:`fix_left_right_swaps`) and returns a :class:`PoseTrack` of
plain numpy arrays, which :func:`save_pose_cache` / :func:`load_cached_pose` store as
``landmarks.npz`` keyed by :func:`pose_cache_key`.

Conventions
-----------
* Image landmarks ``image_xy_px``: upright full-resolution pixels (x right, y down),
  whatever size the model was fed (its output is normalised, so scaling back is exact).
* ``image_z``: MediaPipe's relative depth of each image landmark, origin at the mid-hip,
  smaller = nearer the camera, in the normalised units of x (multiply by ``image_width``
  for pixels).
* World landmarks ``world_xyz_m``: MediaPipe's metric 3D estimate, origin at the mid-hip
  (the mean of the two hip landmarks is ~0), axes aligned with the camera: x image-right,
  y image-down, z away from the camera (checked on real clips: each world axis correlates
  >= 0.98 with the matching hip-centred image coordinate, world z with ``image_z``).
* Times and frame indices are those of :mod:`analyzer.video`. Repeated frames
  (``is_repeat``) are not re-run through the model: they carry the landmarks of the
  image they repeat.
* Small runners: BlazePose's person detector sees the whole picture shrunk to 224x224,
  where a sprinter a quarter of a wide frame's height is too small to find. Besides the
  whole frame, :func:`extract_pose` therefore looks in square tiles and in a window that
  follows the runner (on the shared sprint-start clips this took the runner's detection
  in the first 3 s from 0-80% to 82-100%).
* Not detected: NaN coordinates, 0 visibility and presence, ``detected`` False.

Modules, in the order a video goes through them
-----------------------------------------------
* :mod:`~analyzer.pose.model`: the embedded ``.task`` bundle, checked, and MediaPipe landmarkers;
* :mod:`~analyzer.pose.extract`: frames through the model (whole frame, runner window, tiles);
* :mod:`~analyzer.pose.detections`: one picture's poses in pixels, de-duplicated and stored;
* :mod:`~analyzer.pose.people`: poses linked into people, the runner chosen;
* :mod:`~analyzer.pose.swaps`: left/right label swaps undone;
* :mod:`~analyzer.pose.flip`: the flip test (automatic where the legs are coarsely sampled,
  or on or off): the mirrored frames' pose merged in;
* :mod:`~analyzer.pose.track`: the result, :class:`PoseTrack`;
* :mod:`~analyzer.pose.cache`: ``landmarks.npz``, reused when nothing that changes the pose changed.
"""
from __future__ import annotations

from . import flip
from .cache import CACHE_VERSION, extract_pose_cached, load_cached_pose, mediapipe_version, pose_cache_key, save_pose_cache, video_content_id
from .extract import DEFAULT_MAX_SIDE_PX, extract_pose
from .model import DEFAULT_MODEL_PATH, check_model, create_landmarker, native_stderr_silenced
from .people import link_people
from .swaps import SWAP_GROUPS, SwapCorrection, collapsed_leg_frames, fix_left_right_swaps
from .track import PoseModelError, PoseTrack

__all__ = [
    "CACHE_VERSION",
    "DEFAULT_MAX_SIDE_PX",
    "DEFAULT_MODEL_PATH",
    "PoseModelError",
    "PoseTrack",
    "SWAP_GROUPS",
    "SwapCorrection",
    "check_model",
    "collapsed_leg_frames",
    "create_landmarker",
    "extract_pose",
    "extract_pose_cached",
    "flip",
    "fix_left_right_swaps",
    "link_people",
    "load_cached_pose",
    "mediapipe_version",
    "native_stderr_silenced",
    "pose_cache_key",
    "save_pose_cache",
    "video_content_id",
]
