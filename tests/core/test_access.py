"""``core.access.can`` at the permission boundary: for each rule, who is allowed and who is
refused, portal users and EDT accounts alike.

The cast's facility is in ZIP 95814: the Sacramento County CUPA (1001) handles every element
except element 4 (UST), which its City PA (1101) handles. Yolo County CUPA (1002) handles
none of them.
"""

import ast

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from cme.models import ProgramElement
from cme.rules import CmeWork
from core.access import ImproperlyRegistered, can, require
from core.elements import SubmittalElement
from edt.models import TierGrant
from facilities.models import FacilityRegulator
from submittals import services
from submittals.models import SubmittalElementRecord
from tests import factories
from tests.edt.conftest import make_edt_account
from tests.submittals.data import submit
from tests.test_layers import LAYERS, ROOT, app_modules

User = get_user_model()
FI = SubmittalElement.FACILITY_INFORMATION
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
UST = SubmittalElement.UST


@pytest.fixture
def accounts(cast):
    """EDT accounts: the Sacramento CUPA's and the Yolo CUPA's with every tier, the PA's with
    tiers 1-2."""
    return {
        "cupa": make_edt_account("1001", "sac_edt", "1-6", "both").user,
        "yolo": make_edt_account("1002", "yolo_edt", "1-6", "both").user,
        "pa": make_edt_account("1101", "pa_edt", "1-2", "both").user,
    }


def without_tiers(agency, *tiers):
    """Revoke the agency's grants of ``tiers``; return its EDT account's user, read afresh."""
    TierGrant.objects.filter(regulator=agency, tier__in=tiers).update(
        status=TierGrant.Status.REVOKED
    )
    return User.objects.get(edt_account__regulator=agency)


@pytest.fixture
def pa_reviewer(cast):
    user = factories.make_user("reviewer@sac-pa.example", first_name="Pia")
    factories.add_staff(cast.pa, user, "reviewer")
    return user


# -- drafts: submittals.edit -------------------------------------------------------------------


def test_editors_and_above_prepare_drafts_viewers_and_outsiders_do_not(cast, accounts):
    for actor in (cast.editor, cast.approver, cast.lead):
        assert can(actor, "submittals.edit", cast.facility)
    for actor in (cast.viewer, cast.outsider, cast.cupa_reviewer, accounts["cupa"]):
        assert not can(actor, "submittals.edit", cast.facility)


def test_an_edt_account_never_edits_a_business_draft(cast, accounts):
    draft = services.start_draft(actor=cast.editor, facility=cast.facility, element=HMI)
    assert can(cast.editor, "submittals.edit", draft)
    assert not can(cast.viewer, "submittals.edit", draft)
    assert not can(accounts["cupa"], "submittals.edit", draft)


def test_an_edt_account_edits_only_the_elements_it_is_submitting(cast, accounts):
    inventory = submit(cast, HMI)[HMI]
    assert not can(accounts["cupa"], "submittals.edit", inventory)  # the business submitted it
    SubmittalElementRecord.objects.filter(pk=inventory.pk).update(created_by=accounts["cupa"])
    inventory.refresh_from_db()
    assert can(accounts["cupa"], "submittals.edit", inventory)
    assert not can(accounts["yolo"], "submittals.edit", inventory)  # another agency's account


# -- submitting: submittals.submit -------------------------------------------------------------


def test_approvers_and_lead_users_submit_editors_do_not(cast):
    assert can(cast.approver, "submittals.submit", cast.facility)
    assert can(cast.lead, "submittals.submit", cast.facility)
    for actor in (cast.editor, cast.viewer, cast.outsider, cast.cupa_reviewer):
        assert not can(actor, "submittals.submit", cast.facility)


def test_an_edt_account_submits_for_facilities_of_its_cupa_with_tier_6(cast, accounts):
    assert can(accounts["cupa"], "submittals.submit", cast.facility)
    assert not can(accounts["cupa"], "submittals.submit", cast.facility_yolo)
    assert can(accounts["yolo"], "submittals.submit", cast.facility_yolo)
    assert not can(accounts["yolo"], "submittals.submit", cast.facility)  # another agency's
    assert not can(accounts["pa"], "submittals.submit", cast.facility)
    assert not can(without_tiers(cast.cupa, 6), "submittals.submit", cast.facility)


# -- reviewing: submittals.review --------------------------------------------------------------


def test_reviewers_of_the_agency_an_element_went_to_review_it(cast, pa_reviewer):
    submitted = submit(cast, UST)
    facility_info, ust = submitted[FI], submitted[UST]
    assert can(cast.cupa_reviewer, "submittals.review", facility_info)
    assert can(pa_reviewer, "submittals.review", ust)
    assert can(cast.state_admin, "submittals.review", ust)  # the state agency: any element
    assert not can(pa_reviewer, "submittals.review", facility_info)  # a PA on a CUPA element
    assert not can(cast.cupa_reviewer, "submittals.review", ust)  # the CUPA on the PA's
    assert not can(cast.cupa2_reviewer, "submittals.review", facility_info)
    assert not can(cast.pa_viewer, "submittals.review", ust)  # a viewer, not a reviewer
    assert not can(cast.approver, "submittals.review", facility_info)


def test_nobody_reviews_a_draft(cast, accounts):
    draft = services.start_draft(actor=cast.editor, facility=cast.facility, element=FI)
    assert not can(cast.cupa_reviewer, "submittals.review", draft)
    assert not can(accounts["cupa"], "submittals.review", draft)


def test_an_edt_account_reviews_for_its_agency_and_its_pas(cast, accounts):
    submitted = submit(cast, UST)
    facility_info, ust = submitted[FI], submitted[UST]
    assert can(accounts["cupa"], "submittals.review", facility_info)
    assert can(accounts["cupa"], "submittals.review", ust)  # its PA's element
    assert not can(accounts["yolo"], "submittals.review", facility_info)  # another agency's
    assert not can(accounts["pa"], "submittals.review", ust)  # a PA holds tiers 1-2 only
    assert can(without_tiers(cast.cupa, 4), "submittals.review", ust)  # tier 6 carries actions
    assert not can(without_tiers(cast.cupa, 4, 6), "submittals.review", facility_info)


# -- CME: cme.record ---------------------------------------------------------------------------


def test_staff_record_cme_where_their_agency_handles_the_program_element(cast, pa_reviewer):
    hmrrp = CmeWork(cast.cupa, cast.facility, ProgramElement.HMRRP)
    ust_for_pa = CmeWork(cast.pa, cast.facility, ProgramElement.UST)
    assert can(cast.cupa_reviewer, "cme.record", hmrrp)
    assert can(pa_reviewer, "cme.record", ust_for_pa)
    # The CUPA does not handle UST at this facility; the PA does not handle the HMI.
    assert not can(cast.cupa_reviewer, "cme.record", CmeWork(cast.cupa, cast.facility, "c"))
    assert not can(pa_reviewer, "cme.record", CmeWork(cast.pa, cast.facility, "a"))
    # No CME role at the agency named: another agency's reviewer, a viewer, a business user.
    for actor in (cast.cupa2_reviewer, cast.pa_viewer, cast.approver):
        assert not can(actor, "cme.record", hmrrp if actor != cast.pa_viewer else ust_for_pa)
    # The state agency records anywhere; an enforcement needs an agency of the facility.
    assert can(cast.state_admin, "cme.record", CmeWork(cast.state, cast.facility_yolo, "a"))
    assert can(cast.cupa_reviewer, "cme.record", CmeWork(cast.cupa, cast.facility))
    assert not can(cast.cupa_reviewer, "cme.record", CmeWork(cast.cupa, cast.facility_yolo))


def test_an_edt_account_records_cme_for_its_agency_and_its_pas_with_tier_3(cast, accounts):
    ust_for_pa = CmeWork(cast.pa, cast.facility, ProgramElement.UST)
    hmrrp = CmeWork(cast.cupa, cast.facility, ProgramElement.HMRRP)
    assert can(accounts["cupa"], "cme.record", hmrrp)
    assert can(accounts["cupa"], "cme.record", ust_for_pa)  # for its PA
    assert not can(accounts["yolo"], "cme.record", hmrrp)  # another agency's account
    assert not can(accounts["pa"], "cme.record", ust_for_pa)  # no tier 3 for a PA
    # Jurisdiction still holds: the CUPA's own system cannot record UST for the CUPA here.
    assert not can(accounts["cupa"], "cme.record", CmeWork(cast.cupa, cast.facility, "c"))
    assert not can(without_tiers(cast.cupa, 3), "cme.record", hmrrp)


def test_the_system_itself_is_held_to_jurisdiction_only(cast):
    assert can(None, "cme.record", CmeWork(cast.cupa, cast.facility, ProgramElement.HMRRP))
    assert not can(None, "cme.record", CmeWork(cast.cupa2, cast.facility, ProgramElement.HMRRP))


# -- due dates: facilities.set_due_dates -------------------------------------------------------


def test_due_dates_are_set_by_the_systems_of_the_agency_handling_the_element(cast, accounts):
    facility_info = FacilityRegulator.objects.get(facility=cast.facility, element=FI)
    ust = FacilityRegulator.objects.get(facility=cast.facility, element=UST)
    assert can(accounts["cupa"], "facilities.set_due_dates", facility_info)
    assert can(accounts["cupa"], "facilities.set_due_dates", ust)  # its PA's element
    assert not can(accounts["yolo"], "facilities.set_due_dates", facility_info)
    assert not can(accounts["pa"], "facilities.set_due_dates", ust)  # tiers 1-2 only
    # The portal's form (issue 16): the element's reviewers, its CUPA's and the state's.
    for actor in (cast.cupa_reviewer, cast.state_admin):
        assert can(actor, "facilities.set_due_dates", facility_info)
        assert can(actor, "facilities.set_due_dates", ust)
    for actor in (cast.cupa2_reviewer, cast.pa_viewer, cast.lead, cast.outsider):
        assert not can(actor, "facilities.set_due_dates", facility_info)
    assert not can(cast.pa_viewer, "facilities.set_due_dates", ust)  # a viewer


# -- facility metadata: facilities.set_metadata -------------------------------------------------


def test_facility_metadata_is_kept_by_the_systems_of_the_facilitys_cupa(cast, accounts):
    assert can(accounts["cupa"], "facilities.set_metadata", cast.facility)
    assert not can(accounts["cupa"], "facilities.set_metadata", cast.facility_yolo)
    assert can(accounts["yolo"], "facilities.set_metadata", cast.facility_yolo)
    assert not can(accounts["yolo"], "facilities.set_metadata", cast.facility)  # another agency's
    assert not can(accounts["pa"], "facilities.set_metadata", cast.facility)  # tiers 1-2 only
    assert not can(without_tiers(cast.cupa, 5), "facilities.set_metadata", cast.facility)
    # In the portal: staff reviewing for the CUPA handling Facility Information, or the state.
    assert can(cast.cupa_reviewer, "facilities.set_metadata", cast.facility)
    assert can(cast.state_admin, "facilities.set_metadata", cast.facility)
    assert not can(cast.cupa_reviewer, "facilities.set_metadata", cast.facility_yolo)
    for actor in (cast.pa_viewer, cast.cupa2_reviewer, cast.lead, None):
        assert not can(actor, "facilities.set_metadata", cast.facility)
    with pytest.raises(PermissionDenied, match="is not in Yolo"):
        require(accounts["yolo"], "facilities.set_metadata", cast.facility)


# -- adding facilities: facilities.create ---------------------------------------------------------


def test_lead_users_and_cupa_systems_add_facilities(cast, accounts):
    assert can(cast.lead, "facilities.create", cast.org)
    assert can(accounts["cupa"], "facilities.create", cast.org)  # the address is the service's
    assert can(accounts["yolo"], "facilities.create", cast.org)
    for actor in (cast.approver, cast.outsider, cast.cupa_reviewer, None):
        assert not can(actor, "facilities.create", cast.org)
    assert not can(accounts["pa"], "facilities.create", cast.org)  # tiers 1-2 only
    assert not can(without_tiers(cast.cupa, 5), "facilities.create", cast.org)


# -- transfers and statewide management: facilities.transfer, facilities.manage_statewide ------


@pytest.fixture
def state_staff(cast):
    """Staff of the state agency who are not its administrators: a viewer and an EDT
    administrator."""
    viewer = factories.make_user("viewer@calepa.example")
    factories.add_staff(cast.state, viewer, "viewer")
    edt_admin = factories.make_user("edt@calepa.example")
    factories.add_staff(cast.state, edt_admin, "edt_administrator")
    return [viewer, edt_admin]


def test_administrators_of_its_cupa_and_the_state_administrator_transfer_a_facility(
    cast, cupa_admin, pa_admin, accounts, state_staff
):
    assert can(cupa_admin, "facilities.transfer", cast.facility)
    assert can(cast.state_admin, "facilities.transfer", cast.facility)  # sees everything
    yolo_admin = factories.make_user("admin@yolo-cupa.example")
    factories.add_staff(cast.cupa2, yolo_admin, "administrator")
    # The PA handles the facility's underground tanks, not the facility (issue 12).
    refused = [
        yolo_admin,
        pa_admin,
        cast.cupa_reviewer,
        cast.lead,
        accounts["cupa"],
        None,
        *state_staff,
    ]
    for actor in refused:
        assert not can(actor, "facilities.transfer", cast.facility)


def test_only_the_state_administrator_manages_organizations_statewide(
    cast, cupa_admin, accounts, state_staff
):
    assert can(cast.state_admin, "facilities.manage_statewide", cast.org)
    for actor in (cupa_admin, cast.cupa_reviewer, cast.lead, accounts["cupa"], None, *state_staff):
        assert not can(actor, "facilities.manage_statewide", cast.org)


# -- an agency's facilities: facilities.manage --------------------------------------------------


def test_the_agencys_administrators_manage_its_facilities(
    cast, cupa_admin, cupa2_admin, accounts, state_staff
):
    assert can(cupa_admin, "facilities.manage", cast.cupa)
    assert can(cupa2_admin, "facilities.manage", cast.cupa2)
    assert can(cast.state_admin, "facilities.manage", cast.state)
    assert not can(cupa_admin, "facilities.manage", cast.cupa2)  # another agency
    assert not can(cupa_admin, "facilities.manage", cast.pa)  # its PA is an agency of its own
    assert not can(cast.state_admin, "facilities.manage", cast.cupa)  # only for the state agency
    for actor in (cast.cupa_reviewer, cast.lead, accounts["cupa"], None):
        assert not can(actor, "facilities.manage", cast.cupa)
    for actor in state_staff:
        assert not can(actor, "facilities.manage", cast.state)


# -- an organization's people: organizations.manage_people --------------------------------------


def test_lead_users_manage_their_organizations_people(cast, cupa_admin, accounts):
    assert can(cast.lead, "organizations.manage_people", cast.org)
    assert can(cast.outsider, "organizations.manage_people", cast.other_org)  # its Lead User
    assert not can(cast.outsider, "organizations.manage_people", cast.org)  # another organization
    assert not can(cast.lead, "organizations.manage_people", cast.other_org)
    refused = [cast.approver, cast.editor, cast.viewer, cupa_admin, cast.state_admin]
    for actor in (*refused, accounts["cupa"], None):
        assert not can(actor, "organizations.manage_people", cast.org)
    with pytest.raises(PermissionDenied, match="Only the organization's Lead Users"):
        require(cast.approver, "organizations.manage_people", cast.org)


# -- an agency's staff: regulators.manage_staff -------------------------------------------------


def test_the_agencys_administrators_manage_its_staff(cast, cupa_admin, pa_admin, accounts):
    assert can(cupa_admin, "regulators.manage_staff", cast.cupa)
    assert can(pa_admin, "regulators.manage_staff", cast.pa)
    assert can(cast.state_admin, "regulators.manage_staff", cast.state)
    assert not can(cupa_admin, "regulators.manage_staff", cast.cupa2)  # another agency
    assert not can(cupa_admin, "regulators.manage_staff", cast.pa)  # its PA's staff are the PA's
    assert not can(pa_admin, "regulators.manage_staff", cast.cupa)
    assert not can(cast.state_admin, "regulators.manage_staff", cast.cupa)
    for actor in (cast.cupa_reviewer, cast.lead, accounts["cupa"]):
        assert not can(actor, "regulators.manage_staff", cast.cupa)
    edt_admin = factories.make_user("edt@sac-cupa.example")
    factories.add_staff(cast.cupa, edt_admin, "edt_administrator")
    assert not can(edt_admin, "regulators.manage_staff", cast.cupa)
    with pytest.raises(PermissionDenied, match="Only the agency's administrators"):
        require(cast.cupa_reviewer, "regulators.manage_staff", cast.cupa)


def test_the_system_itself_manages_any_agencys_staff(cast):
    """Management commands and the demo data add staff with no actor."""
    assert can(None, "regulators.manage_staff", cast.cupa)


def test_anyone_signed_in_asks_to_join_a_staff_and_only_they_withdraw(cast, cupa_admin, accounts):
    from django.contrib.auth.models import AnonymousUser

    from regulators.services import request_staff_access

    for actor in (cast.lead, cast.outsider, cast.cupa_reviewer, cast.state_admin):
        assert can(actor, "regulators.request_staff_access", cast.cupa)
    inactive = factories.make_user("gone@example.com", is_active=False)
    for actor in (accounts["cupa"], AnonymousUser(), None, inactive):
        assert not can(actor, "regulators.request_staff_access", cast.cupa)
    asked = request_staff_access(user=cast.outsider, regulator=cast.cupa, role="viewer")
    assert can(cast.outsider, "regulators.withdraw_staff_request", asked)
    for actor in (cupa_admin, cast.lead, cast.state_admin, accounts["cupa"], None):
        assert not can(actor, "regulators.withdraw_staff_request", asked)


# -- require ------------------------------------------------------------------------------------


def test_require_raises_the_rules_reason(cast):
    with pytest.raises(PermissionDenied, match="Only Approvers and Lead Users"):
        require(cast.editor, "submittals.submit", cast.facility)
    with pytest.raises(PermissionDenied, match="does not regulate the Underground"):
        require(cast.cupa_reviewer, "cme.record", CmeWork(cast.cupa, cast.facility, "c"))
    require(cast.approver, "submittals.submit", cast.facility)  # allowed: no exception


def test_an_action_nobody_decides_is_an_error_not_a_refusal(cast):
    with pytest.raises(ImproperlyRegistered):
        can(cast.lead, "submittals.review", cast.org)


# -- one question: views and services ask core.access, only the rules ask guardian -------------

# Where django-guardian's own question may be asked: the rules (``<app>/rules.py``), and the
# scope readers (querysets, ``core.scoping``) that read its tables.
GUARDIAN_ASKED_IN = {"rules.py", "querysets.py"}
GUARDIAN_ASKED_IN_CORE = {"core/scoping.py", "core/access.py"}
PERMISSION_CALLS = {"has_perm", "has_perms"}


def asks_guardian(node) -> bool:
    """A ``<anything>.has_perm(...)`` / ``.has_perms(...)`` call, or guardian's
    ``ObjectPermissionChecker`` imported or used."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in PERMISSION_CALLS
    if isinstance(node, ast.Name):
        return node.id == "ObjectPermissionChecker"
    return isinstance(node, ast.alias) and node.name == "ObjectPermissionChecker"


def permission_questions(path):
    """The line of every question put to guardian in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return sorted(node.lineno for node in ast.walk(tree) if asks_guardian(node))


def test_only_rules_and_scope_readers_ask_guardian():
    """Views, forms, templates' context and services ask ``can`` / ``require``: a role check
    written anywhere else would be a second home for a rule."""
    asked = []
    for app in LAYERS:
        for path in app_modules(app):
            relative = path.relative_to(ROOT).as_posix()
            if path.name in GUARDIAN_ASKED_IN or relative in GUARDIAN_ASKED_IN_CORE:
                continue
            asked.extend(f"{relative}:{line}" for line in permission_questions(path))
    assert not asked, "ask core.access.can / require instead of guardian:\n" + "\n".join(asked)


def test_the_guardian_check_finds_a_view_asking_guardian(tmp_path):
    """The check above is not blind: the page-level check views used to write is found."""
    view = tmp_path / "views.py"
    view.write_text(
        "def can_add(self):\n"
        "    return self.request.user.has_perm('organizations.manage_facilities', self.org)\n"
        "from guardian.core import ObjectPermissionChecker\n",
        encoding="utf-8",
    )
    assert permission_questions(view) == [2, 3]
