"""The notice outbox (in-app inbox and email deliveries, each sent exactly once) and notices to applicants."""
