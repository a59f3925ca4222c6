"""What the reporting rule costs on a ``seed_scale`` data set: the status report, the dashboard
summaries and the facility list's overdue and program filters.

    DATABASE_URL=postgres://root@127.0.0.1:5432/cers_bench_50000 \\
        .venv/bin/python bench/bench_reporting_rule.py --runs 3

Each measure is run ``--runs`` times after a warm-up, and its median printed, in ms:

- ``status_report(...)`` for the state administrator and the CUPA administrator, and
  ``EXPLAIN ANALYZE`` of its overdue query (the one reading ``next_due_date``) once;
- ``portal.services.refresh_summaries`` (every agency's dashboard counts);
- the regulator's facility list (the whole page through Django's test client) for the state
  administrator and the CUPA reviewer, with ``?overdue=1`` and with ``?must_report=4``.

It asks only what every version of the code since the status report has, so the same script
measures a checkout of an earlier commit (run it from that checkout's directory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """``bench_portal``'s set-up, with the code of the checkout it is run from (its working
    directory) first on the path."""
    from bench_portal import setup_django as set_up  # puts its own checkout on the path

    sys.path.insert(0, str(Path.cwd()))
    set_up()


def timed(function, runs: int) -> tuple[float, object]:
    result = function()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="measure only the lines containing this")
    parser.add_argument("--explain", action="store_true", help="print the overdue query's plans")
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import User
    from facilities.models import Facility
    from portal.services import refresh_summaries
    from portal.views.report import status_report

    def wanted(label: str) -> bool:
        return args.only in label

    print(f"{Facility.objects.count():,} facilities; load average {os.getloadavg()[0]:.1f}")
    today = timezone.localdate()
    for handle in ("state-admin", "cupa-admin"):
        label = f"status report, {handle}"
        if not wanted(label):
            continue
        user = User.objects.get(email=f"{handle}@scale.cers.example")
        regulator = user.staff_memberships.select_related("regulator").get().regulator
        ms, report = timed(lambda: status_report(user, regulator, today), args.runs)  # noqa: B023
        print(f"{label}: {ms:,.0f} ms ({report.overdue_total:,} overdue elements)")
        with CaptureQueriesContext(connection) as captured:
            status_report(user, regulator, today)
        sql = next(q["sql"] for q in captured.captured_queries if "next_due_date" in q["sql"])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        print(f"  overdue query: {plan[-1].strip()}")
        if args.explain:
            print("\n".join("    " + line for line in plan))
    if wanted("refresh_summaries"):
        ms, _ = timed(refresh_summaries, args.runs)
        print(f"refresh_summaries: {ms:,.0f} ms")
    url = reverse("regulator:facilities")
    for handle in ("state-admin", "cupa-reviewer"):
        client = Client()
        client.force_login(User.objects.get(email=f"{handle}@scale.cers.example"))
        for query in ("?overdue=1", "?must_report=2", "?must_report=4"):
            label = f"facility list {query}, {handle}"
            if not wanted(label):
                continue

            def page(client=client, query=query):
                response = client.get(url + query)
                assert response.status_code == 200, response.status_code
                return response

            ms, _ = timed(page, args.runs)
            print(f"{label}: {ms:,.0f} ms")


if __name__ == "__main__":
    main()
