"""EXPLAIN ANALYZE of a list page's queries on a seeded data set (``manage.py seed_scale``):
the count, the rows of page 1, of a deep page (by its number, an OFFSET, and, when the code
offers it, by the sort key of the row before it), of the last page and of a name search, for a
persona's list.

    DATABASE_URL=postgres://root@127.0.0.1:5432/cers_copy_200000 \
        .venv/bin/python bench/explain_lists.py --persona cupa-reviewer --deep 300

Run it on a copy of the data set: it changes nothing, but its plans are those of the copy's
indexes (``migrate`` the copy first to measure a branch's). Prints, for each query, its
execution time and the plan's first lines.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlencode

# The project the current directory holds (run it from a checkout to measure its code).
sys.path.insert(0, str(Path.cwd()))

DECLARE = re.compile(r"^DECLARE\s+\S+\s+.*?CURSOR\s+WITH(OUT)?\s+HOLD\s+FOR\s+", re.S)

LISTS = {
    "facilities": ("regulator:facilities", "Valley"),
    "organizations": ("regulator:organizations", "Fuel"),
    "queue": ("regulator:review_queue", None),
    "inspections": ("regulator:cme_inspections", None),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persona", default="cupa-reviewer")
    parser.add_argument("--list", default="facilities", choices=sorted(LISTS))
    parser.add_argument("--deep", type=int, default=300, help="the deep page's number")
    parser.add_argument("--search", default=None, help="the search words (a default per list)")
    parser.add_argument("--lines", type=int, default=6, help="plan lines shown per query")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cers.settings")
    os.environ.pop("REDIS_URL", None)
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # responses carry their context
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.models import User

    user = User.objects.get(email=f"{args.persona}@scale.cers.example")
    client = Client()
    client.force_login(user)
    name, search = LISTS[args.list]
    search = args.search or search
    url = reverse(name)
    client.get(url)  # warm-up

    def queries(query_string: str):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url + query_string)
        assert response.status_code == 200, (query_string, response.status_code)
        return response, [DECLARE.sub("", q["sql"]) for q in captured.captured_queries]

    def explain(label: str, sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        total = next((line for line in plan if line.startswith("Execution Time")), "")
        print(f"--- {label}: {total}")
        for line in plan[: args.lines]:
            print("    " + line[:160])

    table = None
    first_response, first = queries("")
    page = first_response.context["page"]
    table = page.object_list[0]._meta.db_table if page.object_list else None
    listed = [q for q in first if table and f'FROM "{table}"' in q]
    counts = [q for q in listed if q.startswith("SELECT COUNT(*)")]
    rows = [q for q in listed if not q.startswith("SELECT COUNT(*)")]
    print(
        f"{args.persona} {args.list}: {page.paginator.count} counted (cap "
        f"{getattr(settings, 'CERS_LIST_COUNT_CAP', None)}), {len(first)} queries"
    )
    if counts:
        explain("count", counts[0])
    if rows:
        explain("page 1", rows[0])
    _, deep = queries(f"?page={args.deep}")
    deep_rows = [q for q in deep if f'FROM "{table}"' in q and "OFFSET" in q]
    if deep_rows:
        # Past the counted pages the number gives the last counted one: its OFFSET says which.
        offset = re.search(r"OFFSET (\d+)", deep_rows[0]).group(1)
        explain(f"?page={args.deep} (OFFSET {offset})", deep_rows[0])
    # A number past the end of the list: every query it makes on the list's table but the
    # capped count (which page 1 showed).
    _, past = queries("?page=999999")
    past_rows = [q for q in past if f'FROM "{table}"' in q and not re.search(r"LIMIT \d+\)", q)]
    for i, sql in enumerate(past_rows, 1):
        explain(f"?page=999999, query {i}: {sql[:60]}...", sql)
    _, last = queries("?page=last")
    last_rows = [q for q in last if f'FROM "{table}"' in q and not q.startswith("SELECT COUNT(*)")]
    if last_rows:
        explain("?page=last", last_rows[0])
    try:
        from core.pagination import encode_key
    except ImportError:
        encode_key = None
    if encode_key and getattr(page, "keys", None):
        before = page.paginator.object_list[
            (args.deep - 1) * page.paginator.per_page - 1 : (args.deep - 1)
            * page.paginator.per_page
        ]
        before = list(before)
        token = encode_key(before[0], page.keys) if before else None  # None: past the end
        _, seek = queries(f"?after={token}&page={args.deep}") if token else (None, [])
        seek_rows = [
            q for q in seek if f'FROM "{table}"' in q and not q.startswith("SELECT COUNT(*)")
        ]
        if seek_rows:
            explain(f"page {args.deep} by ?after=", seek_rows[0])
    if search:
        _, found = queries("?" + urlencode({"q": search}))
        for label, sql in (
            ("search count", next((q for q in found if q.startswith("SELECT COUNT(*)")), None)),
            (
                "search page 1",
                next(
                    (
                        q
                        for q in found
                        if f'FROM "{table}"' in q and not q.startswith("SELECT COUNT(*)")
                    ),
                    None,
                ),
            ),
        ):
            if sql:
                explain(f"{label} ?q={search}", sql)


if __name__ == "__main__":
    main()
