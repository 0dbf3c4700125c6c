"""The web shell every page shares: home, error pages, navigation, JSON limits, safe redirects."""
