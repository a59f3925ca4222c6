"""Two administrators changing an agency's staff at once: a second click on Remove is
answered with a message, never a server error, and an administrator removed by another while
their own request waits for the agency's lock can no longer change the staff."""

import copy

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from regulators import services
from regulators.models import StaffMembership
from regulators.roles import StaffRole
from tests import factories


@pytest.fixture
def second_admin(cast, cupa_admin):
    user = factories.make_user("admin2@sac-cupa.example", first_name="Abe")
    factories.add_staff(cast.cupa, user, "administrator")
    return user


def test_a_staff_member_removed_twice_at_once_is_removed_once(cast, cupa_admin, second_admin):
    reviewer = StaffMembership.objects.get(regulator=cast.cupa, user=cast.cupa_reviewer)
    seen = copy.copy(reviewer)
    services.remove_staff(actor=cupa_admin, membership=reviewer)

    with pytest.raises(ValidationError, match="no longer on the staff"):
        services.remove_staff(actor=second_admin, membership=seen)


@pytest.fixture
def removed_while_waiting(cast, cupa_admin, monkeypatch):
    """``removed_while_waiting(user)``: the next request of ``user`` waits for the agency's
    lock while another administrator takes them off the staff and commits."""
    lock = services._lock

    def arrange(user):
        def lock_after_removal(regulator):
            monkeypatch.setattr(services, "_lock", lock)
            theirs = StaffMembership.objects.get(regulator=cast.cupa, user=user)
            services.set_object_permissions(user, cast.cupa, (), services.ALL_PERMISSIONS)
            theirs.delete()
            return lock(regulator)

        monkeypatch.setattr(services, "_lock", lock_after_removal)

    return arrange


def test_an_administrator_removed_meanwhile_removes_nobody(
    cast, second_admin, removed_while_waiting
):
    reviewer = StaffMembership.objects.get(regulator=cast.cupa, user=cast.cupa_reviewer)
    removed_while_waiting(second_admin)

    with pytest.raises(PermissionDenied):
        services.remove_staff(actor=second_admin, membership=reviewer)
    assert StaffMembership.objects.filter(pk=reviewer.pk).exists()


def test_an_administrator_removed_meanwhile_sets_no_role(cast, second_admin, removed_while_waiting):
    removed_while_waiting(second_admin)

    with pytest.raises(PermissionDenied):
        services.set_staff_role(
            actor=second_admin,
            regulator=cast.cupa,
            user=cast.cupa_reviewer,
            role=StaffRole.ADMINISTRATOR,
        )
    reviewer = StaffMembership.objects.get(regulator=cast.cupa, user=cast.cupa_reviewer)
    assert reviewer.role == StaffRole.REVIEWER
