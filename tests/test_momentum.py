"""Angular momentum: invariances, signs and a rigid-body check with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from analyzer import kinematics, momentum
from analyzer.landmarks import INDEX
from tests.body_fixtures import standing_landmarks, yaw_rotation

FS = 200.0
T = np.arange(0, 1.0, 1 / FS)


def _momentum(points: np.ndarray) -> momentum.AngularMomentum:
    kin = kinematics.from_points(points, T, condition=False)
    return momentum.angular_momentum(kin, mass_kg=70.0, height_m=1.8, sex="male")


def test_translation_carries_no_angular_momentum() -> None:
    base = standing_landmarks()
    shift = np.stack([9.0 * T, 0.05 * np.sin(2 * np.pi * 4 * T), np.zeros_like(T)], axis=-1)
    h = _momentum(base[None] + shift[:, None, :])
    for group, values in h.groups_kg_m2_s.items():
        np.testing.assert_allclose(values, 0.0, atol=1e-9, err_msg=group)


def test_rigid_yaw_gives_positive_momentum_equal_to_inertia_times_rate() -> None:
    base = standing_landmarks()
    omega = 2.0  # rad/s, counter-clockwise from above
    points = np.einsum("nij,kj->nki", yaw_rotation(omega * T), base)
    h = _momentum(points)
    inner = slice(5, -5)
    whole = h.groups_kg_m2_s["whole_body"][inner]
    assert (whole > 0).all(), "counter-clockwise from above must be positive H"
    # Expected: sum of m (horizontal distance to the CoM)^2 plus local inertias of a rigid body.
    geo = momentum.segment_geometry(base[None], "male", 1.8)
    m = geo["mass_fraction"] * 70.0
    com = geo["com_m"][0]
    c = (m[:, None] * com).sum(0) / m.sum()
    rho2 = (com[:, 0] - c[0]) ** 2 + (com[:, 2] - c[2]) ** 2
    axis = geo["distal_m"][0] - geo["proximal_m"][0]
    u = axis / np.linalg.norm(axis, axis=1, keepdims=True)
    transverse = m * (geo["r_transverse"] * geo["length_m"][0]) ** 2 * (1 - u[:, 1] ** 2)
    trunk = momentum.SEGMENTS.index(next(s for s in momentum.SEGMENTS if s.kind == "trunk"))
    spin = m[trunk] * (geo["r_longitudinal"][trunk] * geo["length_m"][0, trunk]) ** 2
    expected = omega * ((m * rho2).sum() + transverse.sum() + spin)
    np.testing.assert_allclose(whole, expected, rtol=2e-3)


def test_right_leg_forward_is_positive_and_mirror_is_negative() -> None:
    base = standing_landmarks()
    moving = np.repeat(base[None], T.size, axis=0)
    for part in ("knee", "ankle", "heel", "foot_index"):
        moving[:, INDEX[f"right_{part}"], 0] += 1.5 * T  # right leg swings forward
    right = _momentum(moving).groups_kg_m2_s["right_leg"][5:-5]
    assert (right > 0).all()
    mirrored = moving.copy()
    mirrored[..., 2] *= -1
    from analyzer.landmarks import MIRROR
    mirrored = mirrored[:, list(MIRROR)]
    left = _momentum(mirrored).groups_kg_m2_s["left_leg"][5:-5]
    np.testing.assert_allclose(left, -right, rtol=1e-9)


def test_normaliser() -> None:
    assert momentum.normaliser_kg_m2_s(70.0, 1.8) == pytest.approx(70 * 1.8 * np.sqrt(9.81 * 1.8))
