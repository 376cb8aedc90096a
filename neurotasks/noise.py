"""Gaussian white noise for trial inputs, drawn fast.

Normals dominate the cost of a batch of trials, and on the CPUs this project targets NumPy's
float32 ziggurat costs about twice as much per sample as the Box–Muller transform of float32
uniforms (the bit generator is the bottleneck, and Box–Muller needs one 32-bit draw per
normal). The transform is exact; float32 uniforms (24-bit resolution) cap |z| at
sqrt(2 ln 2^24) ≈ 5.8, a tail of probability 1e-8 that input noise can spare.
"""

from __future__ import annotations

import numpy as np

_TWO_PI = np.float32(2.0 * np.pi)


def standard_normal(rng: np.random.Generator, n: int, out: np.ndarray | None = None) -> np.ndarray:
    """``n`` independent N(0, 1) samples, float32, all drawn from ``rng`` (into ``out`` if given:
    a contiguous float32 array of ``n`` elements)."""
    m = (n + 1) // 2
    u = rng.random((2, m), dtype=np.float32)
    radius = np.log1p(-u[0])                   # log of a uniform on (0, 1]
    radius *= np.float32(-2.0)
    np.sqrt(radius, out=radius)
    angle = u[1]
    angle *= _TWO_PI
    np.cos(angle, out=u[0])
    np.sin(angle, out=u[1])
    u *= radius
    if out is None:
        return u.reshape(-1)[:n]
    flat = out.reshape(-1)
    flat[:m] = u[0, :m]
    flat[m:] = u[1, : n - m]
    return out
