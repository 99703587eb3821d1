"""DICOM header speed: a 1,000-file CT series through the connector vs a bare header script.

Run from the repository root:  uv run python benchmarks/dicom_headers.py [--files N]

The baseline opens each file, reads its first 8 KiB and parses the same allow-listed tags
with pydicom (``stop_before_pixels``, ``specific_tags``), nothing else: no structure check,
no hashing, no grouping. The connector is timed on probes made beforehand (the harvester
probes every file anyway, for its content hash), sequentially and with its process pool;
the whole ``inspect`` path (probing included) is printed for scale. Target: connector
within 2x of the baseline. Times are the best of interleaved rounds in this process.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from printharvest.connectors.dicom.connector import DicomConnector
from printharvest.connectors.probe import probe_file
from printharvest.harvest.harvester import Harvester
from printharvest.harvest.plugins import PluginHost
from printharvest.privacy import phi
from printharvest.rules.lab import Rules
from printharvest.testing.dicom_synth import (
    SCANNER_PRIVATE,
    scanner_header,
    uid,
    write_slice,
)

# A realistic CT header: the usual acquisition and identification attributes (~2 KiB).
CT_ATTRIBUTES = {
    "PatientName": "SYNTHETIC^BENCH", "PatientID": "SYN-BENCH", "PatientBirthDate": "19700101",
    "PatientSex": "F", "PatientAge": "056Y", "StudyDate": "20260110", "StudyTime": "101010",
    "SeriesDate": "20260110", "AccessionNumber": "SYNBENCH", "InstitutionName": "Synthetic",
    "ReferringPhysicianName": "SYNTHETIC^DOC", "StudyDescription": "CT CHEST ABDOMEN PELVIS",
    "SeriesDescription": "AXIAL 0.625 STANDARD", "Manufacturer": "GE MEDICAL SYSTEMS",
    "ManufacturerModelName": "Revolution CT", "DeviceSerialNumber": "SYN0000",
    "SoftwareVersions": "revo_ct_22", "ProtocolName": "5.1 CAP CONTRAST",
    "BodyPartExamined": "CHEST", "SliceThickness": "0.625", "KVP": "120",
    "DataCollectionDiameter": "500", "ReconstructionDiameter": "380", "GantryDetectorTilt": "0",
    "TableHeight": "150", "RotationDirection": "CW", "ExposureTime": "500",
    "XRayTubeCurrent": "300", "Exposure": "150", "FilterType": "BODY FILTER",
    "ConvolutionKernel": "STANDARD", "PatientPosition": "FFS", "ContrastBolusAgent": "OMNI",
    "ContrastBolusRoute": "IV", "StudyID": "1", "SeriesNumber": "3", "AcquisitionNumber": "1",
    "FrameOfReferenceUID": uid("bench", "for"), "PositionReferenceIndicator": "SN",
    "SliceLocation": "0", "WindowCenter": "40", "WindowWidth": "400",
    "RescaleIntercept": "-1024", "RescaleSlope": "1", "RescaleType": "HU",
}


def make_series(folder: Path, files: int, size: int) -> list[Path]:
    """``files`` slices of one CT series shaped like a scanner's: Specific Character Set,
    the scanner's standard attributes, GE-like private blocks, ``size`` x ``size`` 16-bit
    pixels (256 gives ~130 KB files)."""
    study, series = uid("bench", "study"), uid("bench", "series")
    attributes = {**scanner_header("CT", "GE MEDICAL SYSTEMS"), **CT_ATTRIBUTES,
                  "SpecificCharacterSet": "ISO_IR 100", "PatientName": "SYNTHÉTIQUE^BENCH"}
    return [write_slice(folder / f"IM{n:05d}.dcm", modality="CT", study_uid=study,
                        series_uid=series, number=n, attributes=attributes, size=size,
                        private=SCANNER_PRIVATE["GE MEDICAL SYSTEMS"])
            for n in range(1, files + 1)]


def baseline(paths: list[Path]) -> int:
    """Open each file, parse the allow-listed tags from its first 8 KiB; count modalities."""
    from pydicom import config, dcmread

    config.settings.reading_validation_mode = config.IGNORE
    tags = list(phi.READ_TAGS)
    seen = 0
    for path in paths:
        with path.open("rb") as fh:
            head = fh.read(8192)
        ds = dcmread(io.BytesIO(head), stop_before_pixels=True, specific_tags=tags, force=True)
        seen += ds.get("Modality") == "CT"
        _ = (ds.get("StudyInstanceUID"), ds.get("SeriesInstanceUID"), ds.get("SliceThickness"),
             ds.get("Manufacturer"), ds.get("PatientAge"), ds.get("PatientSex"))
    return seen


def interleaved(contenders: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Best wall time of each contender over ``rounds`` interleaved rounds, printed.

    Interleaving keeps a burst of load from other processes (a shared CI box) from landing
    on one side only.
    """
    times: dict[str, list[float]] = {label: [] for label in contenders}
    for _ in range(rounds):
        for label, run in contenders.items():
            start = time.perf_counter()
            run()
            times[label].append(time.perf_counter() - start)
    for label, values in times.items():
        print(f"  {label:<44} {min(values) * 1000:9.1f} ms")
    return {label: min(values) for label, values in times.items()}


def main() -> None:
    """Generate the series, time both sides, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=256, help="rows = columns of each slice")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ph-dicom-bench-") as scratch:
        folder = Path(scratch) / "series"
        paths = make_series(folder, args.files, args.size)
        total = sum(p.stat().st_size for p in paths)
        print(f"{args.files} CT slices, {total / 1e6:.1f} MB in {folder}")
        probes = [probe_file(p) for p in paths]
        sequential = DicomConnector()
        sequential.parallel_min_files = 10**9
        pooled = DicomConnector()
        pooled.parallel_min_files = 1
        pooled.parallel_min_cpus = 1
        records, errors = sequential.harvest_files(probes)
        assert not errors and records[0].imaging and records[0].imaging.series_count == 1
        host = PluginHost.load(None, entry_points=False)
        harvester = Harvester(host, Rules.load(None))
        found = interleaved({
            "baseline: open + parse first 8 KiB": lambda: baseline(paths),
            "connector, one process": lambda: sequential.harvest_files(probes),
            "connector, process pool": lambda: pooled.harvest_files(probes),
            "inspect path (probe + sha256 + connector)":
                lambda: harvester.harvest_paths([folder], grouping="root"),
            # Where the inspect path's time goes, part by part:
            "  part: probe (read + sha256 of every file)": lambda: [probe_file(p) for p in paths],
            "  part: detection (every connector scores)": lambda: [host.select(p) for p in probes],
        }, args.rounds)
        base, seq, par, whole = list(found.values())[:4]
        print(f"ratio connector/baseline: one process {seq / base:.2f}x, "
              f"process pool {par / base:.2f}x (target <= 2x); "
              f"whole inspect path {whole / base:.2f}x")


if __name__ == "__main__":
    main()
