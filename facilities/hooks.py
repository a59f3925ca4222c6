"""Hooks the apps above facilities fill in (``core.hooks``): facilities come before the
records kept about them (submittals, ...), yet merging two facilities must move those records,
and the regulator's facility list can keep the facilities whose Facility Information is
overdue."""

import calendar
from datetime import date, timedelta

from django.core.exceptions import ImproperlyConfigured

from core.hooks import Hook

merge_refusals = Hook(
    "merge_refusals",
    "``(duplicate, survivor) -> str | None``: why the two facilities cannot be merged now "
    "(``None``: nothing against it). Asked before anything changes.",
)

merge_moves = Hook(
    "merge_moves",
    "``(duplicate, survivor) -> dict``: move the app's records from the duplicate to the "
    "survivor, inside the merge's transaction; answers counts for the merge's audit event.",
)

# A facility certifies its Facility Information at least once a year.
FACILITY_INFORMATION_OVERDUE_AFTER = timedelta(days=365)

overdue_facilities = Hook(
    "overdue_facilities",
    "``(facility queryset, now) -> queryset``: narrow to the facilities whose Facility Information "
    "is overdue (``FACILITY_INFORMATION_OVERDUE_AFTER``).",
)


def narrow_to_overdue(queryset, now=None):
    """``queryset`` narrowed by every ``overdue_facilities`` function; one must be registered,
    or the list would call every facility overdue."""
    if not len(overdue_facilities):
        raise ImproperlyConfigured("No app registered facilities.hooks.overdue_facilities.")
    for narrow in overdue_facilities:
        queryset = narrow(queryset, now)
    return queryset


element_submittals = Hook(
    "element_submittals",
    "``(facility ids, include_drafts) -> {facility id: FacilitySubmittals}``: what each facility "
    "submitted per element, its Business Activities answers and (``include_drafts``) its drafts, "
    "in a fixed number of queries whatever the number of facilities (``facilities.schedule``).",
)

counted_activities = Hook(
    "counted_activities",
    "``(facility ids) -> {facility id: {number: answer}}``: the Business Activities answers "
    "that count (those ``element_submittals`` tells the status grid, drafts never) of each of "
    "the facilities that has any, in one query whatever their number "
    "(``schedule.required_by_answers``).",
)

submittal_history = Hook(
    "submittal_history",
    "``(facility, user, regulator) -> list``: the facility's submitted elements that ``user`` sees "
    "for ``regulator``, newest first (the regulator's facility page).",
)


def period_start(due_date: date) -> date:
    """The last day whose submittal does not report for ``due_date``: the same day a
    calendar year before, as ``schedule.anniversary`` counts the year (366 days when a 29th
    of February lies between). An element submitted after it (a year before the due date,
    the first day excluded, or any time later) reports for that date: its reminders stop.
    The 28th of February after a leap day is the anniversary of the 29th too: its period
    starts then; a 29th of February's, on the 28th of the year before."""
    if due_date.year == 1:
        return date.min
    if due_date.month == 2 and due_date.day >= 28:
        year = due_date.year - 1
        return date(year, 2, 29 if calendar.isleap(year) and due_date.day == 28 else 28)
    return due_date.replace(year=due_date.year - 1)


def reports_for(due_date, submitted_on) -> bool:
    """Whether an element submitted on ``submitted_on`` (its date in California) reported
    for ``due_date``: the one rule of the reminders, of the lists of what is due and of the
    status grid's marks."""
    return submitted_on > period_start(due_date)


reported_elements = Hook(
    "reported_elements",
    "``(rows) -> set[(facility_id, element)]``: of ``rows`` (``FacilityRegulator`` with a "
    "``next_due_date``), the elements submitted after ``period_start(next_due_date)``: "
    "already reported for that due date, so not reminded.",
)


activity_questions = Hook(
    "activity_questions",
    "``() -> [(number, question)]``: the Business Activities yes/no questions of Facility "
    "Information, by data dictionary number, in the form's order (the regulator's facility "
    "list offers them as a filter).",
)

answered_yes = Hook(
    "answered_yes",
    "``(numbers) -> queryset``: a sub-query of ``facility_id`` values, the facilities whose "
    "Business Activities answers that count (as ``element_submittals`` tells them to the "
    "regulator's status grid) answer Yes to at least one of the questions ``numbers``.",
)


def questions() -> list[tuple[str, str]]:
    """The Business Activities questions, from every ``activity_questions`` function."""
    return [question for function in activity_questions for question in function()]


def facilities_answering_yes(numbers):
    """The one ``answered_yes`` sub-query; one app must register it, or no facility would
    ever seem to answer."""
    functions = list(answered_yes)
    if len(functions) != 1:
        raise ImproperlyConfigured("One app must register facilities.hooks.answered_yes.")
    return functions[0](numbers)
