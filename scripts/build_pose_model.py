#!/usr/bin/env python3
"""Rebuild the analyzer's embedded pose model, reproducibly and offline.

The analyzer ships ``analyzer/models/pose_landmarker_full.task``: the BlazePose
*full* weights that the mediapipe 0.10.21 wheel bundles, packed into the model
bundle format that the current MediaPipe Tasks API (``PoseLandmarker``) reads.

The wheel's landmark model lacks the image-input metadata the Tasks API needs
(it fails with "Input tensor has type float32: it requires specifying
NormalizationOptions metadata"), so this script adds it with the metadata writer
that ships in the same wheel: mean 0, std 255, i.e. the network sees RGB pixels
scaled to [0, 1], which is how BlazePose was trained.

The only thing fetched is the ``mediapipe==0.10.21`` package from the package
registry. Run it with any Python 3.9-3.12; when the running interpreter does not
have mediapipe 0.10.21, the script makes a throw-away virtual environment with
it and re-runs itself there.

    python scripts/build_pose_model.py            # rebuild and compare with the committed SHA-256
    python scripts/build_pose_model.py --check    # exit 1 if the rebuilt file differs

The SHA-256 of the result is written to ``analyzer/models/MODEL_SHA256.txt``.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MEDIAPIPE_SOURCE_VERSION = "0.10.21"
ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "analyzer" / "models"
TASK_NAME = "pose_landmarker_full.task"
SHA_FILE = MODEL_DIR / "MODEL_SHA256.txt"
# A fixed timestamp keeps the ZIP bytes identical from one build to the next.
ZIP_DATE_TIME = (2024, 1, 1, 0, 0, 0)


def _have_source_mediapipe() -> bool:
    try:
        import mediapipe  # noqa: F401
    except ImportError:
        return False
    return mediapipe.__version__ == MEDIAPIPE_SOURCE_VERSION


def _reexec_in_temporary_venv(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="mp-model-build-") as tmp:
        venv = Path(tmp) / "venv"
        print(f"Creating a temporary environment with mediapipe=={MEDIAPIPE_SOURCE_VERSION} ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"mediapipe=={MEDIAPIPE_SOURCE_VERSION}"],
            check=True,
        )
        return subprocess.run([str(python), __file__, *argv]).returncode


def _landmark_model_with_metadata(raw_model: bytes) -> bytes:
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(raw_model))
    writer.add_general_info(
        "BlazePose GHUM 3D (full)",
        "Pose landmark model from the mediapipe 0.10.21 wheel; input RGB 256x256 in [0, 1].",
    )
    writer.add_image_input(norm_mean=[0.0], norm_std=[255.0])
    model_with_metadata, _ = writer.populate()
    return bytes(model_with_metadata)


def build(output: Path) -> str:
    """Write the ``.task`` bundle to *output*; return its SHA-256 hex digest."""
    import mediapipe
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    package = Path(mediapipe.__file__).parent
    detector = (package / "modules/pose_detection/pose_detection.tflite").read_bytes()
    landmarks = (package / "modules/pose_landmark/pose_landmark_full.tflite").read_bytes()
    members = {
        "pose_detector.tflite": detector,
        "pose_landmarks_detector.tflite": _landmark_model_with_metadata(landmarks),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    # The library's AlignZipFile stores members uncompressed and 4-byte aligned
    # (so the runtime can mmap them); fixed ZipInfo dates make it reproducible.
    with model_asset_bundle_utils.AlignZipFile(tmp, mode="w", alignment=4) as bundle:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            bundle.writestr(info, data)
    os.replace(tmp, output)
    _write_licence_notice(output.parent)
    return hashlib.sha256(output.read_bytes()).hexdigest()


def _write_licence_notice(folder: Path) -> None:
    """Ship the weights' Apache-2.0 licence, taken from the wheel they came from."""
    from importlib import metadata

    dist = metadata.distribution("mediapipe")
    licence = next(f for f in dist.files if f.name.upper().startswith("LICENSE"))
    text = Path(dist.locate_file(licence)).read_text()
    notice = (
        "The pose model weights in pose_landmarker_full.task (pose_detector.tflite and\n"
        "pose_landmarks_detector.tflite) are Google's BlazePose GHUM 3D 'full' weights,\n"
        f"taken unmodified from the mediapipe=={MEDIAPIPE_SOURCE_VERSION} wheel (Copyright The MediaPipe Authors)\n"
        "and licensed under the Apache License 2.0 below. The only change is the added\n"
        "TFLite input metadata (normalisation mean 0, std 255) described in\n"
        "scripts/build_pose_model.py.\n\n"
    )
    (folder / "LICENSE-mediapipe.txt").write_text(notice + text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=MODEL_DIR / TASK_NAME, help="where to write the .task")
    parser.add_argument("--check", action="store_true", help="fail if the build differs from the committed SHA-256")
    args_list = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(args_list)
    if not _have_source_mediapipe():
        return _reexec_in_temporary_venv(args_list)

    digest = build(args.output)
    committed = SHA_FILE.read_text().split()[0] if SHA_FILE.exists() else None
    print(f"{args.output}: sha256 {digest}")
    if args.check:
        if digest != committed:
            print(f"MISMATCH: committed sha256 is {committed}")
            return 1
        print("matches the committed SHA-256")
        return 0
    if args.output.resolve() == (MODEL_DIR / TASK_NAME).resolve():
        SHA_FILE.write_text(f"{digest}  {TASK_NAME}  (built from mediapipe=={MEDIAPIPE_SOURCE_VERSION})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
