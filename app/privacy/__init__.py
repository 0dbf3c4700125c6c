"""Personal data protection (UU 27/2022): who read an applicant's data, masking, and retention."""
