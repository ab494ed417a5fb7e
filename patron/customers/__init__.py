"""Customer data: profiles, consent, identities, products, orders, events and their aggregates."""
