"""What the codes of the submittal fields mean: the one table of code labels.

CalEPA's facility submittal schema lists the codes a field accepts (``xs:enumeration``) but
not what they mean, and states some code lists only as a range of numbers (the fire code
hazard classes 1-39, the counties 1-58). The meanings are data-dictionary facts: the Unified
Program Data Dictionary (UPDD) is published as California Code of Regulations, title 27,
division 3, subdivision 1 (its tables give each field's "codes/criteria"), and CERS's own
code tables are carried by the EDT clients written against it. ``tools/build_registry.py``
reads this module and writes each label into the registry data (``core/registry_data/``),
where forms, validation messages, the review page, the data dictionary and the EDT library
answers read it; nothing else declares a code's label.

Keys are a data-dictionary number, else a tag (code lists without a number), else a schema
type name, as the generator looks them up. Labels are ours, in sentence case. A code list
whose meaning no source states (``UNDOCUMENTED``) keeps labels that say so rather than
guessing.
"""

from __future__ import annotations

YES_NO = {"Y": "Yes", "N": "No"}
_AMBIENT = {"a": "Ambient", "b": "Above ambient", "c": "Below ambient"}

# California's counties in the order of their numbers (CERS County ID, UPDD 105a: 1-58, the
# counties in alphabetical order).
COUNTIES = (
    "Alameda", "Alpine", "Amador", "Butte", "Calaveras", "Colusa", "Contra Costa",
    "Del Norte", "El Dorado", "Fresno", "Glenn", "Humboldt", "Imperial", "Inyo", "Kern",
    "Kings", "Lake", "Lassen", "Los Angeles", "Madera", "Marin", "Mariposa", "Mendocino",
    "Merced", "Modoc", "Mono", "Monterey", "Napa", "Nevada", "Orange", "Placer", "Plumas",
    "Riverside", "Sacramento", "San Benito", "San Bernardino", "San Diego", "San Francisco",
    "San Joaquin", "San Luis Obispo", "San Mateo", "Santa Barbara", "Santa Clara",
    "Santa Cruz", "Shasta", "Sierra", "Siskiyou", "Solano", "Sonoma", "Stanislaus", "Sutter",
    "Tehama", "Trinity", "Tulare", "Tuolumne", "Ventura", "Yolo", "Yuba",
)  # fmt: skip

# Fire code hazard classes (UPDD 210a-210h, schema type FireCodeHazardClassType, 1-39): the
# California Fire Code's hazard categories as CERS numbers them, alphabetically with "Other"
# last. Source: CERS's code table as EDT clients carry it (the same numbers an inventory
# export maps the fire code abbreviations to: Oxy-1 17, Perox-V 26, Pyro 28, UR-1 32, WR-1 36).
FIRE_CODE_HAZARD_CLASSES = {
    "1": "Carcinogen",
    "2": "Combustible liquid, class II",
    "3": "Combustible liquid, class III-A",
    "4": "Combustible liquid, class III-B",
    "5": "Corrosive",
    "6": "Cryogen",
    "7": "Explosive",
    "8": "Flammable gas",
    "9": "Flammable liquid, class I-A",
    "10": "Flammable liquid, class I-B",
    "11": "Flammable liquid, class I-C",
    "12": "Flammable solid",
    "13": "Highly toxic",
    "14": "Irritant",
    "15": "Liquefied petroleum gas",
    "16": "Magnesium",
    "17": "Oxidizer, class 1",
    "18": "Oxidizer, class 2",
    "19": "Oxidizer, class 3",
    "20": "Oxidizer, class 4",
    "21": "Oxidizing gas",
    "22": "Oxidizing gas, liquefied",
    "23": "Organic peroxide, class I",
    "24": "Organic peroxide, class II",
    "25": "Organic peroxide, class III",
    "26": "Organic peroxide, class IV",
    "27": "Other health hazard",
    "28": "Pyrophoric",
    "29": "Radioactive",
    "30": "Sensitizer",
    "31": "Toxic",
    "32": "Unstable (reactive), class 1",
    "33": "Unstable (reactive), class 2",
    "34": "Unstable (reactive), class 3",
    "35": "Unstable (reactive), class 4",
    "36": "Water reactive, class 1",
    "37": "Water reactive, class 2",
    "38": "Water reactive, class 3",
    "39": "Other",
}

# US DOT hazard classes and divisions (UPDD 252; 49 CFR 173.2).
DOT_HAZARD_CLASSES = {
    "1.1": "Explosive with a mass explosion hazard",
    "1.2": "Explosive with a projection hazard",
    "1.3": "Explosive with a fire hazard and a minor blast or projection hazard",
    "1.4": "Explosive with no significant blast hazard",
    "1.5": "Very insensitive explosive with a mass explosion hazard",
    "1.6": "Extremely insensitive article with no mass explosion hazard",
    "2.1": "Flammable gas",
    "2.2": "Non-flammable, non-toxic gas",
    "2.3": "Toxic gas",
    "3": "Flammable or combustible liquid",
    "4.1": "Flammable solid",
    "4.2": "Spontaneously combustible material",
    "4.3": "Dangerous when wet",
    "5.1": "Oxidizer",
    "5.2": "Organic peroxide",
    "6.1": "Toxic substance",
    "6.2": "Infectious substance",
    "7": "Radioactive material",
    "8": "Corrosive material",
    "9": "Miscellaneous hazardous material",
}

# The UST construction codes several piping fields share (UPDD 464-469b).
_PIPING_MATERIAL = {
    "01": "Steel",
    "04": "Fiberglass",
    "08": "Flexible",
    "10": "Rigid plastic",
    "15": "Concrete",
    "90": "None",
    "95": "Unknown",
    "99": "Other",
}
_SUMP = {"01": "Single-walled", "02": "Double-walled", "90": "None"}
_WALLS = {"1": "Single-walled", "2": "Double-walled", "99": "Other"}
_POUNDS_GALLONS = {"a": "Pounds", "b": "Gallons"}

# Codes whose meaning no source available to the project states: each label says the code is
# CalEPA's and its meaning unpublished, so nobody reads a guess as a fact.
UNDOCUMENTED = {
    # Hazardous Materials Inventory: whether the materials changed since the last submittal,
    # an attribute of Chemicals (default 0). The schema lists 0, 1 and 2 without a word.
    "20.0105": {
        "0": "Code 0 (the default; meaning not published)",
        "1": "Code 1 (meaning not published)",
        "2": "Code 2 (meaning not published)",
    },
}

# A facility's geographic point (CERS supplemental fields): how it was collected (21.0004) and
# what place of the facility it marks (21.0005). The facility schemas list the codes CalEPA
# accepts (collection method 101, 103, 104, 107, 108, 109; reference point 101, 102, 103, 108)
# without a word, and no source available to the project names them: the federal locational
# code lists number theirs differently. Facility fields, not submittal fields: the registry
# does not carry them; ``facilities.models`` reads its choices from here.
FACILITY_LOCATION_CODES = {
    "21.0004": {
        code: f"Code {code} (meaning not published)"
        for code in ("101", "103", "104", "107", "108", "109")
    },
    "21.0005": {
        code: f"Code {code} (meaning not published)" for code in ("101", "102", "103", "108")
    },
}

CODE_LABELS: dict[str, dict[str, str]] = {
    # CERS system fields (CERS data registry).
    "20.0005": {
        "1": "Draft",
        "2": "Submitted",
        "3": "Under review",
        "4": "Accepted",
        "5": "Not accepted",
        "6": "Not applicable",
    },
    "20.0121": {"1": "CERS portal", "2": "Pass-through", "3": "Proxy"},
    "ReportingRequirement": {"1": "Not applicable", "2": "Applicable", "3": "Always applicable"},
    "YesNoFlagType": YES_NO,
    # Facility Information.
    "105a": {str(number): name for number, name in enumerate(COUNTIES, start=1)},
    # Hazardous Materials Inventory (UPDD chapter 2, chemical description).
    "FireCodeHazardClassType": FIRE_CODE_HAZARD_CLASSES,
    "211": {"a": "Pure", "b": "Mixture", "c": "Waste"},
    "214": {"a": "Solid", "b": "Liquid", "c": "Gas"},
    "221": {"a": "Gallons", "b": "Cubic feet", "c": "Pounds", "d": "Tons"},
    "224": _AMBIENT,
    "225": {**_AMBIENT, "d": "Cryogenic"},
    "252": DOT_HAZARD_CLASSES,
    # Underground Storage Tanks (UPDD chapter 3: facility, tank, monitoring plan,
    # certification of installation).
    "400": {
        "1": "New permit",
        "3": "Renewal permit",
        "5": "Confirmed or updated information",
        "6": "Temporary facility closure",
        "7": "Permanent facility closure",
        "9": "Transfer of permit",
    },
    "403": {
        "1": "Motor vehicle fueling",
        "2": "Fuel distribution",
        "3": "Farm",
        "4": "Processor",
        "6": "Other",
    },
    "420": {
        "4": "Local agency or district",
        "5": "County agency",
        "6": "State agency",
        "7": "Federal agency",
        "8": "Not a government",
    },
    "423": {
        "1": "Facility owner",
        "3": "Tank owner",
        "4": "Tank operator",
        "5": "Facility operator",
    },
    "430": {
        "1": "New permit",
        "3": "Renewal permit",
        "5": "Confirmed or updated information",
        "6": "Temporary UST closure",
        "7": "UST permanently closed on site",
        "8": "UST removed",
    },
    "434": {"1": "A stand-alone tank", "2": "One in a compartmented unit"},
    "439": {
        "1a": "Motor vehicle fueling",
        "1b": "Marina fueling",
        "1c": "Aviation fueling",
        "03": "Chemical product storage",
        "04": "Hazardous waste (including used oil)",
        "05": "Emergency generator fuel",
        "06": "Other generator fuel",
        "95": "Unknown",
        "99": "Other",
    },
    "440": {
        "1a": "Regular unleaded",
        "1b": "Premium unleaded",
        "1c": "Midgrade unleaded",
        "03": "Diesel",
        "05": "Jet fuel",
        "06": "Aviation gas",
        "07": "Used oil",
        "08": "Petroleum blend fuel",
        "09": "Other petroleum",
        "10": "Ethanol",
        "11": "Other non-petroleum",
    },
    "443": {"01": "Single wall", "02": "Double wall", "95": "Unknown"},
    "444": {
        "01": "Steel",
        "03": "Fiberglass",
        "06": "Internal bladder",
        "07": "Steel with internal lining",
        "95": "Unknown",
        "99": "Other",
    },
    "445": {
        "01": "Steel",
        "03": "Fiberglass",
        "06": "Exterior membrane liner",
        "07": "Jacketed",
        "90": "None",
        "95": "Unknown",
        "99": "Other",
    },
    "458": {
        "01": "Pressure",
        "02": "Gravity",
        "03": "Conventional suction",
        "04": "Suction under 23 CCR 2636(a)(3)",
    },
    "460": _WALLS,
    "464": _PIPING_MATERIAL,
    "464b": _PIPING_MATERIAL,
    "464d": _SUMP,
    "464e": _PIPING_MATERIAL,
    "464f": _PIPING_MATERIAL,
    "464g": _PIPING_MATERIAL,
    "464h": _PIPING_MATERIAL,
    "464i": _SUMP,
    "464j": _PIPING_MATERIAL,
    "464k": _PIPING_MATERIAL,
    "469a": {"01": "Single-walled", "02": "Double-walled", "03": "No dispensers"},
    "469b": _PIPING_MATERIAL,
    "489": {
        "01": "Tank owner",
        "02": "Tank operator",
        "03": "Contractor",
        "04": "Property owner",
        "05": "Another agent the tank owner authorized",
    },
    "490-3a": {"01": "Once a year", "99": "Other"},
    "490-4": {"1": "A new plan is submitted", "2": "The plan was submitted before"},
    "490-6": {"01": "Dry", "02": "Liquid-filled", "03": "Pressurized", "04": "Under vacuum"},
    "490-16": {
        "01": "Continuous",
        "02": "Daily or nightly",
        "03": "Weekly",
        "04": "Monthly",
        "99": "Other",
    },
    "490-18": {"01": "0.1 gallon per hour", "02": "0.2 gallon per hour", "99": "Other"},
    "490-22": {"01": "36 hours", "02": "60 hours"},
    "490-24": {"01": "Once a year", "02": "Every two years", "99": "Other"},
    "490-29": {"01": "Dry", "02": "Liquid", "03": "Pressurized", "04": "Under vacuum"},
    "490-42": {"01": "0.2 gallon per hour", "02": "0.1 gallon per hour"},
    "490-46": {"01": "Once a year", "02": "Every three years", "03": "Other"},
    "490-49": {"01": "Daily", "02": "Weekly", "03": "At least monthly"},
    "490-54a": {
        "1": "Continuous",
        "2": "Float and chain assembly",
        "3": "Electronic, stand-alone",
        "4": "No dispensers",
        "99": "Other",
    },
    "490-63": {"1": "Single-walled", "2": "Double-walled"},
    "490-64a": {"01": "Liquid", "02": "Pressure", "03": "Vacuum"},
    "490-76": {
        "01": "Tank owner or operator",
        "02": "Facility owner or operator",
        "03": "Authorized representative of the owner",
    },
    # Onsite Hazardous Waste Treatment (tiered permitting; UPDD chapter 4).
    "607": {
        "a": "Conditionally exempt, small quantity treatment (CESQT)",
        "b": "Conditionally exempt, specified wastestream (CESW)",
        "c": "Conditionally authorized (CA)",
        "d": "Permit by rule (PBR)",
        "e": "Conditionally exempt, limited (CEL)",
    },
    "612": _POUNDS_GALLONS,
    "701": {
        "a": "Permit by rule, fixed treatment unit (PBR-FTU)",
        "b": "Conditionally authorized (CA)",
    },
    "709": {
        "a": "Closure trust fund",
        "b": "Surety bond",
        "c": "Closure letter of credit",
        "d": "Closure insurance",
        "e": "Financial test and corporate guarantee",
        "f": "Alternative mechanism",
        "g": "Several financial mechanisms",
        "h": "Certificate of deposit",
        "i": "Savings account",
    },
    "715": {"a": "Owner", "b": "Operator"},
    # Remote Waste Consolidation.
    "728": _POUNDS_GALLONS,
    **UNDOCUMENTED,
}
