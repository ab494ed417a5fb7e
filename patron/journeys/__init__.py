"""Journeys: automated multi-step customer journeys run exactly once per step and customer."""
