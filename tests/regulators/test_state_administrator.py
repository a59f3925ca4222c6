"""The state administrator is one rule: an administrator of the state agency. The state
agency's EDT administrator also decides on EDT access, under a rule of its own name."""

from regulators.models import StaffMembership
from regulators.querysets import is_state_administrator, is_state_edt_administrator
from tests import factories as f


def test_only_an_administrator_of_the_state_agency_is_the_state_administrator(cast):
    state_viewer = f.make_user("viewer@calepa.example")
    f.add_staff(cast.state, state_viewer, "viewer")
    cupa_admin = f.make_user("admin@sac-cupa.example")
    f.add_staff(cast.cupa, cupa_admin, "administrator")
    state_edt = f.make_user("edt@calepa.example")
    f.add_staff(cast.state, state_edt, "edt_administrator")

    assert is_state_administrator(cast.state_admin)
    for user in (state_viewer, cupa_admin, state_edt, cast.cupa_reviewer, cast.lead):
        assert not is_state_administrator(user)

    assert is_state_edt_administrator(cast.state_admin)
    assert is_state_edt_administrator(state_edt)
    for user in (state_viewer, cupa_admin, cast.cupa_reviewer, cast.lead):
        assert not is_state_edt_administrator(user)


def test_an_inactive_state_administrator_is_not_one(cast):
    cast.state_admin.is_active = False
    cast.state_admin.save(update_fields=["is_active"])
    assert not is_state_administrator(cast.state_admin)
    assert not is_state_edt_administrator(cast.state_admin)


def test_the_membership_says_the_same_as_the_rule(cast):
    cupa_admin = f.make_user("admin@sac-cupa.example")
    f.add_staff(cast.cupa, cupa_admin, "administrator")
    state_edt = f.make_user("edt@calepa.example")
    f.add_staff(cast.state, state_edt, "edt_administrator")
    for membership in StaffMembership.objects.select_related("user", "regulator"):
        assert membership.is_state_administrator == is_state_administrator(membership.user)
    assert StaffMembership.objects.get(user=state_edt).administers_edt
    assert StaffMembership.objects.get(user=cupa_admin).administers_edt
    assert not StaffMembership.objects.get(user=cast.cupa_reviewer).administers_edt


def test_the_state_agency_alone_is_statewide(cast):
    assert cast.state.is_statewide
    assert not cast.cupa.is_statewide
    assert not cast.pa.is_statewide
