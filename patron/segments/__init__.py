"""Segments: a rule tree over customer data compiled to SQL, saved with live memberships."""
