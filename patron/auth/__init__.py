"""Access: API keys (hashed, scoped, revocable) and dashboard users."""
