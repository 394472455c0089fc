"""One image reader for every image geodl reads.

PIL's ``Image.convert("RGB")`` maps a 16-bit image by clipping each value to
255, so a 16-bit PNG becomes white. :func:`read_image` instead scales each
stored value by the largest value of its mode (255 for 8 bits, 65535 for 16
bits), so that ``value / mode_max`` lies in [0, 1] whatever the bit depth.
:func:`read_raw_image` keeps the stored integers (depth maps, label images).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

#: image file suffixes the readers accept (PIL decodes each)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".ppm", ".pgm")

# Largest value of each integer mode, the divisor that maps it to [0, 1].
_MODE_MAX = {"1": 1.0, "L": 255.0, "LA": 255.0, "P": 255.0, "PA": 255.0, "RGB": 255.0,
             "RGBA": 255.0, "RGBX": 255.0, "CMYK": 255.0, "YCbCr": 255.0, "LAB": 255.0,
             "HSV": 255.0, "I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0,
             "I;16N": 65535.0}


def _open(path: Path) -> Image.Image:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    try:
        img = Image.open(path)
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"{path}: not a readable image ({err})") from None
    return img


def read_raw_image(path: str | Path) -> np.ndarray:
    """The stored values of an image file, unscaled: ``(H, W)`` for one
    channel, ``(H, W, C)`` otherwise; uint8, uint16, int32 or float32 as
    stored (a 16-bit depth PNG gives its uint16 values)."""
    path = Path(path)
    img = _open(path)
    if img.mode.startswith("I;16"):
        arr = np.asarray(img, dtype=np.uint16)
    elif img.mode == "1":
        arr = np.asarray(img, dtype=np.uint8)
    elif img.mode == "P":
        arr = np.asarray(img.convert("RGBA" if "transparency" in img.info else "RGB"))
    else:
        arr = np.asarray(img)
    return np.ascontiguousarray(arr)


def read_image(path: str | Path, channels: int | None = 3) -> np.ndarray:
    """An image file as float32 ``(H, W, channels)`` with values in [0, 1].

    Each stored value is divided by the largest value of the file's mode
    (255 for 8-bit, 65535 for 16-bit PNG and TIFF; 32-bit integer images by
    65535 as PIL stores 16-bit PNGs so; float images are taken as they are).

    Args:
        path: a PNG, JPEG, TIFF, ... file.
        channels: 3 gives RGB (grey repeated, alpha dropped), 1 grey
            (``0.299 R + 0.587 G + 0.114 B`` for colour), None the file's own
            channels (grey ``(H, W, 1)``, RGBA ``(H, W, 4)``).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not an image PIL can decode (names the file).
    """
    if channels not in (None, 1, 3):
        raise ValueError(f"read_image: channels must be None, 1 or 3, got {channels!r}")
    path = Path(path)
    img = _open(path)
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
        mode = "RGB"
    if mode in ("I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        if mode == "I":
            arr = arr / 65535.0
    else:
        arr = read_raw_image(path) if mode.startswith("I;16") else np.asarray(img)
        arr = arr.astype(np.float32) / np.float32(_MODE_MAX.get(mode, 255.0))
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if not np.isfinite(arr).all():
        raise ValueError(f"{path}: image holds NaN or infinite values")
    own = arr.shape[2]
    if channels is None:
        return np.ascontiguousarray(arr)
    colour = arr[:, :, :3] if own >= 3 else np.repeat(arr[:, :, :1], 3, axis=2)
    if channels == 3:
        return np.ascontiguousarray(colour)
    if own < 3:
        return np.ascontiguousarray(arr[:, :, :1])
    grey = colour @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.ascontiguousarray(grey[:, :, None])
