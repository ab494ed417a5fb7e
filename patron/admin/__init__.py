"""Administration pages: import, API keys, users, refresh now, system status."""
