"""Recommendations: cross-sell, up-sell, down-sell, personal and popular, trained and served."""
