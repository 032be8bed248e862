"""Render the synthetic sprinter to video frames, and encode them as a phone would.

The pose model sees these frames, so they must look like a person on a track, not like a
stick figure. The scene has two kinds of geometry, each drawn the way that suits it:

* **Scenery** is a set of textured planes: the ground ``y = 0`` (a running track with lane
  lines, markings and grass) and a vertical backdrop on the far side of the track (a
  stand full of spectators, a tree line or a plain wall), with sky above. Each pixel's
  viewing ray is intersected with the planes (vectorised over the whole image) and the
  procedural textures are sampled with ``cv2.remap``. The ground texture is prefiltered
  along the depth axis at several levels and each pixel reads the level that matches its
  footprint, so far lane lines do not shimmer. A static camera's scenery is drawn once;
  a camera panning from a fixed place sees a cylindrical panorama, drawn once and shifted
  by the camera's azimuth each frame; a camera travelling alongside re-reads the textures
  at its displacement; any other camera motion re-casts the rays. Either way the
  background moves exactly as the camera does (the analyzer estimates camera motion
  from it).
* **People** are unions of *round cones* (two spheres and the cone tangent to both; a
  sphere and a capsule are special cases) for the limbs, neck and face, and *ellipsoids*
  for the ribcage, abdomen, pelvis and cranium, listed in one table that serves left and
  right. A round cone is rasterised in screen space from the exact 2-D signed distance to
  its projected outline, which gives anti-aliased edges (one-pixel coverage ramp), a
  surface normal (cylinder across the part, sphere at its caps) for Lambert plus specular
  shading, and a per-pixel depth for a z-buffer; an ellipsoid is ray-cast exactly. Parts
  are drawn far-to-near and z-tested, so the far arm and leg pass behind the trunk and the
  near ones in front; parts beyond the body's mid-plane, seen from the camera, are also
  darkened (the far limbs are in the body's shade).

A soft contact shadow on the ground, a little lens blur, vignetting and sensor noise are
added last; optional motion blur averages sub-frame renders over a shutter interval.

Coordinates are the runner frame of docs/METHOD.md (x forward, y up, z to the runner's
right; metres) and pixels are those of :class:`~analyzer.synthetic.camera.CameraTrack`
(origin at the image's top-left corner, so pixel *(i, j)* has its centre at
*(i + 0.5, j + 0.5)*).

Modules: :mod:`.options` (what is asked for), :mod:`.figure` (the body's parts), :mod:`.raster`
(drawing them), :mod:`.scenery` (ground, backdrop, shadow), :mod:`.scene` (the renderer),
:mod:`.encode` (the video file).
"""
from __future__ import annotations

from .encode import write_video
from .options import JOINT_NAMES, Outfit, RenderBody, RenderedFrame, RenderOptions
from .scene import SceneRenderer, render_frames

__all__ = [
    "JOINT_NAMES",
    "Outfit",
    "RenderBody",
    "RenderOptions",
    "RenderedFrame",
    "SceneRenderer",
    "render_frames",
    "write_video",
]
