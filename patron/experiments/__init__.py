"""Experiments and holdouts: A/B/n tests on broadcasts and journey splits, judged on revenue."""
