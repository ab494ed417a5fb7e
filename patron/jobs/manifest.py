"""Manifest of the durable job queue (kernel): its table and the worker commands."""

from patron.jobs import cli, tables
from patron.manifest import Manifest

manifest = Manifest(name="jobs", commands=cli.register, tables=(tables,))
