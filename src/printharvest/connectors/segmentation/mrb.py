"""3D Slicer scene bundles (``.mrb``): the Slicer version and the segmentations inside.

An MRB is a zip holding one ``.mrml`` scene (XML) and the files it references. The scene's
root element says which Slicer saved it (``version="Slicer5.6.2 32448"``: application
version and revision; a bare ``Slicer4.4.0`` is the scene format's own default, not an
application version). Each ``.seg.nrrd`` member is read like a loose one, header only: the
header bytes alone are copied out of the zip, never the voxels.

Scene node names and member file names are not read into the record: they are free text a
person typed (often a patient's name).
"""

from __future__ import annotations

import re
import tempfile
import zipfile
import zlib
from pathlib import Path

from printharvest.connectors.base import FileConnector
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.segmentation.slicer import (
    MAX_HEADER_BYTES,
    SLICER,
    nrrd_header_end,
    read_slicer_segments,
)
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Segment, Software

MAX_SCENE_BYTES = 64 << 20
_VERSION = re.compile(rb"<MRML\b[^>]*?\bversion\s*=\s*\"Slicer\s*(\d+(?:\.\d+){0,3})\s+(\d+)")
_ROOT = re.compile(rb"<MRML\b")


class SlicerSceneConnector(FileConnector):
    """3D Slicer scene bundles: the software version and every segmentation's segments."""

    id = "slicer-mrb"
    label = "3D Slicer scene bundle (.mrb)"
    version = "1.0"
    patterns = ("*.mrb",)

    def detect(self, probe: FileProbe) -> float:
        """A zip with an ``.mrml`` member (the scene)."""
        members = probe.zip_members
        if members is None:
            return 0.0
        if any(m.lower().endswith(".mrml") for m in members):
            return 0.95 if probe.matches(self.patterns) else 0.85
        return 0.2 if probe.matches(self.patterns) else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One ``segmentation`` record for the scene, with the segments of all its
        segmentations in scene order."""
        shown = probe.display_path
        try:
            with zipfile.ZipFile(probe.path) as archive:
                infos = [i for i in archive.infolist() if not i.is_dir()]
                scenes = [i for i in infos if i.filename.lower().endswith(".mrml")]
                if not scenes:
                    raise CorruptFileError(shown, "scene bundle holds no .mrml scene")
                scene = scenes[0]
                if scene.file_size > MAX_SCENE_BYTES:
                    raise CorruptFileError(shown, "scene .mrml is larger than "
                                                  f"{MAX_SCENE_BYTES >> 20} MiB")
                xml = archive.read(scene)
                segmentations = sorted((i for i in infos
                                        if i.filename.lower().endswith(".seg.nrrd")),
                                       key=lambda i: i.filename)
                segments: list[Segment] = []
                with tempfile.TemporaryDirectory(prefix="printharvest-mrb-") as tmp:
                    for number, info in enumerate(segmentations):
                        header = _header_bytes(archive, info, shown)
                        target = Path(tmp) / f"{number}.seg.nrrd"
                        target.write_bytes(header)
                        # the member's own name stays out of the error: it is free text
                        segments += read_slicer_segments(
                            target, f"{shown} (segmentation {number + 1})")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
                NotImplementedError, RuntimeError, ValueError) as exc:
            raise CorruptFileError(shown, f"not a readable scene bundle "
                                          f"({type(exc).__name__})") from exc
        if not _ROOT.search(xml[:65536]):
            raise CorruptFileError(shown, "scene .mrml has no MRML root element")
        found = _VERSION.search(xml[:65536])
        software = Software(name=SLICER, version=found.group(1).decode() if found else None)
        warnings_ = [] if segments else ["scene bundle holds no segmentation"]
        return [self.new_record(probe, "segmentation", part_count=len(segments) or None,
                                segments=segments, software=software, warnings=warnings_)]


def _header_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo, shown: str) -> bytes:
    """The NRRD header of a member, read in small chunks up to its blank line."""
    data = b""
    with archive.open(info) as member:
        while len(data) < MAX_HEADER_BYTES:
            chunk = member.read(64 << 10)
            if not chunk:
                break
            data += chunk
            end = nrrd_header_end(data)
            if end >= 0:
                return data[:end]
    if not data.startswith(b"NRRD000"):
        raise CorruptFileError(shown, "a segmentation in the bundle is not NRRD")
    if len(data) >= MAX_HEADER_BYTES:
        raise CorruptFileError(shown, "a segmentation header in the bundle does not end "
                                      f"within {MAX_HEADER_BYTES} bytes")
    return data
