"""Manifest of the demo shop behind `make demo`."""

from patron.demo import cli
from patron.manifest import Manifest

manifest = Manifest(name="demo", commands=cli.register)
