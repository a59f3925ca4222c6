"""EDT access administration: the request, the decisions, vendors, accounts and the list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from core.models import AuditEvent, OutboundEmail
from edt.access import services
from edt.access.services import Decision, NewAccount
from edt.credentials import AuthResult, authenticate, legacy_value
from edt.models import AccessRequest, AgencyVendor, EdtAccount, TierGrant
from tests import factories

TERMS = settings.EDT_TERMS_VERSION


@pytest.fixture
def vendor(cast):
    """A vendor authorized for tiers 1 and 2 only."""
    vendor = services.register_vendor(actor=cast.state_admin, name="Delta Data Systems")
    services.set_vendor_tiers(actor=cast.state_admin, vendor=vendor, tiers=[1, 2])
    return vendor


def file_request(regulator, actor, **overrides):
    fields = {
        "actor": actor,
        "regulator": regulator,
        "environments": ["testing", "production"],
        "tiers": [1, 2, 3, 4],
        "authority_confirmed": True,
        "terms_version": TERMS,
        "edt_administrators": [actor],
        "new_account": NewAccount(email="edt@sac-cupa.example", username="sac_edt"),
        "own_system": False,
    }
    fields.update(overrides)
    return services.file_access_request(**fields)


def grants_of(regulator, status=TierGrant.Status.APPROVED):
    return sorted(
        TierGrant.objects.filter(regulator=regulator, status=status).values_list(
            "environment", "tier"
        )
    )


def test_the_journey_grants_exactly_what_the_vendor_allows(cast, cupa_admin, vendor):
    # Authorized for tiers 1-4 when the request is filed (a request naming a vendor not
    # authorized for a production tier is refused then), the vendor loses 3 and 4 before the
    # decision: the decision checks again.
    services.set_vendor_tiers(actor=cast.state_admin, vendor=vendor, tiers=[1, 2, 3, 4])
    request = file_request(cast.cupa, cupa_admin, vendor=vendor)
    services.set_vendor_tiers(actor=cast.state_admin, vendor=vendor, tiers=[1, 2])
    assert len(request.grants.all()) == 8
    assert request.is_pending

    decisions = [
        Decision(g.pk, approve=g.environment == "testing" or g.tier <= 2, reason="")
        if g.environment == "testing" or g.tier <= 2
        else Decision(g.pk, approve=False, reason="The vendor is authorized for tiers 1-2.")
        for g in request.grants.all()
    ]
    services.decide_access_request(
        actor=cast.state_admin, access_request=request, decisions=decisions
    )

    assert grants_of(cast.cupa) == [
        ("production", 1),
        ("production", 2),
        ("testing", 1),
        ("testing", 2),
        ("testing", 3),
        ("testing", 4),
    ]
    assert grants_of(cast.cupa, TierGrant.Status.DECLINED) == [
        ("production", 3),
        ("production", 4),
    ]
    request.refresh_from_db()
    assert not request.is_pending
    actions = set(AuditEvent.objects.filter(regulator=cast.cupa).values_list("action", flat=True))
    assert {"edt.access_requested", "edt.grant_approved", "edt.grant_declined"} <= actions
    # The agency's administrator hears of the filing and of the decision.
    to_admin = [m for m in OutboundEmail.objects.order_by("pk") if cupa_admin.email in m.to]
    assert [m.subject for m in to_admin][-1].endswith(": decision")
    assert len(to_admin) == 2
    # The state administrator heard of the pending request.
    assert any(cast.state_admin.email in m.to for m in OutboundEmail.objects.all())


def test_those_who_decide_statewide_hear_of_a_new_request(cast, cupa_admin, vendor):
    """The state agency's administrator and EDT administrator decide on EDT access, so they
    are told of a request; its viewers and other agencies' staff are not."""
    state_edt_admin = factories.make_user("edt@calepa.example")
    factories.add_staff(cast.state, state_edt_admin, "edt_administrator")
    state_viewer = factories.make_user("viewer@calepa.example")
    factories.add_staff(cast.state, state_viewer, "viewer")

    file_request(cast.cupa, cupa_admin, vendor=vendor, tiers=[1, 2])

    told = {address for m in OutboundEmail.objects.all() for address in m.to}
    assert {cast.state_admin.email, state_edt_admin.email} <= told
    assert state_viewer.email not in told
    assert cast.cupa_reviewer.email not in told


def test_a_production_grant_needs_the_vendor_authorized_for_the_tier(cast, cupa_admin, vendor):
    services.set_vendor_tiers(actor=cast.state_admin, vendor=vendor, tiers=[1, 2, 3])
    request = file_request(cast.cupa, cupa_admin, vendor=vendor, tiers=[3])
    # The authorization is withdrawn between the filing and the decision.
    services.set_vendor_tiers(actor=cast.state_admin, vendor=vendor, tiers=[1, 2])
    production = request.grants.get(environment="production")
    testing = request.grants.get(environment="testing")

    with pytest.raises(ValidationError, match="not authorized for tier 3"):
        services.decide_access_request(
            actor=cast.state_admin,
            access_request=request,
            decisions=[Decision(testing.pk, True), Decision(production.pk, True)],
        )
    # All or nothing: the testing approval in the same decision was not kept either.
    assert grants_of(cast.cupa) == []

    services.set_vendor_tiers(actor=cast.state_admin, vendor=vendor, tiers=[1, 2, 3])
    services.decide_access_request(
        actor=cast.state_admin,
        access_request=request,
        decisions=[Decision(testing.pk, True), Decision(production.pk, True)],
    )
    assert grants_of(cast.cupa) == [("production", 3), ("testing", 3)]


def test_an_agency_running_its_own_system_may_be_granted_production(cast, cupa_admin):
    request = file_request(cast.cupa, cupa_admin, own_system=True, tiers=[5])
    services.decide_access_request(
        actor=cast.state_admin,
        access_request=request,
        decisions=[Decision(g.pk, True) for g in request.grants.all()],
    )
    assert grants_of(cast.cupa) == [("production", 5), ("testing", 5)]


def test_pa_cannot_request_tier_3(cast, pa_admin, vendor):
    with pytest.raises(ValidationError) as error:
        file_request(
            cast.pa,
            pa_admin,
            vendor=vendor,
            tiers=[1, 2, 3],
            new_account=NewAccount(email="edt@sac-pa.example", username="pa_edt"),
        )
    assert "Participating Agency may use tiers 1 and 2 only" in str(error.value)
    assert not AccessRequest.objects.exists()
    assert not User.objects.filter(email="edt@sac-pa.example").exists()


def test_pa_may_request_tiers_1_and_2(cast, pa_admin, vendor):
    request = file_request(
        cast.pa,
        pa_admin,
        vendor=vendor,
        tiers=[1, 2],
        new_account=NewAccount(email="edt@sac-pa.example", username="pa_edt"),
    )
    assert request.grants.count() == 4


def test_the_edt_account_cannot_be_an_existing_user(cast, cupa_admin, vendor):
    with pytest.raises(ValidationError, match="belongs to an existing CERS account"):
        file_request(
            cast.cupa,
            cupa_admin,
            vendor=vendor,
            tiers=[1, 2],
            new_account=NewAccount(email=cast.cupa_reviewer.email.upper(), username="sac_edt"),
        )
    assert not AccessRequest.objects.exists()
    assert not EdtAccount.objects.exists()


def test_an_edt_administrator_needs_rights_to_the_agency(cast, cupa_admin, vendor):
    with pytest.raises(ValidationError, match="has no rights to Sacramento County CUPA"):
        file_request(
            cast.cupa,
            cupa_admin,
            vendor=vendor,
            edt_administrators=[cupa_admin, cast.cupa2_reviewer],
        )
    assert not AccessRequest.objects.exists()
    assert not EdtAccount.objects.exists()


@pytest.mark.parametrize("terms_version", [None, "", "2013-1"])
def test_the_terms_of_use_must_be_accepted_in_their_current_version(
    cast, cupa_admin, vendor, terms_version
):
    with pytest.raises(ValidationError, match="Accept the EDT Terms of Use"):
        file_request(cast.cupa, cupa_admin, vendor=vendor, terms_version=terms_version)
    assert not AccessRequest.objects.exists()


def test_authority_must_be_stated(cast, cupa_admin, vendor):
    with pytest.raises(ValidationError, match="authority to commit the agency"):
        file_request(cast.cupa, cupa_admin, vendor=vendor, authority_confirmed=False)


def test_a_first_request_names_a_vendor_or_own_system(cast, cupa_admin):
    with pytest.raises(ValidationError, match="Name the data services vendor"):
        file_request(cast.cupa, cupa_admin)


def test_one_vendor_per_agency_a_follow_up_replaces_it(cast, cupa_admin, vendor):
    file_request(cast.cupa, cupa_admin, vendor=vendor, tiers=[1])
    other = services.register_vendor(actor=cast.state_admin, name="Echo Environmental")
    services.set_vendor_tiers(actor=cast.state_admin, vendor=other, tiers=[2])
    file_request(cast.cupa, cupa_admin, vendor=other, tiers=[2], new_account=None)
    assert AgencyVendor.objects.get(regulator=cast.cupa).vendor == other
    assert AgencyVendor.objects.filter(regulator=cast.cupa).count() == 1


def test_a_follow_up_asks_for_more_tiers_without_repeating_the_rest(cast, cupa_admin, vendor):
    file_request(cast.cupa, cupa_admin, vendor=vendor, tiers=[1, 2])
    follow_up = services.file_access_request(
        actor=cupa_admin,
        regulator=cast.cupa,
        environments=["testing"],
        tiers=[3],
        authority_confirmed=True,
        terms_version=TERMS,
    )
    assert list(follow_up.grants.values_list("environment", "tier")) == [("testing", 3)]
    assert follow_up.edt_account is None


def test_a_tier_already_requested_is_not_requested_twice(cast, cupa_admin, vendor):
    file_request(cast.cupa, cupa_admin, vendor=vendor, tiers=[1, 2])
    with pytest.raises(ValidationError, match=r"Already requested or granted: tier 2 in testing"):
        services.file_access_request(
            actor=cupa_admin,
            regulator=cast.cupa,
            environments=["testing"],
            tiers=[2, 3],
            authority_confirmed=True,
            terms_version=TERMS,
        )


def test_only_agency_administrators_file_requests(cast, vendor):
    with pytest.raises(PermissionDenied):
        file_request(cast.cupa, cast.cupa_reviewer, vendor=vendor)
    with pytest.raises(PermissionDenied):
        file_request(cast.cupa, cast.lead, vendor=vendor)


def test_only_the_state_administrator_decides(cast, cupa_admin, vendor):
    request = file_request(cast.cupa, cupa_admin, vendor=vendor, tiers=[1])
    decisions = [Decision(g.pk, True) for g in request.grants.all()]
    for actor in (cupa_admin, cast.cupa_reviewer):
        with pytest.raises(PermissionDenied):
            services.decide_access_request(actor=actor, access_request=request, decisions=decisions)
    assert grants_of(cast.cupa) == []


def test_declining_needs_a_reason(cast, cupa_admin, vendor):
    request = file_request(cast.cupa, cupa_admin, vendor=vendor, tiers=[1])
    grant = request.grants.first()
    with pytest.raises(ValidationError, match="give the reason for declining"):
        services.decide_access_request(
            actor=cast.state_admin, access_request=request, decisions=[Decision(grant.pk, False)]
        )


def test_a_decided_grant_cannot_be_decided_again(cast, cupa_admin, vendor):
    request = file_request(cast.cupa, cupa_admin, vendor=vendor, tiers=[1])
    grant = request.grants.get(environment="testing")
    services.decide_access_request(
        actor=cast.state_admin, access_request=request, decisions=[Decision(grant.pk, True)]
    )
    with pytest.raises(ValidationError, match="already decided"):
        services.decide_access_request(
            actor=cast.state_admin,
            access_request=request,
            decisions=[Decision(grant.pk, False, "changed my mind")],
        )


@pytest.fixture
def working_account(cast, cupa_admin, vendor):
    """CUPA 1001 with tiers 1-2 approved in testing and production and a secret set."""
    request = file_request(cast.cupa, cupa_admin, vendor=vendor, tiers=[1, 2])
    services.decide_access_request(
        actor=cast.state_admin,
        access_request=request,
        decisions=[Decision(g.pk, True) for g in request.grants.all()],
    )
    account = EdtAccount.objects.get(regulator=cast.cupa)
    secret = services.set_account_secret(actor=cupa_admin, account=account)
    return account, secret


def header(account, secret):
    return f"user {account.username}:{legacy_value(secret)}"


def test_revoking_a_grant_takes_effect_on_the_next_request(cast, working_account):
    account, secret = working_account
    check = {"environment": "production", "tier": 2, "regulator_code": "1001"}
    assert authenticate(header(account, secret), **check).result == AuthResult.AUTHORIZED

    grant = TierGrant.objects.get(regulator=cast.cupa, environment="production", tier=2)
    services.revoke_grant(actor=cast.state_admin, grant=grant, reason="Overloading CERS.")

    assert (
        authenticate(header(account, secret), **check).result == AuthResult.REGULATOR_NOT_AUTHORIZED
    )
    # The other environment's grant is untouched.
    testing = {**check, "environment": "testing"}
    assert authenticate(header(account, secret), **testing).result == AuthResult.AUTHORIZED


def test_a_suspended_grant_can_be_reinstated(cast, working_account):
    account, secret = working_account
    check = {"environment": "testing", "tier": 1, "regulator_code": "1001"}
    grant = TierGrant.objects.get(regulator=cast.cupa, environment="testing", tier=1)
    services.suspend_grant(actor=cast.state_admin, grant=grant, reason="Vendor testing paused.")
    assert authenticate(header(account, secret), **check).result == 8
    services.reinstate_grant(actor=cast.state_admin, grant=grant, reason="Resumed.")
    assert authenticate(header(account, secret), **check).result == AuthResult.AUTHORIZED


def test_suspending_or_revoking_needs_a_reason_and_the_state_administrator(
    cast, working_account, cupa_admin
):
    grant = TierGrant.objects.get(regulator=cast.cupa, environment="testing", tier=1)
    with pytest.raises(ValidationError, match="Give the reason"):
        services.revoke_grant(actor=cast.state_admin, grant=grant, reason="  ")
    with pytest.raises(PermissionDenied):
        services.revoke_grant(actor=cupa_admin, grant=grant, reason="no")
    grant.refresh_from_db()
    assert grant.status == TierGrant.Status.APPROVED


def test_the_edt_account_cannot_sign_in_to_a_portal(cast, working_account, client):
    account, secret = working_account
    assert account.user.is_service_account
    assert not account.user.has_usable_password()
    # Even with a password set by someone, the portals refuse it.
    account.user.set_password("a-long-enough-password-1")
    account.user.save()
    response = client.post(
        "/accounts/login/",
        {"username": account.user.email, "password": "a-long-enough-password-1"},
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200
    # Even a session made for it some other way is not honoured: it is anonymous there.
    client.force_login(account.user)
    for portal in ("/regulator/", "/business/"):
        response = client.get(portal)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert not response.wsgi_request.user.is_authenticated


def test_rotating_the_secret_invalidates_the_old_one(cast, working_account, cupa_admin):
    account, old = working_account
    new = services.set_account_secret(actor=cupa_admin, account=account)
    check = {"environment": "testing", "tier": 1, "regulator_code": "1001"}
    assert authenticate(header(account, old), **check).result == AuthResult.INCORRECT_PASSWORD
    assert authenticate(header(account, new), **check).result == AuthResult.AUTHORIZED
    assert AuditEvent.objects.filter(action="edt.secret_rotated").count() == 1


def test_the_secret_is_never_stored(working_account):
    account, secret = working_account
    account.refresh_from_db()
    assert secret not in account.legacy_digest
    assert legacy_value(secret) not in account.legacy_digest
    assert len(secret) >= 22  # 128+ random bits in URL-safe base64


def test_a_token_is_scoped_expiring_and_revocable(cast, working_account, cupa_admin):
    account, _ = working_account
    token, plain = services.issue_token(
        actor=cupa_admin,
        account=account,
        name="Nightly sync",
        expires_at=timezone.now() + timedelta(days=30),
        environments=["testing"],
        tiers=[2],
    )
    bearer = f"Bearer {plain}"
    ok = {"environment": "testing", "tier": 2, "regulator_code": "1001"}
    assert authenticate(bearer, **ok).result == AuthResult.AUTHORIZED
    assert authenticate(bearer, **{**ok, "tier": 1}).result == 2
    assert authenticate(bearer, **{**ok, "environment": "production"}).result == 2
    assert plain not in token.token_hash

    services.revoke_token(actor=cupa_admin, token=token)
    assert authenticate(bearer, **ok).result == AuthResult.ACCOUNT_DISABLED


def test_a_token_must_expire_within_a_year(cast, working_account, cupa_admin):
    account, _ = working_account
    with pytest.raises(ValidationError, match="at most a year"):
        services.issue_token(
            actor=cupa_admin,
            account=account,
            name="Forever",
            expires_at=timezone.now() + timedelta(days=800),
            environments=["testing"],
            tiers=[1],
        )


def test_create_edt_account_command(cast, capsys):
    call_command(
        "create_edt_account",
        "--regulator",
        "1001",
        "--username",
        "ops_edt",
        "--tiers",
        "1-6",
        "--environment",
        "production",
        "--secret",
        "correct-horse-battery-staple",
    )
    out = capsys.readouterr().out
    assert "Secret (shown once): correct-horse-battery-staple" in out
    account = EdtAccount.objects.get(username="ops_edt")
    assert grants_of(cast.cupa) == [("production", t) for t in range(1, 7)]
    auth = authenticate(
        f"user ops_edt:{legacy_value('correct-horse-battery-staple')}",
        environment="production",
        tier=6,
        regulator_code="1001",
    )
    assert auth.result == AuthResult.AUTHORIZED
    assert auth.account == account


def test_create_edt_account_generates_a_secret_when_none_is_given(cast, capsys):
    call_command("create_edt_account", "--regulator", "1001", "--username", "gen_edt")
    secret = capsys.readouterr().out.split("Secret (shown once): ")[1].strip()
    auth = authenticate(f"user gen_edt:{legacy_value(secret)}", environment="testing", tier=1)
    assert auth.result == AuthResult.AUTHORIZED


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--regulator", "1101", "--tiers", "1-3"], "Participating Agency"),
        (["--regulator", "9999"], "no regulator with code 9999"),
        (["--regulator", "1001", "--tiers", "0-2"], "There is no tier 0"),
        (["--regulator", "1001", "--environment", "staging"], "not an environment"),
        (["--regulator", "1001", "--secret", "short"], "at least 16 characters"),
    ],
)
def test_create_edt_account_refuses_bad_input(cast, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_edt_account", "--username", "bad_edt", *arguments)
    assert not EdtAccount.objects.exists()


def test_announcements_reach_every_subscriber(cast, cupa_admin, vendor):
    services.subscribe(actor=cupa_admin, email=cupa_admin.email)
    dev = services.subscribe(
        actor=cast.state_admin, email="dev@delta.example", name="Dev", vendor=vendor
    )
    services.confirm_subscription(token=services.confirmation_token(dev))  # the contact confirms
    with pytest.raises(PermissionDenied):
        services.subscribe(actor=cupa_admin, email="someone@else.example")
    with pytest.raises(ValidationError, match="already on the implementers' list"):
        services.subscribe(actor=cupa_admin, email=cupa_admin.email.upper())

    before = OutboundEmail.objects.count()
    announcement = services.post_announcement(
        actor=cast.state_admin, subject="Tier 2 maintenance", body="Saturday 2-4 a.m."
    )
    sent = OutboundEmail.objects.order_by("pk")[before:]
    assert sorted(m.to[0] for m in sent) == ["admin@sac-cupa.example", "dev@delta.example"]
    assert all(m.subject == "[CERS EDT] Tier 2 maintenance" for m in sent)
    assert announcement.recipients == 2
    with pytest.raises(PermissionDenied):
        services.post_announcement(actor=cupa_admin, subject="x", body="y")


def test_a_request_naming_a_vendor_not_authorized_for_a_production_tier_is_refused(
    cast, cupa_admin, vendor
):
    with pytest.raises(ValidationError) as refused:
        file_request(cast.cupa, cupa_admin, vendor=vendor, tiers=[1, 2, 3])
    message = refused.value.message_dict["vendor"][0]
    assert "Delta Data Systems is not authorized for tier 3 in production" in message
    assert "vendor list" in message
    assert not AccessRequest.objects.exists()
    assert not EdtAccount.objects.exists()
    assert not AgencyVendor.objects.exists()


def test_testing_alone_is_never_refused_for_the_vendor(cast, cupa_admin, vendor):
    """A vendor earns a tier in testing, so the agency may ask for it there."""
    request = file_request(
        cast.cupa, cupa_admin, vendor=vendor, tiers=[3], environments=["testing"]
    )
    assert list(request.grants.values_list("environment", "tier")) == [("testing", 3)]


def test_a_follow_up_is_checked_against_the_agencys_vendor(cast, cupa_admin, vendor):
    file_request(cast.cupa, cupa_admin, vendor=vendor, tiers=[1])
    follow_up = {
        "actor": cupa_admin,
        "regulator": cast.cupa,
        "environments": ["production"],
        "tiers": [5],
        "authority_confirmed": True,
        "terms_version": TERMS,
    }
    with pytest.raises(ValidationError, match="not authorized for tier 5"):
        services.file_access_request(**follow_up)
    services.set_vendor_tiers(actor=cast.state_admin, vendor=vendor, tiers=[1, 2, 5])
    assert services.file_access_request(**follow_up).grants.get().tier == 5


def test_an_agency_running_its_own_system_may_ask_for_any_production_tier(cast, cupa_admin):
    request = file_request(cast.cupa, cupa_admin, own_system=True, tiers=[6])
    assert request.grants.count() == 2
