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
"""
from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


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
    ap.add_argument("--version", default="", help="pythia8mc version (default: newest)")
    ap.add_argument("--out", default=".", help="folder for the wheel")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pythia8mc-"))
    spec = f"pythia8mc=={args.version}" if args.version else "pythia8mc"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                    ":all:", spec, "-d", str(work)], check=True)
    sdist = next(work.glob("pythia8mc-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        tar.extractall(work)
    src = next(p for p in work.iterdir() if p.is_dir())
    os.chdir(src)
    import setuptools  # noqa: F401  (makes `distutils` setuptools' copy)
    import distutils.ccompiler as ccompiler

    ccompiler.CCompiler.compile = parallel_compile(args.jobs)
    sys.argv = ["setup.py", "bdist_wheel", "--dist-dir", str(out)]
    exec(compile(Path("setup.py").read_text(), "setup.py", "exec"), {"__name__": "__main__"})
    print("wheel:", *glob.glob(str(out / "pythia8mc-*.whl")))


if __name__ == "__main__":
    main()
