"""connectors.gcode."""
