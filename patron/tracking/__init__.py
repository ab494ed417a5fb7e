"""Segment-compatible tracking API: identify, track, page, screen, group, alias, batch."""
