"""The demo shop: a deterministic synthetic store loaded in seconds, for trying Patron out."""
