"""The stills' undrawn frames, kept in the output folder so that a re-analysis decodes no video.

The report's still frames (:func:`analyzer.overlay.still_frames`) need at most a few dozen
decoded frames, but reaching them means decoding a 1080p file up to the last one (most of
a cached re-analysis). This cache keeps each of those frames as
``OUT/<video>/.stills-cache/<key>-f<frame>.jpg``, downscaled to the stills' size and not yet
drawn on, next to ``landmarks.npz``.

* The key names the video's content (the first 96 bits of the SHA-256 the pose cache
  hashes, :func:`analyzer.pose.video_content_id`), the decoding size limit, the stills'
  size, the version of OpenCV that decoded and resized, and :data:`CACHE_VERSION`: another
  video, size or decoder is a miss, never a stale frame.
* Frames are stored as JPEG (quality 95, no chroma subsampling: ~100 KB at 640x360) and
  the stills are drawn on the frame *as read back from its JPEG* also on the run that
  stores it (:meth:`StillCache.store` returns those pixels), so a cached run's stills are
  byte-identical to the run that decoded the video. Against drawing on the decoded frame
  directly, the round trip changes the final still by 0.5-1.5 grey levels on average.
* After a run the folder holds exactly that run's frames (:meth:`StillCache.keep_only`):
  at most 2 x ``MAX_STILL_STEPS`` files, removed with the folder when a run has no stills.
* Files are written atomically; an unreadable file is a miss.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import cv2
import numpy as np

from analyzer import atomic
from analyzer.outputs import STILLS_CACHE_DIR

#: Bump when anything changes the frames a cache would hold (the format, the resizing).
CACHE_VERSION = 1
_JPEG_PARAMS = [cv2.IMWRITE_JPEG_QUALITY, 95,
                cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]


def cache_prefix(content_id: str, max_side_px: int | None, still_max_side: int) -> str:
    """The file-name prefix of one video's frames decoded under these sizes (readable, not hashed)."""
    decoder = cv2.__version__.replace(".", "")
    return f"{content_id[:24]}-d{max_side_px or 0}-s{still_max_side}-cv{decoder}-v{CACHE_VERSION}"


def _encode(image_rgb: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), _JPEG_PARAMS)
    if not ok:
        raise RuntimeError("JPEG encoding of a still frame failed")
    return encoded.tobytes()


def _decode(data: bytes) -> np.ndarray | None:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class StillCache:
    """One video's cached still frames in *out_dir*'s ``.stills-cache`` folder."""

    def __init__(self, out_dir: str | os.PathLike[str], prefix: str) -> None:
        self.folder = Path(out_dir) / STILLS_CACHE_DIR
        self.prefix = prefix

    def path(self, frame: int) -> Path:
        return self.folder / f"{self.prefix}-f{int(frame):07d}.jpg"

    def load(self, frames: Iterable[int]) -> dict[int, np.ndarray]:
        """The cached frames among *frames* (RGB, at the stills' size); missing or damaged ones left out."""
        found = {}
        for frame in frames:
            try:
                data = self.path(frame).read_bytes()
            except OSError:
                continue
            image = _decode(data)
            if image is not None:
                found[int(frame)] = image
        return found

    def store(self, images: Mapping[int, np.ndarray]) -> dict[int, np.ndarray]:
        """Keep *images* (frame -> RGB at the stills' size); return them as :meth:`load` will give them back."""
        stored = {}
        for frame, image in images.items():
            data = _encode(np.ascontiguousarray(image))
            atomic.write_bytes(self.path(frame), data)
            decoded = _decode(data)
            assert decoded is not None
            stored[int(frame)] = decoded
        return stored

    def keep_only(self, frames: Iterable[int]) -> None:
        """Remove every file but *frames*' (other videos' or sizes', unused frames, partial
        writes of a killed run); remove the folder when nothing is left."""
        keep = {self.path(frame).name for frame in frames}
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.name not in keep:
                with contextlib.suppress(OSError):
                    path.unlink()
        if not keep:
            with contextlib.suppress(OSError):
                self.folder.rmdir()
