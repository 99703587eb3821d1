"""connectors.joblog."""
