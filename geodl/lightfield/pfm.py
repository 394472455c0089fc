"""PFM (portable float map) read/write, the HCI benchmark's disparity format.

Header: ``PF`` (3 channels) or ``Pf`` (1 channel), then ``width height``, then
a scale whose sign gives the byte order (negative = little-endian); the float32
rows follow from the *bottom* of the image to the top. The four header tokens
are separated by any whitespace (one per line is usual, ``Pf 4 3 -1`` on one
line is as legal), ``#`` starts a comment up to the line's end, and exactly one
whitespace character ends the header.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def write_pfm(path: str | Path, image: np.ndarray, scale: float = 1.0) -> None:
    """Write an (H, W) or (H, W, 3) float image, top row first in memory."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        raise ValueError(f"image: expected shape (H, W) or (H, W, 3), got {a.shape}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale: expected > 0, got {scale}")
    header = f"{'PF' if a.ndim == 3 else 'Pf'}\n{a.shape[1]} {a.shape[0]}\n{-scale}\n"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(header.encode("ascii"))
        f.write(np.ascontiguousarray(np.flipud(a)).astype("<f4").tobytes())


def read_pfm(path: str | Path) -> np.ndarray:
    """Read a PFM into an (H, W) or (H, W, 3) float32 array, top row first."""
    path = Path(path)
    with open(path, "rb") as f:
        data = f.read()
    tokens, pos = [], 0
    while len(tokens) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":  # a comment, up to the end of its line
            end = data.find(b"\n", pos)
            pos = len(data) if end < 0 else end + 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace() and pos - start < 32:
            pos += 1
        if pos == start or pos >= len(data):
            raise ValueError(f"path: {path} is not a PFM file (truncated header)")
        tokens.append(data[start:pos])
        if len(tokens) == 1 and tokens[0] not in (b"PF", b"Pf"):
            raise ValueError(f"path: {path} is not a PFM file (magic {tokens[0]!r})")
    pos += 2 if data[pos:pos + 2] == b"\r\n" else 1  # the one whitespace ending the header
    kind = tokens[0]
    try:
        width, height = int(tokens[1]), int(tokens[2])
        scale = float(tokens[3])
    except ValueError:
        raise ValueError(f"path: {path} has a malformed PFM header") from None
    # the scale's sign is the byte order: NaN, inf or 0 leave it undefined
    if width < 1 or height < 1 or not math.isfinite(scale) or scale == 0:
        raise ValueError(f"path: {path} has a malformed PFM header ({width}x{height}, scale {scale})")
    channels = 3 if kind == b"PF" else 1
    count = width * height * channels
    dtype = "<f4" if scale < 0 else ">f4"
    if len(data) - pos < 4 * count:
        raise ValueError(f"path: {path} is truncated: {len(data) - pos} bytes of pixel data, "
                         f"expected {4 * count}")
    a = np.frombuffer(data, dtype=dtype, count=count, offset=pos).astype(np.float32)
    a = a.reshape(height, width, channels) if channels == 3 else a.reshape(height, width)
    return np.ascontiguousarray(np.flipud(a))
