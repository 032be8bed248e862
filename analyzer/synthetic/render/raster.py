"""Rasterising round cones (exact 2-D signed distance to the projected outline) and ellipsoids
(ray-cast), with anti-aliased coverage, shading and a z-buffer."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .figure import HAIR_COS, MAT, SPECULAR, Cone, Ellipsoid, Shape


@dataclass(frozen=True)
class Shading:
    """Per-sample lighting in camera coordinates (x right, y down, z forward)."""

    light: np.ndarray      # (3,) unit vector toward the light
    half: np.ndarray       # (3,) unit half-vector between light and viewer
    hair: np.ndarray       # (3,) hair-cap axis
    far_width: float       # metres beyond the body's mid-plane at which darkening is full
    far_dark: float
    ambient: float = 0.42
    diffuse: float = 0.68


@dataclass
class Target:
    """What parts are drawn into: colour (H, W, 3) float32, z-buffer, optional coverage."""

    canvas: np.ndarray
    zbuf: np.ndarray
    cover: np.ndarray | None


def _box(target: Target, lo: np.ndarray, hi: np.ndarray) -> tuple[slice, slice] | None:
    """Image slices covering the pixel-coordinate box [lo, hi] plus a pixel, or None."""
    height, width = target.zbuf.shape
    x0, y0 = max(0, int(math.floor(lo[0])) - 1), max(0, int(math.floor(lo[1])) - 1)
    x1, y1 = min(width, int(math.ceil(hi[0])) + 2), min(height, int(math.ceil(hi[1])) + 2)
    if x0 >= x1 or y0 >= y1:
        return None
    return slice(y0, y1), slice(x0, x1)


def _composite(target: Target, box: tuple[slice, slice], cov: np.ndarray, depth: np.ndarray,
               axis_far: np.ndarray | float, normal: tuple[np.ndarray, np.ndarray, np.ndarray],
               s: np.ndarray, part: Shape, albedo: np.ndarray, shade: Shading) -> None:
    """Shade one part's pixels and blend them in where they are nearer than the z-buffer.

    ``cov`` is the pixel coverage (anti-aliasing), ``depth`` the surface depth (z-test),
    ``axis_far`` how far the part's axis or centre lies beyond the body's mid-plane as seen
    from the camera (metres; far-side darkening), ``normal`` the unit surface normal in
    camera coordinates, ``s`` the position along the part that selects its colour band.
    """
    zreg = target.zbuf[box]
    cov = np.where(depth < zreg, cov, np.float32(0.0))
    nx, ny, nz = normal
    if len(part.bands) == 1:
        mat: np.ndarray | int = MAT[part.bands[0][0]]
    else:
        ends = np.array([e for _, e in part.bands], dtype=np.float32)
        ids = np.array([MAT[m] for m, _ in part.bands])
        mat = ids[np.minimum(np.searchsorted(ends, s), len(ids) - 1)]
    if part.hair:
        cap = nx * shade.hair[0] + ny * shade.hair[1] + nz * shade.hair[2]
        mat = np.where(cap > HAIR_COS, MAT["hair"], mat)
    lambert = np.maximum(nx * shade.light[0] + ny * shade.light[1] + nz * shade.light[2], 0.0)
    spec = np.maximum(nx * shade.half[0] + ny * shade.half[1] + nz * shade.half[2], 0.0) ** 24
    far = 1.0 - shade.far_dark * np.clip(axis_far / shade.far_width, 0.0, 1.0)
    light = (shade.ambient + shade.diffuse * lambert) * far
    colour = albedo[mat] * light[..., None] + (255.0 * SPECULAR[mat] * far * spec)[..., None]
    region = target.canvas[box]
    region += cov[..., None] * (colour - region)
    np.copyto(zreg, depth, where=cov >= 0.5)
    if target.cover is not None:
        creg = target.cover[box]
        creg += cov * (1.0 - creg)


def raster_cone(target: Target, a: np.ndarray, b: np.ndarray, r_px: tuple[float, float],
                 depth: tuple[float, float], r_m: tuple[float, float], far: tuple[float, float],
                 part: Cone, albedo: np.ndarray, shade: Shading) -> None:
    """Draw a round cone from its projected axis ``a``-``b`` (pixels) and end radii.

    The outline is the convex hull of the two end circles; its exact signed distance gives
    coverage. Across the part the normal turns like a cylinder's (a sphere's at the caps)
    and the depth is the axis depth less the radius times the normal's view component.
    """
    ra, rb = r_px
    box = _box(target, np.minimum(a - ra, b - rb), np.maximum(a + ra, b + rb))
    if box is None:
        return
    ys, xs = box
    gx = (np.arange(xs.start, xs.stop, dtype=np.float32) + 0.5 - np.float32(a[0]))[None, :]
    gy = (np.arange(ys.start, ys.stop, dtype=np.float32) + 0.5 - np.float32(a[1]))[:, None]
    dx, dy = float(b[0] - a[0]), float(b[1] - a[1])
    length = math.hypot(dx, dy)
    eps = np.float32(1e-6)
    if length <= abs(ra - rb) + 1e-3:
        # One end's sphere contains the other: draw the larger sphere.
        at_b = rb > ra
        px, py = (gx - np.float32(dx), gy - np.float32(dy)) if at_b else (gx, gy)
        dist = np.sqrt(px * px + py * py) + eps
        sd = dist - np.float32(max(ra, rb))
        grad_x, grad_y = px / dist, py / dist
        s = np.full_like(sd, 1.0 if at_b else 0.0)
    else:
        ex, ey = np.float32(dx / length), np.float32(dy / length)
        u = gx * ex + gy * ey                      # along the axis
        v = gy * ex - gx * ey                      # across it
        sin_t = (ra - rb) / length
        cos_t = math.sqrt(1.0 - sin_t * sin_t)
        av = np.abs(v)
        t = u * np.float32(cos_t) - av * np.float32(sin_t)   # along the tangent line
        span = np.float32(length * cos_t)
        dist_a = np.sqrt(u * u + v * v) + eps
        ub = u - np.float32(length)
        dist_b = np.sqrt(ub * ub + v * v) + eps
        in_a, in_b = t < 0, t > span
        side = u * np.float32(sin_t) + av * np.float32(cos_t) - np.float32(ra)
        sd = np.where(in_a, dist_a - np.float32(ra), np.where(in_b, dist_b - np.float32(rb), side))
        gu = np.where(in_a, u / dist_a, np.where(in_b, ub / dist_b, np.float32(sin_t)))
        gv = np.where(in_a, v / dist_a, np.where(in_b, v / dist_b, np.sign(v) * np.float32(cos_t)))
        grad_x = gu * ex - gv * ey
        grad_y = gu * ey + gv * ex
        s = np.clip(t / span, 0.0, 1.0)
    cov = np.clip(np.float32(0.5) - sd, 0.0, 1.0)
    if not cov.any():
        return
    r_loc = np.float32(ra) + np.float32(rb - ra) * s
    q = np.clip(1.0 + sd / np.maximum(r_loc, eps), 0.0, 1.0)   # 0 on the axis, 1 on the outline
    toward = np.sqrt(1.0 - q * q)
    d = np.float32(depth[0]) + np.float32(depth[1] - depth[0]) * s
    d = d - (np.float32(r_m[0]) + np.float32(r_m[1] - r_m[0]) * s) * toward
    axis_far = np.float32(far[0]) + np.float32(far[1] - far[0]) * s
    _composite(target, box, cov, d, axis_far, (grad_x * q, grad_y * q, -toward), s, part, albedo, shade)


def raster_ellipsoid(target: Target, centre: np.ndarray, axes: np.ndarray, focal: float, far: float,
                      part: Ellipsoid, albedo: np.ndarray, shade: Shading) -> None:
    """Ray-cast an ellipsoid given in camera coordinates: centre (3,), axes (3, 3) whose
    columns are the semi-axis vectors (forward, up, right).

    Each pixel's ray x = t d, d = ((u - cx) / f, (v - cy) / f, 1), is mapped into the unit
    sphere's space by M = axes^-1; the hit is the smaller root of |M(t d - c)|^2 = 1 (t is
    then the hit's depth), the normal is M^T M (x - c). Coverage comes from the ray's
    distance to the sphere's centre in that space (1 on the outline) over its per-pixel
    gradient: the signed distance to the outline in pixels.
    """
    height, width = target.zbuf.shape
    corners = centre + np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)]) @ axes.T
    if np.any(corners[:, 2] < 0.05):
        return
    proj = focal * corners[:, :2] / corners[:, 2:] + np.array([width, height]) / 2.0
    box = _box(target, proj.min(axis=0), proj.max(axis=0))
    if box is None:
        return
    ys, xs = box
    rx = ((np.arange(xs.start, xs.stop) + 0.5 - width / 2.0) / focal).astype(np.float32)[None, :]
    ry = ((np.arange(ys.start, ys.stop) + 0.5 - height / 2.0) / focal).astype(np.float32)[:, None]
    m = np.linalg.inv(axes).astype(np.float32)
    o = -(m @ centre).astype(np.float32)                           # camera centre in unit space
    dp = [m[i, 0] * rx + m[i, 1] * ry + m[i, 2] for i in range(3)]  # ray direction in unit space
    a = dp[0] * dp[0] + dp[1] * dp[1] + dp[2] * dp[2]
    half_b = o[0] * dp[0] + o[1] * dp[1] + o[2] * dp[2]
    oo = np.float32(o @ o)
    miss2 = np.maximum(oo - half_b * half_b / a, 0.0)              # squared ray-centre distance
    miss = np.sqrt(miss2)
    gy_, gx_ = np.gradient(miss) if min(miss.shape) > 1 else (np.ones_like(miss), np.ones_like(miss))
    slope = np.maximum(np.hypot(gx_, gy_), np.float32(1e-4))
    cov = np.clip(np.float32(0.5) + (1.0 - miss) / slope, 0.0, 1.0)
    if not cov.any():
        return
    t = (-half_b - np.sqrt(np.maximum(half_b * half_b - a * (oo - 1.0), 0.0))) / a
    hit = [o[i] + t * dp[i] for i in range(3)]                     # unit-space hit point
    n = [m[0, i] * hit[0] + m[1, i] * hit[1] + m[2, i] * hit[2] for i in range(3)]
    norm = np.sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]) + np.float32(1e-9)
    s = np.clip(0.5 * (hit[1] + 1.0), 0.0, 1.0)
    _composite(target, box, cov, t, far, (n[0] / norm, n[1] / norm, n[2] / norm), s, part, albedo, shade)
