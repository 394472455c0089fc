"""datasets/jets/build_pythia_wheel.py runs nothing from an archive that is
not the pinned one, and unpacks only plain files inside its folder."""
import importlib.util
import io
import subprocess
import tarfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "datasets" / "jets" / "build_pythia_wheel.py"


@pytest.fixture()
def builder():
    spec = importlib.util.spec_from_file_location("build_pythia_wheel", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tar(path: Path, members: dict[str, bytes], link: tuple[str, str] | None = None) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link[0])
            info.type, info.linkname = tarfile.SYMTYPE, link[1]
            tar.addfile(info)


def test_pins_a_version_and_hash(builder):
    assert builder.VERSION == "8.318.0"
    assert len(builder.SDIST_SHA256) == 64 and int(builder.SDIST_SHA256, 16) >= 0
    readme = (SCRIPT.parents[1] / "README.md").read_text()
    assert f"`pythia8mc` {builder.VERSION}" in readme  # the version that made the fixture


def test_wrong_hash_stops_before_anything_runs(builder, tmp_path, monkeypatch):
    def fake_download(cmd, check):
        assert "pythia8mc==8.318.0" in cmd  # pinned, never "newest"
        _tar(tmp_path / "pythia8mc-8.318.0.tar.gz",
             {"pythia8mc-8.318.0/setup.py": b"raise SystemExit('ran')"})
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(builder.subprocess, "run", fake_download)
    with pytest.raises(SystemExit, match="refusing to run"):
        builder.verified_sdist(tmp_path)
    assert not (tmp_path / "pythia8mc-8.318.0").exists()


@pytest.mark.parametrize("evil", ["../escape.txt", "pythia8mc-8.318.0/../../escape.txt"])
def test_extraction_refuses_paths_outside_the_folder(builder, tmp_path, evil):
    work = tmp_path / "work"
    work.mkdir()
    sdist = tmp_path / "pythia8mc-8.318.0.tar.gz"
    _tar(sdist, {"pythia8mc-8.318.0/setup.py": b"", evil: b"x"})
    with pytest.raises(tarfile.FilterError):
        builder.extract(sdist, work)
    assert not (tmp_path / "escape.txt").exists()


def test_extraction_keeps_absolute_names_inside_the_folder(builder, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    sdist = tmp_path / "pythia8mc-8.318.0.tar.gz"
    target = tmp_path / "abs-escape.txt"
    _tar(sdist, {"pythia8mc-8.318.0/setup.py": b"", str(target): b"x"})
    builder.extract(sdist, work)  # the data filter strips the leading "/"
    assert not target.exists()
    assert (work / str(target).lstrip("/")).read_bytes() == b"x"


def test_extraction_refuses_links_out_of_the_folder(builder, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    sdist = tmp_path / "pythia8mc-8.318.0.tar.gz"
    _tar(sdist, {"pythia8mc-8.318.0/setup.py": b""}, link=("pythia8mc-8.318.0/l", "/etc/passwd"))
    with pytest.raises(tarfile.FilterError):
        builder.extract(sdist, work)


def test_extraction_of_a_clean_archive(builder, tmp_path):
    sdist = tmp_path / "pythia8mc-8.318.0.tar.gz"
    _tar(sdist, {"pythia8mc-8.318.0/setup.py": b"print(1)"})
    src = builder.extract(sdist, tmp_path)
    assert (src / "setup.py").read_bytes() == b"print(1)"
