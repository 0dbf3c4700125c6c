"""The application file (berkas): intake, file number, applicant, attachments, search, status."""
