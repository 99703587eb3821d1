"""Synthetic DICOM for samples, tests and benchmarks: never patient data, deterministic.

UIDs come from :func:`uid` (pydicom's ``generate_uid`` with fixed entropy sources), dates
are fixed, and the pixel data is a small computed pattern, so the same call writes the same
bytes every time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


PrivateBlock = tuple[int, str, Sequence[tuple[int, str, Any]]]
"""A private block: group, private creator, and (element offset, VR, value) items."""

SCANNER_PRIVATE: dict[str, list[PrivateBlock]] = {
    # Shaped like the private groups the big vendors write (creator names and VRs as they
    # appear in public conformance statements; values synthetic).
    "GE MEDICAL SYSTEMS": [
        (0x0009, "GEMS_IDEN_01", [(0x01, "LO", "SYNTHETIC SUITE"), (0x02, "SH", "CT01"),
                                  (0x27, "SL", 1767225600)]),
        (0x0043, "GEMS_PARM_01", [(0x10, "US", 1), (0x12, "SS", [12, 0, 0]),
                                  (0x1E, "DS", "0.625"), (0x27, "SH", "/1.0:1"),
                                  (0x6F, "DS", ["0", "0", "0", "0"])]),
    ],
    "SIEMENS": [
        (0x0019, "SIEMENS MR HEADER", [(0x08, "CS", "IMAGE NUM 4"), (0x0B, "DS", "2000"),
                                       (0x0F, "SH", "Fast*")]),
        (0x0029, "SIEMENS CSA HEADER", [(0x08, "CS", "IMAGE NUM 4"), (0x09, "LO", "20260112"),
                                        (0x10, "OB", b"SV10\x04\x03\x02\x01" + bytes(248))]),
    ],
}


def scanner_header(modality: str, manufacturer: str) -> dict[str, Any]:
    """About 45 standard attributes a scanner writes beyond the identifiers (acquisition,
    equipment, geometry, display), so that a sample header holds some 60 elements.

    Values are plausible and synthetic; what a test needs to control (dates, age, sex,
    thickness, contrast) is passed separately and overrides these.
    """
    common: dict[str, Any] = {
        "ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"], "InstanceCreationDate": "20260105",
        "InstanceCreationTime": "101500", "StudyTime": "100210", "SeriesTime": "100530",
        "AcquisitionDate": "20260105", "AcquisitionTime": "100612", "ContentDate": "20260105",
        "ContentTime": "100612", "Manufacturer": manufacturer, "StationName": "SYNSTATION1",
        "OperatorsName": "SYNTHETIC^OPERATOR", "PatientWeight": "71", "PatientSize": "1.68",
        "BodyPartExamined": "ABDOMEN", "DeviceSerialNumber": "SYN00042",
        "SoftwareVersions": "syn_sw_1.0", "ProtocolName": "SYNTHETIC PROTOCOL",
        "PatientPosition": "FFS", "SeriesNumber": "3", "AcquisitionNumber": "1",
        "FrameOfReferenceUID": uid("frame", modality, manufacturer),
        "PositionReferenceIndicator": "", "SliceLocation": "0.0", "SamplesPerPixel": 1,
        "WindowCenter": "40", "WindowWidth": "400", "LossyImageCompression": "00",
    }
    if modality == "CT":
        common.update({
            "KVP": "120", "DataCollectionDiameter": "500", "ReconstructionDiameter": "380",
            "DistanceSourceToDetector": "946.7", "DistanceSourceToPatient": "538.5",
            "GantryDetectorTilt": "0", "TableHeight": "152", "RotationDirection": "CW",
            "ExposureTime": "500", "XRayTubeCurrent": "300", "Exposure": "150",
            "FilterType": "BODY FILTER", "GeneratorPower": "36000", "FocalSpots": "0.7",
            "ConvolutionKernel": "STANDARD", "RescaleIntercept": "-1024",
            "RescaleSlope": "1", "RescaleType": "HU", "SpiralPitchFactor": 0.984375,
        })
    else:
        common.update({
            "ScanningSequence": "SE", "SequenceVariant": "SK", "ScanOptions": "",
            "MRAcquisitionType": "2D", "RepetitionTime": "600", "EchoTime": "12",
            "NumberOfAverages": "1", "ImagingFrequency": "123.2", "ImagedNucleus": "1H",
            "EchoNumbers": "1", "MagneticFieldStrength": "3", "SpacingBetweenSlices": "3.3",
            "EchoTrainLength": "3", "PercentSampling": "100", "PixelBandwidth": "230",
            "ReceiveCoilName": "Head_32", "FlipAngle": "150", "SAR": "0.71",
            "InPlanePhaseEncodingDirection": "ROW",
        })
    return common


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
    private: Sequence[PrivateBlock] = (),
) -> Path:
    """Write one image instance; ``attributes`` (keyword -> value) go in as given.

    ``preamble=False`` leaves out the 128-byte preamble and ``DICM``; ``meta=False`` also
    the file meta group (a bare data set, as older scanners and some exports write).
    ``private`` adds private blocks (creator element plus items), as vendors write them.
    A ``SpecificCharacterSet`` in ``attributes`` is honoured when text values are encoded.
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
    for group, creator, items in private:
        block = ds.private_block(group, creator, create=True)
        for offset, vr, value in items:
            block.add_new(offset, vr, value)
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
