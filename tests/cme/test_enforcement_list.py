"""The enforcement list: the agency's actions only, filtered, paginated, constant queries."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cme.models import Enforcement

from .helpers import DAY, UST_TYPE, enforcement, inspection, pa_reviewer, violation

LIST = "regulator:cme_enforcements"


def test_it_filters_enforcement_actions_by_type_and_date(cast, client):
    nov = enforcement(cast, occurred_on=DAY)
    order = enforcement(cast, enforcement_type="c", occurred_on=DAY + datetime.timedelta(days=10))
    early = enforcement(cast, occurred_on=DAY - datetime.timedelta(days=30))
    client.force_login(cast.cupa_reviewer)
    assert list(client.get(reverse(LIST)).context["page"]) == [order, nov, early]
    assert list(client.get(reverse(LIST), {"enforcement_type": "c"}).context["page"]) == [order]
    dated = client.get(reverse(LIST), {"occurred_from": "2024-04-15", "occurred_to": "2024-05-05"})
    assert list(dated.context["page"]) == [nov]
    both = client.get(reverse(LIST), {"enforcement_type": "a", "occurred_from": "2024-05-02"})
    assert list(both.context["page"]) == []
    assert "No enforcement action matches these filters." in both.content.decode()


def test_it_filters_by_facility(cast, client):
    here = enforcement(cast)
    client.force_login(cast.state_admin)
    elsewhere = enforcement(
        cast, actor=cast.state_admin, regulator=cast.state, facility=cast.facility_yolo
    )
    assert list(client.get(reverse(LIST)).context["page"]) == [elsewhere, here]
    response = client.get(reverse(LIST), {"cers_id": cast.facility_yolo.cers_id})
    assert list(response.context["page"]) == [elsewhere]


def test_it_paginates(cast, client, settings):
    settings.CERS_PAGE_SIZE = 2
    for days in range(3):
        enforcement(cast, occurred_on=DAY - datetime.timedelta(days=days))
    client.force_login(cast.cupa_reviewer)
    first = client.get(reverse(LIST)).context["page"]
    assert (len(first), first.paginator.num_pages) == (2, 2)
    second = client.get(reverse(LIST), {"page": 2}).context["page"]
    assert [e.occurred_on for e in second] == [DAY - datetime.timedelta(days=2)]


def test_another_cupa_and_the_pa_do_not_see_the_cupas_actions(cast, client):
    action = enforcement(cast, [violation(cast, inspection(cast))])
    for user in (cast.cupa2_reviewer, pa_reviewer(cast)):
        client.force_login(user)
        assert list(client.get(reverse(LIST)).context["page"]) == []
        detail = client.get(reverse("regulator:cme_enforcement", args=[action.pk]))
        assert detail.status_code == 404
    client.force_login(cast.state_admin)
    assert list(client.get(reverse(LIST)).context["page"]) == [action]


def test_the_pa_sees_the_actions_on_its_own_violations(cast, client):
    reviewer = pa_reviewer(cast)
    parent = inspection(cast, "c", actor=reviewer, regulator=cast.pa)
    ust = violation(cast, parent, UST_TYPE, actor=reviewer, regulator=cast.pa)
    action = enforcement(cast, [ust], actor=reviewer, regulator=cast.pa)
    enforcement(cast)  # the CUPA's, unlinked: not the PA's
    client.force_login(cast.pa_viewer)
    assert list(client.get(reverse(LIST)).context["page"]) == [action]
    client.force_login(cast.cupa_reviewer)
    assert action not in client.get(reverse(LIST)).context["page"]


def test_business_users_are_refused(cast, client):
    client.force_login(cast.lead)
    assert client.get(reverse(LIST)).status_code == 403


def _list_queries(client, cast, count):
    Enforcement.objects.all().delete()
    for _ in range(count):
        enforcement(cast, [violation(cast, inspection(cast))])
    client.force_login(cast.cupa_reviewer)
    client.get(reverse(LIST))  # the session settles on the first page
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(LIST))
    assert response.status_code == 200
    return len(queries)


def test_the_list_query_count_does_not_grow(cast, client):
    assert _list_queries(client, cast, 2) == _list_queries(client, cast, 12)


def test_a_to_date_before_the_from_date_is_explained(cast, client):
    """Dates typed the wrong way round say so beside “To”, instead of a list that only
    seems to have nothing in that range."""
    nov = enforcement(cast, occurred_on=DAY)
    client.force_login(cast.cupa_reviewer)
    response = client.get(
        reverse(LIST), {"occurred_from": "2024-05-05", "occurred_to": "2024-04-15"}
    )
    assert response.context["filters"].errors["occurred_to"] == [
        "“To” (2024-04-15) is before “From” (2024-05-05): swap them."
    ]
    assert "No enforcement action matches these filters." not in response.content.decode()
    assert list(response.context["page"]) == [nov]  # an invalid filter is ignored, as ever


def test_it_filters_formal_from_informal_actions_and_by_formal_type(cast, client):
    notice = enforcement(cast)
    civil = enforcement(cast, enforcement_type="c", formal_type="b", occurred_on=DAY)
    criminal = enforcement(cast, enforcement_type="c", formal_type="c", occurred_on=DAY)
    client.force_login(cast.cupa_reviewer)

    def listed(value):
        return set(client.get(reverse(LIST), {"formal": value}).context["page"])

    assert listed("formal") == {civil, criminal}
    assert listed("informal") == {notice}
    assert listed("b") == {civil}
    assert listed("not-a-choice") == {notice, civil, criminal}  # ignored, as every filter
    export = client.get(reverse("regulator:cme_enforcements_export"), {"formal": "c"})
    rows = b"".join(export.streaming_content).decode().splitlines()
    assert len(rows) == 2  # the header and the criminal case
