import subprocess
import sys


def test_import_is_light():
    """``import geodl`` and its structures do not load open3d or trimesh."""
    code = ("import sys, geodl, geodl.ops, geodl.structures, geodl.testing; "
            "print(sorted(m for m in ('open3d', 'trimesh', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_open3d_imports_through_geodl():
    """open3d needs libusb; geodl preloads the wheel's copy."""
    from geodl._optional import open3d
    assert hasattr(open3d(), "t")


def test_cli_help():
    out = subprocess.run([sys.executable, "-m", "geodl.cli", "--help"], capture_output=True,
                         text=True, check=True)
    assert "spectrum" in out.stdout and "demo" in out.stdout


def test_cli_lists_every_depth_method_without_importing_them():
    from geodl.cli import DEPTH_METHODS
    from geodl.lightfield.depth import METHODS
    assert sorted(DEPTH_METHODS) == sorted(METHODS)
    out = subprocess.run([sys.executable, "-c", "import sys; from geodl.cli import build_parser; "
                          "build_parser(); print('torch' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
