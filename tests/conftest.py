"""The persona cast every test can use.

Business side, all in "Acme Fuels" (two facilities, one in each CUPA's area):
  lead, approver, editor, viewer; outsider is the Lead User of "Other Co".
Regulator side:
  cupa_reviewer   reviewer at Sacramento County CUPA (1001), ZIP 95814
  cupa2_reviewer  reviewer at Yolo County CUPA (1002), ZIP 95616
  pa_viewer       viewer at the City PA (1101) under CUPA 1001: UST (element 4) in ZIP 95814
  state_admin     administrator at Cal/EPA (1000)
"""

from types import SimpleNamespace

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """A fast hasher in tests: the production one costs about 0.2 s a password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def password():
    return factories.PASSWORD


@pytest.fixture
def cast(db):
    f = factories
    state = f.make_regulator("1000", "California Environmental Protection Agency", "state")
    cupa = f.make_regulator("1001", "Sacramento County CUPA", "cupa", zip_codes=["95814"])
    cupa2 = f.make_regulator("1002", "Yolo County CUPA", "cupa", zip_codes=["95616"])
    pa = f.make_regulator(
        "1101", "Sacramento City Fire PA", "pa", parent=cupa, zip_codes=["95814"], element=4
    )

    lead = f.make_user("lead@acme.example", first_name="Alice", last_name="Lead")
    approver = f.make_user("approver@acme.example", first_name="Bob", last_name="Approver")
    editor = f.make_user("editor@acme.example", first_name="Carol", last_name="Editor")
    viewer = f.make_user("viewer@acme.example", first_name="Dan", last_name="Viewer")
    outsider = f.make_user("outsider@other.example", first_name="Olga", last_name="Outsider")
    cupa_reviewer = f.make_user("reviewer@sac-cupa.example", first_name="Rita")
    cupa2_reviewer = f.make_user("reviewer@yolo-cupa.example", first_name="Yuri")
    pa_viewer = f.make_user("viewer@sac-pa.example", first_name="Paula")
    state_admin = f.make_user("admin@calepa.example", first_name="Sam")

    org = f.make_organization(lead, "Acme Fuels")
    f.add_member(org, approver, "approver")
    f.add_member(org, editor, "editor")
    f.add_member(org, viewer, "viewer")
    other_org = f.make_organization(outsider, "Other Co")

    facility = f.make_facility(org, name="Acme Sacramento Depot", zip_code="95814")
    facility_yolo = f.make_facility(org, name="Acme Davis Yard", zip_code="95616", city="Davis")
    other_facility = f.make_facility(other_org, name="Other Co Plant", zip_code="95616")

    f.add_staff(cupa, cupa_reviewer, "reviewer")
    f.add_staff(cupa2, cupa2_reviewer, "reviewer")
    f.add_staff(pa, pa_viewer, "viewer")
    f.add_staff(state, state_admin, "administrator")

    return SimpleNamespace(
        state=state,
        cupa=cupa,
        cupa2=cupa2,
        pa=pa,
        lead=lead,
        approver=approver,
        editor=editor,
        viewer=viewer,
        outsider=outsider,
        cupa_reviewer=cupa_reviewer,
        cupa2_reviewer=cupa2_reviewer,
        pa_viewer=pa_viewer,
        state_admin=state_admin,
        org=org,
        other_org=other_org,
        facility=facility,
        facility_yolo=facility_yolo,
        other_facility=other_facility,
    )


# Agency administrators beside the cast (its staff holds no administrator).


@pytest.fixture
def cupa_admin(cast):
    """An administrator of the Sacramento County CUPA (1001)."""
    user = factories.make_user("admin@sac-cupa.example", first_name="Ada", last_name="Admin")
    factories.add_staff(cast.cupa, user, "administrator")
    return user


@pytest.fixture
def cupa2_admin(cast):
    """An administrator of the Yolo County CUPA (1002)."""
    user = factories.make_user("admin@yolo-cupa.example", first_name="Yves")
    factories.add_staff(cast.cupa2, user, "administrator")
    return user


@pytest.fixture
def pa_admin(cast):
    """An administrator of the City PA (1101)."""
    user = factories.make_user("admin@sac-pa.example", first_name="Pat")
    factories.add_staff(cast.pa, user, "administrator")
    return user
