"""The access matrix: for every named URL, the status each persona gets.

A new route fails ``test_every_route_is_in_the_matrix`` until its access is declared here.
Each (route, persona) request runs in a savepoint that is rolled back afterwards, so POST
routes can be exercised for every persona against the same cast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

PERSONAS = (
    "anonymous",
    "lead",
    "approver",
    "editor",
    "viewer",
    "outsider",
    "cupa_reviewer",
    "pa_viewer",
    "state_admin",
)
BUSINESS_MEMBERS = ("lead", "approver", "editor", "viewer")
NO_ORGANIZATION = ("cupa_reviewer", "pa_viewer", "state_admin")


@dataclass(frozen=True)
class Route:
    """How to call one route and what each persona gets. ``default`` applies to every
    signed-in persona not named in ``statuses``."""

    default: int
    statuses: dict[str, int] = field(default_factory=dict)
    args: Callable | None = None  # cast -> list of URL arguments
    method: str = "get"
    data: Callable | None = None  # cast -> POST data

    def expected(self, persona: str) -> int:
        if persona in self.statuses:
            return self.statuses[persona]
        if persona == "anonymous":
            return 302
        return self.default


def each(personas, status):
    return dict.fromkeys(personas, status)


# Routes outside the product's own pages: the Django admin (staff only; its own login), and the
# EDT services, which take no session at all (header credentials, per tier and environment;
# their access is tested endpoint by endpoint in tests/edt/).
EXEMPT_NAMESPACES = {"admin", "edt", "edt_staging"}


def _pending_invitation(cast):
    from organizations.services import invite

    invitation = invite(
        actor=cast.lead, organization=cast.org, email="new@acme.example", role="viewer"
    )
    return [invitation.pk]


def _pending_join_request(cast):
    from accounts.models import User
    from organizations.services import request_to_join

    newcomer = User.objects.create_user("newcomer@example.com", "x-long-password-1")
    return [request_to_join(user=newcomer, code=cast.org.code).pk]


def _membership(cast, persona):
    return [cast.org.memberships.get(user=getattr(cast, persona)).pk]


def _staff_invitation(cast):
    """A pending invitation of the Lead User to the Sacramento CUPA's staff."""
    from regulators.services import invite_staff

    return [invite_staff(actor=None, regulator=cast.cupa, user=cast.lead, role="viewer").pk]


def _staff_request(cast, agency="state"):
    """The Lead User's pending request to join an agency's staff (the state agency's by
    default: the cast's only agency with an administrator; another agency gets one here)."""
    from regulators.services import request_staff_access

    regulator = getattr(cast, agency)
    if agency != "state":
        from tests import factories

        admin = factories.make_user(f"admin@{agency}.example")
        factories.add_staff(regulator, admin, "administrator")
    return [request_staff_access(user=cast.lead, regulator=regulator, role="viewer").pk]


def _staff_membership(cast, persona, agency):
    return [getattr(cast, agency).staff.get(user=getattr(cast, persona)).pk]


def _draft(cast):
    from submittals import services

    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    return [record.pk]


DIESEL = {"207": "Diesel", "208": "N", "214": "b", "218": "500", "221": "a"}


def _inventory_draft(cast):
    from submittals import services

    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=2)
    return [record.pk]


def _inventory_material(cast):
    """An inventory draft with one material: [element pk, material pk]."""
    from submittals import services
    from submittals.inventory import add_material

    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=2)
    return [record.pk, add_material(actor=cast.editor, record=record, values=DIESEL).pk]


def _submit(cast, element):
    """Submit an element of cast.facility together with Facility Information; return it."""
    from submittals import services
    from submittals.inventory import add_material

    drafts = []
    from tests.submittals.data import (
        answer_required_documents,
        complete_data,
        complete_facility_information,
    )

    element_data = {} if element == 2 else complete_data(element)
    for code, data in ((1, complete_facility_information()), (element, element_data)):
        if code not in [d.element for d in drafts]:
            record = services.start_draft(actor=cast.editor, facility=cast.facility, element=code)
            drafts.append(services.save_draft_data(actor=cast.editor, record=record, data=data))
            if code == 2:  # an inventory lists at least one material
                add_material(actor=cast.editor, record=record, values=DIESEL)
            answer_required_documents(cast.editor, record)
    services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=drafts,
        certifier_name="Bob Approver",
        certifier_title="Manager",
    )
    return next(d for d in drafts if d.element == element)


def _submitted_element(cast, element):
    return [_submit(cast, element).pk]


def _bulk_review(cast, element):
    """The review queue's bulk action on one submitted element: mark it Accepted."""
    from submittals.models import SubmittalElementRecord
    from submittals.services import review_seen

    record = SubmittalElementRecord.objects.get(pk=_submit(cast, element).pk)
    return {"status": 4, "elements": [f"{record.pk}:{review_seen(record)}"]}


def _submitted_group(cast):
    return [_submit(cast, 2).facility_submittal_id]


SLOT = "FacilityInformationLocallyCollectedDocuments"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("plan.pdf", PDF, content_type="application/pdf")


def _gasoline() -> int:
    """The primary key of the seeded Gasoline entry (chemicals are named by primary key)."""
    from libraries.models import Chemical

    return Chemical.objects.get(chemical_name="Gasoline").pk


def _not_a_chemical_library():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("clq.xml", b"<Chemicals/>", content_type="text/xml")


def _document_file(cast, submitted=False):
    """A PDF in a Facility Information document slot of cast.facility, optionally submitted."""
    from submittals import documents, services
    from tests.submittals.data import complete_facility_information

    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    record = services.save_draft_data(
        actor=cast.editor, record=record, data=complete_facility_information()
    )
    upload = documents.add_document_file(
        actor=cast.editor, record=record, slot=SLOT, uploaded_file=_pdf(), title="Plan"
    )
    if submitted:
        services.submit(
            actor=cast.approver,
            facility=cast.facility,
            elements=[record],
            certifier_name="Bob Approver",
            certifier_title="Manager",
        )
    return upload


def _ust_draft_with_tank(cast, *index):
    from submittals import services

    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=4)
    services.save_draft_data(
        actor=cast.editor, record=record, data={"USTTanks/USTTank": [{"432": "T1"}]}
    )
    return [record.pk, "USTTank", *index]


def _cme_inspection(cast, program_element="a"):
    """An inspection of cast.facility: HMBP ("a") by the CUPA, UST ("c") by its PA."""
    import datetime

    from cme import services

    inspection = services.record_inspection(
        actor=None,
        regulator=cast.pa if program_element == "c" else cast.cupa,
        facility=cast.facility,
        program_element=program_element,
        inspection_type="a",
        occurred_on=datetime.date(2024, 5, 1),
        inspector_name="Ida Inspector",
    )
    return [inspection.pk]


CME_INSPECTION = {
    "program_element": "a",
    "inspection_type": "a",
    "occurred_on": "2024-05-01",
    "inspector_name": "Ida Inspector",
}
CME_VIOLATION = {
    "type_number": "1010001",
    "violation_class": "9",
    "occurred_on": "2024-05-01",
    "scheduled_rtc_on": "2024-06-01",
}


def _transfer(cast, facility):
    """The state administrator moves ``facility`` to Other Co with a PDF letter: its pk."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from facilities.services import move_facility

    letter = SimpleUploadedFile("request.pdf", PDF, content_type="application/pdf")
    transfer = move_facility(
        actor=cast.state_admin,
        facility=facility,
        to_organization=cast.other_org,
        reason="Sold to Other Co",
        letter=letter,
    )
    return transfer.pk


def _transfer_request(cast, facility=None, lead=None):
    """A pending request to transfer ``facility`` (cast.facility) made by its Lead User: its
    pk."""
    from facilities.services import request_transfer

    transfer_request = request_transfer(
        actor=lead or cast.lead,
        facility=facility or cast.facility,
        to_organization_code=999,
        reason="Sold",
    )
    return transfer_request.pk


def _cme_violation(cast, program_element="a"):
    """A violation found at _cme_inspection's inspection (HMBP by the CUPA, UST by its PA)."""
    import datetime

    from cme import services
    from cme.models import Inspection

    inspection = Inspection.objects.get(pk=_cme_inspection(cast, program_element)[0])
    violation = services.add_violation(
        actor=None,
        regulator=inspection.regulator,
        inspection=inspection,
        type_number="2030002" if program_element == "c" else "1010001",
        violation_class=9,
        occurred_on=datetime.date(2024, 5, 1),
        scheduled_rtc_on=datetime.date(2024, 6, 1),
    )
    return [violation.pk]


def _cme_enforcement(cast, program_element="a"):
    """An enforcement action linking _cme_violation's violation, by the same agency."""
    from cme import services
    from cme.models import Violation

    violation = Violation.objects.select_related(
        "inspection__regulator", "inspection__facility"
    ).get(pk=_cme_violation(cast, program_element)[0])
    enforcement = services.record_enforcement(
        actor=None,
        regulator=violation.inspection.regulator,
        facility=violation.inspection.facility,
        violations=[violation],
        enforcement_type="a",
        occurred_on=violation.occurred_on,
    )
    return [enforcement.pk]


def _cme_upload_file(cast):
    """A CME upload of one HMBP inspection of cast.facility."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = (
        "Record,Inspection reference,CERS ID,Program element (905),Inspection type (907),"
        "Inspection date (906),Inspector\r\n"
        f"inspection,INS-1,{cast.facility.cers_id},a,a,2024-05-01,Ida Inspector\r\n"
    )
    return SimpleUploadedFile("cme.csv", content.encode())


CME_ENFORCEMENT = {"enforcement_type": "b", "occurred_on": "2024-05-02"}


def _edt_request(cast):
    """A pending EDT access request of the Sacramento CUPA (tier 1 in testing, with its new EDT
    account), filed by the system: [request pk]."""
    from django.conf import settings

    from edt.access import services

    access_request = services.file_access_request(
        actor=None,
        regulator=cast.cupa,
        environments=["testing"],
        tiers=[1],
        authority_confirmed=True,
        terms_version=settings.EDT_TERMS_VERSION,
        edt_administrators=[cast.cupa_reviewer],
        new_account=services.NewAccount(email="edt@sac-cupa.example", username="sac_edt"),
        own_system=True,
    )
    return [access_request.pk]


def _edt_grant(cast):
    from edt.models import TierGrant

    _edt_request(cast)
    return [TierGrant.objects.get(regulator=cast.cupa).pk]


def _edt_account(cast):
    from edt.models import AccessRequest

    return [AccessRequest.objects.get(pk=_edt_request(cast)[0]).edt_account_id]


def _edt_token(cast):
    import datetime

    from django.utils import timezone

    from edt.access import services
    from edt.models import EdtAccount

    token, _plain = services.issue_token(
        actor=None,
        account=EdtAccount.objects.get(pk=_edt_account(cast)[0]),
        name="Test",
        expires_at=timezone.now() + datetime.timedelta(days=30),
        environments=["testing"],
        tiers=[1],
    )
    return [token.pk]


def _edt_vendor(cast):
    from edt.access import services

    return [services.register_vendor(actor=None, name="Delta Data Systems").pk]


def _edt_announcement(cast):
    from edt.access import services

    return [services.post_announcement(actor=None, subject="Hello", body="Testing.").pk]


def _edt_subscriber_link(purpose):
    """A link from an implementers' list e-mail, for an address waiting for confirmation."""

    def args(cast):
        from edt.access import services
        from edt.models import Subscriber

        subscriber = Subscriber.objects.create(email="dev@vendor.example")
        if purpose == "confirm":
            return [services.confirmation_token(subscriber)]
        return [services.unsubscribe_token(subscriber)]

    return args


def _edt_transaction(cast):
    """A logged EDT call of the Sacramento CUPA: [its key]."""
    import uuid

    from edt.models import EdtTransaction

    row = EdtTransaction.objects.create(
        key=uuid.uuid4(), endpoint="RAT", environment="testing", regulator=cast.cupa, status=2
    )
    return [row.key]


def _edt_pending_grant_decision(cast):
    from edt.models import TierGrant

    grant = TierGrant.objects.get(regulator=cast.cupa)
    return {f"decision_{grant.pk}": "approve", f"reason_{grant.pk}": ""}


BUSINESS_USERS = (*BUSINESS_MEMBERS, "outsider")
STAFF_PAGE = Route(200, each(BUSINESS_USERS, 403))

# EDT access: the agency's administrators and EDT administrators, and the state administrator;
# the cast has no CUPA or PA administrator, so its reviewer and viewer get 403 (their own
# agency's pages). Another agency's objects answer 404: tests/edt/test_pages.py.
EDT_ADMIN_PAGE = Route(403, {"state_admin": 200})
DRAFT_WRITE = {"viewer": 403, "outsider": 404} | each(NO_ORGANIZATION, 302)
MEMBER_PAGE = Route(200, each(NO_ORGANIZATION, 302))
ANY_SIGNED_IN = Route(200)
LEAD_ONLY_ACTION = {"approver": 403, "editor": 403, "viewer": 403, "outsider": 404}
LEAD_ONLY_ACTION |= each(NO_ORGANIZATION, 302)  # sent to the start page first

MATRIX: dict[str, Route] = {
    # Public pages.
    "home": Route(302, {"anonymous": 200}),
    "health": Route(200, {"anonymous": 200}),
    "regulator_directory": Route(200, {"anonymous": 200}),
    "favicon": Route(301, {"anonymous": 301}),
    "invitation": Route(404, {"anonymous": 404}, args=lambda c: ["no-such-token"]),
    # A staff invitation: only the person invited (the Lead User here) finds it.
    "staff_invitation": Route(404, {"lead": 200}, args=_staff_invitation),
    "staff_invitation_decline": Route(404, {"lead": 302}, args=_staff_invitation, method="post"),
    # Asking to join an agency's staff, from the directory: anyone signed in. Withdrawing a
    # request: only the person who asked (the Lead User here).
    "staff_request_create": Route(200, args=lambda c: [c.cupa.code]),
    "staff_request_withdraw": Route(404, {"lead": 302}, args=_staff_request, method="post"),
    # Accounts.
    "accounts:signup": Route(302, {"anonymous": 200}),
    "accounts:signup_done": Route(200, {"anonymous": 200}),
    "accounts:activate": Route(400, {"anonymous": 400}, args=lambda c: ["MA", "bad-token"]),
    "accounts:activation_resend": Route(200, {"anonymous": 200}),
    "accounts:login": Route(302, {"anonymous": 200}),
    "accounts:logout": Route(302, method="post"),
    "accounts:password_reset": Route(200, {"anonymous": 200}),
    "accounts:password_reset_done": Route(200, {"anonymous": 200}),
    "accounts:password_reset_confirm": Route(
        200, {"anonymous": 200}, args=lambda c: ["MA", "bad-token"]
    ),
    "accounts:password_reset_complete": Route(200, {"anonymous": 200}),
    # Each signed-in person's own account (only ever their own: no key in the URL).
    "accounts:profile": ANY_SIGNED_IN,
    "accounts:password_change": ANY_SIGNED_IN,
    "accounts:email_change": ANY_SIGNED_IN,
    # The link e-mailed to a new address works signed out too; a bad one changes nothing (400).
    "accounts:email_change_confirm": Route(
        400, {"anonymous": 400}, args=lambda c: ["MA", "eA", "bad-token"]
    ),
    # The portals' user agreements: anyone reads them; a signed-in person who accepted the
    # current version is sent on from the acceptance page (as the cast has).
    "accounts:agreement": Route(200, {"anonymous": 200}, args=lambda c: ["business"]),
    "accounts:agreement_accept": Route(302, args=lambda c: ["regulator"]),
    # Business portal: organizations and people.
    "business:home": MEMBER_PAGE,
    "business:people": MEMBER_PAGE,
    # The organization the user works in, whose Lead Users alone edit it (the outsider is
    # Lead User of their own).
    "business:organization_edit": Route(
        200, {"approver": 403, "editor": 403, "viewer": 403} | each(NO_ORGANIZATION, 302)
    ),
    "business:start": ANY_SIGNED_IN,
    # Each signed-in user's own: what needs their action and the e-mails sent to them.
    "business:notifications": ANY_SIGNED_IN,
    "business:organization_create": Route(
        302, method="post", data=lambda c: {"name": "New Business"}
    ),
    "business:join_request_create": Route(
        302,  # the same answer for members: what happened goes by e-mail
        method="post",
        data=lambda c: {"code": c.org.code, "kind": "organization"},
    ),
    "business:switch_organization": Route(
        302, {"outsider": 404}, method="post", data=lambda c: {"organization": c.org.pk}
    ),
    "business:member_role": Route(
        302,
        LEAD_ONLY_ACTION,
        args=lambda c: _membership(c, "viewer"),
        method="post",
        data=lambda c: {"role": "editor"},
    ),
    "business:member_remove": Route(
        302,
        LEAD_ONLY_ACTION | {"viewer": 302},  # the viewer may leave
        args=lambda c: _membership(c, "viewer"),
        method="post",
    ),
    "business:invitation_revoke": Route(
        302, LEAD_ONLY_ACTION, args=_pending_invitation, method="post"
    ),
    "business:join_requests": Route(
        200, {"approver": 403, "editor": 403, "viewer": 403} | each(NO_ORGANIZATION, 302)
    ),
    "business:join_request_decide": Route(
        302,
        LEAD_ONLY_ACTION,
        args=_pending_join_request,
        method="post",
        data=lambda c: {"decision": "decline"},
    ),
    # Business portal: facilities.
    "business:facilities": MEMBER_PAGE,
    "business:facility_create": Route(
        200, {"approver": 403, "editor": 403, "viewer": 403} | each(NO_ORGANIZATION, 302)
    ),
    "business:facility": Route(
        200, {"outsider": 404} | each(NO_ORGANIZATION, 302), args=lambda c: [c.facility.cers_id]
    ),
    # Upkeep of a facility: its organization's Lead Users (facilities.upkeep); another
    # organization's facility answers 404 before the role is asked.
    "business:facility_edit": Route(
        200,
        {"approver": 403, "editor": 403, "viewer": 403, "outsider": 404}
        | each(NO_ORGANIZATION, 302),
        args=lambda c: [c.facility.cers_id],
    ),
    "business:facility_close": Route(
        200,
        {"approver": 403, "editor": 403, "viewer": 403, "outsider": 404}
        | each(NO_ORGANIZATION, 302),
        args=lambda c: [c.facility.cers_id],
    ),
    "business:facility_transfer_request": Route(
        200,
        {"approver": 403, "editor": 403, "viewer": 403, "outsider": 404}
        | each(NO_ORGANIZATION, 302),
        args=lambda c: [c.facility.cers_id],
    ),
    # Reopening a closed facility: in the business portal, those who may close it.
    "business:facility_reopen": Route(
        200,
        {"approver": 403, "editor": 403, "viewer": 403, "outsider": 404}
        | each(NO_ORGANIZATION, 302),
        args=lambda c: [c.facility.cers_id],
    ),
    # Withdrawing a pending transfer request: those who may ask for one.
    "business:facility_transfer_request_withdraw": Route(
        302,
        {"approver": 403, "editor": 403, "viewer": 403, "outsider": 404},
        args=lambda c: [c.facility.cers_id, _transfer_request(c)],
        method="post",
    ),
    # Regulator portal: business users are not staff of any agency (403, which reveals no
    # object); staff outside an object's jurisdiction get 404 (see the rows below).
    "regulator:home": STAFF_PAGE,
    "regulator:facilities": STAFF_PAGE,
    "regulator:facilities_export": STAFF_PAGE,
    "regulator:facility": Route(
        200, each(BUSINESS_USERS, 403), args=lambda c: [c.facility.cers_id]
    ),
    # Setting an element's requirement and due date: staff reviewing for the element's agency
    # (Hazardous Materials Inventory: the CUPA's) or the state agency (who reviews anywhere);
    # other staff who see the facility get 403.
    "regulator:facility_element": Route(
        403, {"cupa_reviewer": 200, "state_admin": 200}, args=lambda c: [c.facility.cers_id, 2]
    ),
    # The agency's due date rule: its administrators (the cast's: the state administrator).
    "regulator:due_date_rule": Route(403, {"state_admin": 200}),
    "regulator:organizations": STAFF_PAGE,
    "regulator:organization_people_export": STAFF_PAGE,
    "regulator:organization": Route(200, each(BUSINESS_USERS, 403), args=lambda c: [c.org.code]),
    # Regulator portal: transfers. Need manage_facilities on the current agency (403 for
    # reviewers and viewers in scope) and, for moving or merging a facility, to be its CUPA or
    # the state administrator (a PA's administrator: 403, see ADMINISTRATOR_ROWS below);
    # merging organizations is for state staff only.
    # The facility's ID and location: staff reviewing for the agency handling its Facility
    # Information (the CUPA) or for the state agency; the PA sees the facility but gets 403.
    "regulator:facility_details": Route(
        403, {"cupa_reviewer": 200, "state_admin": 200}, args=lambda c: [c.facility.cers_id]
    ),
    "regulator:facility_move": Route(
        403, {"state_admin": 200}, args=lambda c: [c.facility.cers_id]
    ),
    "regulator:facility_merge": Route(
        403, {"state_admin": 200}, args=lambda c: [c.facility.cers_id]
    ),
    # The businesses' transfer requests in the agency's jurisdiction: every staff member.
    "regulator:facility_transfer_requests": STAFF_PAGE,
    # Declining one: those who would move the facility (its CUPA's administrators, the state
    # administrator); staff who see it otherwise get 403, other agencies 404 (SCOPE_ROWS).
    "regulator:facility_transfer_request_decline": Route(
        403, {"state_admin": 200}, args=lambda c: [_transfer_request(c)]
    ),
    # Reopening a closed facility: administrators of an agency regulating one of its elements
    # and the state administrator (see ADMINISTRATOR_ROWS).
    "regulator:facility_reopen": Route(
        403, {"state_admin": 200}, args=lambda c: [c.facility.cers_id]
    ),
    "regulator:organization_merge": Route(403, {"state_admin": 200}, args=lambda c: [c.org.code]),
    # Importing legacy facilities: manage_facilities on the current agency.
    "regulator:legacy_import": Route(403, {"state_admin": 200}),
    "regulator:switch_agency": Route(
        404,  # only an agency the user is staff of
        each(BUSINESS_USERS, 403) | {"cupa_reviewer": 302},
        method="post",
        data=lambda c: {"regulator": c.cupa.pk},
    ),
    # Regulator portal: staff. Every staff member sees their own agency's staff; changes need
    # manage_staff there (403 otherwise), and another agency's memberships answer 404.
    "regulator:staff": STAFF_PAGE,
    "regulator:reminder_days": STAFF_PAGE,
    "regulator:local_requirements": STAFF_PAGE,
    "regulator:contact": STAFF_PAGE,
    "regulator:staff_add": Route(
        403,
        {"state_admin": 302},
        method="post",
        data=lambda c: {"email": c.lead.email, "role": "viewer"},
    ),
    "regulator:staff_role": Route(
        403,
        {"state_admin": 404},
        args=lambda c: _staff_membership(c, "cupa_reviewer", "cupa"),
        method="post",
        data=lambda c: {"role": "viewer"},
    ),
    "regulator:staff_remove": Route(
        403,
        {"state_admin": 404},
        args=lambda c: _staff_membership(c, "cupa_reviewer", "cupa"),
        method="post",
    ),
    "regulator:staff_invitation_cancel": Route(
        403, {"state_admin": 404}, args=_staff_invitation, method="post"
    ),
    # Deciding a request to join the staff: the agency's administrators (the state's here);
    # other staff 403 (their own agency's page), another agency's request 404 (SCOPE_ROWS).
    "regulator:staff_request_decide": Route(
        403,
        {"state_admin": 302},
        args=_staff_request,
        method="post",
        data=lambda c: {"decision": "approve", "role": "viewer"},
    ),
    # Business portal: submittals.
    "business:submittals": Route(
        200, {"outsider": 404} | each(NO_ORGANIZATION, 302), args=lambda c: [c.facility.cers_id]
    ),
    "business:draft_start": Route(
        302,
        {"viewer": 403, "outsider": 404} | each(NO_ORGANIZATION, 302),
        args=lambda c: [c.facility.cers_id],
        method="post",
        data=lambda c: {"element": 1},
    ),
    "business:submit": Route(
        200,
        {"editor": 403, "viewer": 403, "outsider": 404} | each(NO_ORGANIZATION, 302),
        args=lambda c: [c.facility.cers_id],
    ),
    # The organization's own page: the outsider works in their own organization.
    "business:certify_no_changes": Route(
        200, {"editor": 403, "viewer": 403} | each(NO_ORGANIZATION, 302)
    ),
    "business:element": Route(200, {"outsider": 404} | each(NO_ORGANIZATION, 302), args=_draft),
    "business:draft_discard": Route(
        302,
        {"viewer": 403, "outsider": 404} | each(NO_ORGANIZATION, 302),
        args=_draft,
        method="post",
    ),
    "business:submittal_receipt": Route(
        200, {"outsider": 404} | each(NO_ORGANIZATION, 302), args=_submitted_group
    ),
    # The submittal and its receipt as PDFs: every member; another organization's 404.
    "business:submittal_receipt_pdf": Route(
        200, {"outsider": 404} | each(NO_ORGANIZATION, 302), args=_submitted_group
    ),
    "business:submittal_pdf": Route(
        200, {"outsider": 404} | each(NO_ORGANIZATION, 302), args=_submitted_group
    ),
    # Business portal: inventory materials. Viewers see them; changing needs edit_drafts.
    "business:inventory": Route(
        200, {"outsider": 404} | each(NO_ORGANIZATION, 302), args=_inventory_draft
    ),
    "business:material_add": Route(
        200,
        {"viewer": 403, "outsider": 404} | each(NO_ORGANIZATION, 302),
        args=_inventory_draft,
    ),
    "business:material_edit": Route(
        200, {"outsider": 404} | each(NO_ORGANIZATION, 302), args=_inventory_material
    ),
    "business:material_delete": Route(
        302,
        {"viewer": 403, "outsider": 404} | each(NO_ORGANIZATION, 302),
        args=_inventory_material,
        method="post",
    ),
    "business:inventory_import": Route(
        200,
        {"viewer": 403, "outsider": 404} | each(NO_ORGANIZATION, 302),
        args=_inventory_draft,
    ),
    "business:inventory_template": Route(200, each(NO_ORGANIZATION, 302)),
    # Regulator portal: review. Element 1 goes to the CUPA; element 4 (UST) to the PA.
    "regulator:review_queue": STAFF_PAGE,
    "regulator:review_queue_export": STAFF_PAGE,
    # The bulk action needs the review role at the agency (the PA's viewer: 403).
    "regulator:review_queue_bulk": Route(
        302,
        each(BUSINESS_USERS, 403) | {"pa_viewer": 403},
        method="post",
        data=lambda c: _bulk_review(c, 1),
    ),
    "regulator:review": Route(
        200,
        each(BUSINESS_USERS, 403) | {"pa_viewer": 404},
        args=lambda c: _submitted_element(c, 1),
    ),
    # A submittal as a PDF: staff of an agency its elements were routed to (Facility
    # Information and the inventory go to the CUPA; the PA handles neither).
    "regulator:submittal_pdf": Route(
        200, each(BUSINESS_USERS, 403) | {"pa_viewer": 404}, args=_submitted_group
    ),
    # Business portal: document slots. Writes need edit_drafts.
    "business:document_answer": Route(
        302,
        DRAFT_WRITE,
        args=lambda c: [*_draft(c), SLOT],
        method="post",
        data=lambda c: {"source": 6},
    ),
    "business:document_upload": Route(
        302,
        DRAFT_WRITE,
        args=lambda c: [*_draft(c), SLOT],
        method="post",
        data=lambda c: {"file": _pdf(), "title": "Plan"},
    ),
    "business:document_remove": Route(
        302, DRAFT_WRITE, args=lambda c: [_document_file(c).pk], method="post"
    ),
    "business:document_download": Route(
        200, {"outsider": 404} | each(NO_ORGANIZATION, 302), args=lambda c: [_document_file(c).key]
    ),
    "regulator:document_download": Route(
        200,
        each(BUSINESS_USERS, 403) | {"pa_viewer": 404},  # element 1 goes to the CUPA
        args=lambda c: [_document_file(c, submitted=True).key],
    ),
    # Business portal: live validation (HTMX only: a plain POST is a bad request).
    "business:element_validate": Route(400, DRAFT_WRITE, args=_draft, method="post"),
    # Business portal: rows of repeating groups (a UST draft with one tank).
    "business:element_group_row_add": Route(
        200, DRAFT_WRITE | {"viewer": 403}, args=lambda c: _ust_draft_with_tank(c)
    ),
    "business:element_group_row": Route(
        200,
        {"outsider": 404} | each(NO_ORGANIZATION, 302),
        args=lambda c: _ust_draft_with_tank(c, 0),
    ),
    "business:element_group_row_remove": Route(
        302, DRAFT_WRITE, args=lambda c: _ust_draft_with_tank(c, 0), method="post"
    ),
    # The chemical library: every signed-in user.
    "libraries:chemicals": ANY_SIGNED_IN,
    "libraries:chemical": Route(200, args=lambda c: [_gasoline()]),
    # The libraries: every signed-in user reads them; the state administrator maintains the
    # chemical and violation libraries (regulator portal pages: 403 for everyone else).
    "libraries:index": ANY_SIGNED_IN,
    "libraries:chemical_create": Route(403, {"state_admin": 200}),
    "libraries:chemical_edit": Route(403, {"state_admin": 200}, args=lambda c: [_gasoline()]),
    "libraries:chemical_library_load": Route(403, {"state_admin": 200}),
    # The violation library is public, as CalEPA publishes it.
    "libraries:violations": Route(200, {"anonymous": 200}),
    "libraries:violation": Route(200, {"anonymous": 200}, args=lambda c: ["1010001"]),
    "libraries:violation_create": Route(403, {"state_admin": 200}),
    "libraries:violation_library_load": Route(403, {"state_admin": 200}),
    "libraries:violation_edit": Route(403, {"state_admin": 200}, args=lambda c: ["7010003"]),
    "libraries:violation_delete": Route(
        403, {"state_admin": 302}, args=lambda c: ["7010003"], method="post"
    ),
    "libraries:dictionary": ANY_SIGNED_IN,
    "libraries:dictionary_entry": Route(200, args=lambda c: ["205"]),
    # Regulator portal: CME (an HMBP inspection of cast.facility by the CUPA; the PA handles
    # only the facility's UST). Writes need record_cme at the agency (403 for viewers).
    "regulator:cme_inspections": STAFF_PAGE,
    # Finding the facility to inspect: for staff who may record CME (the results are the
    # agency's jurisdiction: tests/cme/test_record_inspection.py).
    "regulator:cme_inspection_start": Route(200, each(BUSINESS_USERS, 403) | {"pa_viewer": 403}),
    "regulator:cme_inspections_export": STAFF_PAGE,
    "regulator:cme_inspection_create": Route(
        200, each(BUSINESS_USERS, 403) | {"pa_viewer": 403}, args=lambda c: [c.facility.cers_id]
    ),
    "regulator:cme_inspection": Route(
        200, each(BUSINESS_USERS, 403) | {"pa_viewer": 404}, args=_cme_inspection
    ),
    "regulator:cme_violation_create": Route(
        302,
        each(BUSINESS_USERS, 403) | {"pa_viewer": 404},
        args=_cme_inspection,
        method="post",
        data=lambda c: CME_VIOLATION,
    ),
    "regulator:cme_enforcement_create": Route(
        302,
        each(BUSINESS_USERS, 403) | {"pa_viewer": 404},
        args=_cme_inspection,
        method="post",
        data=lambda c: {"enforcement_type": "a", "occurred_on": "2024-05-01"},
    ),
    "regulator:cme_inspection_delete": Route(
        302, each(BUSINESS_USERS, 403) | {"pa_viewer": 404}, args=_cme_inspection, method="post"
    ),
    "regulator:cme_inspection_edit": Route(
        200, each(BUSINESS_USERS, 403) | {"pa_viewer": 404}, args=_cme_inspection
    ),
    "regulator:cme_violation_edit": Route(
        200, each(BUSINESS_USERS, 403) | {"pa_viewer": 404}, args=_cme_violation
    ),
    "regulator:cme_enforcements": STAFF_PAGE,
    "regulator:cme_enforcements_export": STAFF_PAGE,
    "regulator:cme_enforcement": Route(
        200, each(BUSINESS_USERS, 403) | {"pa_viewer": 404}, args=_cme_enforcement
    ),
    "regulator:cme_enforcement_edit": Route(
        200, each(BUSINESS_USERS, 403) | {"pa_viewer": 404}, args=_cme_enforcement
    ),
    "regulator:cme_upload": Route(200, each(BUSINESS_USERS, 403) | {"pa_viewer": 403}),
    "regulator:cme_upload_template": STAFF_PAGE,
    "regulator:violations_past_rtc": STAFF_PAGE,
    "regulator:status_report": STAFF_PAGE,
    "regulator:status_report_export": STAFF_PAGE,
    "regulator:large_organizations": Route(403, {"state_admin": 200}),
    "regulator:organization_take_over": Route(
        403, {"state_admin": 302}, args=lambda c: [c.org.code], method="post"
    ),
    "regulator:organization_release": Route(
        403, {"state_admin": 302}, args=lambda c: [c.org.code], method="post"
    ),
    "regulator:facility_transfer_letter": Route(
        200, each(BUSINESS_USERS, 403), args=lambda c: [_transfer(c, c.facility)]
    ),
    "regulator:edt_home": EDT_ADMIN_PAGE,
    "regulator:edt_requests": EDT_ADMIN_PAGE,
    "regulator:edt_request_new": EDT_ADMIN_PAGE,
    "regulator:edt_request": Route(403, {"state_admin": 200}, args=_edt_request),
    "regulator:edt_request_decide": Route(
        403,
        {"state_admin": 302},
        args=_edt_request,
        method="post",
        data=_edt_pending_grant_decision,
    ),
    "regulator:edt_grants": EDT_ADMIN_PAGE,
    "regulator:edt_grant_change": Route(
        403,
        {"state_admin": 302},
        args=_edt_grant,
        method="post",
        # refused: still requested ("confirmed": past the confirmation page)
        data=lambda c: {"action": "revoke", "reason": "Testing.", "confirmed": "True"},
    ),
    "regulator:edt_account": Route(403, {"state_admin": 200}, args=_edt_account),
    "regulator:edt_account_secret": Route(
        403, {"state_admin": 200}, args=_edt_account, method="post"
    ),
    "regulator:edt_account_active": Route(
        403, {"state_admin": 302}, args=_edt_account, method="post", data=lambda c: {"active": "0"}
    ),
    "regulator:edt_token_new": Route(403, {"state_admin": 200}, args=_edt_account),
    "regulator:edt_token_revoke": Route(403, {"state_admin": 302}, args=_edt_token, method="post"),
    "regulator:edt_vendors": EDT_ADMIN_PAGE,
    "regulator:edt_vendor_new": EDT_ADMIN_PAGE,
    "regulator:edt_vendor": Route(403, {"state_admin": 200}, args=_edt_vendor),
    "regulator:edt_announcement_new": EDT_ADMIN_PAGE,
    "regulator:edt_transactions": EDT_ADMIN_PAGE,
    "regulator:edt_transaction": Route(403, {"state_admin": 200}, args=_edt_transaction),
    # Regulator staff join the implementers' list themselves; the state administrator manages it.
    "regulator:edt_implementers": STAFF_PAGE,
    # The EDT program's public pages, the implementers' list and its e-mails' links included.
    "edt_program:vendors": Route(200, {"anonymous": 200}),
    "edt_program:terms": Route(200, {"anonymous": 200}),
    "edt_program:announcements": Route(200, {"anonymous": 200}),
    "edt_program:announcement": Route(200, {"anonymous": 200}, args=_edt_announcement),
    "edt_program:implementers": Route(200, {"anonymous": 200}),
    "edt_program:implementers_confirm": Route(
        200, {"anonymous": 200}, args=_edt_subscriber_link("confirm")
    ),
    "edt_program:implementers_unsubscribe": Route(
        200, {"anonymous": 200}, args=_edt_subscriber_link("unsubscribe")
    ),
}


# The same routes on objects in another scope: out-of-scope objects answer 404.
SCOPE_ROWS: list[tuple[str, Route]] = [
    (
        "regulator:staff_request_decide",  # a request to join the CUPA's staff
        Route(
            403,
            {"state_admin": 404},
            args=lambda c: _staff_request(c, "cupa"),
            method="post",
            data=lambda c: {"decision": "approve", "role": "viewer"},
        ),
    ),
    (
        "business:element_group_row_add",
        Route(
            302,
            DRAFT_WRITE,
            args=lambda c: _ust_draft_with_tank(c),
            method="post",
            data=lambda c: {"f_432": "T2"},
        ),
    ),
    (
        "business:element_group_row",
        Route(
            302,
            DRAFT_WRITE,
            args=lambda c: _ust_draft_with_tank(c, 0),
            method="post",
            data=lambda c: {"f_432": "T1-B"},
        ),
    ),
    (
        # The PA's element: not in the CUPA's queue, so its reviewer's bulk action is
        # answered with the queue and an error, and nothing is applied.
        "regulator:review_queue_bulk",
        Route(
            200,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 403, "state_admin": 302},
            method="post",
            data=lambda c: _bulk_review(c, 4),
        ),
    ),
    (
        "regulator:review",  # the PA's element: the CUPA reviewer is out of scope
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 200, "state_admin": 200},
            args=lambda c: _submitted_element(c, 4),
        ),
    ),
    (
        "regulator:review",  # a viewer in scope may look but not act
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 403, "state_admin": 302},
            args=lambda c: _submitted_element(c, 4),
            method="post",
            data=lambda c: {"status": 4},
        ),
    ),
    (
        "regulator:review",
        Route(
            302,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 404},
            args=lambda c: _submitted_element(c, 1),
            method="post",
            data=lambda c: {"status": 4},
        ),
    ),
    (
        "business:material_add",  # adding saves for editors, refused for the viewer
        Route(
            302,
            {"viewer": 403, "outsider": 404} | each(NO_ORGANIZATION, 302),
            args=_inventory_draft,
            method="post",
            data=lambda c: {f"f_{number}": value for number, value in DIESEL.items()},
        ),
    ),
    (
        "business:material_edit",
        Route(
            302,
            {"viewer": 403, "outsider": 404} | each(NO_ORGANIZATION, 302),
            args=_inventory_material,
            method="post",
            data=lambda c: {f"f_{number}": value for number, value in DIESEL.items()},
        ),
    ),
    (
        "business:material_add",  # a submitted inventory: editors are sent back to it
        Route(
            302,
            {"viewer": 403, "outsider": 404} | each(NO_ORGANIZATION, 302),
            args=lambda c: _submitted_element(c, 2),
        ),
    ),
    (
        "business:inventory",  # not an inventory element
        Route(404, each(NO_ORGANIZATION, 302), args=_draft),
    ),
    (
        "business:facility",
        Route(
            404,
            {"outsider": 200} | each(NO_ORGANIZATION, 302),
            args=lambda c: [c.other_facility.cers_id],
        ),
    ),
    (
        "regulator:facility",  # Yolo: neither the Sacramento CUPA's nor its PA's
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"state_admin": 200},
            args=lambda c: [c.facility_yolo.cers_id],
        ),
    ),
    (
        "regulator:facility_element",  # Yolo: neither the Sacramento CUPA's nor its PA's
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"state_admin": 200},
            args=lambda c: [c.facility_yolo.cers_id, 2],
        ),
    ),
    (
        "regulator:organization",
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"state_admin": 200},
            args=lambda c: [c.other_org.code],
        ),
    ),
    (
        "staff_invitation",  # accepting: the person invited joins, anyone else gets 404
        Route(404, {"lead": 302}, args=_staff_invitation, method="post"),
    ),
    (
        "regulator:staff_role",  # the state agency's own staff: its administrator may act
        Route(
            403,
            {"state_admin": 302},
            args=lambda c: _staff_membership(c, "state_admin", "state"),
            method="post",
            data=lambda c: {"role": "reviewer"},  # refused: its last administrator
        ),
    ),
    (
        "regulator:cme_inspection",  # the PA's UST inspection: not the CUPA reviewer's
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 200, "state_admin": 200},
            args=lambda c: _cme_inspection(c, "c"),
        ),
    ),
    (
        "regulator:cme_inspection",  # a viewer in scope may look but not edit
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 403, "state_admin": 302},
            args=lambda c: _cme_inspection(c, "c"),
            method="post",
            data=lambda c: CME_INSPECTION | {"program_element": "c"},
        ),
    ),
    (
        "regulator:cme_violation_create",
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 403, "state_admin": 302},
            args=lambda c: _cme_inspection(c, "c"),
            method="post",
            data=lambda c: CME_VIOLATION | {"type_number": "2030002"},
        ),
    ),
    (
        "regulator:cme_inspection_create",
        Route(
            302,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 403},
            args=lambda c: [c.facility.cers_id],
            method="post",
            data=lambda c: CME_INSPECTION,
        ),
    ),
    (
        "regulator:cme_inspection_create",  # Yolo: outside both Sacramento agencies
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"state_admin": 200},
            args=lambda c: [c.facility_yolo.cers_id],
        ),
    ),
    (
        "regulator:cme_inspection_edit",  # the PA's UST inspection: its viewer may not edit
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 403, "state_admin": 200},
            args=lambda c: _cme_inspection(c, "c"),
        ),
    ),
    (
        "regulator:cme_inspection_edit",
        Route(
            302,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 404},
            args=_cme_inspection,
            method="post",
            data=lambda c: CME_INSPECTION | {"inspection_type": "b"},
        ),
    ),
    (
        "regulator:cme_violation_edit",
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 403, "state_admin": 302},
            args=lambda c: _cme_violation(c, "c"),
            method="post",
            data=lambda c: CME_VIOLATION | {"type_number": "2030002", "violation_class": "1"},
        ),
    ),
    (
        "regulator:cme_enforcement",  # the PA's action on its UST violation
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 200, "state_admin": 200},
            args=lambda c: _cme_enforcement(c, "c"),
        ),
    ),
    (
        "regulator:cme_enforcement_edit",
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 403, "state_admin": 302},
            args=lambda c: _cme_enforcement(c, "c"),
            method="post",
            data=lambda c: CME_ENFORCEMENT,
        ),
    ),
    (
        "regulator:cme_enforcement_edit",
        Route(
            302,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 404},
            args=_cme_enforcement,
            method="post",
            data=lambda c: CME_ENFORCEMENT,
        ),
    ),
    (
        "regulator:cme_upload",
        Route(
            302,
            each(BUSINESS_USERS, 403) | {"pa_viewer": 403},
            method="post",
            data=lambda c: {"file": _cme_upload_file(c)},
        ),
    ),
    (
        "regulator:edt_implementers",  # staff join the list themselves
        Route(
            302, each(BUSINESS_USERS, 403), method="post", data=lambda c: {"action": "subscribe"}
        ),
    ),
    (
        "edt_program:implementers",  # anyone asks to join: a link to confirm is e-mailed
        Route(
            302, {"anonymous": 302}, method="post", data=lambda c: {"email": "dev@vendor.example"}
        ),
    ),
    (
        "edt_program:implementers_confirm",  # the link works without a session
        Route(200, {"anonymous": 200}, args=_edt_subscriber_link("confirm"), method="post"),
    ),
    (
        "edt_program:implementers_unsubscribe",
        Route(200, {"anonymous": 200}, args=_edt_subscriber_link("unsubscribe"), method="post"),
    ),
    (
        "edt_program:implementers_unsubscribe",  # a forged link: a page that says so
        Route(400, {"anonymous": 400}, args=lambda c: ["forged:token"]),
    ),
    (
        "regulator:edt_vendor",  # authorizing a vendor's tiers: the state administrator only
        Route(
            403,
            {"state_admin": 302},
            args=_edt_vendor,
            method="post",
            data=lambda c: {"tiers": ["1", "2"]},
        ),
    ),
    (
        "regulator:organization_take_over",  # Other Co: outside both Sacramento agencies
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"state_admin": 302},
            args=lambda c: [c.other_org.code],
            method="post",
        ),
    ),
    (
        "regulator:facility_transfer_request_decline",  # Yolo: outside both Sacramento agencies
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"state_admin": 302},
            args=lambda c: [_transfer_request(c, c.facility_yolo)],
            method="post",
            data=lambda c: {"reason": "No letter"},
        ),
    ),
    (
        "regulator:facility_reopen",  # Yolo: outside both Sacramento agencies
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"state_admin": 200},
            args=lambda c: [c.facility_yolo.cers_id],
        ),
    ),
    (
        "business:facility_transfer_request_withdraw",  # Other Co's request: its own only
        Route(
            404,
            {"outsider": 302} | each(NO_ORGANIZATION, 302),
            args=lambda c: [
                c.other_facility.cers_id,
                _transfer_request(c, c.other_facility, c.outsider),
            ],
            method="post",
        ),
    ),
    (
        "regulator:facility_transfer_letter",  # Yolo: outside both Sacramento agencies
        Route(
            404,
            each(BUSINESS_USERS, 403) | {"state_admin": 200},
            args=lambda c: [_transfer(c, c.facility_yolo)],
        ),
    ),
    ("libraries:violation", Route(404, {"anonymous": 404}, args=lambda c: ["9999999"])),
    ("libraries:dictionary_entry", Route(404, args=lambda c: ["999zz"])),
    ("libraries:violation_edit", Route(403, {"state_admin": 404}, args=lambda c: ["9999999"])),
    ("libraries:chemical_edit", Route(403, {"state_admin": 404}, args=lambda c: [99999])),
    (
        "libraries:chemical_library_load",  # a file that is not a chemical library
        Route(
            403,
            {"state_admin": 200},
            method="post",
            data=lambda c: {"file": _not_a_chemical_library()},
        ),
    ),
    (
        "libraries:violation_create",
        Route(
            403,
            {"state_admin": 302},
            method="post",
            data=lambda c: {
                "type_number": "1019901",
                "name": "Failure to post emergency contacts",
                "category": "Administration/Documentation",
                "program_element": "1",
                "begin_date": "2025-01-01",
                "citation_1_section": "25505",
                "citation_1_source": "California Health and Safety Code",
            },
        ),
    ),
    (
        "libraries:chemical_edit",
        Route(
            403,
            {"state_admin": 302},
            args=lambda c: [_gasoline()],
            method="post",
            data=lambda c: {
                "ccl_id": "",
                "cas_number": "86290-81-5",
                "chemical_name": "Gasoline",
                "physical_state": "b",
                "hm_type": "b",
                "dot_hazard_class": "3",
            },
        ),
    ),
    (
        "regulator:edt_request_new",  # the state agency itself asks for nothing
        Route(
            403,
            {"state_admin": 200},
            method="post",
            data=lambda c: {"environments": ["testing"], "tiers": ["1"]},
        ),
    ),
]


def _route_names(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = pattern.namespace
            if namespace in EXEMPT_NAMESPACES:
                continue
            yield from _route_names(
                pattern.url_patterns, f"{prefix}{namespace}:" if namespace else prefix
            )
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{prefix}{pattern.name}"


def test_every_route_is_in_the_matrix():
    routes = set(_route_names(get_resolver().url_patterns))
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing, f"declare these routes' access in MATRIX: {missing}"
    assert not stale, f"these MATRIX rows name no route: {stale}"


def _call(client, name: str, route: Route, cast):
    url = reverse(name, args=route.args(cast) if route.args else [])
    if route.method == "post":
        return client.post(url, route.data(cast) if route.data else {})
    return client.get(url)


CASES = [*sorted(MATRIX.items()), *SCOPE_ROWS]


def _forget_counts():
    """Forget what the rate limits counted (the local-memory cache of the tests' settings, as
    ``tests/conftest.py`` does before each test): a route's POST is called once per persona,
    with the same data, which the limits per e-mail address would otherwise count together
    (they are tested in tests/security/test_rate_limits.py)."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.mark.parametrize(
    ("name", "route"), CASES, ids=[f"{n}-{i}" for i, (n, _r) in enumerate(CASES)]
)
def test_access(name, route, cast, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # uploads made here are not rolled back with the rows
    failures = []
    for persona in PERSONAS:
        _forget_counts()  # each persona's call starts from the same state, counts included
        client.logout()
        if persona != "anonymous":
            client.force_login(getattr(cast, persona))
        rollback = transaction.atomic()
        rollback._from_testcase = True  # lets durable services run inside this savepoint
        with rollback:
            response = _call(client, name, route, cast)
            transaction.set_rollback(True)
        expected = route.expected(persona)
        if response.status_code != expected:
            failures.append(f"{persona}: got {response.status_code}, expected {expected}")
    assert not failures, f"{name}: " + "; ".join(failures)


# The cast's agency staff holds no administrator but the state's: the agencies' administrators
# on the routes where they differ, by GET and by POST. Moving and merging a facility is for its
# CUPA and the state administrator; the PA regulating one of its elements sees the facility, so
# it gets 403, not 404 (a requested change: it used to get 200); another CUPA gets 404.
ADMINISTRATORS = ("cupa_admin", "pa_admin", "cupa2_admin")
ADMINISTRATOR_ROWS = {
    "regulator:facility_move": {"cupa_admin": 200, "pa_admin": 403, "cupa2_admin": 404},
    "regulator:facility_merge": {"cupa_admin": 200, "pa_admin": 403, "cupa2_admin": 404},
    # Reopening: any agency regulating one of its elements, the PA included.
    "regulator:facility_reopen": {"cupa_admin": 200, "pa_admin": 200, "cupa2_admin": 404},
}


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", sorted(ADMINISTRATOR_ROWS))
def test_access_of_agency_administrators(name, method, cast, client, request, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    url = reverse(name, args=[cast.facility.cers_id])
    failures = []
    for persona in ADMINISTRATORS:
        client.force_login(request.getfixturevalue(persona))
        rollback = transaction.atomic()
        rollback._from_testcase = True
        with rollback:
            # An empty form: the page answers again with its errors, changing nothing.
            response = client.get(url) if method == "get" else client.post(url, {})
            transaction.set_rollback(True)
        expected = ADMINISTRATOR_ROWS[name][persona]
        if response.status_code != expected:
            failures.append(f"{persona}: got {response.status_code}, expected {expected}")
    assert not failures, f"{method.upper()} {name}: " + "; ".join(failures)
