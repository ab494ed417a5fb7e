"""Tests of access: API keys."""
