"""The dashboard shell: login, logout and the overview page (plumbing: `patron.web`)."""
