"""The metadata of every table: the kernel's and each capability's (as their manifests list)."""

from patron.capabilities import boot
from patron.db import Base

boot()  # importing the manifests imports every tables module they list
metadata = Base.metadata

__all__ = ["metadata"]
