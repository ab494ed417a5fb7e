"""Tests of imports: CSV and CDNOW files."""
