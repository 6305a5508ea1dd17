"""Reading the bundled modality files (``knowledge/data/modalities/*.yaml``) as plain
mappings, before any check."""

from __future__ import annotations

import typing

import yaml

from dermatrack.knowledge import packaged


def read_modality_files() -> dict[str, typing.Any]:
    """Map ``modalities/<file>`` to its parsed YAML (a string on a YAML syntax error)."""
    out: dict[str, typing.Any] = {}
    folder = packaged.data_root().joinpath("modalities")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        try:
            out[f"modalities/{entry.name}"] = yaml.safe_load(entry.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            out[f"modalities/{entry.name}"] = f"not valid YAML: {exc}".replace("\n", " ")
    return out
