"""collectstatic with the production storage (what `make install` and the Docker image
run): every static file and every file it references must be there."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from config.settings import base


def test_collectstatic_with_the_manifest_storage_finds_every_referenced_file(
    tmp_path: Path,
) -> None:
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=base.STORAGES):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "vendor/chartjs/chart.umd.min.js" in manifest
    assert "candor/candor.css" in manifest


@pytest.mark.parametrize("name", ["chart.umd.min.js", "LICENSE.md"])
def test_the_vendored_chart_library_is_what_its_checksums_record(name: str) -> None:
    import hashlib

    folder = Path(base.BASE_DIR) / "static" / "vendor" / "chartjs"
    recorded: dict[str, str] = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, filename = line.split()
        recorded[filename] = digest
    assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == recorded[name]
