"""Synthetic DICOM for samples, tests and benchmarks: never patient data, deterministic.

UIDs come from :func:`uid` (pydicom's ``generate_uid`` with fixed entropy sources), dates
are fixed, and the pixel data is a small computed pattern, so the same call writes the same
bytes every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

IMPLEMENTATION_UID = "1.2.826.0.1.3680043.10.1462.1"
"""A fixed implementation class UID (not pydicom's, which changes with its version)."""

SOP_CLASSES = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "PT": "1.2.840.10008.5.1.4.1.1.128",
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
    "OT": "1.2.840.10008.5.1.4.1.1.7",
}
ENCAPSULATED_STL = "1.2.840.10008.5.1.4.1.1.104.3"
ENCAPSULATED_OBJ = "1.2.840.10008.5.1.4.1.1.104.4"


def uid(*seed: str) -> str:
    """A valid, deterministic UID derived from ``seed`` (the same seed, the same UID)."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=["printharvest-synthetic", *seed]))


def _meta(sop_class: str, instance: str, syntax: str) -> Any:
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import UID

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(instance)
    meta.TransferSyntaxUID = UID(syntax)
    meta.ImplementationClassUID = UID(IMPLEMENTATION_UID)
    meta.ImplementationVersionName = "PRINTHARVEST1"
    return meta


def write_slice(
    path: Path,
    *,
    modality: str,
    study_uid: str,
    series_uid: str,
    number: int,
    attributes: Mapping[str, Any] | None = None,
    size: int = 8,
    preamble: bool = True,
    meta: bool = True,
    implicit: bool = False,
) -> Path:
    """Write one image instance; ``attributes`` (keyword -> value) go in as given.

    ``preamble=False`` leaves out the 128-byte preamble and ``DICM``; ``meta=False`` also
    the file meta group (a bare data set, as older scanners and some exports write).
    """
    from pydicom.dataset import Dataset
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

    sop_class = SOP_CLASSES.get(modality, SOP_CLASSES["OT"])
    instance = uid(study_uid, series_uid, str(number))
    syntax = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = _meta(sop_class, instance, syntax)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = instance
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.Modality = modality
    ds.InstanceNumber = number
    ds.ImagePositionPatient = [0.0, 0.0, float(number)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.5, 0.5]
    for keyword, value in (attributes or {}).items():
        setattr(ds, keyword, value)
    ds.Rows = size
    ds.Columns = size
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    grid = np.add.outer(np.arange(size), np.arange(size)) * (number + 1)
    ds.PixelData = (grid % 4096).astype("<u2").tobytes()
    if not meta:
        del ds.file_meta
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=preamble and meta, implicit_vr=implicit,
               little_endian=True)
    return path


def write_encapsulated_mesh(
    path: Path,
    mesh: bytes,
    *,
    mime: str,
    study_uid: str,
    series_uid: str,
    source_series_uid: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Path:
    """Write an Encapsulated STL or OBJ instance (modality M3D) holding ``mesh``."""
    from pydicom.dataset import Dataset
    from pydicom.uid import ExplicitVRLittleEndian

    sop_class = ENCAPSULATED_OBJ if mime == "model/obj" else ENCAPSULATED_STL
    instance = uid(study_uid, series_uid, "mesh")
    ds = Dataset()
    ds.file_meta = _meta(sop_class, instance, ExplicitVRLittleEndian)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = instance
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.Modality = "M3D"
    ds.InstanceNumber = 1
    ds.MIMETypeOfEncapsulatedDocument = mime
    if source_series_uid:
        item = Dataset()
        item.SeriesInstanceUID = source_series_uid
        ds.ReferencedSeriesSequence = [item]
    for keyword, value in (attributes or {}).items():
        setattr(ds, keyword, value)
    ds.EncapsulatedDocument = mesh + (b"\x00" if len(mesh) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(mesh)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True, implicit_vr=False, little_endian=True)
    return path


def write_dicomdir_like(path: Path) -> Path:
    """A minimal file with the Media Storage Directory SOP class (a DICOMDIR stand-in)."""
    from pydicom.dataset import Dataset
    from pydicom.uid import ExplicitVRLittleEndian

    sop_class = "1.2.840.10008.1.3.10"
    ds = Dataset()
    ds.file_meta = _meta(sop_class, uid("dicomdir", str(path.name)), ExplicitVRLittleEndian)
    ds.FileSetID = "SYNTHETIC"
    ds.DirectoryRecordSequence = []
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True, implicit_vr=False, little_endian=True)
    return path
