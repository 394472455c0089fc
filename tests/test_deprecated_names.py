"""Every renamed public name still works under its old name, with a
DeprecationWarning, and gives what the new name gives."""
import importlib

import numpy as np
import pytest
import torch

from geodl.datasets.plane_lightfield import textured_plane
from geodl.lightfield.depth import cost_volume
from geodl.lightfield.loader import largest_centered_subgrid

refocus_module = importlib.import_module("geodl.lightfield.refocus")


def test_warp_to_center_is_warp_lightfield_to_center():
    from geodl.lightfield import warp_lightfield_to_center, warp_to_center
    lf = textured_plane(0.5, size=8, grid=3)
    with pytest.warns(DeprecationWarning, match="warp_lightfield_to_center"):
        old = warp_to_center(lf, 0.5)
    new = warp_lightfield_to_center(lf, 0.5)
    assert all(torch.equal(a, b) for a, b in zip(old, new))
    assert refocus_module.warp_to_center is warp_to_center


def test_warp_to_centre_is_warp_views_to_center():
    src, disp = torch.rand(2, 1, 6, 7), torch.rand(6, 7)
    with pytest.warns(DeprecationWarning, match="warp_views_to_center"):
        old = cost_volume.warp_to_centre(src, disp, 1, -1)
    new = cost_volume.warp_views_to_center(src, disp, 1, -1)
    assert all(torch.equal(a, b) for a, b in zip(old, new))


def test_largest_centred_subgrid():
    from geodl.lightfield.loader import largest_centred_subgrid
    valid = np.ones((5, 5), bool)
    valid[0, 0] = False
    with pytest.warns(DeprecationWarning, match="largest_centered_subgrid"):
        assert largest_centred_subgrid(valid) == largest_centered_subgrid(valid)


def test_select_neighbours_is_select_neighbors(monkeypatch):
    import geodl.mvs.neighbours as module
    from geodl.mvs import select_neighbours
    monkeypatch.setattr(module, "select_neighbors", lambda *args: args)
    with pytest.warns(DeprecationWarning, match="select_neighbors"):
        assert select_neighbours("frames", "ranges", 2) == ("frames", "ranges", 2, 5.0, 1.0, 10.0,
                                                            1e-3)


@pytest.mark.parametrize("old, new", [
    ("room_scene", "scene"), ("room_lightfields", "scene_sets"),
    ("room_captures", "lightfield_captures"), ("room_rgbd", "rgbd"), ("room_photos", "photos"),
    ("room_labels", "labels"), ("room_standin", "standin"), ("room_segmentation", "segmentation"),
])
def test_old_room_module_paths_are_the_new_modules(monkeypatch, old, new):
    import sys
    monkeypatch.delitem(sys.modules, f"geodl.datasets.{old}", raising=False)
    with pytest.warns(DeprecationWarning, match=f"geodl.datasets.rooms.{new}"):
        module = importlib.import_module(f"geodl.datasets.{old}")
    assert module is importlib.import_module(f"geodl.datasets.rooms.{new}")
