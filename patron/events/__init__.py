"""The durable domain event log and its consumers' cursors (kernel)."""
