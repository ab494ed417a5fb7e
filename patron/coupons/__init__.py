"""Coupons and exclusive offers: shared and unique codes, validation, redemption, offers."""
