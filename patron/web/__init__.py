"""The web kernel: page rendering, login guard, CSRF, flashes, pagination, error pages, limits.

It imports no capability: templates, nav items and customer-page panels come from the installed
capability manifests (`patron.manifest.installed()`), read at first use, not at import time.
"""
