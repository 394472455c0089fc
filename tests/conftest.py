import os

import pytest
import torch
from hypothesis import settings

# the assertions of the shared helpers report their values like the tests' own
pytest.register_assert_rewrite("tests.helpers")

settings.register_profile("ci", max_examples=60, deadline=None)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Each test gets its own eigenbasis cache directory."""
    monkeypatch.setenv("GEODL_CACHE_DIR", str(tmp_path / "cache"))
    torch.manual_seed(0)
    yield


def pytest_configure(config):
    os.environ.setdefault("MPLBACKEND", "Agg")
