"""Facility Information as CERS presents it: two parts, in words.

- **Business Activities**: where the facility is, then the yes/no questionnaire that decides
  which other elements the facility reports, each question in plain language with what it
  means.
- **Owner/Operator Identification**: the facility's own details and its people (owner,
  operator, environmental contact, emergency contacts, billing), in sections with an index.

The two parts are the schema's two mandatory groups of the element (``BusinessActivities`` and
``OwnerOperatorInformation``); this module only says how a person reads them: the part of each
field, its words and its help. The field numbers stay the registry's (data keys, messages).

A new Facility Information draft is prefilled (:func:`prefill`): the site from the facility,
the business's people from the organization's last accepted Facility Information.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.code_lists import COUNTIES
from core.elements import SubmittalElement
from core.registry import Field

FI = int(SubmittalElement.FACILITY_INFORMATION)


def county_code(name: str) -> int | None:
    """The County ID of a county's name ("Sacramento" or "Sacramento County"), None if unknown."""
    text = (name or "").strip().lower().removesuffix(" county").strip()
    for number, county in enumerate(COUNTIES, start=1):
        if county.lower() == text:
            return number
    return None


@dataclass(frozen=True)
class Words:
    """How a form shows one field: its label (a question for a yes/no answer) and what it
    means."""

    label: str
    help: str = ""


# Every Facility Information field a business fills in, by data-dictionary number.
WORDS: dict[str, Words] = {
    # Business Activities: the facility.
    "3": Words("Business name at this facility", "The name the business goes by at this site."),
    "103": Words("Site street address", "Where the facility is; not a post office box."),
    "103a": Words("Address line 2", "Suite, unit or building, if any."),
    "104": Words("City"),
    "105": Words("ZIP code"),
    "105a": Words("County"),
    "2": Words(
        "EPA ID number",
        "The identification number US EPA or DTSC gave this site for hazardous waste, if it "
        "has one (such as CAL000123456).",
    ),
    # Business Activities: the questions.
    "4": Words(
        "Are hazardous materials on site at or above the reporting amounts?",
        "At any one time: 55 gallons of a liquid, 500 pounds of a solid or 200 cubic feet of a "
        "gas, or less of an extremely hazardous substance. Yes means you also report a "
        "Hazardous Materials Inventory and an Emergency Response and Training Plan.",
    ),
    "4a": Words(
        "Are regulated substances handled above the CalARP threshold quantities?",
        "The California Accidental Release Prevention program lists substances (such as "
        "ammonia or chlorine) that need a risk management plan above a threshold amount.",
    ),
    "5": Words(
        "Does the business own or operate underground storage tanks here?",
        "Tanks, with their piping, at least 10% under the ground and holding a hazardous "
        "substance such as fuel. Yes means you also report Underground Storage Tanks.",
    ),
    "8": Words(
        "Is petroleum stored above ground in 1,320 gallons or more in all?",
        "Count every tank or container of 55 gallons or more, and tanks in an underground "
        "area. Yes means you also report Aboveground Petroleum Storage.",
    ),
    "9": Words(
        "Does the facility generate hazardous waste?",
        "Any amount, including used oil, spent solvents and universal waste such as lamps "
        "and batteries. A generator needs an EPA ID number.",
    ),
    "10": Words(
        "Are more than 100 kilograms a month of excluded or exempted materials recycled here?",
        "Recycling on site that the law exempts from a hazardous waste permit. Yes means you "
        "also report Recyclable Materials.",
    ),
    "11": Words(
        "Is hazardous waste treated on site?",
        "Treatment allowed without a full permit (permit by rule, conditional authorization or "
        "conditional exemption). Yes means you also report Onsite Hazardous Waste Treatment.",
    ),
    "12": Words(
        "Must the business show financial assurance for closing a treatment unit?",
        "A business treating waste on site under those tiers shows it can pay to close its "
        "treatment units.",
    ),
    "13": Words(
        "Is this a consolidation site for hazardous waste from the business's remote sites?",
        "Waste from the business's own remote sites (such as utility work sites) is brought "
        "here. Yes means you also report Remote Waste Consolidation.",
    ),
    "14": Words(
        "Is a hazardous waste tank being closed here?",
        "Closing a tank system that held hazardous waste needs an engineer's certificate. Yes "
        "means you also report the Hazardous Waste Tank Closure Certification.",
    ),
    "14a": Words(
        "Is the facility a federal (RCRA) large quantity generator?",
        "In a calendar month it generates 1,000 kilograms or more of hazardous waste, or more "
        "than 1 kilogram of acutely hazardous waste.",
    ),
    "14b": Words(
        "Does the facility collect household hazardous waste?",
        "A permanent, temporary or mobile collection run for the public.",
    ),
    "16": Words("Comments", "Anything about these answers your regulator should know."),
    # Owner/Operator Identification.
    "100": Words("Date the business began at this site"),
    "101": Words("Date the business ended at this site", "Leave blank while it operates."),
    "102": Words("Facility phone"),
    "102a": Words("Facility fax"),
    "106": Words("Dun & Bradstreet number"),
    "107": Words("SIC code", "Standard Industrial Classification, four digits."),
    "107a": Words(
        "NAICS code",
        "North American Industry Classification System code of the business, up to six digits.",
    ),
    "108a": Words("Mailing address", "Where mail for the facility goes, if not the site."),
    "108b": Words("Mailing city"),
    "108c": Words("Mailing state", "Two letters, such as CA."),
    "108d": Words("Mailing ZIP code"),
    "109": Words("Operator name", "The business that runs the facility day to day."),
    "110": Words("Operator phone"),
    "111": Words("Owner name", "The business or person that owns the business at this site."),
    "112": Words("Owner phone"),
    "113": Words("Owner mailing address"),
    "114": Words("Owner city"),
    "115": Words("Owner state", "Two letters, such as CA."),
    "116": Words("Owner ZIP code"),
    "116a": Words("Owner country"),
    "117": Words(
        "Environmental contact name", "The person your regulator writes to about this report."
    ),
    "118": Words("Environmental contact phone"),
    "119": Words("Environmental contact mailing address"),
    "119a": Words("Environmental contact e-mail"),
    "120": Words("Environmental contact city"),
    "121": Words("Environmental contact state", "Two letters, such as CA."),
    "122": Words("Environmental contact ZIP code"),
    "122a": Words("Environmental contact country"),
    "123": Words(
        "Primary emergency contact name", "Someone who can be reached at any hour in an emergency."
    ),
    "124": Words("Primary emergency contact title"),
    "125": Words("Primary emergency contact business phone"),
    "126": Words("Primary emergency contact 24-hour phone", "A number answered day and night."),
    "127": Words("Primary emergency contact pager"),
    "128": Words("Secondary emergency contact name"),
    "129": Words("Secondary emergency contact title"),
    "130": Words("Secondary emergency contact business phone"),
    "131": Words("Secondary emergency contact 24-hour phone"),
    "132": Words("Secondary emergency contact pager"),
    "133": Words(
        "Information your local agency collects",
        "Only if your regulator asks for more here.",
    ),
    "134": Words("Date signed"),
    "135": Words("Name of the person who prepared this"),
    "136": Words("Name of the person signing"),
    "137": Words("Title of the person signing"),
    "140": Words("Billing contact name", "Who receives the regulator's invoices."),
    "141": Words("Billing contact phone"),
    "142": Words("Billing contact e-mail"),
    "143": Words("Billing address"),
    "144": Words("Billing city"),
    "145": Words("Billing state", "Two letters, such as CA."),
    "146": Words("Billing ZIP code"),
    "147": Words("Billing country"),
    "170": Words("Assessor's parcel number", "The county assessor's number of the site's parcel."),
    "171": Words("Number of employees at this site"),
    "172": Words("Property owner name", "Who owns the land, if not the business."),
    "173": Words("Property owner phone"),
    "174": Words("Property owner mailing address"),
    "175": Words("Property owner city"),
    "176": Words("Property owner state", "Two letters, such as CA."),
    "177": Words("Property owner ZIP code"),
    "178": Words("Property owner country"),
}

# Fields answered Yes or No: shown as a pair of radio buttons.
YES_NO = frozenset({"4", "4a", "5", "8", "9", "10", "11", "12", "13", "14", "14a", "14b"})


@dataclass(frozen=True)
class PartSection:
    slug: str  # the fieldset's id, for the section index
    heading: str
    numbers: tuple[str, ...]


@dataclass(frozen=True)
class Part:
    slug: str  # ?part= in the element page's address
    title: str
    intro: str
    sections: tuple[PartSection, ...]

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(number for section in self.sections for number in section.numbers)


BUSINESS_ACTIVITIES = Part(
    "business-activities",
    "Business Activities",
    "Where the facility is and what happens there. Your answers decide which other parts of "
    "the report this facility needs.",
    (
        PartSection("facility", "The facility", ("3", "103", "103a", "104", "105", "105a", "2")),
        PartSection("hazardous-materials", "Hazardous materials", ("4", "4a")),
        PartSection("tanks", "Storage tanks", ("5", "8")),
        PartSection(
            "hazardous-waste",
            "Hazardous waste",
            ("9", "10", "11", "12", "13", "14", "14a", "14b"),
        ),
        PartSection("comments", "Comments", ("16",)),
    ),
)

OWNER_OPERATOR = Part(
    "owner-operator",
    "Owner/Operator Identification",
    "Who owns and runs the facility, and whom your regulator calls.",
    (
        PartSection(
            "facility-details",
            "The facility",
            ("102", "102a", "100", "101", "171", "170", "106", "107", "107a", "133"),
        ),
        PartSection("mailing", "Mailing address", ("108a", "108b", "108c", "108d")),
        PartSection("owner", "Owner", ("111", "112", "113", "114", "115", "116", "116a")),
        PartSection("operator", "Operator", ("109", "110")),
        PartSection(
            "environmental-contact",
            "Environmental contact",
            ("117", "118", "119a", "119", "120", "121", "122", "122a"),
        ),
        PartSection(
            "emergency-contacts",
            "Emergency contacts",
            ("123", "124", "125", "126", "127", "128", "129", "130", "131", "132"),
        ),
        PartSection(
            "billing",
            "Billing",
            ("140", "141", "142", "143", "144", "145", "146", "147"),
        ),
        PartSection(
            "property-owner",
            "Property owner",
            ("172", "173", "174", "175", "176", "177", "178"),
        ),
        PartSection("signature", "Prepared and signed by", ("135", "136", "137", "134")),
    ),
)

PARTS = (BUSINESS_ACTIVITIES, OWNER_OPERATOR)


def part_named(slug: str | None) -> Part:
    """The part a page asks for by its slug; the first part when none or an unknown one."""
    return next((part for part in PARTS if part.slug == slug), PARTS[0])


def part_of(number: str) -> Part | None:
    return next((part for part in PARTS if number in part.numbers), None)


def words(field: Field) -> Words | None:
    """The words of a Facility Information field, None for other elements' fields."""
    if field.path[:1] in (("BusinessActivities",), ("OwnerOperatorInformation",)):
        return WORDS.get(field.number)
    return None


# -- prefill ----------------------------------------------------------------------------------

# What a new draft takes from the organization's last accepted Facility Information: the
# business and its people, not what belongs to one site (its phone, dates, parcel, answers).
FROM_ORGANIZATION = (
    ("106", "107", "107a", "108a", "108b", "108c", "108d")
    + OWNER_OPERATOR.sections[2].numbers  # owner
    + OWNER_OPERATOR.sections[3].numbers  # operator
    + OWNER_OPERATOR.sections[4].numbers  # environmental contact
    + OWNER_OPERATOR.sections[5].numbers  # emergency contacts
    + OWNER_OPERATOR.sections[6].numbers  # billing
)


def from_facility(facility) -> dict:
    """The Business Activities site fields as the facility records them."""
    values = {
        "3": facility.name,
        "103": facility.street,
        "104": facility.city,
        "105": facility.zip_code,
        "105a": county_code(facility.county),
        "2": facility.epa_id,
    }
    return {key: value for key, value in values.items() if value not in (None, "")}


def prefill(facility, accepted=None) -> dict:
    """A new Facility Information draft's data: the facility's site, and the business's
    people from ``accepted`` (an accepted Facility Information of the organization), when
    given."""
    data = {}
    if accepted is not None and isinstance(accepted.data, dict):
        for number in FROM_ORGANIZATION:
            value = accepted.data.get(number)
            if value not in (None, ""):
                data[number] = value
    data.update(from_facility(facility))
    return data


def activity_questions() -> list[tuple[str, str]]:
    """The Business Activities yes/no questions, (number, question), in the form's order (for
    ``facilities.hooks.activity_questions``: the regulator's facility list filters by them)."""
    return [
        (number, WORDS[number].label) for number in BUSINESS_ACTIVITIES.numbers if number in YES_NO
    ]
