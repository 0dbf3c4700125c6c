"""The JSON API for other systems (token-authenticated): the same services as the officers' pages."""
