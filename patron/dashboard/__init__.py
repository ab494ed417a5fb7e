"""The dashboard shell: login, sessions, CSRF, page layout, static assets."""
