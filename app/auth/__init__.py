"""Users, sign-in, roles and lanes (who may do what), API tokens."""
