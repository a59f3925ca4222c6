"""The EDT endpoint catalogue: one entry per endpoint, the single source for routing, tier
checks, the endpoint metadata feed, the human-facing listing and the OpenAPI document.

Acronyms, endpoint numbers, tiers, paths and parameter names are CalEPA's, so existing clients
work unchanged; descriptions are the project's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_BASE = "http://cersservices.calepa.ca.gov/Schemas"


@dataclass(frozen=True)
class Parameter:
    name: str
    data_type: str = "string"
    required: bool = False
    description: str = ""
    values: str = ""


@dataclass(frozen=True)
class Endpoint:
    acronym: str
    name: str
    number: int  # CalEPA's endpoint id, used in transaction logs
    tier: int | None  # None: open to everyone (listing, metadata)
    method: str
    path: str  # after the environment's base, CalEPA's spelling
    description: str
    input_schema: str = ""
    output_schema: str = ""
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)
    path_argument: str = ""  # a trailing path segment the endpoint accepts, e.g. {CAS}
    accepts_zip: bool = False
    needs_regulator: bool = True  # the regulatorCode parameter is required

    @property
    def implemented(self) -> bool:
        from .registry import VIEWS

        return self.acronym in VIEWS

    @property
    def is_upload(self) -> bool:
        return self.method == "POST"

    @property
    def category(self) -> str:
        return TIER_CATEGORIES.get(self.tier, "Service information")


TIER_CATEGORIES = {
    1: "Regulator library services",
    2: "Regulator query services",
    3: "CUPA CME submission services",
    4: "CUPA facility submittal review services",
    5: "CUPA facility management services",
    6: "CUPA facility submittal submission services",
}

REGULATOR_CODE = Parameter(
    "regulatorCode", "integer", True, "The calling agency's 4-digit CERS regulator code."
)
CERSID = Parameter("CERSID", "integer", False, "One facility's CERS ID.")
ORGANIZATION_CODE = Parameter("organizationCode", "integer", False, "An organization's code.")


def _date(name: str, what: str) -> Parameter:
    return Parameter(
        name,
        "date",
        False,
        f"{what}; MM-DD-YYYY, optionally with HH:MM:SS (24-hour, or 12-hour with AM or PM; "
        "Pacific time). A start without a time means 00:00:00, an end 23:59:59. Times are "
        "Pacific clock readings: a range over the hour the clock repeats in November holds "
        "both of its passes, one within the hour it skips in March holds nothing.",
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "RAT",
        "Regulator Authentication Test",
        13,
        1,
        "GET",
        "Regulator/Authenticate",
        "Checks that the Authorization header authenticates for the agency. Answers 200 "
        "'Authentication Succeeded', or 401 with the authentication result.",
        parameters=(REGULATOR_CODE,),
    ),
    Endpoint(
        "VLQ",
        "Violation Library Query",
        3,
        1,
        "GET",
        "Library/Violations",
        "The violation library, or one violation type by its number.",
        output_schema="ViolationLibraryQuery",
        path_argument="violationTypeNumber",
        needs_regulator=False,
    ),
    Endpoint(
        "CLQ",
        "Chemical Library Query",
        2,
        1,
        "GET",
        "Library/Chemicals",
        "The chemical library, or one chemical by CAS number or CERS chemical library id "
        "(CCL-...).",
        output_schema="ChemicalLibraryQuery",
        path_argument="identifier",
        needs_regulator=False,
    ),
    Endpoint(
        "DDQ",
        "Data Dictionary Query",
        1,
        1,
        "GET",
        "Library/DataDictionary",
        "The data dictionary (UPDD, System or Supplemental), or one field of it.",
        output_schema="DictionaryDataQuery",
        path_argument="dictionary",
        needs_regulator=False,
    ),
    Endpoint(
        "RFSQ",
        "Regulator Facility Submittal Query",
        4,
        2,
        "GET",
        "Regulator/FacilitySubmittal/Query",
        "Submitted facility submittal elements in the agency's jurisdiction, grouped by "
        "facility submittal. Narrow the query: a result above the ceiling answers 413.",
        output_schema="RegulatorFacilitySubmittalQuery",
        parameters=(
            REGULATOR_CODE,
            Parameter(
                "status",
                "integer list",
                False,
                "Element statuses, comma separated (Draft is never returned).",
                "2,3,4,5,6,8",
            ),
            Parameter("submittalElement", "integer", False, "Element type code 1-10."),
            CERSID,
            _date("submittedOnStart", "Submitted on or after"),
            _date("submittedOnEnd", "Submitted on or before"),
            _date("submittalActionOnStart", "Regulator action on or after"),
            _date("submittalActionOnEnd", "Regulator action on or before"),
        ),
    ),
    Endpoint(
        "RFSDQ",
        "Regulator Facility Submittal Document Query",
        14,
        2,
        "GET",
        "Regulator/FacilitySubmittal/Query/Document",
        "The bytes of one document of a submittal element, by its CERS unique key.",
        path_argument="CERSUniqueKey",
        needs_regulator=False,
    ),
    Endpoint(
        "RFQ",
        "Regulator Facility Query",
        5,
        2,
        "GET",
        "Regulator/Facility",
        "Facilities in the agency's jurisdiction.",
        output_schema="RegulatorFacilityQuery",
        parameters=(
            REGULATOR_CODE,
            CERSID,
            ORGANIZATION_CODE,
            _date("createdOnStart", "Added to CERS on or after"),
            _date("createdOnEnd", "Added to CERS on or before"),
            Parameter("street", description="Part of the site address."),
            Parameter("city"),
            Parameter("zip", description="ZIP code."),
        ),
    ),
    Endpoint(
        "ROQ",
        "Regulator Organization Query",
        15,
        2,
        "GET",
        "Regulator/Organization",
        "Organizations (businesses) with at least one facility in the agency's jurisdiction, "
        "found by name, headquarters, code, a facility's CERS ID or date established. With "
        "includeFacilities each lists only its facilities in the agency's jurisdiction; "
        "FacilityCount and UserCount count all of the organization's facilities and users.",
        output_schema="RegulatorOrganizationQuery",
        parameters=(
            REGULATOR_CODE,
            Parameter("organizationName"),
            Parameter("organizationHeadquarters"),
            ORGANIZATION_CODE,
            CERSID,
            _date("establishedSince", "Established on or after"),
            Parameter("includeFacilities", "boolean", False, "List each one's facilities."),
        ),
    ),
    Endpoint(
        "RCMEQ",
        "Regulator CME Query",
        8,
        2,
        "GET",
        "Regulator/CME/Query",
        "Inspections, violations and enforcement actions in the agency's jurisdiction.",
        output_schema="CMESubmittalQuery",
        parameters=(
            REGULATOR_CODE,
            CERSID,
            _date("startDate", "Occurred on or after"),
            _date("endDate", "Occurred on or before"),
            Parameter("status", "integer list", False, "CME data statuses, comma separated."),
        ),
    ),
    Endpoint(
        "RAIQ",
        "Regulator Action Item Query",
        16,
        2,
        "GET",
        "Regulator/ActionItem",
        "Items waiting for the agency to act on in CERS.",
        output_schema="RegulatorActionItemQuery",
        parameters=(
            REGULATOR_CODE,
            CERSID,
            ORGANIZATION_CODE,
            Parameter(
                "typeID",
                "integer list",
                False,
                "Action item types, comma separated: 6 Regulator User Access Request, 12 "
                "Facility Submittal Notification, 25 Facility Merge Request, 26 Facility "
                "Transfer Request.",
            ),
            Parameter("completed", "boolean"),
            _date("requestedOnStart", "Requested on or after"),
            _date("requestedOnEnd", "Requested on or before"),
        ),
    ),
    Endpoint(
        "RFTQ",
        "Regulator Facility Transfer Query",
        17,
        2,
        "GET",
        "Regulator/Faclility/Transfer",
        "Completed facility transfers between organizations. (CalEPA's path is spelt "
        "'Faclility'; 'Facility' is answered as well.)",
        output_schema="RegulatorFacilityTransferQuery",
        parameters=(
            REGULATOR_CODE,
            CERSID,
            ORGANIZATION_CODE,
            _date("occurredOnStart", "Occurred on or after"),
            _date("occurredOnEnd", "Occurred on or before"),
            _date("assumedOwnershipOnStart", "New owner took over on or after"),
            _date("assumedOwnershipOnEnd", "New owner took over on or before"),
        ),
    ),
    Endpoint(
        "RCMES",
        "Regulator CME Submit",
        9,
        3,
        "POST",
        "Regulator/CME/Submit",
        "Adds, changes and deletes inspections, violations and enforcement actions; all or "
        "nothing.",
        input_schema="RegulatorCMESubmit",
        output_schema="RegulatorCMESubmitResponse",
        parameters=(REGULATOR_CODE,),
        path_argument="CERSTransactionKey",
    ),
    Endpoint(
        "RFSAN",
        "Regulator Facility Submittal Action Notification",
        7,
        4,
        "POST",
        "Regulator/FacilitySubmittal/ActionNotification",
        "Sets the review status of submitted elements.",
        input_schema="RegulatorFacilitySubmittalActionNotification",
        output_schema="RegulatorFacilitySubmittalResponse",
        parameters=(REGULATOR_CODE,),
        path_argument="CERSTransactionKey",
    ),
    Endpoint(
        "RFC",
        "Regulator Facility Create",
        6,
        5,
        "POST",
        "Regulator/Facility/Create",
        "Creates a facility (Trial checks only; Commit creates it).",
        input_schema="RegulatorFacilityCreate",
        output_schema="RegulatorFacilityCreateResponse",
        parameters=(REGULATOR_CODE,),
        path_argument="CERSTransactionKey",
    ),
    Endpoint(
        "RFMS",
        "Regulator Facility Metadata Submit",
        10,
        5,
        "POST",
        "Regulator/Facility/Metadata",
        "Changes a facility's element regulators, reporting requirements, due dates, local "
        "keys and location.",
        input_schema="RegulatorFacilityMetadata",
        output_schema="RegulatorFacilityMetadataResponse",
        parameters=(REGULATOR_CODE,),
        path_argument="CERSTransactionKey",
    ),
    Endpoint(
        "RFS",
        "Regulator Facility Submittal Submit",
        12,
        6,
        "POST",
        "Regulator/FacilitySubmittal/Submit",
        "Uploads one facility submittal (Pass-Through or Proxy), as XML or as a ZIP with "
        "data.xml and its documents.",
        input_schema="RegulatorFacilitySubmittal",
        output_schema="RegulatorFacilitySubmittalResponse",
        parameters=(REGULATOR_CODE,),
        path_argument="CERSTransactionKey",
        accepts_zip=True,
    ),
    Endpoint(
        "EM",
        "Endpoint Metadata",
        18,
        None,
        "GET",
        "Endpoint/Metadata",
        "This list of endpoints, as XML.",
        output_schema="EndpointMetadata",
        needs_regulator=False,
    ),
    Endpoint(
        "RL",
        "Regulator Listing",
        0,
        None,
        "GET",
        "Regulator/Listing",
        "Every regulator agency's code, type and name. No authentication.",
        needs_regulator=False,
    ),
)

BY_ACRONYM = {e.acronym: e for e in ENDPOINTS}


def schema_namespace(schema_name: str, version: str) -> str:
    """``("RegulatorFacilityQuery", "1/05")`` -> CalEPA's target namespace. The CME query's
    file is CMESubmittalQuery but its namespace says RegulatorCMEQuery."""
    name = "RegulatorCMEQuery" if schema_name == "CMESubmittalQuery" else schema_name
    return f"{SCHEMA_BASE}/{name}/{version}/"


# The schema versions served: CalEPA's first production set (1/05 throughout) and the later
# cers3 set. A query answers in the newest unless the client asks (``schemaVersion``); an upload
# is read, and answered, in the version its root namespace names.
SCHEMA_VERSIONS: dict[str, tuple[str, ...]] = {
    "ViolationLibraryQuery": ("1/05", "1/06"),
    "ChemicalLibraryQuery": ("1/05", "1/08"),
    "DictionaryDataQuery": ("1/05",),
    "RegulatorFacilitySubmittalQuery": ("1/05", "1/10"),
    "RegulatorFacilityQuery": ("1/05",),
    "RegulatorOrganizationQuery": ("1/05",),
    "CMESubmittalQuery": ("1/05",),
    "RegulatorActionItemQuery": ("1/06",),
    "RegulatorFacilityTransferQuery": ("1/06",),
    "RegulatorCMESubmit": ("1/05",),
    "RegulatorCMESubmitResponse": ("1/05",),
    "RegulatorFacilitySubmittalActionNotification": ("1/05",),
    "RegulatorFacilitySubmittalResponse": ("1/05", "1/06"),
    "RegulatorFacilityCreate": ("1/05", "1/06"),
    "RegulatorFacilityCreateResponse": ("1/05", "1/06"),
    "RegulatorFacilityMetadata": ("1/05", "1/06"),
    "RegulatorFacilityMetadataResponse": ("1/05", "1/06"),
    "RegulatorFacilitySubmittal": ("1/05", "1/10"),
    "EndpointMetadata": ("1/06",),
}


def newest_version(schema_name: str) -> str:
    return SCHEMA_VERSIONS[schema_name][-1]
