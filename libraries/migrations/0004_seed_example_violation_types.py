"""Seed the violation library with example violation types, one group per program element.

These are examples so that inspectors can record violations before the full Unified Program
Violation Library is loaded: the type numbers follow the library's 7-digit shape but are
this project's own, and the names and citations summarize the usual requirements. Loading
the published library replaces them. Categories use the violation class codes (1 Class I,
2 Class II, 9 Minor); program elements use the library's list (1 Business Plan, 2 UST,
3 HW Generator, 6 APSA, 7 CalARP).

Reversing the migration deletes exactly these rows (by type number).
"""

import datetime

from django.db import migrations

CLASS_I, CLASS_II, MINOR = 1, 2, 9
BUSINESS_PLAN, UST, HW_GENERATOR, APSA, CALARP = 1, 2, 3, 6, 7
HSC, CCR, CFR = "California Health and Safety Code", "California Code of Regulations", "Code of Federal Regulations"
BEGIN = datetime.date(2009, 1, 1)

# (type number, name, category, program element, [(chapter, section, source)])
VIOLATION_TYPES = [
    ("1010001", "Failure to establish and implement a Hazardous Materials Business Plan", MINOR, BUSINESS_PLAN, [("6.95", "25505", HSC)]),
    ("1010002", "Failure to complete and electronically submit a hazardous materials inventory", MINOR, BUSINESS_PLAN, [("6.95", "25505(a)(1)", HSC)]),
    ("1010003", "Failure to submit a site map with required content", MINOR, BUSINESS_PLAN, [("6.95", "25505(a)(2)", HSC)]),
    ("1010004", "Failure to review and certify the business plan annually", MINOR, BUSINESS_PLAN, [("6.95", "25508(a)(1)", HSC)]),
    ("1010005", "Failure to provide initial and annual refresher employee training", CLASS_II, BUSINESS_PLAN, [("6.95", "25505(a)(4)", HSC)]),
    ("2030001", "Failure to maintain a valid operating permit for the UST system", CLASS_II, UST, [("6.7", "25284", HSC)]),
    ("2030002", "Failure to perform monthly monitoring of the UST system", CLASS_I, UST, [("16", "2641", CCR)]),
    ("2030003", "Failure to certify leak detection equipment annually", CLASS_II, UST, [("16", "2638", CCR)]),
    ("2030004", "Failure to maintain secondary containment in a liquid-tight condition", CLASS_I, UST, [("16", "2636", CCR)]),
    ("2030005", "Failure to have a designated UST operator perform monthly inspections", MINOR, UST, [("16", "2715", CCR)]),
    ("3010001", "Failure to determine whether a waste is a hazardous waste", CLASS_II, HW_GENERATOR, [("22", "66262.11", CCR)]),
    ("3010002", "Accumulation of hazardous waste beyond the allowed time", CLASS_II, HW_GENERATOR, [("22", "66262.34", CCR)]),
    ("3010003", "Failure to label hazardous waste containers with required information", MINOR, HW_GENERATOR, [("22", "66262.34(f)", CCR)]),
    ("3010004", "Failure to keep hazardous waste containers closed", MINOR, HW_GENERATOR, [("22", "66265.173", CCR)]),
    ("3010005", "Disposal of hazardous waste at an unauthorized point", CLASS_I, HW_GENERATOR, [("6.5", "25189.5", HSC)]),
    ("6010001", "Failure to prepare a Spill Prevention, Control and Countermeasure Plan", CLASS_II, APSA, [("6.67", "25270.5", HSC), ("40", "112.3", CFR)]),
    ("6010002", "Failure to conduct periodic integrity testing of aboveground tanks", MINOR, APSA, [("40", "112.8(c)(6)", CFR)]),
    ("6010003", "Failure to provide adequate secondary containment for tanks", CLASS_II, APSA, [("40", "112.8(c)(2)", CFR)]),
    ("7010001", "Failure to submit a Risk Management Plan", CLASS_II, CALARP, [("19", "2735.4", CCR)]),
    ("7010002", "Failure to complete a process hazard analysis", CLASS_II, CALARP, [("19", "2760.2", CCR)]),
    ("7010003", "Failure to conduct a compliance audit every three years", MINOR, CALARP, [("19", "2760.8", CCR)]),
]


def seed(apps, schema_editor):
    ViolationType = apps.get_model("libraries", "ViolationType")
    ViolationType.objects.bulk_create(
        ViolationType(
            type_number=number,
            name=name,
            category=category,
            program_element=element,
            citations=[
                {"chapter": chapter, "section": section, "source": source}
                for chapter, section, source in citations
            ],
            begin_date=BEGIN,
        )
        for number, name, category, element, citations in VIOLATION_TYPES
    )


def unseed(apps, schema_editor):
    ViolationType = apps.get_model("libraries", "ViolationType")
    ViolationType.objects.filter(type_number__in=[row[0] for row in VIOLATION_TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("libraries", "0003_violationtype")]

    operations = [migrations.RunPython(seed, unseed)]
