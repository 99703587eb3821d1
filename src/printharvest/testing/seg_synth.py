"""Synthetic segmentations written by the real tools (never patient data).

* :func:`write_seg_nrrd`: a 3D Slicer ``.seg.nrrd`` written by ``slicerio`` (which writes with
  ``pynrrd``), one box-shaped segment per entry, each with its ``TerminologyEntry``;
* :func:`write_mrb`: a Slicer scene bundle: a ``.mrml`` scene naming the Slicer version and
  the segmentation file beside it, zipped as Slicer does;
* :func:`write_dicom_seg`: a DICOM Segmentation object written by ``highdicom`` over a small
  synthetic CT series (:func:`printharvest.testing.dicom_synth.write_slice`);
* :func:`write_rtstruct`: an RT Structure Set written with ``pydicom`` (no RT writer exists
  here), its ROIs, observations and RT ROI Identification codes as PS3.3 C.8.8.5/C.8.8.8 lay
  them out.

A segment is ``(name, terminology)`` with terminology ``{"type": ("SCT", "64033007",
"Kidney"), "region_modifier": ("SCT", "24028007", "Right"), ...}`` (the keys of
:data:`printharvest.vocab.TERMINOLOGY_KEYS`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Code = tuple[str, str, str]
SegmentSpec = tuple[str, Mapping[str, Code]]
ANATOMICAL_STRUCTURE: Code = ("SCT", "123037004", "Anatomical Structure")
ZIP_DATE = (2026, 1, 2, 3, 4, 6)


def _slicer_entry(terms: Mapping[str, Code]) -> str:
    def part(key: str) -> str:
        code = terms.get(key)
        return "^".join(code) if code else "^^"

    category = terms.get("category", ANATOMICAL_STRUCTURE)
    return ("Segmentation category and type - 3D Slicer General Anatomy list"
            f"~{'^'.join(category)}~{part('type')}~{part('type_modifier')}"
            f"~Anatomic codes - DICOM master list~{part('region')}~{part('region_modifier')}")


def write_seg_nrrd(path: Path, segments: Sequence[SegmentSpec], size: int = 12) -> Path:
    """A ``.seg.nrrd`` with one box per segment (slicerio + pynrrd, gzip encoded)."""
    import numpy as np
    import slicerio  # type: ignore[import-untyped]
    import slicerio.segmentation  # type: ignore[import-untyped]

    seg = slicerio.create_segmentation((size, size, size), np.diag([0.8, 0.8, 1.5, 1.0]))
    seg["containedRepresentationNames"] = ["Binary labelmap", "Closed surface"]
    seg["masterRepresentation"] = "Binary labelmap"
    seg["referenceImageExtentOffset"] = [0, 0, 0]
    for number, (name, terms) in enumerate(segments):
        mask = np.zeros((size, size, size), dtype=bool)
        low = number % max(size // 2, 1)
        mask[low:low + size // 2, 1:size - number % 3, 2:size - 1] = True
        entry = slicerio.segmentation.terminology_entry_from_string(_slicer_entry(terms))
        slicerio.add_segment(seg, mask, {"id": f"Segment_{number + 1}", "name": name,
                                         "terminology": entry})
    path.parent.mkdir(parents=True, exist_ok=True)
    slicerio.write_segmentation(str(path), seg)
    return path


MRML_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<MRML  version="Slicer{version} {revision}" userTags="">
 <Segmentation id="vtkMRMLSegmentationNode1" name="{node}"
   storageNodeRef="vtkMRMLSegmentationStorageNode1"
   references="display:vtkMRMLSegmentationDisplayNode1;" />
 <SegmentationDisplay id="vtkMRMLSegmentationDisplayNode1" name="SegmentationDisplay"
   visibility="true" />
 <SegmentationStorage id="vtkMRMLSegmentationStorageNode1" name="SegmentationStorage"
   fileName="Data/{file}" useCompression="1" />
</MRML>
"""


def write_mrb(path: Path, seg_nrrd: Path, *, version: str = "5.6.2", revision: str = "32448",
              scene: str = "Scene", node: str = "Segmentation") -> Path:
    """A Slicer scene bundle holding ``seg_nrrd`` (a zip of ``scene/scene.mrml`` and
    ``scene/Data/<file>``, as Slicer's Save writes it)."""
    mrml = MRML_TEMPLATE.format(version=version, revision=revision, node=node,
                                file=seg_nrrd.name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in ((f"{scene}/{scene}.mrml", mrml.encode()),
                           (f"{scene}/Data/{seg_nrrd.name}", seg_nrrd.read_bytes())):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def _code_item(code: Code) -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code[1], code[0], code[2]
    return item


def write_dicom_seg(path: Path, source_dir: Path, segments: Sequence[SegmentSpec], *,
                    attributes: Mapping[str, Any] | None = None,
                    manufacturer: str = "printharvest samples",
                    software: str = "1.0") -> Path:
    """A DICOM SEG (highdicom) over a 3-slice synthetic CT written into ``source_dir``."""
    import highdicom as hd
    import numpy as np
    from pydicom import dcmread
    from pydicom.sr.coding import Code as SrCode

    from printharvest.testing.dicom_synth import uid, write_slice

    study, series = uid("seg-study", path.name), uid("seg-series", path.name)
    base = {"FrameOfReferenceUID": uid("seg-for", path.name), "SliceThickness": "1.0",
            "PatientName": "SYNTHETIC^SEG", "PatientID": "SYNTH-SEG", "StudyID": "1",
            "AccessionNumber": "SYN1", "PatientSex": "O", "PatientBirthDate": "19700101",
            "StudyDate": "20260102", "StudyTime": "030406", "ReferringPhysicianName": "",
            **(attributes or {})}
    sources = [dcmread(write_slice(source_dir / f"ct_{n}.dcm", modality="CT", study_uid=study,
                                   series_uid=series, number=n, attributes=base))
               for n in (1, 2, 3)]

    def sr(code: Code) -> Any:
        return SrCode(code[1], code[0], code[2])

    descriptions = []
    for number, (name, terms) in enumerate(segments, 1):
        region = terms.get("region")
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=number, segment_label=name,
            segmented_property_category=sr(terms.get("category", ANATOMICAL_STRUCTURE)),
            segmented_property_type=sr(terms["type"]),
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            anatomic_regions=[sr(region)] if region else None))
    masks = np.zeros((3, 8, 8, len(segments)), dtype=bool)
    for index in range(len(segments)):
        masks[:, index % 8, :, index] = True
    seg = hd.seg.Segmentation(
        source_images=sources, pixel_array=masks,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=uid("seg-object-series", path.name), series_number=90,
        sop_instance_uid=uid("seg-object", path.name), instance_number=1,
        manufacturer=manufacturer, manufacturer_model_name="printharvest seg sample",
        software_versions=software, device_serial_number="SYNTH-0001")
    # Modifiers are nested in their code's item (PS3.3 C.8.20.2); highdicom sets none here.
    for item, (_, terms) in zip(seg.SegmentSequence, segments, strict=True):
        if "type_modifier" in terms:
            item.SegmentedPropertyTypeCodeSequence[0]\
                .SegmentedPropertyTypeModifierCodeSequence = [_code_item(terms["type_modifier"])]
        if "region_modifier" in terms and "AnatomicRegionSequence" in item:
            item.AnatomicRegionSequence[0].AnatomicRegionModifierSequence = [
                _code_item(terms["region_modifier"])]
    path.parent.mkdir(parents=True, exist_ok=True)
    seg.save_as(path)
    return path


def write_rtstruct(path: Path, rois: Sequence[tuple[str, Mapping[str, Code], float | None]], *,
                   attributes: Mapping[str, Any] | None = None,
                   manufacturer: str = "printharvest samples", software: str = "1.0") -> Path:
    """An RT Structure Set (pydicom): ROIs with name, optional volume (cm^3) and codes, and
    one closed planar contour each."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

    from printharvest.testing.dicom_synth import uid

    sop_class = "1.2.840.10008.5.1.4.1.1.481.3"
    instance = uid("rtstruct", path.name)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(instance)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = sop_class, instance, "RTSTRUCT"
    ds.StudyInstanceUID = uid("rt-study", path.name)
    ds.SeriesInstanceUID = uid("rt-series", path.name)
    ds.PatientName, ds.PatientID = "SYNTHETIC^RT", "SYNTH-RT"
    ds.Manufacturer, ds.SoftwareVersions = manufacturer, software
    ds.StructureSetLabel = "Structures"
    ds.StructureSetDate, ds.StructureSetTime = "20260102", "030406"
    frame = uid("rt-for", path.name)
    for keyword, value in (attributes or {}).items():
        setattr(ds, keyword, value)
    set_rois, observations, contours = [], [], []
    for number, (name, terms, volume) in enumerate(rois, 1):
        roi = Dataset()
        roi.ROINumber, roi.ReferencedFrameOfReferenceUID = number, frame
        roi.ROIName, roi.ROIGenerationAlgorithm = name, "MANUAL"
        if volume is not None:
            roi.ROIVolume = f"{volume:g}"
        set_rois.append(roi)
        observation = Dataset()
        observation.ObservationNumber, observation.ReferencedROINumber = number, number
        observation.RTROIInterpretedType, observation.ROIInterpreter = "ORGAN", ""
        if "type" in terms:
            kind = _code_item(terms["type"])
            if "type_modifier" in terms:
                kind.SegmentedPropertyTypeModifierCodeSequence = [
                    _code_item(terms["type_modifier"])]
            observation.RTROIIdentificationCodeSequence = [kind]
        observation.SegmentedPropertyCategoryCodeSequence = [
            _code_item(terms.get("category", ANATOMICAL_STRUCTURE))]
        observations.append(observation)
        contour = Dataset()
        contour.ReferencedROINumber = number
        contour.ROIDisplayColor = [255, 0, 0]
        plane = Dataset()
        plane.ContourGeometricType, plane.NumberOfContourPoints = "CLOSED_PLANAR", 3
        plane.ContourData = [0.0, 0.0, float(number), 10.0, 0.0, float(number),
                             0.0, 10.0, float(number)]
        contour.ContourSequence = [plane]
        contours.append(contour)
    ds.StructureSetROISequence = set_rois
    ds.RTROIObservationsSequence = observations
    ds.ROIContourSequence = contours
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True, implicit_vr=False, little_endian=True)
    return path
