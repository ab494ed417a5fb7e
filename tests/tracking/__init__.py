"""Tests of the Segment-compatible tracking API."""
