"""Light fields: HCI-benchmark I/O (so far: PFM)."""
from geodl.lightfield.pfm import read_pfm, write_pfm

__all__ = ["read_pfm", "write_pfm"]
