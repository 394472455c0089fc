"""File readers shared by every layer: images of any bit depth.

The lowest layer beside :mod:`geodl._optional`: it imports no other geodl
package, so light-field loaders, capture readers and the viewer read images
the same way.
"""
from geodl.io.images import IMAGE_SUFFIXES, read_image, read_raw_image

__all__ = ["IMAGE_SUFFIXES", "read_image", "read_raw_image"]
