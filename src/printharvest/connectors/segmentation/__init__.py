"""Segmentation connectors: what the model was segmented into, and with which software.

3D Slicer segmentations (``.seg.nrrd``, :mod:`.slicer`) and scene bundles (``.mrb``,
:mod:`.mrb`) live here; DICOM SEG and RT Structure Sets live beside the other DICOM readers
(:mod:`printharvest.connectors.dicom.segobjects`). Each file gives one ``segmentation`` record
(DESIGN.md: ``segments`` and ``software``). The built-in list names them all.
"""
