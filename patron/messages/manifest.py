"""Manifest of messages: templates, the outbox and its sender, channels, the mailbox."""

from patron.manifest import Manifest
from patron.messages import tables

manifest = Manifest(name="messages", tables=(tables,))
