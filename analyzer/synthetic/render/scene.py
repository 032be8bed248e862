"""The renderer: the figure and the scenery drawn frame by frame through a camera, with lens,
sensor and optional motion blur (:class:`SceneRenderer`, :func:`render_frames`)."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import cv2
import numpy as np

from analyzer.synthetic.camera import CameraTrack

from .figure import CONES, ELLIPSOIDS, FRAMES, Figure, build_figure, interp_frames, jogger, unit
from .options import FAR_SIDE_WIDTH, REFERENCE_HEIGHT_M, RenderBody, RenderedFrame, RenderOptions
from .raster import Shading, Target, raster_cone, raster_ellipsoid
from .scenery import Backdrop, Scenery, contact_shadow


def _scaled_camera(camera: CameraTrack, options: RenderOptions) -> CameraTrack:
    """The camera rescaled to the output size the options ask for (one side may be None)."""
    aspect = camera.height_px / camera.width_px
    width = options.width_px or (round(options.height_px / aspect) if options.height_px else camera.width_px)
    height = options.height_px or round(width * aspect)
    if (width, height) == (camera.width_px, camera.height_px):
        return camera
    sx, sy = width / camera.width_px, height / camera.height_px
    if abs(sx - sy) > 1e-3 * max(sx, sy):
        raise ValueError("RenderOptions size must keep the camera's aspect ratio")
    return dataclasses.replace(camera, focal_px=camera.focal_px * sx, width_px=width, height_px=height)


class _Projected:
    """A figure's parts in camera terms for every sub-frame sample, and their draw order."""

    def __init__(self, figure: Figure, tau: np.ndarray, camera: CameraTrack):
        self.figure = figure
        self.world = interp_frames(figure.points, tau)
        self.xy, self.depth = camera.project(self.world)
        rot = camera.rotation()                                                    # (S, 3, 3)
        ia, ib = figure.cone_points[:, 0], figure.cone_points[:, 1]
        da, db = self.depth[:, ia], self.depth[:, ib]
        self.cone_r_px = camera.focal_px * figure.cone_radii[None] / np.maximum(np.stack([da, db], axis=-1), 1e-3)
        cam_pts = camera.to_camera(self.world)
        self.ell_centre = cam_pts[:, figure.ell_centre]                            # (S, E, 3)
        frames_world = interp_frames(figure.frames, tau)
        frames = np.einsum("sij,sfjk->sfik", rot, frames_world)
        # Re-orthonormalise after interpolation (sub-frame samples blend two frames).
        q, r = np.linalg.qr(frames)
        frames = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
        self.ell_axes = frames[:, figure.ell_frame] * figure.ell_semi[None, :, None, :]   # (S, E, 3, 3)
        # Far-to-near order over all parts: cones first in the index space, then ellipsoids.
        cone_key = 0.5 * (da + db) - figure.cone_radii.mean(axis=1)[None]
        ell_key = self.ell_centre[..., 2] - figure.ell_semi.mean(axis=1)[None]
        self.order = np.argsort(-np.concatenate([cone_key, ell_key], axis=1), axis=1)
        self.hair_cam = np.einsum("sij,sj->si", rot, interp_frames(figure.hair_dir, tau))
        # Far side: distance beyond the sagittal plane through the pelvis along the body's
        # right axis, signed and weighted by how squarely the camera looks at that axis
        # (+-1 side-on, 0 head-on, so the shade fades out smoothly as the body turns).
        pelvis = interp_frames(figure.pelvis, tau)
        right = unit(frames_world[:, FRAMES.index("pelvis"), :, 2])
        facing = np.sum(right * unit(pelvis - camera.position_m), axis=-1)
        self.farness = np.einsum("spk,sk->sp", self.world - pelvis[:, None], right) * facing[:, None]

    def draw(self, target: Target, sample: int, focal: float, shade: Shading) -> None:
        fig = self.figure
        n_cones = len(CONES)
        xy, depth, r_px, far = self.xy[sample], self.depth[sample], self.cone_r_px[sample], self.farness[sample]
        for k in self.order[sample]:
            if k < n_cones:
                ia, ib = fig.cone_points[k]
                if depth[ia] < 0.1 or depth[ib] < 0.1:
                    continue
                raster_cone(target, xy[ia], xy[ib], (float(r_px[k, 0]), float(r_px[k, 1])),
                             (float(depth[ia]), float(depth[ib])),
                             (float(fig.cone_radii[k, 0]), float(fig.cone_radii[k, 1])),
                             (float(far[ia]), float(far[ib])), CONES[k], fig.albedo, shade)
            else:
                e = k - n_cones
                raster_ellipsoid(target, self.ell_centre[sample, e], self.ell_axes[sample, e], focal,
                                  float(far[fig.ell_centre[e]]), ELLIPSOIDS[e], fig.albedo, shade)


class SceneRenderer:
    """Renders a body (and optionally a background jogger) through a camera, frame by frame.

    Frames can be rendered in any order; each depends only on the inputs, the options and
    its index (noise is seeded per frame), so rendering is deterministic.

    Attributes:
        camera: the camera frames are rendered through (rescaled to the output size).
        width, height: output size in pixels; num_frames: the body's and camera's N.
    """

    def __init__(self, body: RenderBody, camera: CameraTrack, options: RenderOptions | None = None):
        options = options or RenderOptions()
        if camera.num_frames != body.num_frames:
            raise ValueError(f"camera has {camera.num_frames} frames, body {body.num_frames}")
        self.options = options
        self.camera = _scaled_camera(camera, options)
        self.width, self.height = self.camera.width_px, self.camera.height_px
        self.num_frames = body.num_frames
        cam = self.camera
        camera_z = float(np.mean(cam.position_m[:, 2]))
        scenery = Scenery(options, camera_z)
        far_sign = scenery.far_sign

        # Sub-frame sample times (fractional frame indices), S per frame.
        s = options.motion_blur_samples
        offsets = options.shutter_fraction * ((np.arange(s) + 0.5) / s - 0.5) if s > 1 else np.zeros(1)
        self._tau = (np.arange(self.num_frames)[:, None] + offsets[None, :]).ravel()
        self._samples = s
        self._cam = CameraTrack(interp_frames(cam.position_m, self._tau), interp_frames(cam.look_at_m, self._tau),
                                cam.focal_px, cam.width_px, cam.height_px, cam.up)
        self._rotations = self._cam.rotation()
        self._backdrop = Backdrop(scenery, self._cam)

        lx, ly, lc = options.light_direction
        self._light_world = unit(np.array([lx, ly, -lc * far_sign], dtype=float))

        self._figures: list[tuple[Figure, _Projected, float, bool]] = []
        if options.second_person:
            jog = jogger(body, options, far_sign)
            fig = build_figure(jog, options.second_outfit)
            self._figures.append((fig, _Projected(fig, self._tau, self._cam), jog.height_m, False))
        fig = build_figure(body, options.outfit)
        self._figures.append((fig, _Projected(fig, self._tau, self._cam), body.height_m, True))

        yy, xx = np.mgrid[0:self.height, 0:self.width].astype(np.float32)
        r2 = ((xx + 0.5 - self.width / 2) ** 2 + (yy + 0.5 - self.height / 2) ** 2) / (
            (self.width / 2) ** 2 + (self.height / 2) ** 2)
        self._vignette = np.repeat((1.0 - options.vignette * r2 ** 1.5)[..., None], 3, axis=2).astype(np.float32)

    def __len__(self) -> int:
        return self.num_frames

    def _render_sample(self, sample: int) -> tuple[np.ndarray, np.ndarray]:
        image = self._backdrop.image(sample)
        cover = np.zeros((self.height, self.width), np.float32)
        rot = self._rotations[sample]
        light = rot @ self._light_world
        half = unit(light + np.array([0.0, 0.0, -1.0]))
        for fig, proj, height_m, _ in self._figures:
            contact_shadow(image, self._cam, rot, sample, proj.world[sample, fig.casters], self._light_world,
                            height_m / REFERENCE_HEIGHT_M)
        for fig, proj, height_m, is_runner in self._figures:
            # A fresh z-buffer per person: the runner is always drawn over the jogger.
            zbuf = np.full((self.height, self.width), np.inf, np.float32)
            shade = Shading(
                light=light.astype(np.float32), half=half.astype(np.float32),
                hair=proj.hair_cam[sample].astype(np.float32),
                far_width=FAR_SIDE_WIDTH * height_m,
                far_dark=self.options.far_side_darkening,
            )
            proj.draw(Target(image, zbuf, cover if is_runner else None), sample, self._cam.focal_px, shade)
        return image, cover

    def render(self, index: int) -> RenderedFrame:
        """Frame ``index`` (0-based) as RGB uint8 and the runner's coverage."""
        if not 0 <= index < self.num_frames:
            raise IndexError(index)
        s = self._samples
        image, cover = self._render_sample(index * s)
        for k in range(1, s):
            im_k, cov_k = self._render_sample(index * s + k)
            image += im_k
            cover += cov_k
        if s > 1:
            image *= 1.0 / s
            cover *= 1.0 / s
        opts = self.options
        if opts.lens_blur_px > 0:
            image = cv2.GaussianBlur(image, (0, 0), opts.lens_blur_px)
        if opts.vignette > 0:
            image = cv2.multiply(image, self._vignette)
        # Add noise, round and saturate to uint8 in one pass.
        return RenderedFrame(cv2.add(image, self._noise(index), dtype=cv2.CV_8U), cover)

    def _noise(self, index: int) -> np.ndarray:
        """Sensor noise for frame ``index``: Gaussian, seeded by (seed, index), (H, W, 3).

        Like a phone's processed noise it is mostly luminance (one value shared by R, G and
        B, 8/9 of the variance) with a little colour noise, and correlated over about two
        pixels: it is drawn at half resolution and upsampled bilinearly. The exact 2x
        upsampling averages with weights (3/4, 1/4) per axis, which scales the standard
        deviation by 5/8; that is undone here, so each pixel's sigma is ``noise_sigma``.
        """
        sigma = self.options.noise_sigma
        if sigma <= 0:
            return np.zeros((self.height, self.width, 3), np.float32)
        half = np.empty(((self.height + 1) // 2, (self.width + 1) // 2, 4), np.float32)
        chroma, luma = sigma / 3.0, sigma * math.sqrt(8.0) / 3.0
        cv2.setRNGSeed(int(np.random.SeedSequence([self.options.seed, index]).generate_state(1)[0] & 0x7FFFFFFF))
        # Per-channel mean and sigma: a bare scalar would fill channel 0 only.
        cv2.randn(half, (0.0,) * 4, (chroma / 0.625,) * 3 + (luma / 0.625,))
        rgb = half[..., :3] + half[..., 3:]          # before upsampling, which is linear
        full = cv2.resize(rgb, (2 * half.shape[1], 2 * half.shape[0]), interpolation=cv2.INTER_LINEAR)
        return full[:self.height, :self.width]

    def __iter__(self) -> Iterator[RenderedFrame]:
        for index in range(self.num_frames):
            yield self.render(index)


def render_frames(body: RenderBody, camera: CameraTrack, options: RenderOptions | None = None) -> Iterator[np.ndarray]:
    """RGB uint8 frames (H, W, 3) of ``body`` seen through ``camera``, one per camera frame."""
    for frame in SceneRenderer(body, camera, options):
        yield frame.image
