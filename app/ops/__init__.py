"""Running the service: health checks, worker heartbeats, the one-sweep-at-a-time lock."""
