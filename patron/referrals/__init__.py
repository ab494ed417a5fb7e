"""Referrals: codes, attribution, fraud rules, qualification and two-sided rewards."""
