"""Seeded procedural rooms (:func:`geodl.render.make_room`) as data, one
module per kind:

- :mod:`~geodl.datasets.rooms.scene`: one HCI-style light-field scene of a
  room with the benchmark's ground truth (``render_hci_scene``);
- :mod:`~geodl.datasets.rooms.scene_sets`: the benchmark and training seeds,
  and their scene folders written or cached (``BENCHMARK_SEEDS``,
  ``training_seeds``, ``cached_room_scenes``);
- :mod:`~geodl.datasets.rooms.lightfield_captures`: a room seen by several
  light-field captures, written as a captures folder;
- :mod:`~geodl.datasets.rooms.rgbd`: a room scanned by a hand-held RGB-D
  sensor, in the 7-Scenes layout;
- :mod:`~geodl.datasets.rooms.photos`: a room in posed photos, a COLMAP
  project;
- :mod:`~geodl.datasets.rooms.labels`: semantic labels (floor, wall,
  ceiling, furniture) of a room mesh;
- :mod:`~geodl.datasets.rooms.standin`: a stand-in for a reconstructed room
  mesh;
- :mod:`~geodl.datasets.rooms.segmentation`: the cached dataset of labelled
  reconstructed rooms.

The folders written here (``captures.json``, ``room_gt.ply``) follow the
format :mod:`geodl.recon.captures` defines and reads.
"""
