"""Imports: customers, products and orders from CSV files and the CDNOW data set."""
