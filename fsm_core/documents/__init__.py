"""Documents the product prints: acts of completed works, QR labels, object passports.

Everything here draws with reportlab and segno, which only these modules import, so that
commands that print no document never load them.
"""
