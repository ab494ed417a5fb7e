"""Patron: self-hosted customer marketing."""
