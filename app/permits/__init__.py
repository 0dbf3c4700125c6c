"""Permit documents: issued when a file is granted, printable (HTML and PDF) with a QR code
that opens a public verification page."""
