"""connectors.vendor."""
