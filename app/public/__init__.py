"""Pages for the public: tracking a file without signing in."""
