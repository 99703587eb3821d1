"""DICOM: every file of a series or of several studies read as one ``imaging`` record.

The connector is *collective*: the harvester hands it every DICOM file below one input root
(or one case) at once. Each file's header is read through the PHI allow-list
(:mod:`printharvest.connectors.dicom.header`); the set becomes one record whose
``imaging`` object counts studies and series (grouped by salted hashes of their UIDs),
lists modalities and scanner makers, the thinnest slice, contrast, age and sex.

* DICOMDIR files are skipped (they index a media set, they are not images).
* Encapsulated STL / OBJ (modality M3D, SOP classes Encapsulated STL / OBJ Storage, or a
  ``model/...`` MIME type) become mesh records, read by whichever connector is registered
  for the unwrapped mesh; they do not count as imaging series (the image series they were
  segmented from are the model's source).
* Other non-image objects (SR, SEG, PR, KO...) are recognised but not counted as series.
* A file that is not DICOM or whose lengths run past its end is a one-line error; the
  other files of the set still make the record.

Headers are read in parallel processes for big sets (see :data:`PARALLEL_MIN_FILES`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from printharvest.connectors.base import FileConnector
from printharvest.connectors.dicom.header import HeaderFacts, read_facts
from printharvest.connectors.dicom.segobjects import segmentation_sop_class
from printharvest.connectors.dicom.series import ImagingRecord, SeriesKey
from printharvest.connectors.dicom.structure import looks_like_dicom
from printharvest.connectors.probe import FileProbe, probe_file
from printharvest.exceptions import CorruptFileError, HarvestError, UnsupportedFileError
from printharvest.models import HarvestRecord, Imaging, Source

if TYPE_CHECKING:
    pass

PARALLEL_MIN_FILES = 600
"""Below this many files a process pool costs more than it saves (benchmarks/dicom_headers)."""
PARALLEL_MIN_CPUS = 4
"""On 2 cores the pool was slower than one process (README, Performance): parsing a header
takes well under a millisecond, so process start-up and pickling eat the gain."""
WORKER_HEAD = 16 << 10
MAX_ENCAPSULATED_BYTES = 1 << 30
_MESH_SUFFIX = {"model/stl": ".stl", "model/x.stl-binary": ".stl", "model/x.stl-ascii": ".stl",
                "application/sla": ".stl", "model/obj": ".obj"}

FileResult = tuple[HeaderFacts | None, tuple[str, str] | None]


class DicomConnector(FileConnector):
    """DICOM series and studies (headers only), and DICOM-encapsulated meshes."""

    id = "dicom"
    label = "DICOM headers (imaging, PHI allow-list)"
    version = "1.0"
    patterns = ("*.dcm", "*.dicom", "*.ima", "dicomdir")
    collective = True

    def __init__(self) -> None:
        self.parallel_min_files = PARALLEL_MIN_FILES
        self.parallel_min_cpus = PARALLEL_MIN_CPUS

    def detect(self, probe: FileProbe) -> float:
        """DICM magic, or a plausible first element without preamble; a .dcm name weakly.

        SEG and RTSTRUCT objects score lower: their own connectors read them
        (:mod:`.segobjects`)."""
        if segmentation_sop_class(probe.head) is not None:
            return 0.5
        try:
            score = looks_like_dicom(probe.head)
        except Exception:
            score = 0.0
        if score > 0:
            return score
        if probe.matches(self.patterns) and probe.zip_members is None:
            return 0.3  # claimed so that a PNG named .dcm gets a clear reason, not "unknown"
        return 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One file alone (as a set of one); its error is raised when it yields nothing."""
        records, errors = self.harvest_files([probe])
        if errors and not records:
            raise errors[0]
        return records

    def harvest_collection(self, probes: Sequence[FileProbe]) -> list[HarvestRecord]:
        """The records of a set (per-file errors dropped; see :meth:`harvest_files`)."""
        return self.harvest_files(probes)[0]

    def harvest_files(
        self, probes: Sequence[FileProbe]
    ) -> tuple[list[HarvestRecord], list[HarvestError]]:
        """Records of the whole set, and one error per file that could not be read."""
        salt = self.context.salt()
        results = self._read_headers(probes, salt)
        errors: list[HarvestError] = [CorruptFileError(*err) for _, err in results
                                      if err is not None]
        good = [(p, f) for p, (f, _) in zip(probes, results, strict=True) if f is not None]
        records: list[HarvestRecord] = []
        images = [(p, f) for p, f in good if f.kind == "image"]
        if images:
            record = self._imaging_record(images)
            if errors:
                # The set keeps its good files; the count says the record is not the whole set.
                record.warnings.append(f"{len(errors)} of {len(probes)} DICOM file(s) in this"
                                       " set could not be read and were left out")
            records.append(record)
        for probe, facts in good:
            if facts.kind != "mesh" or facts.mime == "model/mtl":
                continue
            try:
                records.extend(_mesh_records(self, probe, facts))
            except HarvestError as exc:
                errors.append(exc)
        if not records and not errors:
            errors.extend(nothing_harvested(good))
        return records, errors

    # -- reading ------------------------------------------------------------------------

    def _read_headers(self, probes: Sequence[FileProbe], salt: bytes) -> list[FileResult]:
        jobs = [(p.path, p.head, p.size, p.display_path, salt) for p in probes]
        if len(jobs) >= self.parallel_min_files and (os.cpu_count() or 1) >= self.parallel_min_cpus:
            # Workers get a short head (cheap to pickle) and read the rest from disk.
            jobs = [(path, head[:WORKER_HEAD], size, shown, key)
                    for path, head, size, shown, key in jobs]
            workers = min(4, os.cpu_count() or 1)
            chunk = max(1, len(jobs) // (workers * 4))
            try:
                with ProcessPoolExecutor(max_workers=workers) as pool:
                    return list(pool.map(_read_one, jobs, chunksize=chunk))
            except (OSError, RuntimeError):
                pass  # no processes available (sandbox, frozen app): read in this process
        return [_read_one(job) for job in jobs]

    # -- the imaging record -------------------------------------------------------------

    def _imaging_record(self, images: list[tuple[FileProbe, HeaderFacts]]) -> ImagingRecord:
        facts = [f for _, f in images]
        warnings: list[str] = []
        keys: set[SeriesKey] = set()
        missing = 0
        for f in facts:
            if f.study is None or f.series is None:
                missing += 1
            keys.add((f.study or "no-study-uid", f.series or f.study or "no-series-uid"))
        if missing:
            warnings.append(f"{missing} file(s) lack StudyInstanceUID or SeriesInstanceUID:"
                            " grouped together")
        patients = {f.patient for f in facts if f.patient}
        sexes = Counter(f.sex for f in facts if f.sex)
        ages = [f.age_years for f in facts if f.age_years is not None]
        if len(patients) > 1:
            # Age and sex of which patient? Better unknown than a mix of two people.
            warnings.append(f"files of {len(patients)} different PatientID values in one set: "
                            "patient age and sex left unknown")
            sexes, ages = Counter(), []
        elif len(sexes) > 1:
            warnings.append("PatientSex differs between files: the most frequent is used")
        thickness = [f.slice_thickness_mm for f in facts if f.slice_thickness_mm is not None]
        contrast_flags = {f.contrast for f in facts}
        contrast = True if True in contrast_flags else (False if False in contrast_flags
                                                        else None)
        imaging = Imaging(
            modalities=sorted({f.modality for f in facts if f.modality}),
            study_count=len({study for study, _ in keys}),
            series_count=len(keys),
            slice_thickness_mm=round(min(thickness), 4) if thickness else None,
            scanner_manufacturers=sorted({f.manufacturer for f in facts if f.manufacturer}),
            contrast=contrast,
            patient_age_years=max(ages) if ages else None,
            patient_sex=sexes.most_common(1)[0][0] if sexes else None,
        )
        record = ImagingRecord(kind="imaging", source=self._set_source([p for p, _ in images]),
                               imaging=imaging, warnings=warnings)
        record.set_series_keys(sorted(keys))
        return record

    def _set_source(self, probes: list[FileProbe]) -> Source:
        """One source for the set: the common folder, a hash over the members' hashes."""
        if len(probes) == 1:
            only = probes[0]
            return Source(path=only.display_path, sha256=only.sha256, size=only.size,
                          connector=self.id, connector_version=self.version)
        digest = hashlib.sha256()
        for sha in sorted(p.sha256 for p in probes):
            digest.update(sha.encode("ascii") + b"\n")
        return Source(path=_common_folder([p.display_path for p in probes]),
                      sha256=digest.hexdigest(), size=sum(p.size for p in probes),
                      connector=self.id, connector_version=self.version)


def _read_one(job: tuple[Path, bytes, int, str, bytes]) -> FileResult:
    """Facts of one file, or ``(path, reason)`` of its failure (plain data: it may cross a
    process boundary, where HarvestError's two-argument constructor does not unpickle)."""
    path, head, size, shown, salt = job
    try:
        return read_facts(path, head, size, shown, salt), None
    except HarvestError as exc:
        return None, (exc.path, exc.reason)
    except Exception as exc:  # one odd file must not lose the set; never echo its text
        return None, (shown, f"not readable DICOM ({type(exc).__name__})")


NON_IMAGE_NAMES = {
    "RTPLAN": "RT plan", "RTDOSE": "RT dose", "RTSTRUCT": "RT structure set",
    "RTRECORD": "RT treatment record", "SR": "structured report", "SEG": "segmentation",
    "PR": "presentation state", "KO": "key object selection", "REG": "registration",
    "DOC": "encapsulated document", "M3D": "model", "FID": "fiducials", "PLAN": "plan",
    "AU": "audio", "RWV": "real world value map", "REGISTRATION": "registration",
}
"""How the one-line reason names a non-image object, by its Modality."""


def nothing_harvested(good: Sequence[tuple[FileProbe, HeaderFacts]]) -> list[HarvestError]:
    """One line per kind of object when readable DICOM gave no record at all.

    A lone RT plan or a DICOMDIR is read fine but holds nothing the registry asks for; an
    empty answer would look like success, so each kind says why (with its file count),
    naming the first file of that kind.
    """
    reasons: dict[str, list[FileProbe]] = {}
    for probe, facts in good:
        if facts.kind == "dicomdir":
            reason = "DICOMDIR: an index of a media set, holds no image itself"
        elif facts.kind == "mesh":
            reason = f"encapsulated {facts.mime or 'document'}: holds no mesh to read"
        else:
            name = NON_IMAGE_NAMES.get(facts.modality or "", "non-image DICOM object")
            reason = f"{name} ({facts.modality or 'no Modality'}): holds no image"
        reasons.setdefault(reason, []).append(probe)
    errors: list[HarvestError] = []
    for reason, probes in reasons.items():
        count = f" ({len(probes)} files)" if len(probes) > 1 else ""
        errors.append(UnsupportedFileError(probes[0].display_path, reason + count))
    return errors


def _common_folder(paths: list[str]) -> str:
    split = [p.replace("\\", "/").split("/")[:-1] for p in paths]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if any(part != parts[0] for part in parts):
            break
        common.append(parts[0])
    # A set inside a zip shares "job.zip!": name the zip itself.
    return "/".join(common).removesuffix("!") or "."


# -- encapsulated meshes ----------------------------------------------------------------------


def _mesh_records(connector: DicomConnector, probe: FileProbe,
                  facts: HeaderFacts) -> list[HarvestRecord]:
    """The mesh inside an Encapsulated STL/OBJ object, read by the registered mesh connector."""
    data = _encapsulated_document(probe)
    suffix = _MESH_SUFFIX.get(facts.mime or "", ".stl")
    with tempfile.TemporaryDirectory(prefix="printharvest-m3d-") as scratch:
        inner = Path(scratch) / f"encapsulated{suffix}"
        inner.write_bytes(data)
        # The nested name keeps the mesh's extension, so connectors that match their
        # `patterns` (the lab's own, and the built-ins' higher scores) recognise it.
        shown = f"{probe.display_path}#EncapsulatedDocument{suffix}"
        inner_probe = probe_file(inner, display_path=shown, relative_parts=probe.relative_parts)
        try:
            records = connector.context.harvest_nested(inner_probe, connector.id)
        except CorruptFileError as exc:
            raise CorruptFileError(probe.display_path, f"the encapsulated {facts.mime} "
                                   f"cannot be read ({exc.reason})") from exc
    result: list[HarvestRecord] = []
    for index, record in enumerate(records):
        record.source = Source(path=probe.display_path, sha256=probe.sha256, size=probe.size,
                               connector=connector.id, connector_version=connector.version,
                               index=index)
        record.warnings = [*record.warnings, "mesh encapsulated in DICOM (M3D)"]
        result.append(record)
    return result


def _encapsulated_document(probe: FileProbe) -> bytes:
    from pydicom import dcmread

    if probe.size > MAX_ENCAPSULATED_BYTES:
        raise CorruptFileError(probe.display_path, "encapsulated document is too large")
    try:
        with probe.open() as fh:
            ds = dcmread(fh, force=True, specific_tags=["EncapsulatedDocument"])
        value: Any = ds.get("EncapsulatedDocument")
    except Exception as exc:
        raise CorruptFileError(probe.display_path,
                               f"EncapsulatedDocument unreadable ({type(exc).__name__})") from exc
    if not value:
        raise CorruptFileError(probe.display_path, "EncapsulatedDocument is empty")
    return _unpad(bytes(value))


def _unpad(data: bytes) -> bytes:
    """Drop DICOM's even-length NUL padding: one byte after a binary STL, any after text."""
    if len(data) >= 84:
        count = int.from_bytes(data[80:84], "little")
        if len(data) == 84 + 50 * count:
            return data
        if len(data) - 1 == 84 + 50 * count:
            return data[:-1]
    return data.rstrip(b"\x00")
