"""The scenery: textured ground and backdrop planes, sky, spectators and boards, and the
runner's contact shadow."""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from analyzer.synthetic.camera import CameraTrack

from .options import RenderOptions


_TEXEL_M = 0.02
_GROUND_PERIOD_M = 20.0
_WALL_PERIOD_M = 40.0
_GROUND_NEAR_M = -16.0          # nearest ground row of the texture (toward the camera)
_GROUND_LEVELS = 6
_WALL_DISTANCE_M = {"stadium": 25.0, "park": 38.0, "plain": 20.0}
_SKY_HORIZON = np.array([206, 220, 234], dtype=np.float32)
_SKY_ZENITH = np.array([92, 146, 214], dtype=np.float32)
_BOARD_WORDS = ("VELOX", "KESTREL", "NORDA", "ARC 9", "SPRINTA", "HALCYON", "TEMPO", "OKAPI",
                "LUMEN", "FJORD", "PIVOT", "QUILL")


def _grain(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Texture grain: per-texel noise plus a softer blotchy component, (h, w, 1) float32."""
    fine = rng.normal(0.0, sigma, shape).astype(np.float32)
    coarse = cv2.GaussianBlur(rng.normal(0.0, sigma * 4.0, shape).astype(np.float32), (0, 0), 6.0)
    return (fine + coarse)[..., None]


def _ground_texture(options: RenderOptions, wall_distance: float, rng: np.random.Generator) -> np.ndarray:
    """Ground colours over (distance beyond the running line, forward), uint8 (rows, cols, 3).

    Rows run from ``_GROUND_NEAR_M`` (toward the camera) to the backdrop; columns over one
    ``_GROUND_PERIOD_M`` of x. Lane 1 is on the far side, so the infield grass lies
    between the track and the backdrop.
    """
    rows = int(round((wall_distance - _GROUND_NEAR_M) / _TEXEL_M))
    cols = int(round(_GROUND_PERIOD_M / _TEXEL_M))
    w = _GROUND_NEAR_M + (np.arange(rows) + 0.5) * _TEXEL_M            # metres beyond the line
    x = (np.arange(cols) + 0.5) * _TEXEL_M
    lane = options.lane_width_m
    inner_edge = (options.runner_lane - 0.5) * lane                      # far edge of lane 1
    outer_edge = inner_edge - options.lanes * lane
    tartan = np.array([172, 66, 50], np.float32)
    grass = np.array([74, 128, 58], np.float32)
    tex = np.empty((rows, cols, 3), np.float32)
    on_track = (w >= outer_edge - 1.5) & (w <= inner_edge)
    tex[:] = np.where(on_track[:, None, None], tartan, grass)
    # Mowing stripes on the grass (every 4 m of x), brighter and darker.
    stripes = np.where((np.floor(x / 4.0) % 2) == 0, 1.07, 0.93).astype(np.float32)
    grass_rows = ~on_track
    tex[grass_rows] *= stripes[None, :, None]
    tex += _grain(rng, (rows, cols), 5.0) * np.where(on_track, 1.0, 1.8)[:, None, None]

    def row(wm: float) -> int:
        return int(round((wm - _GROUND_NEAR_M) / _TEXEL_M))

    def col(xm: float) -> int:
        return int(round(xm / _TEXEL_M))

    white = (236, 236, 230)
    line_half = 0.025
    for k in range(options.lanes + 1):
        wl = inner_edge - k * lane
        tex[row(wl - line_half):row(wl + line_half)] = white
    # Raised kerb on the inside edge.
    tex[row(inner_edge):row(inner_edge + 0.06)] = (210, 212, 215)
    # A line across all lanes (start/finish style) and hurdle marks on the lane lines.
    across = slice(row(outer_edge), row(inner_edge))
    tex[across, col(0.2):col(0.25)] = white
    mark_colours = ((238, 206, 40), (40, 110, 210), (40, 160, 80), (236, 236, 230))
    for i, xm in enumerate(np.arange(2.5, _GROUND_PERIOD_M, 5.0)):
        colour = mark_colours[i % len(mark_colours)]
        for k in range(options.lanes + 1):
            wl = inner_edge - k * lane
            tex[row(wl - 0.1):row(wl + 0.1), col(xm):col(xm + 0.05)] = colour
    # Lane numbers painted near the line (lying on the ground).
    font = cv2.FONT_HERSHEY_DUPLEX
    canvas = np.ascontiguousarray(np.clip(tex, 0, 255).astype(np.uint8))
    for k in range(1, options.lanes + 1):
        centre = inner_edge - (k - 0.5) * lane
        org = (col(1.0), row(centre) + 18)      # digits ~36 texels tall, centred on the lane
        cv2.putText(canvas, str(k), org, font, 1.6, white, 4, cv2.LINE_AA)
    # Pad one wrapped column so bilinear sampling is seamless across the period.
    return np.concatenate([canvas, canvas[:, :1]], axis=1)


def _ground_levels(texture: np.ndarray) -> list[np.ndarray]:
    """The ground texture prefiltered along its rows' axis (depth) at doubling widths."""
    levels = [texture]
    for level in range(1, _GROUND_LEVELS):
        sigma = 0.45 * 2.0**level
        levels.append(cv2.GaussianBlur(texture, (1, 0), sigmaX=0.01, sigmaY=sigma,
                                       borderType=cv2.BORDER_REPLICATE))
    return levels


def _spectator(canvas: np.ndarray, x: int, base: int, rng: np.random.Generator, px_per_m: float) -> None:
    """A seated spectator (shirt, head, maybe hair) on a periodic RGBA texture.

    ``x`` is the column, ``base`` the seat row; copies one period left and right keep the
    texture seamless where it wraps.
    """
    shirts = ((200, 40, 40), (240, 240, 240), (30, 60, 150), (250, 200, 40), (40, 40, 40),
              (60, 140, 70), (230, 120, 30), (120, 60, 150), (90, 170, 220))
    skins = ((232, 190, 160), (196, 140, 105), (150, 100, 70), (100, 66, 46), (222, 176, 140))
    torso_w = int(rng.uniform(0.16, 0.22) * px_per_m)
    torso_h = int(rng.uniform(0.22, 0.3) * px_per_m)
    head_r = int(rng.uniform(0.09, 0.11) * px_per_m)
    shirt = tuple(int(c) for c in np.array(shirts[rng.integers(len(shirts))]) * rng.uniform(0.8, 1.05))
    skin = skins[rng.integers(len(skins))]
    hair = (int(rng.integers(20, 120)),) * 2 + (int(rng.integers(10, 60)),) if rng.random() < 0.5 else None
    head_y = base - torso_h - head_r + 2
    period = canvas.shape[1]
    for cx in (x - period, x, x + period):
        cv2.ellipse(canvas, (cx, base), (torso_w, torso_h), 0, 180, 360, (*shirt, 255), -1, cv2.LINE_AA)
        cv2.circle(canvas, (cx, head_y), head_r, (*skin, 255), -1, cv2.LINE_AA)
        if hair is not None:
            cv2.ellipse(canvas, (cx, head_y - head_r // 3), (head_r, int(head_r * 0.75)), 0, 180, 360,
                        (*hair, 255), -1, cv2.LINE_AA)


def _boards(canvas: np.ndarray, top: int, bottom: int, rng: np.random.Generator, px_per_m: float) -> None:
    """Advertising boards with made-up names along the bottom of a backdrop texture."""
    palette = ((20, 40, 120), (200, 30, 40), (250, 250, 250), (20, 120, 70), (240, 190, 20), (30, 30, 30))
    cols = canvas.shape[1]
    # Board widths of 4-8 m, stretched to tile the texture's period exactly.
    widths = [rng.uniform(4.0, 8.0)]
    while sum(widths) < cols / px_per_m:
        widths.append(rng.uniform(4.0, 8.0))
    edges = np.round(np.concatenate([[0.0], np.cumsum(widths)]) * cols / sum(widths)).astype(int)
    for x, x_end in zip(edges[:-1], edges[1:]):
        bg = palette[rng.integers(len(palette))]
        fg = (250, 250, 250) if sum(bg) < 450 else (20, 20, 40)
        cv2.rectangle(canvas, (int(x), top), (int(x_end) - 1, bottom), (*bg, 255), -1)
        word = _BOARD_WORDS[rng.integers(len(_BOARD_WORDS))]
        scale = (bottom - top) / 34.0
        (tw, th), _ = cv2.getTextSize(word, cv2.FONT_HERSHEY_DUPLEX, scale, 3)
        if tw < x_end - x - 10:
            org = (int(x + (x_end - x - tw) // 2), (top + bottom + th) // 2)
            cv2.putText(canvas, word, org, cv2.FONT_HERSHEY_DUPLEX, scale, (*fg, 255), 3, cv2.LINE_AA)
        cv2.line(canvas, (int(x), top), (int(x), bottom), (60, 60, 60, 255), 2)


def _backdrop_texture(style: str, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """The far backdrop over (height, forward), RGBA uint8 (alpha 0 = sky); and its top (m)."""
    px_per_m = 1.0 / _TEXEL_M
    cols = int(round(_WALL_PERIOD_M / _TEXEL_M))
    top_m = {"stadium": 11.0, "park": 12.0, "plain": 3.2}[style]
    rows = int(round(top_m / _TEXEL_M))
    tex = np.zeros((rows, cols, 4), np.uint8)

    def row(ym: float) -> int:
        return int(round((top_m - ym) * px_per_m))

    if style == "stadium":
        tex[row(10.2):, :] = (70, 72, 80, 255)
        rise, top_tier = 0.42, 9.6
        tiers = np.arange(1.35, top_tier - rise, rise)                 # seat levels (m)
        section = _WALL_PERIOD_M / 4                                  # blocks tile the period
        aisle = 1.1
        for y in tiers:
            tex[row(y + rise):row(y), :, :3] = (88, 92, 104)          # riser
            tex[row(y) - 6:row(y), :, :3] = (150, 150, 150)           # step edge
        for k in range(4):                                            # seat blocks, two colours
            x0, x1 = int(k * section * px_per_m), int(((k + 1) * section - aisle) * px_per_m)
            seat = (30, 80, 170) if k % 2 == 0 else (180, 40, 40)
            for y in tiers:
                cv2.rectangle(tex, (x0, row(y + 0.3)), (x1, row(y + 0.06)), (*seat, 255), -1)
            cv2.rectangle(tex, (x1, row(top_tier)), (int((k + 1) * section * px_per_m), row(tiers[0])),
                          (140, 140, 136, 255), -1)                   # aisle stairs
        seats = np.arange(0.3, _WALL_PERIOD_M, 0.55)
        for y in tiers:
            for xm in seats + rng.uniform(-0.08, 0.08, seats.size):
                if (xm % section) > section - aisle - 0.2 or rng.random() > 0.72:
                    continue
                _spectator(tex, int(xm * px_per_m), row(y + 0.08), rng, px_per_m)
        # Shade under the roof: darker toward the top of the stand.
        ys = np.linspace(top_m, 0.0, rows)
        dim = np.clip(1.0 - 0.07 * np.maximum(ys - 4.0, 0.0), 0.55, 1.0).astype(np.float32)
        tex[..., :3] = np.clip(tex[..., :3] * dim[:, None, None], 0, 255).astype(np.uint8)
        tex[row(11.0):row(10.2), :] = (196, 198, 204, 255)          # roof fascia
        tex[row(1.25):row(1.0), :] = (48, 48, 52, 255)              # rail
        _boards(tex, row(1.0), row(0.0) - 1, rng, px_per_m)
    elif style == "park":
        greens = ((46, 92, 40), (62, 110, 48), (38, 76, 34), (80, 120, 56), (54, 100, 62))
        for _ in range(26):
            xc = rng.uniform(0, _WALL_PERIOD_M)
            trunk_top = rng.uniform(2.5, 4.5)
            for dx in (-_WALL_PERIOD_M, 0.0, _WALL_PERIOD_M):       # draw across the wrap
                xp = int((xc + dx) * px_per_m)
                cv2.rectangle(tex, (xp - 8, row(trunk_top)), (xp + 8, row(0.0) - 1), (84, 62, 44, 255), -1)
            for _ in range(int(rng.integers(6, 12))):
                cx = xc + rng.normal(0, 1.2)
                cy = trunk_top + rng.uniform(0.5, 5.0)
                rad = int(rng.uniform(0.8, 2.2) * px_per_m)
                colour = greens[rng.integers(len(greens))]
                for dx in (-_WALL_PERIOD_M, 0.0, _WALL_PERIOD_M):
                    cv2.circle(tex, (int((cx + dx) * px_per_m), row(cy)), rad, (*colour, 255), -1, cv2.LINE_AA)
        tex[row(1.5):, :] = (44, 84, 40, 255)                        # hedge
        for xm in np.arange(0.0, _WALL_PERIOD_M, 2.5):               # fence posts
            xp = int(xm * px_per_m)
            cv2.rectangle(tex, (xp - 3, row(1.7)), (xp + 3, rows - 1), (150, 150, 150, 255), -1)
        cv2.line(tex, (0, row(1.6)), (cols - 1, row(1.6)), (150, 150, 150, 255), 3, cv2.LINE_AA)
    else:  # plain
        tex[:, :] = (196, 194, 186, 255)
        tex[row(0.35):, :] = (120, 118, 114, 255)
        x = 0.5
        while x < _WALL_PERIOD_M - 2.0:
            w_m = rng.uniform(1.0, 2.5)
            colour = tuple(int(c) for c in rng.integers(40, 230, 3))
            cv2.rectangle(tex, (int(x * px_per_m), row(2.6)), (int((x + w_m) * px_per_m), row(0.8)), (*colour, 255), -1)
            x += w_m + rng.uniform(0.8, 3.0)
    opaque = tex[..., 3:] > 0
    grain = _grain(rng, (rows, cols), 4.0)
    tex[..., :3] = np.where(opaque, np.clip(tex[..., :3] + grain, 0, 255), tex[..., :3]).astype(np.uint8)
    return np.concatenate([tex, tex[:, :1]], axis=1), top_m


@dataclass
class _ScenePlan:
    """Where each viewing ray lands, computed once; colours follow for any forward shift.

    A camera that only moves along x (with a fixed orientation and height) sees the same
    ground and backdrop points shifted by its own displacement, so only the textures'
    x coordinates change from frame to frame.
    """

    sky: np.ndarray                      # (h, w, 3) float32 sky colour, 0 where the ground is seen
    ground_rows: slice                   # image rows that see the ground
    wall_rows: slice                     # image rows that see the backdrop
    wall_x: np.ndarray                   # (rows, w) float32 world x of the backdrop hit
    wall_v: np.ndarray                   # (rows, w) float32 backdrop texture row (-10 off it)
    ground_x: np.ndarray                 # (h, w) float32 world x of the ground hit
    ground_v: np.ndarray                 # (h, w) float32 ground texture row
    levels: list[tuple[int, slice, np.ndarray]]   # (level, rows within ground_rows, weights)


class Scenery:
    """Textured ground and backdrop planes under a sky, shaded along viewing rays."""

    def __init__(self, options: RenderOptions, camera_z: float):
        rng = np.random.default_rng([options.seed, 0x5CE4E])
        self.far_sign = -1.0 if camera_z > 0 else 1.0      # +z is far when the camera is on the left
        self.text_sign = -self.far_sign                     # +x is image-right when the camera is on the right
        self.wall_distance = _WALL_DISTANCE_M[options.background]
        self.ground = _ground_levels(_ground_texture(options, self.wall_distance, rng))
        self.wall, self.wall_top = _backdrop_texture(options.background, rng)

    def plan(self, d: np.ndarray, origin: np.ndarray, pixel_angle: float) -> _ScenePlan:
        """Intersect rays along world directions ``d`` (h, w, 3) from ``origin`` with the scene.

        ``pixel_angle`` is the angular size of one pixel (radians); it selects how strongly
        the ground texture is prefiltered.
        """
        h, w = d.shape[:2]
        d = d.astype(np.float32) / np.linalg.norm(d, axis=-1, keepdims=True).astype(np.float32)
        dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
        cx, cy, cz = (np.float32(c) for c in origin)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_ground = np.where(dy < -1e-7, -cy / dy, np.inf).astype(np.float32)
            t_wall = ((np.float32(self.far_sign * self.wall_distance) - cz) / dz).astype(np.float32)
        t_wall = np.where(t_wall > 0, t_wall, np.inf)
        ground = t_ground < t_wall
        wall = ~ground & np.isfinite(t_wall)

        # Sky: a gradient with elevation.
        k = np.clip(dy / np.float32(0.55), 0.0, 1.0) ** np.float32(0.7)
        sky = _SKY_HORIZON + (_SKY_ZENITH - _SKY_HORIZON) * k[..., None]

        # Backdrop hits (only the rows that see it).
        rows = np.flatnonzero(wall.any(axis=1))
        wall_rows = slice(rows[0], rows[-1] + 1) if rows.size else slice(0, 0)
        tw = np.where(wall[wall_rows], t_wall[wall_rows], np.float32(0.0))
        wall_x = cx + tw * dx[wall_rows]
        wall_y = cy + tw * dy[wall_rows]
        wall_v = np.where(wall[wall_rows], (np.float32(self.wall_top) - wall_y) / np.float32(_TEXEL_M),
                          np.float32(-10.0))

        # Ground hits, and the prefiltered level matching each pixel's footprint along
        # depth: a ray at elevation e hit at distance t moves t*da/sin(e) radially and t*da
        # sideways when it turns by da; the z (depth) component of that is the footprint.
        tg = np.where(ground, t_ground, np.float32(0.0))
        ground_x = cx + tg * dx
        ground_v = (np.float32(self.far_sign) * (cz + tg * dz) - np.float32(_GROUND_NEAR_M)) / np.float32(_TEXEL_M)
        horiz = np.sqrt(dx * dx + dz * dz) + np.float32(1e-9)
        with np.errstate(divide="ignore", invalid="ignore"):
            foot = tg * np.float32(pixel_angle) * np.maximum(np.abs(dz) / (horiz * np.abs(dy)), np.abs(dx) / horiz)
        level = np.where(ground, np.log2(np.maximum(foot / np.float32(_TEXEL_M), 1.0)), np.float32(np.nan))
        level = np.minimum(level, np.float32(_GROUND_LEVELS - 1))
        # Rows that need each level (levels vary slowly, mostly along image rows); tent
        # weights between neighbouring levels, zero off the ground.
        rows = np.flatnonzero(ground.any(axis=1))
        ground_rows = slice(rows[0], rows[-1] + 1) if rows.size else slice(0, 0)
        level = level[ground_rows]
        levels = []
        if rows.size:
            row_lo, row_hi = np.fmin.reduce(level, axis=1), np.fmax.reduce(level, axis=1)
            for lev in range(_GROUND_LEVELS):
                rows = np.flatnonzero((row_lo < lev + 1) & (row_hi > lev - 1))
                if rows.size:
                    band = slice(rows[0], rows[-1] + 1)
                    weight = np.nan_to_num(np.clip(1.0 - np.abs(level[band] - lev), 0.0, 1.0), nan=0.0)
                    levels.append((lev, band, weight[..., None].astype(np.float32)))
        sky = np.where(ground[..., None], np.float32(0.0), sky).astype(np.float32)
        return _ScenePlan(sky, ground_rows, wall_rows, wall_x, wall_v, ground_x,
                          ground_v.astype(np.float32), levels)

    def compose(self, plan: _ScenePlan, shift_x: float = 0.0) -> np.ndarray:
        """The colours (h, w, 3) float32 of a plan, the camera moved ``shift_x`` along x."""
        image = plan.sky.copy()                              # zero where the ground is seen
        if plan.wall_rows.stop > plan.wall_rows.start:
            map_u = _wrap_texels(np.float32(self.text_sign) * (plan.wall_x + np.float32(shift_x)), _WALL_PERIOD_M)
            rgba = cv2.remap(self.wall, map_u, plan.wall_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                             borderValue=(0, 0, 0, 0)).astype(np.float32)
            part = image[plan.wall_rows]
            part += (rgba[..., 3:] / np.float32(255.0)) * (rgba[..., :3] - part)
        if plan.levels:
            rows = plan.ground_rows
            # Mirrored for a camera on the left, so painted lane numbers read left to right.
            map_u = _wrap_texels(np.float32(self.text_sign) * (plan.ground_x[rows] + np.float32(shift_x)),
                                 _GROUND_PERIOD_M)
            for lev, band, weight in plan.levels:            # weights: 0 off the ground, sum 1 on it
                sample = cv2.remap(self.ground[lev], map_u[band], plan.ground_v[rows][band], cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
                image[rows][band] += weight * sample
        return image


def _wrap_texels(x_m: np.ndarray, period_m: float) -> np.ndarray:
    """Texel coordinates of positions ``x_m`` in a texture repeating every ``period_m``.

    ``floor`` arithmetic rather than ``np.mod``, which is some 50 times slower on float32.
    """
    n = np.float32(period_m / _TEXEL_M)
    u = x_m * np.float32(1.0 / _TEXEL_M)
    u -= np.floor(u * np.float32(1.0 / n)) * n
    return u


class Backdrop:
    """The scenery for every sub-frame sample of a camera, computed as cheaply as it allows.

    * a static camera: one image;
    * a camera that only turns about the vertical axis from a fixed position (a pan, as
      ``side_camera(pan=True)`` makes): a cylindrical panorama (azimuth x tan(elevation))
      rendered once, from which each frame is resampled by shifting its azimuth;
    * a camera that only travels along x with a fixed orientation (``track=True``): the
      rays are intersected once and each frame re-reads the textures shifted by the
      camera's displacement;
    * any other motion: rays cast afresh every frame.
    """

    _PANORAMA_OVERSAMPLING = 1.25

    def __init__(self, scenery: Scenery, camera: CameraTrack):
        self.scenery = scenery
        self.camera = camera
        w, h, f = camera.width_px, camera.height_px, camera.focal_px
        u = (np.arange(w, dtype=np.float32) + 0.5 - w / 2.0) / np.float32(f)
        v = (np.arange(h, dtype=np.float32) + 0.5 - h / 2.0) / np.float32(f)
        self.rays = np.stack(np.broadcast_arrays(u[None, :], v[:, None], np.float32(1.0)), axis=-1)
        self.rotations = camera.rotation()
        pos = camera.position_m
        same_rotation = bool(np.ptp(self.rotations, axis=0).max() < 1e-9)
        self._image: np.ndarray | None = None
        self._plan: _ScenePlan | None = None
        if same_rotation and np.ptp(pos, axis=0).max() < 1e-9:
            self.mode = "static"
        elif same_rotation and np.ptp(pos[:, 1:], axis=0).max() < 1e-9:
            self.mode = "track"
        else:
            self.mode = "rays"
            if np.ptp(pos, axis=0).max() < 1e-9:
                # R_n = R_0 Y with Y a rotation about world y  <=>  (R_0^T R_n)[1, 1] == 1.
                rel = np.einsum("ji,njk->nik", self.rotations[0], self.rotations)
                if np.all(np.abs(rel[:, 1, 1] - 1.0) < 1e-9):
                    self._init_panorama()

    def _world_dirs(self, sample: int) -> np.ndarray:
        return (self.rays.reshape(-1, 3) @ self.rotations[sample].astype(np.float32)).reshape(self.rays.shape)

    def _init_panorama(self) -> None:
        axis = self.rotations[:, 2, :]                                   # optical axes (world)
        azimuth = np.unwrap(np.arctan2(axis[:, 0], axis[:, 2]))
        d0 = self._world_dirs(0)
        theta0 = np.arctan2(d0[..., 0], d0[..., 2]) - azimuth[0]
        theta0 = (theta0 + np.pi) % (2.0 * np.pi) - np.pi
        tan_el = d0[..., 1] / np.hypot(d0[..., 0], d0[..., 2])
        delta = azimuth - azimuth[0]
        k = self._PANORAMA_OVERSAMPLING * self.camera.focal_px          # pixels per radian / per unit tan
        th_lo, th_hi = theta0.min() + delta.min() - 3.0 / k, theta0.max() + delta.max() + 3.0 / k
        if th_hi - th_lo > 1.5 * np.pi:
            return                                                       # too wide a sweep: cast rays
        el_lo, el_hi = tan_el.min() - 3.0 / k, tan_el.max() + 3.0 / k
        cols, rows = int(math.ceil((th_hi - th_lo) * k)), int(math.ceil((el_hi - el_lo) * k))
        th = azimuth[0] + th_lo + (np.arange(cols, dtype=np.float64) + 0.5) / k
        el = el_hi - (np.arange(rows, dtype=np.float64) + 0.5) / k
        dirs = np.stack(np.broadcast_arrays(np.sin(th)[None, :], el[:, None], np.cos(th)[None, :]), axis=-1)
        origin = self.camera.position_m[0]
        pano = self.scenery.compose(self.scenery.plan(dirs, origin, 1.0 / k))
        self._pano = np.clip(pano + 0.5, 0, 255).astype(np.uint8)
        self._map_x = ((theta0 - th_lo) * k - 0.5).astype(np.float32)
        self._map_y = ((el_hi - tan_el) * k - 0.5).astype(np.float32)
        self._shift_px = (delta * k).astype(np.float32)
        self.mode = "panorama"

    def image(self, sample: int) -> np.ndarray:
        """The scenery seen in sub-frame ``sample``, (H, W, 3) float32."""
        pixel_angle = 1.0 / self.camera.focal_px
        pos = self.camera.position_m
        if self.mode == "panorama":
            out = cv2.remap(self._pano, self._map_x + self._shift_px[sample], self._map_y, cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
            return out.astype(np.float32)
        if self.mode == "rays":
            return self.scenery.compose(self.scenery.plan(self._world_dirs(sample), pos[sample], pixel_angle))
        if self._plan is None:
            self._plan = self.scenery.plan(self._world_dirs(0), pos[0], pixel_angle)
        if self.mode == "static":
            if self._image is None:
                self._image = self.scenery.compose(self._plan)
            return self._image.copy()
        return self.scenery.compose(self._plan, float(pos[sample, 0] - pos[0, 0]))


def contact_shadow(image: np.ndarray, camera: CameraTrack, rotation: np.ndarray, sample: int,
                    points: np.ndarray, light_world: np.ndarray, scale: float) -> None:
    """Darken the ground under a body with soft blobs below its points (in place).

    Each point casts a Gaussian blob on the ground, shifted a little away from the light,
    wider and fainter the higher the point is. Pixels are mapped to the ground by
    intersecting their rays with y = 0, inside the image box the blobs cover.
    """
    heights = np.maximum(points[:, 1], 0.0)
    shift = heights[:, None] * (light_world[[0, 2]] / max(light_world[1], 0.2))
    centres = points[:, [0, 2]] - 0.3 * shift
    sigma = scale * (0.07 + 0.22 * heights)
    amp = 0.35 * np.exp(-heights / (0.35 * scale))
    keep = amp > 0.01
    centres, sigma, amp = centres[keep], sigma[keep], amp[keep]
    if amp.size == 0:
        return
    ext = 3.0 * sigma
    corners = np.concatenate([
        np.stack([centres[:, 0] + sx * ext, np.zeros_like(ext), centres[:, 1] + sz * ext], axis=-1)
        for sx in (-1, 1) for sz in (-1, 1)
    ])
    origin = camera.position_m[sample]
    cam = (corners - origin) @ rotation.T
    if np.any(cam[:, 2] < 0.1):
        return
    xy = camera.focal_px * cam[:, :2] / cam[:, 2:] + np.array([camera.width_px, camera.height_px]) / 2.0
    h, w = image.shape[:2]
    x0, y0 = np.maximum(np.floor(xy.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(xy.max(axis=0)).astype(int) + 1, [w, h])
    if x0 >= x1 or y0 >= y1:
        return
    u = (np.arange(x0, x1) + 0.5 - w / 2.0) / camera.focal_px
    v = (np.arange(y0, y1) + 0.5 - h / 2.0) / camera.focal_px
    rays = np.stack(np.broadcast_arrays(u[None, :], v[:, None], 1.0), axis=-1) @ rotation
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(rays[..., 1] < -1e-9, -origin[1] / rays[..., 1], np.nan)
    gx = (origin[0] + t * rays[..., 0]).astype(np.float32)
    gz = (origin[2] + t * rays[..., 2]).astype(np.float32)
    dark = np.zeros(gx.shape, np.float32)
    for (px, pz), sg, am in zip(centres, sigma, amp):
        dark += np.float32(am) * np.exp(-((gx - np.float32(px)) ** 2 + (gz - np.float32(pz)) ** 2) / np.float32(2.0 * sg * sg))
    dark = np.nan_to_num(np.minimum(dark, 0.6), nan=0.0)
    image[y0:y1, x0:x1] *= (1.0 - dark)[..., None]
