"""Atomic writes: results appear whole or not at all, with ordinary permissions.

Every writer of the library writes into a temporary sibling of its target and
renames it at the end, so a reader (another process, a crash, a full disk)
never sees half a file or half a scene folder. ``tempfile``'s ``mkstemp``
and ``mkdtemp`` are not used for this: they create the temporary private
(files 0600, folders 0700), a protection meant for shared ``/tmp``, and a
rename keeps that mode, so results would be unreadable to the user's group and
to everyone else. Here the temporary is created like the result would be by a
plain ``open`` / ``mkdir``: mode ``0o666`` (files) or ``0o777`` (folders)
minus the process's umask, applied by the operating system at creation.

Example::

    with atomic_path("results/disp.pfm") as tmp:   # any writer that takes a path
        write_pfm(tmp, disparity)
    write_bytes_atomic("page.html", data)
    with staging_folder("out/scene") as tmp:       # fill tmp, then move it in
        ...
"""
from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_ATTEMPTS = 100  # fresh random names tried before giving up (a clash is ~2^-48 each)


def temporary_sibling(target: str | os.PathLike, folder: bool = False) -> Path:
    """Create and return a new empty file (or folder) next to ``target``.

    Its name is hidden (``.<name>.<random>.tmp<suffix>``; the target's suffix
    is kept last, so writers that choose a format by the extension, such as
    PIL and ``numpy.savez``, still do) and its mode is that of a plain
    ``open``/``mkdir`` under the current umask. The parent folder is created
    when missing."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = "" if folder else target.suffix
    for _ in range(_ATTEMPTS):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp{suffix}")
        try:
            if folder:
                os.mkdir(tmp, 0o777)
            else:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{target}: no free temporary name beside it after {_ATTEMPTS} tries")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; on normal exit rename it
    onto ``path`` (replacing any file there), on an exception remove it."""
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path`` as a :class:`Path`."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def check_output_folder(target: str | os.PathLike, overwrite: bool, what: str) -> Path:
    """``target`` as a :class:`Path` when a writer may fill it: absent, an
    empty folder, or any folder with ``overwrite``. Otherwise
    ``NotADirectoryError`` (it is a file) or ``FileExistsError`` naming it and
    ``what`` ``overwrite`` would replace (e.g. ``"the scene files in it"``)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise FileExistsError(f"{target}: not empty (overwrite=True / --force replaces {what})")
    return target


@contextmanager
def staging_folder(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a new empty folder beside ``target`` to assemble a result in.

    The caller moves it (``os.rename(tmp, target)``) or its contents into
    place; whatever is left of it is removed on exit, also after an error."""
    tmp = temporary_sibling(target, folder=True)
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
