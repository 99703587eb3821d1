"""connectors.dicom."""
