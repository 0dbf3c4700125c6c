"""Complaints (pengaduan) about a file, tied to its tracking number and PIN, answered by managers."""
