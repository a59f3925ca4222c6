"""The database settings built from DATABASE_URL (cers/settings.py)."""

import json
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def settings_for(url: str) -> dict:
    """``DATABASES["default"]`` as a fresh process builds it from ``url`` (nothing connects)."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps(settings.DATABASES['default'], default=str))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "cers.settings", "PATH": ""},
    )
    return json.loads(result.stdout)


def test_postgresql_sessions_run_without_jit():
    database = settings_for("postgres://cers@db.example:5432/cers")
    assert database["OPTIONS"]["options"] == "-c jit=off"


def test_postgresql_options_from_the_url_are_kept_and_an_explicit_jit_wins():
    database = settings_for("postgres://cers@db.example:5432/cers?options=-c%20work_mem%3D64MB")
    assert database["OPTIONS"]["options"] == "-c work_mem=64MB -c jit=off"
    database = settings_for("postgres://cers@db.example:5432/cers?options=-c%20jit%3Don")
    assert database["OPTIONS"]["options"] == "-c jit=on"


def test_sqlite_gets_no_postgresql_options():
    database = settings_for("sqlite:////tmp/cers-settings-test.sqlite3")
    assert "options" not in database.get("OPTIONS", {})


def test_the_test_database_connection_runs_without_jit(db):
    """On the PostgreSQL pass, the session really has JIT off (SQLite has no JIT)."""
    if connection.vendor != "postgresql":
        assert "options" not in connection.settings_dict.get("OPTIONS", {})
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
