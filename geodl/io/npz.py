"""Reading ``.npz`` archives with errors that name the file.

``numpy.load`` reports a truncated or corrupt archive as ``BadZipFile``,
``EOFError``, ``zlib.error`` or ``OSError`` with no file name, sometimes only
when an array is first read; :func:`read_npz` reads every array at once and
turns all of these into one ``ValueError`` naming the file and what is wrong.
"""
from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def read_npz(path: str | os.PathLike, required: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path`` (no pickled objects).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not an ``.npz``, truncated or corrupt, or lacking one of
            the ``required`` arrays (each message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError(f"{path}: a single .npy array, not an .npz archive")
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as err:
        if str(path) in str(err):
            raise
        raise ValueError(f"{path}: not a readable .npz archive ({err})") from None
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, KeyError) as err:
        raise ValueError(f"{path}: truncated or corrupt .npz archive "
                         f"({type(err).__name__}: {err})") from None
    missing = sorted(set(required) - set(arrays))
    if missing:
        raise ValueError(f"{path}: lacks arrays {missing} (has {sorted(arrays)})")
    return arrays
