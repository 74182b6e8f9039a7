"""Rows in files, both ways: what importing and exporting share (the cell rules in
:mod:`.cells`, and :mod:`.writers`, which writes rows as CSV, TSV, JSON lines or a
workbook for an export and for an import's rejects file). Importing and exporting import
this package, never each other.
"""
