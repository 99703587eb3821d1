"""connectors.printer_files."""
