"""Re-checks: when to fetch again (policy), what a fetch says (outcomes), state transitions,
content drift, and the status report."""
