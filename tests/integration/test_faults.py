"""The fault harness's short run (tools/faults.py, issue 17): real gunicorn, worker, beat and a
Redis of its own, with the default settings, worker kills (pool process, main process, at the
commit), Redis restarts with and without AOF, Redis down at upload, duplicate keys, concurrent
reviews and a portal submit racing two reviews. It fails on any upload lost, duplicated,
partial or final later than a minute after its fault ended."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

pytestmark = pytest.mark.integration

FAULT_CLASSES = (
    "kill pool process",
    "kill worker",
    "kill at commit",
    "redis restart (AOF)",
    "redis restart (no AOF)",
    "redis down at upload",
    "duplicate keys",
    "concurrent reviews",
    "submit racing review",
)


def test_the_short_fault_run_loses_duplicates_and_splits_no_upload():
    # A database of its own beside the suite's (the harness drops and creates it).
    parts = urlsplit(os.environ["DATABASE_URL"])
    database = urlunsplit(parts._replace(path=f"/{parts.path.lstrip('/') or 'cers'}_faults_ci"))
    command = [sys.executable, "tools/faults.py", "--kills", "3", "--redis-restarts", "2"]
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [*command, "--short", "--database-url", database],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = f"{result.stdout}\n{result.stderr[-6000:]}"
    assert result.returncode == 0, output
    rows = {}
    for line in result.stdout.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 10 and cells[1].isdigit():
            rows[cells[0]] = [int(cell) for cell in cells[1:7]]
    # Every fault class ran, and none lost, duplicated, split or delayed an upload.
    assert set(rows) == set(FAULT_CLASSES), output
    for fault, (trials, uploads, lost, duplicated, partial, late) in rows.items():
        assert trials >= 1 and uploads >= 1, (fault, output)
        assert (lost, duplicated, partial, late) == (0, 0, 0, 0), (fault, output)
    assert re.search(r"uploads still not final at the end: 0;", result.stdout), output
