"""The EDT access pages: the regulator portal's requests, decisions, grants, accounts, tokens,
vendors and announcements, and the EDT program's public pages."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.models import AuditEvent, OutboundEmail
from edt.access import services
from edt.credentials import AuthResult, authenticate, legacy_value
from edt.models import (
    AccessRequest,
    AgencyVendor,
    Announcement,
    ApiToken,
    EdtAccount,
    Subscriber,
    TierGrant,
    Vendor,
)
from tests import factories

TERMS = settings.EDT_TERMS_VERSION
Status = TierGrant.Status


@pytest.fixture
def vendor(cast):
    """A vendor authorized for tiers 1 and 2 only."""
    vendor = services.register_vendor(actor=cast.state_admin, name="Delta Data Systems")
    services.set_vendor_tiers(actor=cast.state_admin, vendor=vendor, tiers=[1, 2])
    return vendor


def request_post(admin, **overrides) -> dict:
    """A complete first request: tiers 1-4 in testing and production, by the agency's own
    system unless ``vendor`` names one."""
    data = {
        "authority_confirmed": "on",
        "environments": ["testing", "production"],
        "tiers": ["1", "2", "3", "4"],
        "terms_accepted": "on",
        "terms_version": TERMS,
        "edt_administrators": [str(admin.pk)],
        "account_email": "edt@sac-cupa.example",
        "account_username": "sac_edt",
        "vendor": "own",
        "note": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def filed_request(regulator, admin, vendor=None, tiers=(1, 2), environments=("testing",)):
    """A request filed through the service, for pages that start from one."""
    prefix = regulator.code
    return services.file_access_request(
        actor=admin,
        regulator=regulator,
        environments=list(environments),
        tiers=list(tiers),
        authority_confirmed=True,
        terms_version=TERMS,
        edt_administrators=[admin],
        new_account=services.NewAccount(email=f"edt@{prefix}.example", username=f"edt_{prefix}"),
        vendor=vendor,
        own_system=vendor is None,
    )


def decisions_post(access_request, answers: dict) -> dict:
    """``answers``: (environment, tier) -> ("approve" | "decline", reason)."""
    data = {}
    for grant in access_request.grants.all():
        answer = answers.get((grant.environment, grant.tier))
        if answer:
            data[f"decision_{grant.pk}"], data[f"reason_{grant.pk}"] = answer
    return data


def statuses(regulator) -> dict:
    return {
        (g.environment, g.tier): g.status for g in TierGrant.objects.filter(regulator=regulator)
    }


# --- the journey -------------------------------------------------------------------------


def test_it_takes_a_cupa_from_request_to_the_grants_the_vendor_allows(
    cast, client, cupa_admin, vendor
):
    client.force_login(cupa_admin)
    page = client.get(reverse("regulator:edt_request_new"))
    assert page.status_code == 200
    assert [v for v, _ in page.context["form"].fields["tiers"].choices] == [1, 2, 3, 4, 5, 6]

    # Authorized for tiers 1-4 when the request is filed, the vendor loses 3 and 4 before the
    # decision (filing with a vendor not authorized for a production tier is refused:
    # test_a_vendor_not_authorized_for_a_tier_is_refused_on_the_form).
    services.set_vendor_tiers(actor=cast.state_admin, vendor=vendor, tiers=[1, 2, 3, 4])
    response = client.post(
        reverse("regulator:edt_request_new"), request_post(cupa_admin, vendor=str(vendor.pk))
    )
    services.set_vendor_tiers(actor=cast.state_admin, vendor=vendor, tiers=[1, 2])
    access_request = AccessRequest.objects.get(regulator=cast.cupa)
    assert response.status_code == 302
    assert response.url == reverse("regulator:edt_request", args=[access_request.pk])
    assert set(statuses(cast.cupa).values()) == {Status.REQUESTED}
    assert len(statuses(cast.cupa)) == 8
    assert access_request.terms_version == TERMS
    assert access_request.edt_account.username == "sac_edt"
    assert any(cast.state_admin.email in e.to for e in OutboundEmail.objects.all())

    client.force_login(cast.state_admin)
    detail = client.get(reverse("regulator:edt_request", args=[access_request.pk]))
    assert detail.context["decision_form"] is not None
    decide = reverse("regulator:edt_request_decide", args=[access_request.pk])

    # Production 3-4 cannot be approved: the vendor is authorized for 1-2. Nothing is stored.
    everything = {
        (env, tier): ("approve", "") for env in ("testing", "production") for tier in (1, 2, 3, 4)
    }
    refused = client.post(decide, decisions_post(access_request, everything))
    assert refused.status_code == 200
    assert "not authorized for tier 3" in refused.content.decode()
    assert set(statuses(cast.cupa).values()) == {Status.REQUESTED}

    answers = {("testing", tier): ("approve", "") for tier in (1, 2, 3, 4)}
    answers |= {("production", 1): ("approve", ""), ("production", 2): ("approve", "")}
    answers |= {("production", t): ("decline", "Vendor not authorized.") for t in (3, 4)}
    response = client.post(decide, decisions_post(access_request, answers))
    assert response.status_code == 302
    assert statuses(cast.cupa) == {
        **{("testing", t): Status.APPROVED for t in (1, 2, 3, 4)},
        ("production", 1): Status.APPROVED,
        ("production", 2): Status.APPROVED,
        ("production", 3): Status.DECLINED,
        ("production", 4): Status.DECLINED,
    }

    # The agency sees the outcome, the reasons and the history.
    client.force_login(cupa_admin)
    detail = client.get(reverse("regulator:edt_request", args=[access_request.pk]))
    content = detail.content.decode()
    assert detail.context["decision_form"] is None
    assert "Vendor not authorized." in content
    actions = [event.action for event in detail.context["history"]]
    assert actions.count("edt.grant_approved") == 6
    assert actions.count("edt.grant_declined") == 2
    assert "edt.access_requested" in actions and "edt.account_created" in actions
    assert actions[-1] in ("edt.access_requested", "edt.account_created")  # newest first


def test_a_decline_without_a_reason_is_refused_and_nothing_is_decided(
    cast, client, cupa_admin, vendor
):
    access_request = filed_request(cast.cupa, cupa_admin, vendor)
    client.force_login(cast.state_admin)
    answers = {("testing", 1): ("approve", ""), ("testing", 2): ("decline", "")}
    response = client.post(
        reverse("regulator:edt_request_decide", args=[access_request.pk]),
        decisions_post(access_request, answers),
    )
    assert response.status_code == 200
    assert "give the reason for declining" in response.content.decode()
    assert set(statuses(cast.cupa).values()) == {Status.REQUESTED}


def test_a_decision_with_no_answer_says_so(cast, client, cupa_admin):
    access_request = filed_request(cast.cupa, cupa_admin)
    client.force_login(cast.state_admin)
    response = client.post(reverse("regulator:edt_request_decide", args=[access_request.pk]), {})
    assert "Decide on at least one tier." in response.content.decode()


# --- the request form's errors -----------------------------------------------------------


def assert_refused(response, field: str, text: str) -> None:
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert text in " ".join(errors.get(field, [])), errors
    assert not AccessRequest.objects.exists()
    assert not TierGrant.objects.exists()
    assert not EdtAccount.objects.exists()


def test_a_pa_is_offered_tiers_1_and_2_only_and_tier_3_is_refused(cast, client, pa_admin):
    client.force_login(pa_admin)
    page = client.get(reverse("regulator:edt_request_new"))
    assert [v for v, _ in page.context["form"].fields["tiers"].choices] == [1, 2]
    response = client.post(
        reverse("regulator:edt_request_new"), request_post(pa_admin, tiers=["1", "3"])
    )
    assert_refused(response, "tiers", "tiers 1 and 2 only")


def test_an_existing_users_email_cannot_be_the_edt_account(cast, client, cupa_admin):
    client.force_login(cupa_admin)
    response = client.post(
        reverse("regulator:edt_request_new"),
        request_post(cupa_admin, account_email=cast.lead.email.upper()),
    )
    assert_refused(response, "account_email", "belongs to an existing CERS account")
    assert not User.objects.filter(is_service_account=True).exists()


def test_an_edt_administrator_must_be_on_the_agencys_staff(cast, client, cupa_admin):
    client.force_login(cupa_admin)
    response = client.post(
        reverse("regulator:edt_request_new"),
        request_post(cupa_admin, edt_administrators=[str(cast.cupa2_reviewer.pk)]),
    )
    assert_refused(response, "edt_administrators", "must be on the agency's staff")


def test_unaccepted_terms_of_use_are_refused(cast, client, cupa_admin):
    client.force_login(cupa_admin)
    response = client.post(
        reverse("regulator:edt_request_new"), request_post(cupa_admin, terms_accepted=None)
    )
    assert_refused(response, "terms_accepted", f"version {TERMS}")


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"authority_confirmed": None}, "authority_confirmed", "authority to commit"),
        ({"environments": None}, "environments", "Choose the environment"),
        ({"tiers": None}, "tiers", "at least one tier"),
        ({"edt_administrators": None}, "edt_administrators", "at least one EDT administrator"),
        ({"account_email": "", "account_username": ""}, "account_email", "no EDT account yet"),
        ({"account_username": ""}, "account_username", "username too"),
        ({"account_username": "x!"}, "account_username", "3 to 60 letters"),
        ({"vendor": ""}, "vendor", "Name the data services vendor"),
        ({"terms_version": "1999-1"}, "terms_accepted", "Accept the EDT Terms of Use"),
    ],
)
def test_each_missing_or_bad_answer_is_shown_beside_its_field(
    cast, client, cupa_admin, overrides, field, text
):
    client.force_login(cupa_admin)
    response = client.post(
        reverse("regulator:edt_request_new"), request_post(cupa_admin, **overrides)
    )
    assert_refused(response, field, text)


def test_a_follow_up_only_asks_for_more_tiers(cast, client, cupa_admin, vendor):
    filed_request(
        cast.cupa, cupa_admin, vendor, tiers=(1, 2), environments=("testing", "production")
    )
    client.force_login(cupa_admin)
    page = client.get(reverse("regulator:edt_request_new"))
    form = page.context["form"]
    assert page.context["follow_up"]
    assert [v for v, _ in form.fields["tiers"].choices] == [3, 4, 5, 6]
    assert {"edt_administrators", "account_email", "vendor"}.isdisjoint(form.fields)

    response = client.post(
        reverse("regulator:edt_request_new"),
        {
            "authority_confirmed": "on",
            "environments": ["testing"],
            "tiers": ["3"],
            "terms_accepted": "on",
            "terms_version": TERMS,
        },
    )
    assert response.status_code == 302
    assert statuses(cast.cupa)[("testing", 3)] == Status.REQUESTED
    assert AccessRequest.objects.filter(regulator=cast.cupa).count() == 2
    assert EdtAccount.objects.filter(regulator=cast.cupa).count() == 1


def test_a_follow_up_for_a_tier_already_asked_is_refused(cast, client, cupa_admin):
    filed_request(cast.cupa, cupa_admin, tiers=(1, 2), environments=("testing",))
    client.force_login(cupa_admin)
    response = client.post(
        reverse("regulator:edt_request_new"),
        {
            "authority_confirmed": "on",
            "environments": ["testing", "production"],
            "tiers": ["2"],
            "terms_accepted": "on",
            "terms_version": TERMS,
        },
    )
    assert "Already requested or granted: tier 2 in testing" in " ".join(
        response.context["form"].errors["tiers"]
    )
    assert AccessRequest.objects.count() == 1


def test_the_state_agency_is_not_offered_the_request_form(cast, client):
    client.force_login(cast.state_admin)
    response = client.get(reverse("regulator:edt_request_new"))
    assert response.status_code == 200
    assert response.context["form"] is None


# --- who may ------------------------------------------------------------------------------


AGENCY_PAGES = ["regulator:edt_home", "regulator:edt_requests", "regulator:edt_request_new"]
STATE_PAGES = [
    "regulator:edt_grants",
    "regulator:edt_vendors",
    "regulator:edt_vendor_new",
    "regulator:edt_announcement_new",
]


@pytest.mark.parametrize("name", AGENCY_PAGES)
def test_staff_who_are_not_administrators_get_403(cast, client, name):
    for persona in (cast.cupa_reviewer, cast.pa_viewer):
        client.force_login(persona)
        assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", AGENCY_PAGES)
def test_an_edt_administrator_may_use_the_agency_pages(cast, client, name):
    user = factories.make_user("edt-admin@sac-cupa.example")
    factories.add_staff(cast.cupa, user, "edt_administrator")
    client.force_login(user)
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", STATE_PAGES)
def test_an_agency_administrator_cannot_use_the_state_administrators_pages(
    cast, client, cupa_admin, name
):
    client.force_login(cupa_admin)
    assert client.get(reverse(name)).status_code == 403
    client.force_login(cast.state_admin)
    assert client.get(reverse(name)).status_code == 200


def test_an_agency_administrator_cannot_decide_its_own_request(cast, client, cupa_admin):
    access_request = filed_request(cast.cupa, cupa_admin)
    client.force_login(cupa_admin)
    response = client.post(
        reverse("regulator:edt_request_decide", args=[access_request.pk]),
        decisions_post(access_request, {("testing", 1): ("approve", "")}),
    )
    assert response.status_code == 403
    assert set(statuses(cast.cupa).values()) == {Status.REQUESTED}


def test_another_agencys_request_account_and_token_answer_404(
    cast, client, cupa_admin, cupa2_admin
):
    access_request = filed_request(cast.cupa, cupa_admin)
    account = access_request.edt_account
    token, _ = services.issue_token(
        actor=cupa_admin,
        account=account,
        name="Sac system",
        expires_at=timezone.now() + datetime.timedelta(days=30),
        environments=["testing"],
        tiers=[1],
    )
    client.force_login(cupa2_admin)
    assert client.get(reverse("regulator:edt_request", args=[access_request.pk])).status_code == 404
    assert client.get(reverse("regulator:edt_account", args=[account.pk])).status_code == 404
    for name in ("regulator:edt_account_secret", "regulator:edt_account_active"):
        assert client.post(reverse(name, args=[account.pk]), {"active": "0"}).status_code == 404
    assert client.get(reverse("regulator:edt_token_new", args=[account.pk])).status_code == 404
    assert client.post(reverse("regulator:edt_token_revoke", args=[token.pk])).status_code == 404
    account.refresh_from_db()
    token.refresh_from_db()
    assert account.is_active and not account.has_secret and token.revoked_at is None
    # ... and its own lists do not show them.
    assert client.get(reverse("regulator:edt_requests")).context["page"].paginator.count == 0


def test_the_edt_link_shows_for_administrators_only(cast, client, cupa_admin):
    link = f'href="{reverse("regulator:edt_home")}"'
    client.force_login(cupa_admin)
    assert link in client.get(reverse("regulator:home")).content.decode()
    client.force_login(cast.cupa_reviewer)
    assert link not in client.get(reverse("regulator:home")).content.decode()


# --- the agency's page and its vendor ------------------------------------------------------


def test_the_agency_page_shows_grants_by_environment_and_tier(cast, client, cupa_admin, vendor):
    access_request = filed_request(cast.cupa, cupa_admin, vendor)
    services.decide_access_request(
        actor=cast.state_admin,
        access_request=access_request,
        decisions=[
            services.Decision(g.pk, approve=g.tier == 1, reason="" if g.tier == 1 else "Later.")
            for g in access_request.grants.all()
        ],
    )
    client.force_login(cupa_admin)
    response = client.get(reverse("regulator:edt_home"))
    rows = {row["tier"].value: row["cells"] for row in response.context["grant_rows"]}
    assert [g.status if g else None for g in rows[1]] == [Status.APPROVED, None]
    assert [g.status if g else None for g in rows[2]] == [Status.DECLINED, None]
    assert rows[3] == [None, None]
    assert "sac_edt" not in response.content.decode()  # the account made here is edt_1001
    assert "edt_1001" in response.content.decode()


def test_an_administrator_changes_the_agencys_vendor(cast, client, cupa_admin, vendor):
    client.force_login(cupa_admin)
    response = client.post(reverse("regulator:edt_home"), {"vendor": "own"})
    assert response.status_code == 302
    assert AgencyVendor.objects.get(regulator=cast.cupa).own_system
    client.post(reverse("regulator:edt_home"), {"vendor": str(vendor.pk)})
    assert AgencyVendor.objects.get(regulator=cast.cupa).vendor == vendor
    assert AuditEvent.objects.filter(action="edt.agency_vendor_set").count() == 2

    refused = client.post(reverse("regulator:edt_home"), {"vendor": ""})
    assert refused.status_code == 200
    assert refused.context["vendor_form"].errors["vendor"]
    assert AgencyVendor.objects.get(regulator=cast.cupa).vendor == vendor


# --- lists ---------------------------------------------------------------------------------


def test_the_state_administrator_sees_every_agencys_requests_pending_first(
    cast, client, cupa_admin, cupa2_admin, pa_admin
):
    decided = filed_request(cast.cupa, cupa_admin)
    services.decide_access_request(
        actor=cast.state_admin,
        access_request=decided,
        decisions=[services.Decision(g.pk, True) for g in decided.grants.all()],
    )
    yolo = filed_request(cast.cupa2, cupa2_admin)
    pa = filed_request(cast.pa, pa_admin)
    client.force_login(cast.state_admin)
    url = reverse("regulator:edt_requests")
    shown = list(client.get(url).context["page"])
    assert shown == [pa, yolo, decided]
    assert list(client.get(url, {"status": "decided"}).context["page"]) == [decided]
    assert list(client.get(url, {"status": "pending"}).context["page"]) == [pa, yolo]

    client.force_login(cupa_admin)
    assert list(client.get(url).context["page"]) == [decided]


def test_the_request_list_issues_the_same_queries_for_1_or_12_requests(cast, client, cupa_admin):
    client.force_login(cast.state_admin)
    url = reverse("regulator:edt_requests")
    filed_request(cast.cupa, cupa_admin)
    client.get(url)  # the first request settles the session

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    with_one = queries()
    for number in range(11):
        admin = factories.make_user(f"admin{number}@agency{number}.example")
        agency = factories.make_regulator(f"2{number:03d}", f"Agency {number}", "cupa")
        factories.add_staff(agency, admin, "administrator")
        filed_request(agency, admin)
    assert queries() == with_one


def test_the_grants_page_filters_and_suspends_reinstates_and_revokes_with_a_reason(
    cast, client, cupa_admin, cupa2_admin
):
    access_request = filed_request(cast.cupa, cupa_admin, tiers=(1,))
    filed_request(cast.cupa2, cupa2_admin, tiers=(1,))
    services.decide_access_request(
        actor=cast.state_admin,
        access_request=access_request,
        decisions=[services.Decision(g.pk, True) for g in access_request.grants.all()],
    )
    grant = TierGrant.objects.get(regulator=cast.cupa)
    client.force_login(cast.state_admin)
    page = client.get(reverse("regulator:edt_grants"), {"agency": "1001"}).context["page"]
    assert list(page) == [grant]
    page = client.get(reverse("regulator:edt_grants"), {"status": "requested"}).context["page"]
    assert [g.regulator for g in page] == [cast.cupa2]

    change = reverse("regulator:edt_grant_change", args=[grant.pk])
    response = client.post(change, {"action": "suspend", "reason": "  "}, follow=True)
    assert "Give the reason" in response.content.decode()
    grant.refresh_from_db()
    assert grant.status == Status.APPROVED

    # Suspending and revoking ask first (tests below); "confirmed" is the confirmation's post.
    client.post(
        change, {"action": "suspend", "reason": "Too many queries at noon.", "confirmed": "True"}
    )
    grant.refresh_from_db()
    assert (grant.status, grant.reason) == (Status.SUSPENDED, "Too many queries at noon.")
    client.post(change, {"action": "reinstate", "reason": "Fixed the schedule."})
    client.post(change, {"action": "revoke", "reason": "The agency asked.", "confirmed": "True"})
    grant.refresh_from_db()
    assert grant.status == Status.REVOKED
    assert OutboundEmail.objects.filter(subject__contains="Revoked").exists()

    client.force_login(cupa_admin)
    assert client.post(change, {"action": "suspend", "reason": "x"}).status_code == 403


# --- accounts, secrets and tokens -----------------------------------------------------------


def test_the_secret_is_shown_once_with_the_legacy_header(cast, client, cupa_admin):
    account = filed_request(cast.cupa, cupa_admin).edt_account
    client.force_login(cupa_admin)
    assert client.get(reverse("regulator:edt_account_secret", args=[account.pk])).status_code == 405

    response = client.post(reverse("regulator:edt_account_secret", args=[account.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert len(secret) >= 22  # at least 128 random bits, URL-safe text
    header = f"Authorization: user {account.username}:{legacy_value(secret)}"
    assert header in response.content.decode()
    account.refresh_from_db()
    assert secret not in account.legacy_digest

    again = client.get(reverse("regulator:edt_account", args=[account.pk])).content.decode()
    assert secret not in again and legacy_value(secret) not in again

    # The secret works until it is rotated.
    services.decide_access_request(
        actor=cast.state_admin,
        access_request=account.regulator.edt_requests.get(),
        decisions=[services.Decision(g.pk, True) for g in TierGrant.objects.all()],
    )
    value = header.removeprefix("Authorization: ")
    assert authenticate(value, environment="testing", tier=1).result == AuthResult.AUTHORIZED
    client.post(reverse("regulator:edt_account_secret", args=[account.pk]))
    assert (
        authenticate(value, environment="testing", tier=1).result == AuthResult.INCORRECT_PASSWORD
    )
    assert AuditEvent.objects.filter(action="edt.secret_rotated").count() == 1


def test_an_administrator_disables_and_enables_the_account(cast, client, cupa_admin):
    account = filed_request(cast.cupa, cupa_admin).edt_account
    client.force_login(cupa_admin)
    url = reverse("regulator:edt_account_active", args=[account.pk])
    assert client.post(url, {"active": "0"}).status_code == 302
    account.refresh_from_db()
    assert not account.is_active
    client.post(url, {"active": "1"})
    account.refresh_from_db()
    assert account.is_active


def test_a_token_is_issued_shown_once_and_revoked(cast, client, cupa_admin):
    account = filed_request(cast.cupa, cupa_admin).edt_account
    client.force_login(cupa_admin)
    url = reverse("regulator:edt_token_new", args=[account.pk])
    assert client.get(url).status_code == 200
    expires = timezone.localdate() + datetime.timedelta(days=90)
    response = client.post(
        url,
        {
            "name": "Accela nightly",
            "expires_on": expires.isoformat(),
            "environments": ["testing"],
            "tiers": ["1", "2"],
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plain = response.context["plain"]
    token = ApiToken.objects.get(account=account)
    assert plain in response.content.decode()
    assert (token.name, token.tiers, token.environments) == ("Accela nightly", [1, 2], ["testing"])

    page = client.get(reverse("regulator:edt_account", args=[account.pk])).content.decode()
    assert token.prefix in page and plain not in page

    client.post(reverse("regulator:edt_token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_token_lasts_to_the_end_of_its_last_day(cast, client, cupa_admin, monkeypatch):
    account = filed_request(cast.cupa, cupa_admin).edt_account
    client.force_login(cupa_admin)
    last_day = timezone.localdate() + datetime.timedelta(days=30)
    client.post(
        reverse("regulator:edt_token_new", args=[account.pk]),
        {
            "name": "x",
            "expires_on": last_day.isoformat(),
            "environments": ["testing"],
            "tiers": ["1"],
        },
    )
    token = ApiToken.objects.get(account=account)

    def at(day, *clock):
        moment = datetime.datetime.combine(day, datetime.time(*clock))
        monkeypatch.setattr(timezone, "now", lambda: timezone.make_aware(moment))
        return token.is_usable

    assert at(last_day, 23, 59, 59, 999_000)  # the last second of the day, to its end
    assert not at(last_day + datetime.timedelta(days=1), 0, 0, 0)


@pytest.mark.parametrize(
    ("days", "field", "text"),
    [(-1, "expires_on", "in the future"), (400, "expires_on", "at most a year")],
)
def test_a_token_with_a_bad_expiry_is_refused(cast, client, cupa_admin, days, field, text):
    account = filed_request(cast.cupa, cupa_admin).edt_account
    client.force_login(cupa_admin)
    expires = timezone.localdate() + datetime.timedelta(days=days)
    response = client.post(
        reverse("regulator:edt_token_new", args=[account.pk]),
        {
            "name": "x",
            "expires_on": expires.isoformat(),
            "environments": ["testing"],
            "tiers": ["1"],
        },
    )
    assert response.status_code == 200
    assert text in " ".join(response.context["form"].errors[field])
    assert not ApiToken.objects.exists()


def test_a_pa_token_cannot_carry_tier_3(cast, client, pa_admin):
    account = filed_request(cast.pa, pa_admin).edt_account
    client.force_login(pa_admin)
    response = client.post(
        reverse("regulator:edt_token_new", args=[account.pk]),
        {
            "name": "x",
            "expires_on": (timezone.localdate() + datetime.timedelta(days=9)).isoformat(),
            "environments": ["testing"],
            "tiers": ["3"],
        },
    )
    assert "tiers 1 and 2 only" in " ".join(response.context["form"].errors["tiers"])
    assert not ApiToken.objects.exists()


# --- vendors ---------------------------------------------------------------------------------


def test_the_state_administrator_registers_a_vendor_and_authorizes_its_tiers(cast, client):
    client.force_login(cast.state_admin)
    response = client.post(
        reverse("regulator:edt_vendor_new"),
        {"name": "Sierra Systems", "contact_email": "edt@sierra.example"},
    )
    vendor = Vendor.objects.get(name="Sierra Systems")
    assert response.url == reverse("regulator:edt_vendor", args=[vendor.pk])
    duplicate = client.post(reverse("regulator:edt_vendor_new"), {"name": "Sierra Systems"})
    assert duplicate.status_code == 200 and duplicate.context["form"].errors["name"]

    client.post(reverse("regulator:edt_vendor", args=[vendor.pk]), {"tiers": ["1", "2", "3"]})
    assert vendor.authorized_tiers() == [1, 2, 3]
    page = client.get(reverse("regulator:edt_vendor", args=[vendor.pk]))
    assert page.context["form"].initial["tiers"] == [1, 2, 3]

    public = client.get(reverse("edt_program:vendors"))
    row = next(r for r in public.context["rows"] if r["vendor"] == vendor)
    assert row["marks"] == [True, True, True, False, False, False]


def test_the_vendor_page_lists_the_agencies_using_it(cast, client, cupa_admin, vendor):
    filed_request(cast.cupa, cupa_admin, vendor)
    client.force_login(cast.state_admin)
    response = client.get(reverse("regulator:edt_vendor", args=[vendor.pk]))
    assert [a.regulator for a in response.context["agencies"]] == [cast.cupa]
    assert client.get(reverse("regulator:edt_vendor", args=[999_999])).status_code == 404


# --- the public pages and the implementers' list -------------------------------------------------


def test_the_public_pages_need_no_sign_in(cast, client, vendor):
    announcement = services.post_announcement(
        actor=cast.state_admin, subject="Tier 5 opens", body="From June."
    )
    vendors = client.get(reverse("edt_program:vendors")).content.decode()
    assert "Delta Data Systems" in vendors and "not an endorsement" in vendors
    terms = client.get(reverse("edt_program:terms")).content.decode()
    assert f"Version {TERMS}" in terms
    archive = client.get(reverse("edt_program:announcements")).content.decode()
    assert "Tier 5 opens" in archive
    detail = client.get(reverse("edt_program:announcement", args=[announcement.pk]))
    assert "From June." in detail.content.decode()
    assert client.get(reverse("edt_program:announcement", args=[999_999])).status_code == 404


def test_the_implementers_list_is_for_signed_in_regulator_staff(cast, client):
    url = reverse("regulator:edt_implementers")
    assert client.get(url).status_code == 302
    client.force_login(cast.lead)
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "subscribe"}).status_code == 403
    assert not Subscriber.objects.exists()


def test_staff_join_and_leave_the_implementers_list(cast, client):
    url = reverse("regulator:edt_implementers")
    client.force_login(cast.cupa_reviewer)
    client.post(url, {"action": "subscribe"})
    assert Subscriber.objects.get().email == cast.cupa_reviewer.email
    response = client.get(url)
    assert response.context["subscription"] is not None
    assert response.context["page"] is None  # the list itself is the state administrator's
    again = client.post(url, {"action": "subscribe"}, follow=True)
    assert "is already on the implementers" in again.content.decode()
    client.post(url, {"action": "unsubscribe"})
    assert not Subscriber.objects.exists()


def test_staff_cannot_add_or_remove_others(cast, client, vendor):
    other = services.subscribe(actor=cast.state_admin, email="dev@delta.example", vendor=vendor)
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:edt_implementers")
    client.post(url, {"action": "add", "email": "someone@example.com"})
    client.post(url, {"action": "remove", "subscriber": str(other.pk)})
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["dev@delta.example"]


def test_an_announcement_queues_one_email_per_subscriber(cast, client, vendor):
    url = reverse("regulator:edt_implementers")
    client.force_login(cast.cupa_reviewer)
    client.post(url, {"action": "subscribe"})
    client.force_login(cast.state_admin)
    client.post(
        url, {"action": "add", "email": "dev@delta.example", "name": "Dee", "vendor": vendor.pk}
    )
    client.post(url, {"action": "add", "email": "ops@delta.example"})
    page = client.get(url).context["page"]
    assert [s.email for s in page] == [
        "dev@delta.example",
        "ops@delta.example",
        cast.cupa_reviewer.email,
    ]
    client.post(url, {"action": "remove", "subscriber": str(page[1].pk)})
    # a contact the state administrator adds receives announcements once it confirms
    services.confirm_subscription(token=services.confirmation_token(page[0]))

    before = OutboundEmail.objects.count()
    response = client.post(
        reverse("regulator:edt_announcement_new"),
        {"subject": "Maintenance Saturday", "body": "The services pause 6-8 a.m."},
    )
    announcement = Announcement.objects.get()
    assert response.url == reverse("edt_program:announcement", args=[announcement.pk])
    sent = OutboundEmail.objects.order_by("pk")[before:]
    assert sorted(e.to[0] for e in sent) == sorted(["dev@delta.example", cast.cupa_reviewer.email])
    assert all(len(e.to) == 1 and "Maintenance Saturday" in e.subject for e in sent)
    assert announcement.recipients == 2


def test_an_empty_announcement_is_refused(cast, client):
    client.force_login(cast.state_admin)
    response = client.post(
        reverse("regulator:edt_announcement_new"), {"subject": "Hi", "body": " "}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Announcement.objects.exists()


def test_a_vendor_not_authorized_for_a_tier_is_refused_on_the_form(
    cast, client, cupa_admin, vendor
):
    client.force_login(cupa_admin)
    response = client.post(
        reverse("regulator:edt_request_new"), request_post(cupa_admin, vendor=str(vendor.pk))
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["vendor"]
    assert "not authorized for tiers 3, 4 in production" in errors[0]
    page = response.content.decode()
    assert 'href="#id_vendor"' in page  # the error summary leads to the field
    assert f'href="{reverse("edt_program:vendors")}"' in page  # ... and to the vendor list
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_suspending_or_revoking_asks_for_confirmation_first(cast, client, cupa_admin, action):
    access_request = filed_request(cast.cupa, cupa_admin, tiers=(1,))
    services.decide_access_request(
        actor=cast.state_admin,
        access_request=access_request,
        decisions=[services.Decision(g.pk, True) for g in access_request.grants.all()],
    )
    grant = TierGrant.objects.get(regulator=cast.cupa)
    change = reverse("regulator:edt_grant_change", args=[grant.pk])
    client.force_login(cast.state_admin)
    mails = OutboundEmail.objects.count()

    asked = client.post(change, {"action": action, "reason": "Sending garbage."})

    assert asked.status_code == 200
    assert asked.templates[0].name == "edt/grant_confirm.html"
    page = asked.content.decode()
    assert f"Yes, {action} tier 1" in page
    assert 'name="confirmed" value="True"' in page
    assert 'value="Sending garbage."' in page
    assert reverse("regulator:edt_grants") + "?agency=1001" in page  # the way back
    grant.refresh_from_db()
    assert grant.status == Status.APPROVED  # nothing changed yet, nobody told
    assert OutboundEmail.objects.count() == mails

    done = client.post(
        change, {"action": action, "reason": "Sending garbage.", "confirmed": "True"}
    )
    assert done.status_code == 302
    grant.refresh_from_db()
    assert grant.status == {"suspend": Status.SUSPENDED, "revoke": Status.REVOKED}[action]

    # The confirmation page is the state administrator's too.
    client.force_login(cupa_admin)
    assert client.post(change, {"action": action, "reason": "x"}).status_code == 403


def test_the_grants_page_needs_no_script_to_confirm(cast, client, cupa_admin):
    """The confirmation is a page, so it works without scripts (and the table asks no
    window.confirm of its own)."""
    access_request = filed_request(cast.cupa, cupa_admin, tiers=(1,))
    services.decide_access_request(
        actor=cast.state_admin,
        access_request=access_request,
        decisions=[services.Decision(g.pk, True) for g in access_request.grants.all()],
    )
    client.force_login(cast.state_admin)
    page = client.get(reverse("regulator:edt_grants")).content.decode()
    assert "Revoke" in page and "data-confirm" not in page
