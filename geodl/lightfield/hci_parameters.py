"""``parameters.cfg`` of an HCI 4D light field benchmark scene (INI format).

Sections and keys as the benchmark and its Blender add-on write them:
``[intrinsics]`` image size, focal length and sensor size in mm, f-stop;
``[extrinsics]`` camera grid size, baseline (mm), focus distance (m), centre
camera position (m) and Euler rotation (rad, Blender's XYZ), offset;
``[meta]`` disparity range, frustum disparity range, depth-map scale and
free-text scene information.

Files are parsed and written without interpolation (``%`` is an ordinary
character: a scene called ``50%_grey`` round-trips). Values are checked
on construction (so both :meth:`HCIParameters.read` and direct use): sizes
and camera counts are integers >= 1; focal length, sensor size, f-stop,
baseline, focus distance and depth-map scale are positive; every number is
finite; ``disp_min <= disp_max``.
"""
from __future__ import annotations

import configparser
import math
import numbers
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

_SECTIONS = {
    "intrinsics": ("image_resolution_x_px", "image_resolution_y_px", "focal_length_mm",
                   "sensor_size_mm", "fstop"),
    "extrinsics": ("num_cams_x", "num_cams_y", "baseline_mm", "focus_distance_m",
                   "center_cam_x_m", "center_cam_y_m", "center_cam_z_m", "center_cam_rx_rad",
                   "center_cam_ry_rad", "center_cam_rz_rad", "offset"),
    "meta": ("disp_min", "disp_max", "frustum_disp_min", "frustum_disp_max", "depth_map_scale",
             "scene", "category", "date", "version", "authors", "contact", "cycles_seed"),
}
_COUNTS = ("image_resolution_x_px", "image_resolution_y_px", "num_cams_x", "num_cams_y")
_POSITIVE = ("focal_length_mm", "sensor_size_mm", "fstop", "baseline_mm", "focus_distance_m",
             "depth_map_scale")
_OPTIONAL = {"offset", "date", "version", "authors", "contact", "cycles_seed", "category",
             "frustum_disp_min", "frustum_disp_max", "depth_map_scale"}


@dataclass
class HCIParameters:
    """The values of one ``parameters.cfg`` (units in the key names)."""

    image_resolution_x_px: int = 512
    image_resolution_y_px: int = 512
    focal_length_mm: float = 100.0
    sensor_size_mm: float = 35.0
    fstop: float = 100.0
    num_cams_x: int = 9
    num_cams_y: int = 9
    baseline_mm: float = 50.0
    focus_distance_m: float = 3.0
    center_cam_x_m: float = 0.0
    center_cam_y_m: float = 0.0
    center_cam_z_m: float = 0.0
    center_cam_rx_rad: float = 0.0
    center_cam_ry_rad: float = 0.0
    center_cam_rz_rad: float = 0.0
    offset: float = 0.0
    disp_min: float = -3.0
    disp_max: float = 3.0
    frustum_disp_min: float = -3.0
    frustum_disp_max: float = 3.0
    depth_map_scale: float = 100.0
    scene: str = ""
    category: str = "geodl"
    date: str = ""
    version: str = ""
    authors: str = ""
    contact: str = ""
    cycles_seed: str = ""
    extra: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int":
                if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                    raise ValueError(f"{f.name}: expected an int, got {value!r}")
            elif f.type == "float":
                if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
                        not math.isfinite(value):
                    raise ValueError(f"{f.name}: expected a finite number, got {value!r}")
        for name in _COUNTS:
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected >= 1, got {getattr(self, name)}")
        for name in _POSITIVE:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: expected > 0, got {getattr(self, name)}")
        if self.disp_min > self.disp_max:
            raise ValueError(f"disp_min, disp_max: expected disp_min <= disp_max, got "
                             f"{self.disp_min} > {self.disp_max}")

    @property
    def focal_px(self) -> float:
        """Focal length in pixels, f_mm / sensor_mm x the larger image side."""
        return self.focal_length_mm / self.sensor_size_mm * max(self.image_resolution_x_px,
                                                                self.image_resolution_y_px)

    @property
    def baseline_m(self) -> float:
        return self.baseline_mm / 1000.0

    @classmethod
    def read(cls, path: str | Path) -> "HCIParameters":
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"path: no such file {path}")
        raw_bytes = path.read_bytes()  # a folder or unreadable file: OSError naming it
        if b"\0" in raw_bytes:
            raise ValueError(f"path: {path} is binary (NUL bytes), not a parameters.cfg text file")
        try:
            text = raw_bytes.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise ValueError(f"path: {path} is not UTF-8 text (byte 0x{raw_bytes[err.start]:02x} "
                             f"at offset {err.start})") from None
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text, source=str(path))
        except configparser.Error as err:
            raise ValueError(f"path: {path} is not a valid parameters.cfg: {err}") from None
        types = {f.name: f.type for f in fields(cls)}
        values, extra = {}, {}
        for section, keys in _SECTIONS.items():
            if not parser.has_section(section):
                raise ValueError(f"path: {path} lacks the [{section}] section")
            for key in keys:
                if not parser.has_option(section, key):
                    if key in _OPTIONAL:
                        continue
                    raise ValueError(f"path: {path} lacks [{section}] {key}")
                raw = parser.get(section, key)
                kind = types[key]
                try:
                    values[key] = _parse_int(raw) if kind == "int" else \
                        float(raw) if kind == "float" else raw
                except ValueError:
                    want = "an integer" if kind == "int" else "a number"
                    raise ValueError(f"path: [{section}] {key} = {raw!r} is not {want}") from None
            for key in parser.options(section):
                if key not in keys:
                    extra[f"{section}.{key}"] = parser.get(section, key)
        try:
            return cls(**values, extra=extra)
        except ValueError as err:
            raise ValueError(f"path: {path}: {err}") from None

    def write(self, path: str | Path) -> None:
        """Write ``parameters.cfg`` (no interpolation: ``%`` is kept as is)."""
        parser = configparser.ConfigParser(interpolation=None)
        data = asdict(self)
        for section, keys in _SECTIONS.items():
            parser.add_section(section)
            for key in keys:
                parser.set(section, key, str(data[key]))
        for dotted, value in self.extra.items():
            section, key = dotted.split(".", 1)
            parser.set(section, key, str(value))
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            parser.write(f)


def _parse_int(raw: str) -> int:
    """``"512"`` or ``"512.0"`` (Blender writes both), not ``"512.7"``."""
    v = float(raw)
    if not v.is_integer():
        raise ValueError(raw)
    return int(v)
