"""The embedded BlazePose model: checking a ``.task`` bundle and creating MediaPipe landmarkers."""
from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .track import PoseModelError

#: The embedded BlazePose full model (Apache-2.0, see models/LICENSE-mediapipe.txt).
DEFAULT_MODEL_PATH: Path = Path(__file__).resolve().parent.parent / "models" / "pose_landmarker_full.task"
_REQUIRED_TFLITE = ("pose_detector.tflite", "pose_landmarks_detector.tflite")


def check_model(model_path: str | os.PathLike[str] | None = None) -> Path:
    """Return the model path after checking it is a pose ``.task`` bundle.

    Raises:
        PoseModelError: missing file, not a zip, or lacking the two pose ``.tflite`` files.
    """
    path = Path(model_path) if model_path is not None else DEFAULT_MODEL_PATH
    name = f"'{path.name}'"
    if not path.is_file():
        raise PoseModelError(f"pose model {name} not found ({path})")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError):
        raise PoseModelError(f"pose model {name} is not a MediaPipe .task file (not a zip bundle)") from None
    missing = [n for n in _REQUIRED_TFLITE if n not in names]
    if missing:
        raise PoseModelError(f"pose model {name} is not a pose landmarker .task (lacks {', '.join(missing)})")
    return path


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send the process's file descriptor 2 to /dev/null inside the block.

    MediaPipe's C++ core logs start-up chatter (XNNPACK delegate, "Feedback manager ...")
    straight to fd 2, past Python's sys.stderr and ignoring GLOG/absl environment variables;
    it would tear through progress bars. Python-level errors raised inside still propagate.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (some embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def create_landmarker(model_path: Path, num_poses: int, mode: str = "video") -> Any:
    """A MediaPipe PoseLandmarker (``mode`` ``"video"`` or ``"image"``); use it as a context manager.

    VIDEO-mode landmarkers track people between calls and need strictly increasing
    timestamps over their whole life, so :func:`extract_pose` creates its own per video.
    """
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE,
        num_poses=int(num_poses),
        output_segmentation_masks=False,
    )
    try:
        with native_stderr_silenced():
            return vision.PoseLandmarker.create_from_options(options)
    except Exception as exc:  # noqa: BLE001 - MediaPipe raises bare RuntimeErrors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PoseModelError(f"pose model '{model_path.name}' cannot be loaded by MediaPipe: {first}") from None
