"""Portal benchmarks on PostgreSQL: each persona's list, search, dashboard and detail pages on
a state-sized data set (``manage.py seed_scale``), beside each page's slowest SQL run raw.

    DATABASE_URL=postgres://root@127.0.0.1:5432/cers_bench .venv/bin/python bench/bench_portal.py \\
        --facilities 10000,200000

(``make bench-portal`` does this.) Each size has a database of its own, named after
DATABASE_URL's with the size appended (``cers_bench_10000``): created, migrated and seeded when
it does not hold that many facilities, and reused as it is when it does (``--reseed`` builds it
again). Seeding 200,000 facilities takes several minutes.

For every page: the number of queries; p50 and p95 of the whole request over ``--requests``
requests (Django's test client, DEBUG off, the user signed in, after one warm-up request);
and the page's slowest query (over three requests, captured with ``CaptureQueriesContext``)
run alone on a raw cursor as many times (p50), with the ratio of the page's p50 to it. A
ratio near 1 says the page costs what its main query costs; a large one says the time goes
elsewhere.

Figures are for comparing runs on one machine, as ratios: never assert on them in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cers.settings")
    os.environ.pop("REDIS_URL", None)
    os.environ["EMAIL_URL"] = "dummymail://"
    # DEBUG keeps every query's SQL in memory and renders differently; production runs without.
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    import django

    django.setup()


def database_url(base: str, size: int) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{size}"))


def prepare(url: str, size: int, reseed: bool) -> None:
    """Create, migrate and seed the size's database unless it already holds ``size``
    facilities."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        held = 0
        if exists and not reseed:
            with psycopg.connect(url) as db:
                try:
                    held = db.execute("SELECT count(*) FROM facilities_facility").fetchone()[0]
                except psycopg.errors.UndefinedTable:
                    held = 0
        if exists and held != size:
            connection.execute(f'DROP DATABASE "{name}"')
            exists = False
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    env = os.environ | {"DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--verbosity=0"], check=True, cwd=ROOT, env=env)  # noqa: S603
    if held != size:
        started = time.monotonic()
        subprocess.run(  # noqa: S603
            [*manage, "seed_scale", f"--facilities={size}"],
            check=True,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        print(f"seeded {size:,} facilities in {time.monotonic() - started:.0f} s", file=sys.stderr)
    # What autovacuum does soon after a bulk load: the visibility map lets the scopes' counts
    # read their indexes alone, and the statistics describe the rows now there.
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("VACUUM (ANALYZE)")


# --- the pages ------------------------------------------------------------------------------

DECLARE = re.compile(r"^DECLARE\s+\S+\s+.*?CURSOR\s+WITH(OUT)?\s+HOLD\s+FOR\s+", re.S)
REGULATOR_PERSONAS = ("cupa-reviewer", "cupa-admin", "pa-reviewer", "state-admin")


def pages_for(handle: str, user) -> list[tuple[str, str]]:
    """(label, URL) of the pages ``user`` works with, details picked from what they see."""
    from django.urls import reverse

    from cme.models import Inspection
    from facilities.models import Facility
    from organizations.models import Organization
    from submittals.models import SubmittalElementRecord

    if handle == "lead":
        facility = Facility.objects.for_user(user).order_by("cers_id").first()
        return [
            ("home", reverse("business:home")),
            ("facility list", reverse("business:facilities")),
            ("facility search", reverse("business:facilities") + "?q=Valley"),
            ("facility detail", reverse("business:facility", args=[facility.cers_id])),
            ("submittals", reverse("business:submittals", args=[facility.cers_id])),
        ]
    staff = user.staff_memberships.select_related("regulator").get()
    regulator = staff.regulator
    facility = Facility.objects.in_jurisdiction(regulator).order_by("cers_id").last()
    organization = Organization.objects.in_jurisdiction(regulator).order_by("code").last()
    element = (
        SubmittalElementRecord.objects.in_jurisdiction(regulator)
        .awaiting_review()
        .order_by("pk")
        .last()
    )
    inspection = Inspection.objects.in_jurisdiction(regulator).order_by("pk").last()
    pages = [
        ("dashboard", reverse("regulator:home")),
        ("facility list", reverse("regulator:facilities")),
        ("facility search", reverse("regulator:facilities") + "?q=Valley"),
        ("facility CERS ID", reverse("regulator:facilities") + f"?q={facility.cers_id}"),
        ("facility detail", reverse("regulator:facility", args=[facility.cers_id])),
        ("organization list", reverse("regulator:organizations")),
        ("organization search", reverse("regulator:organizations") + "?q=Fuel"),
        ("organization detail", reverse("regulator:organization", args=[organization.code])),
        ("review queue", reverse("regulator:review_queue")),
        ("inspections", reverse("regulator:cme_inspections")),
        ("violations past RTC", reverse("regulator:violations_past_rtc")),
    ]
    if element is not None:
        pages.append(("review page", reverse("regulator:review", args=[element.pk])))
    if inspection is not None:
        pages.append(
            ("inspection detail", reverse("regulator:cme_inspection", args=[inspection.pk]))
        )
    return pages


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(size: int, requests: int, only: str) -> list[dict]:
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    rows = []
    pattern = re.compile(only) if only else None
    for handle in (*REGULATOR_PERSONAS, "lead"):
        user = User.objects.get(email=f"{handle}@scale.cers.example")
        client = Client()
        client.force_login(user)
        for label, url in pages_for(handle, user):
            if pattern and not pattern.search(f"{handle} {label}"):
                continue
            response = client.get(url)  # warm-up: templates, the session, the agency
            assert response.status_code == 200, (handle, url, response.status_code)
            # The page's queries over three requests (each request resets the connection's
            # query log, so each is read at once): the slowest is the one whose three times
            # add up to most, so one stall on a busy machine does not pick it.
            runs = []
            for _ in range(3):
                with CaptureQueriesContext(connection) as captured:
                    client.get(url)
                runs.append(list(captured.captured_queries))
            queries = runs[0]
            totals = [
                sum(float(run[i]["time"]) for run in runs if i < len(run))
                for i in range(len(queries))
            ]
            slowest = queries[totals.index(max(totals))]
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                client.get(url)
                times.append(time.perf_counter() - started)
            # A server-side cursor's query is run as the plain query it declares.
            sql = DECLARE.sub("", slowest["sql"])
            raw = []
            with connection.cursor() as cursor:
                for _ in range(requests):
                    started = time.perf_counter()
                    cursor.execute(sql)
                    cursor.fetchall()
                    raw.append(time.perf_counter() - started)
            rows.append(
                {
                    "size": size,
                    "persona": handle,
                    "page": label,
                    "queries": len(queries),
                    "p50": statistics.median(times),
                    "p95": percentile(times, 0.95),
                    "raw_p50": statistics.median(raw),
                    "sql": sql[:300],
                }
            )
            print(
                f"  {handle} {label}: {rows[-1]['p50'] * 1000:.1f} ms", file=sys.stderr, flush=True
            )
    return rows


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'facilities':>10}  {'persona':<13}  {'page':<20}  {'queries':>7}  {'p50 ms':>8}  "
        f"{'p95 ms':>8}  {'raw ms':>8}  {'page/raw':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = row["p50"] / row["raw_p50"] if row["raw_p50"] else float("inf")
        print(
            f"{row['size']:>10,}  {row['persona']:<13}  {row['page']:<20}  {row['queries']:>7}  "
            f"{row['p50'] * 1000:>8.1f}  {row['p95'] * 1000:>8.1f}  "
            f"{row['raw_p50'] * 1000:>8.1f}  {ratio:>7.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", default="10000", help="data set sizes, e.g. 10000,200000")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--only", default="", help="measure only 'persona page' matching this")
    parser.add_argument("--reseed", action="store_true", help="build each database again")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.requests, args.only)))
        return
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database name to build on, e.g. "
            "postgres://root@127.0.0.1:5432/cers_bench (the size is appended)."
        )
    if args.requests < 1:
        sys.exit("--requests must be at least 1.")
    rows = []
    for size in [int(s) for s in args.facilities.split(",") if s]:
        url = database_url(base, size)
        prepare(url, size, args.reseed)
        result = subprocess.run(  # noqa: S603
            [
                sys.executable,
                str(Path(__file__).resolve()),
                f"--measure={size}",
                f"--requests={args.requests}",
                f"--only={args.only}",
            ],
            check=True,
            cwd=ROOT,
            env=os.environ | {"DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            text=True,
        )
        rows += json.loads(result.stdout)
    print_table(rows)
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
