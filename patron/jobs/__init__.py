"""Durable jobs: work that outlives a request, claimed by worker processes."""
