"""The legal clock: working-day calendar and office hours, file and step deadlines, SLA states,
the escalation chain and its beat sweep, and the date helpers given to diagram scripts."""
