"""The grants every scope is built from: read once per request, forgotten when a permission
changes, never shared between requests, and turned into plain lists of primary keys."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from core import scoping
from core.middleware import ScopeCacheMiddleware
from facilities.models import Facility
from organizations.models import Organization, OrganizationUserObjectPermission
from organizations.querysets import organization_ids
from regulators.models import Regulator, RegulatorUserObjectPermission
from regulators.querysets import agency_scope, is_state_administrator
from regulators.services import remove_staff, set_staff_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_cache():
    """What ``ScopeCacheMiddleware`` does around a request."""
    token = scoping.open_grants_cache()
    yield
    scoping.close_grants_cache(token)


def count_queries(function):
    with CaptureQueriesContext(connection) as queries:
        result = function()
    return result, len(queries)


def test_outside_a_request_every_call_reads_afresh(cast):
    first, n = count_queries(lambda: agency_scope(cast.cupa_reviewer, "review"))
    assert first.pks == (cast.cupa.pk,) and not first.statewide
    assert n == 1
    set_staff_role(actor=None, regulator=cast.cupa2, user=cast.cupa_reviewer, role="reviewer")
    again, n = count_queries(lambda: agency_scope(cast.cupa_reviewer, "review"))
    assert n == 1
    assert again.pks == tuple(sorted([cast.cupa.pk, cast.cupa2.pk]))


def test_within_a_request_the_grants_are_read_once_for_every_action(cast, request_cache):
    _, n = count_queries(lambda: scoping.grants(cast.cupa_reviewer))
    assert n == 1
    scopes, n = count_queries(
        lambda: (
            agency_scope(cast.cupa_reviewer, "view"),
            agency_scope(cast.cupa_reviewer, "review"),
            agency_scope(cast.cupa_reviewer, "manage"),
            organization_ids(cast.cupa_reviewer, "view"),
        )
    )
    assert n == 0
    view, review, manage, organizations = scopes
    assert view.pks == review.pks == (cast.cupa.pk,)
    assert manage.pks == ()  # a reviewer does not manage facilities
    assert organizations == ()


def test_a_grant_within_the_request_is_seen_after_the_signal_empties_the_cache(cast, request_cache):
    assert agency_scope(cast.cupa_reviewer, "review").pks == (cast.cupa.pk,)
    assert not Facility.objects.for_user(cast.cupa_reviewer).filter(pk=cast.other_facility.pk)
    membership = set_staff_role(
        actor=None, regulator=cast.cupa2, user=cast.cupa_reviewer, role="reviewer"
    )
    both = tuple(sorted([cast.cupa.pk, cast.cupa2.pk]))
    assert agency_scope(cast.cupa_reviewer, "review").pks == both
    assert Facility.objects.for_user(cast.cupa_reviewer).filter(pk=cast.other_facility.pk)
    remove_staff(actor=None, membership=membership)
    assert agency_scope(cast.cupa_reviewer, "review").pks == (cast.cupa.pk,)
    assert not Facility.objects.for_user(cast.cupa_reviewer).filter(pk=cast.other_facility.pk)


def test_two_requests_never_share_the_grants(cast):
    seen = []

    def view(request):
        seen.append(agency_scope(cast.cupa_reviewer, "review").pks)
        return HttpResponse()

    middleware = ScopeCacheMiddleware(view)
    middleware(RequestFactory().get("/"))
    # Granted with no signal (a bulk insert), so only a new request can see it.
    RegulatorUserObjectPermission.objects.bulk_create(
        [
            RegulatorUserObjectPermission(
                user=cast.cupa_reviewer,
                permission=Permission.objects.get(codename="review_submittals"),
                content_object=cast.cupa2,
            )
        ]
    )
    middleware(RequestFactory().get("/"))
    assert seen == [(cast.cupa.pk,), tuple(sorted([cast.cupa.pk, cast.cupa2.pk]))]
    assert scoping._cache.get() is None  # closed once the request ended


def test_the_cache_is_closed_even_when_the_view_fails(cast):
    def view(request):
        scoping.grants(cast.cupa_reviewer)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        ScopeCacheMiddleware(view)(RequestFactory().get("/"))
    assert scoping._cache.get() is None


def test_nobody_gets_a_shortcut(cast, request_cache):
    """No superuser, global or group grant; nothing for an inactive or anonymous user,
    without a query."""
    cast.outsider.is_superuser = True
    cast.outsider.save()
    cast.outsider.user_permissions.add(Permission.objects.get(codename="view_regulator"))
    assert agency_scope(cast.outsider, "view").pks == ()
    assert organization_ids(cast.outsider, "view") == (cast.other_org.pk,)
    cast.lead.is_active = False
    for user in (cast.lead, AnonymousUser()):
        (orgs, agencies), n = count_queries(
            lambda user=user: (organization_ids(user, "view"), agency_scope(user, "view"))
        )
        assert (orgs, agencies.pks, n) == ((), (), 0)


def test_an_empty_scope_reads_no_rows(cast, request_cache):
    scoping.grants(cast.outsider)
    for queryset in (
        Facility.objects.for_user(cast.outsider, "manage_staff"),
        Organization.objects.for_user(cast.outsider, "review"),
        Regulator.objects.for_user(cast.outsider, "view"),
    ):
        rows, n = count_queries(lambda queryset=queryset: list(queryset))
        assert (rows, n) == ([], 0)


def test_the_state_agency_sees_every_row_without_a_condition(cast, request_cache):
    assert agency_scope(cast.state_admin, "view").statewide
    assert is_state_administrator(cast.state_admin)
    assert not agency_scope(cast.cupa_reviewer, "view").statewide
    assert not is_state_administrator(cast.cupa_reviewer)
    facilities = Facility.objects.for_user(cast.state_admin)
    assert not facilities.query.where
    assert set(facilities) == set(Facility.objects.all())
    assert set(Organization.objects.for_user(cast.state_admin)) == set(Organization.objects.all())


def test_a_regulator_scope_is_its_jurisdiction_by_primary_keys(cast, request_cache):
    assert set(Facility.objects.for_user(cast.cupa2_reviewer)) == {
        cast.facility_yolo,
        cast.other_facility,
    }
    assert set(Organization.objects.for_user(cast.cupa2_reviewer)) == {cast.org, cast.other_org}
    sql = str(Facility.objects.for_user(cast.cupa2_reviewer).query).lower()
    assert "userobjectpermission" not in sql and "auth_permission" not in sql


def test_a_large_list_of_organizations(cast):
    """A user holding a role in thousands of organizations gets them all, as one list."""
    first_code = Organization.objects.order_by("-code").values_list("code", flat=True)[0] + 1
    organizations = Organization.objects.bulk_create(
        Organization(code=first_code + i, name=f"Holding {i}") for i in range(3000)
    )
    perm = Permission.objects.get(codename="view_organization")
    OrganizationUserObjectPermission.objects.bulk_create(
        OrganizationUserObjectPermission(user=cast.viewer, permission=perm, content_object=o)
        for o in organizations
    )
    Facility.objects.filter(pk=cast.other_facility.pk).update(organization=organizations[-1])
    held = organization_ids(cast.viewer, "view")
    assert len(held) == 3001
    assert cast.org.pk in held
    assert set(Facility.objects.for_user(cast.viewer)) == {
        cast.facility,
        cast.facility_yolo,
        cast.other_facility,
    }
    assert Organization.objects.for_user(cast.viewer).count() == 3001


def test_the_grants_are_guardians_direct_object_permissions(cast):
    """For every person of the cast and every action, the keys ``grants`` gives are the rows
    guardian finds with no shortcut (direct grants only)."""
    from guardian.shortcuts import get_objects_for_user

    from organizations.roles import ACTION_PERMISSIONS as BUSINESS
    from regulators.roles import ACTION_PERMISSIONS as STAFF

    people = [v for v in vars(cast).values() if getattr(v, "email", None)]
    for user in people:
        for model, actions, read in (
            (Organization, BUSINESS, organization_ids),
            (Regulator, STAFF, lambda user, action: agency_scope(user, action).pks),
        ):
            for action, codename in actions.items():
                expected = get_objects_for_user(
                    user,
                    f"{model._meta.app_label}.{codename}",
                    klass=model,
                    use_groups=False,
                    with_superuser=False,
                    accept_global_perms=False,
                )
                assert set(read(user, action)) == {o.pk for o in expected}, (user, action)
