"""Build the ``pythia8mc`` wheel on all CPU cores.

``pip install pythia8mc`` compiles Pythia 8's ~180 C++ files one after the
other (over 40 minutes on a 2-core machine): the package's setup.py has a
single extension, and setuptools parallelises across extensions only. This
script downloads the source distribution and compiles the files of that one
extension concurrently (about 20 minutes on 2 cores), then writes the wheel:

    python datasets/jets/build_pythia_wheel.py --out /tmp/wheels
    pip install /tmp/wheels/pythia8mc-*.whl fastjet

Needs setuptools and wheel in the running Python.

``CFLAGS`` is honoured (``-O1`` builds faster; generation speed barely needs -O2).

The source archive is pinned: its version (the one that made the shipped
fixture) and SHA-256 are checked before anything in it runs, and it is
unpacked with tarfile's ``data`` filter (no absolute paths, no ``..``, no
links out of the folder, no device files). ``setup.py`` is still executed:
that is how the package builds, which is why the hash must match first.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# pythia8mc 8.318.0 made datasets/jets/top_tagging_small.npz (datasets/README.md).
# SHA-256 of its sdist, pythia8mc-8.318.0.tar.gz as PyPI serves it (22 174 450 bytes).
VERSION = "8.318.0"
SDIST_SHA256 = "26e8b38592e2c45cfc46235ac2efb9031781adfe7bf824cb68d29b2108232b57"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verified_sdist(work: Path) -> Path:
    """Download the pinned sdist into ``work`` and check its SHA-256."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                    ":all:", f"pythia8mc=={VERSION}", "-d", str(work)], check=True)
    sdist = work / f"pythia8mc-{VERSION}.tar.gz"
    if not sdist.exists():
        sys.exit(f"expected {sdist.name} from pip download, found "
                 f"{sorted(p.name for p in work.iterdir())}")
    digest = sha256_of(sdist)
    if digest != SDIST_SHA256:
        sys.exit(f"{sdist.name}: SHA-256 {digest} differs from the pinned {SDIST_SHA256}; "
                 "refusing to run its setup.py")
    return sdist


def extract(sdist: Path, work: Path) -> Path:
    """Unpack with the ``data`` filter; return the source folder."""
    if not hasattr(tarfile, "data_filter"):
        sys.exit("this Python's tarfile has no extraction filters (needs 3.8.17+, "
                 "3.9.17+, 3.10.12+, 3.11.4+ or 3.12+)")
    with tarfile.open(sdist) as tar:
        tar.extractall(work, filter="data")
    src = work / f"pythia8mc-{VERSION}"
    if not src.is_dir():
        sys.exit(f"{sdist.name} did not unpack into {src.name}/")
    return src


def parallel_compile(jobs: int):
    """A ``CCompiler.compile`` that compiles the sources of one call concurrently."""
    def compile(self, sources, output_dir=None, macros=None, include_dirs=None, debug=0,
                extra_preargs=None, extra_postargs=None, depends=None):
        macros, objects, extra_postargs, pp_opts, build = self._setup_compile(
            output_dir, macros, include_dirs, sources, depends, extra_postargs)
        cc_args = self._get_cc_args(pp_opts, debug, extra_preargs)

        def one(obj):
            if obj in build:
                src, ext = build[obj]
                self._compile(obj, src, ext, cc_args, extra_postargs, pp_opts)
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(one, objects))
        return objects
    return compile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=".", help="folder for the wheel")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pythia8mc-"))
    src = extract(verified_sdist(work), work)
    os.chdir(src)
    import distutils.ccompiler as ccompiler

    import setuptools  # noqa: F401  (makes `distutils` setuptools' copy)

    ccompiler.CCompiler.compile = parallel_compile(args.jobs)
    sys.argv = ["setup.py", "bdist_wheel", "--dist-dir", str(out)]
    exec(compile(Path("setup.py").read_text(), "setup.py", "exec"), {"__name__": "__main__"})
    print("wheel:", *glob.glob(str(out / "pythia8mc-*.whl")))


if __name__ == "__main__":
    main()
