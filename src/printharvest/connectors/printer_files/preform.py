"""Formlabs ``.form`` job files, read through PreForm's local API (PreFormServer).

A ``.form`` file is PreForm's own scene format; only PreForm reads it faithfully. So this
connector asks a running PreFormServer (``http://localhost:44388`` by default on the lab PC):
``POST /load-form/ {"file": PATH}`` loads the scene, ``GET /scene/{id}/`` gives the printer
type, material code, layer thickness, models and material usage, and
``POST /scene/{id}/estimate-print-time/`` the print time; the scene is deleted afterwards.

Where the server is set: the environment variable ``PRINTHARVEST_PREFORM_URL``. Without it a
``.form`` file gets the one-line reason "needs PreFormServer", never a guess.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from printharvest.connectors.base import FileConnector
from printharvest.connectors.printer_files.formlabs import (
    machine_model,
    machine_technology,
    material_table,
    material_technology,
)
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.units import amount, as_float, seconds
from printharvest.exceptions import HarvestError
from printharvest.models import HarvestRecord, Material, Part, Printer

if TYPE_CHECKING:
    import httpx

PREFORM_ENV = "PRINTHARVEST_PREFORM_URL"
DEFAULT_PREFORM_URL = "http://localhost:44388"
TIMEOUT_ENV = "PRINTHARVEST_PREFORM_TIMEOUT"


class NeedsPreFormServer(HarvestError):
    """A ``.form`` file cannot be read without a configured, reachable PreFormServer."""


def scene_fields(scene: dict[str, Any], estimate: dict[str, Any]) -> dict[str, Any]:
    """HarvestRecord fields from a PreFormServer scene and its print-time estimate."""
    settings = scene.get("scene_settings") if isinstance(scene.get("scene_settings"),
                                                         dict) else {}
    assert isinstance(settings, dict)
    machine = str(settings.get("machine_type") or "") or None
    code = str(settings.get("material_code") or "") or None
    usage = scene.get("material_usage") if isinstance(scene.get("material_usage"), dict) else {}
    assert isinstance(usage, dict)
    volume = amount("used_ml", usage.get("volume_ml"))
    technology = machine_technology(machine) or material_technology(code)
    label = material_table().get((code or "").upper(), (None, ()))[0]
    materials = [Material(name=label or code, code=code, role="model", used_ml=volume,
                          type="powder" if technology == "powder_bed_fusion" else "resin")
                 ] if code else []
    models = [m for m in scene.get("models") or [] if isinstance(m, dict)]
    return {
        "printer": Printer(manufacturer="Formlabs", model=machine_model(machine)),
        "technology": technology,
        "materials": materials,
        "layer_height_mm": amount("layer_height_mm", settings.get("layer_thickness_mm")),
        "print_time_s": seconds(estimate.get("total_print_time_s")),
        "part_count": len(models) if models else None,
        "parts": [Part() for _ in models],  # model names are file names: not kept
        "volume_ml": volume,
    }


class PreFormConnector(FileConnector):
    """``.form`` files, read through a configured PreFormServer."""

    id = "formlabs_form"
    label = "Formlabs PreForm .form (through PreFormServer)"
    version = "1.0"
    patterns = ("*.form",)

    def detect(self, probe: FileProbe) -> float:
        """Claims ``.form`` files by name (the format itself is PreForm's own)."""
        return 0.6 if probe.lower_name.endswith(".form") else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One print record from the scene PreFormServer loads from the file."""
        url = os.environ.get(PREFORM_ENV, "").strip().rstrip("/")
        if not url:
            raise NeedsPreFormServer(
                probe.display_path,
                f"needs PreFormServer: set {PREFORM_ENV} (e.g. {DEFAULT_PREFORM_URL})")
        timeout = as_float(os.environ.get(TIMEOUT_ENV)) or 120.0
        import httpx  # only when a .form file is read: httpx slows every command's start

        try:
            with httpx.Client(base_url=url, timeout=timeout) as client:
                loaded = _json(client.post("/load-form/",
                                           json={"file": str(probe.path.resolve())}))
                scene_id = str(loaded.get("id") or "")
                base = f"/scene/{scene_id}/" if scene_id else "/scene/"
                try:
                    scene = loaded if "scene_settings" in loaded else _json(client.get(base))
                    estimate = _json(client.post(base + "estimate-print-time/", json={}))
                finally:
                    if scene_id:
                        client.delete(base)
        except httpx.HTTPError as exc:
            raise NeedsPreFormServer(
                probe.display_path, f"needs PreFormServer: {url} did not answer "
                f"({type(exc).__name__})") from exc
        except ValueError as exc:
            raise NeedsPreFormServer(probe.display_path,
                                     f"PreFormServer answered badly ({exc})") from exc
        return [self.new_record(probe, "print", **scene_fields(scene, estimate))]


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise ValueError(f"HTTP {response.status_code}")
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data
