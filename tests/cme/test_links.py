"""Enforcement-violation links deleted (``delete_cme_batch``, ``DeletedLink``) and their EDT keys
written (``update_cme_batch``, ``ChangedLink``) many at once: checked, written and audited
exactly as the single services (``update_enforcement`` with the list without the violation,
``delete_link``, ``update_link_keys``) do one by one, all or nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cme import services
from cme.models import Enforcement, EnforcementViolation, Violation
from core.models import AuditEvent
from tests import factories

from .helpers import DAY, UST_TYPE, enforcement, inspection, named_events, pa_reviewer, violation

LATER = DAY + datetime.timedelta(days=3)


def _world(cast, actor):
    """Records by name: inspection P1 with violations V1 and V2, P2 with V3; action E1 links
    V1, V2 and V3, E2 links V3."""
    p1, p2 = (inspection(cast, actor=actor, comments=f"Visit {n}.") for n in (1, 2))
    v1 = violation(cast, p1, actor=actor)
    v2 = violation(cast, p1, actor=actor, comments="Second.")
    v3 = violation(cast, p2, actor=actor)
    e1 = enforcement(cast, violations=[v1, v2, v3], actor=actor, occurred_on=LATER)
    e2 = enforcement(cast, violations=[v3], actor=actor, occurred_on=LATER, comments="Order.")
    return {"P1": p1, "P2": p2, "V1": v1, "V2": v2, "V3": v3, "E1": e1, "E2": e2}


def _link(world, action: str, found: str) -> EnforcementViolation:
    return EnforcementViolation.objects.get(enforcement=world[action], violation=world[found])


def _links(world):
    """The links among ``world``'s records, by name, with their EDT keys."""
    names = {(type(row), row.pk): name for name, row in world.items()}
    return sorted(
        (names[Enforcement, e], names[Violation, v], key, at)
        for e, v, key, at in EnforcementViolation.objects.filter(
            enforcement__in=[r.pk for r in world.values() if isinstance(r, Enforcement)]
        ).values_list("enforcement_id", "violation_id", "regulator_key", "regulator_action_at")
    )


def _actions(world):
    return [
        tuple(getattr(row, name) for name in services.ENFORCEMENT_FIELDS)
        for row in Enforcement.objects.filter(pk__in=[world["E1"].pk, world["E2"].pk]).order_by(
            "pk"
        )
    ]


UNLINKED = [("E1", "V1"), ("E1", "V3"), ("E2", "V3")]


@pytest.mark.django_db
def test_a_batch_deletes_links_as_update_enforcement_takes_them_off_one_by_one(cast):
    """E1 loses V1 then V3, E2 loses V3: through the portal's list (``update_enforcement``
    with the violations left), through ``delete_link`` one by one, and in one batch, the same
    events (each the change of its action's list as the links before it left it, with the
    agency), the same links left and the same actions."""
    actors = [factories.make_user(f"staff{n}@sac-cupa.example") for n in range(3)]
    for actor in actors:
        factories.add_staff(cast.cupa, actor, "reviewer")
    portal, single, batch = (_world(cast, cast.cupa_reviewer) for _ in range(3))
    for action, found in UNLINKED:
        remaining = [v for v in portal[action].violations.all() if v != portal[found]]
        services.update_enforcement(
            actor=actors[0], regulator=cast.cupa, enforcement=portal[action], violations=remaining
        )
        services.delete_link(
            actor=actors[1], regulator=cast.cupa, link=_link(single, action, found)
        )
    items = [
        services.DeletedLink(regulator=cast.cupa, link=_link(batch, action, found))
        for action, found in UNLINKED
    ]
    services.delete_cme_batch(actor=actors[2], links=items)

    assert _links(batch) == _links(single) == _links(portal) == [("E1", "V2", "", None)]
    assert _actions(batch) == _actions(single) == _actions(portal)
    events = named_events(actors[2], batch, ".updated")
    assert events == named_events(actors[1], single, ".updated")
    assert events == named_events(actors[0], portal, ".updated")
    assert [
        (name, before["violations"], after["violations"])
        for _a, name, _r, _g, before, after in events
    ] == [
        ("E1", ["V1", "V2", "V3"], ["V2", "V3"]),
        ("E1", ["V2", "V3"], ["V2"]),
        ("E2", ["V3"], []),
    ]
    assert {regulator for _a, _n, _r, regulator, _b, _after in events} == {cast.cupa.pk}
    assert [item.written.violation_id for item in items] == [
        batch[found].pk for _action, found in UNLINKED
    ]


@pytest.mark.django_db
def test_links_deleted_with_their_action_and_violation_in_one_batch(cast):
    """A link deleted before its action and its violation, in one batch: the action's event
    and the violation's no longer name the link, as when the single services go in turn."""
    one, other = (factories.make_user(f"staff{n}@sac-cupa.example") for n in range(2))
    for actor in (one, other):
        factories.add_staff(cast.cupa, actor, "reviewer")
    single, batch = _world(cast, cast.cupa_reviewer), _world(cast, cast.cupa_reviewer)
    kwargs = {"actor": one, "regulator": cast.cupa}
    services.delete_link(link=_link(single, "E2", "V3"), **kwargs)
    services.delete_link(link=_link(single, "E1", "V1"), **kwargs)
    services.delete_violation(violation=single["V1"], **kwargs)
    services.delete_enforcement(enforcement=single["E2"], **kwargs)
    cupa = {"regulator": cast.cupa}
    services.delete_cme_batch(
        actor=other,
        links=[
            services.DeletedLink(link=_link(batch, "E2", "V3"), **cupa),
            services.DeletedLink(link=_link(batch, "E1", "V1"), **cupa),
        ],
        violations=[services.DeletedViolation(violation=batch["V1"], **cupa)],
        enforcements=[services.DeletedEnforcement(enforcement=batch["E2"], **cupa)],
    )

    def events(actor, world):
        names = {(type(row)._meta.label_lower, row.pk): name for name, row in world.items()}
        return [
            (
                event.action,
                names[event.object_type, int(event.object_id)],
                [names["cme.violation", pk] for pk in event.before.get("violations", [])],
                [names["cme.enforcement", pk] for pk in event.before.get("enforcements", [])],
            )
            for event in AuditEvent.objects.filter(actor=actor).order_by("pk")
        ]

    assert (
        events(other, batch)
        == events(one, single)
        == [
            ("cme.enforcement.updated", "E2", ["V3"], []),
            ("cme.enforcement.updated", "E1", ["V1", "V2", "V3"], []),
            ("cme.violation.deleted", "V1", [], []),  # E1 no longer linked it
            ("cme.enforcement.deleted", "E2", [], []),  # nor E2 V3
        ]
    )
    assert _links(batch) == _links(single)


@pytest.mark.django_db
def test_every_refused_link_is_listed_and_nothing_is_deleted(cast):
    """The CUPA taking a violation off its PA's action that links the PA's UST violation (a
    program element the CUPA does not handle there), a link whose action would then be dated
    before the violation it keeps, a link gone: each refused with the error the portal's
    ``update_enforcement`` raises for the same list; an action deleted after its refused
    link is not checked; nothing is deleted or audited."""
    pa = pa_reviewer(cast)
    ust = inspection(cast, program_element="c", actor=pa, regulator=cast.pa)
    ust_violation = violation(cast, ust, type_number=UST_TYPE, actor=pa, regulator=cast.pa)
    second = inspection(cast, regulator=cast.pa, actor=pa, program_element="c")
    other_ust = violation(cast, second, type_number=UST_TYPE, actor=pa, regulator=cast.pa)
    pa_action = enforcement(
        cast, violations=[ust_violation, other_ust], regulator=cast.pa, actor=pa
    )
    parent = inspection(cast)
    early, late = violation(cast, parent), violation(cast, parent)
    action = enforcement(cast, violations=[early, late], occurred_on=DAY)
    Violation.objects.filter(pk=late.pk).update(occurred_on=LATER, scheduled_rtc_on=LATER)
    gone = _link({"E": action, "V": early}, "E", "V")
    kept = EnforcementViolation.objects.get(enforcement=action, violation=late)
    cupa = {"regulator": cast.cupa}
    links = [
        services.DeletedLink(
            link=EnforcementViolation.objects.get(enforcement=pa_action, violation=other_ust),
            **cupa,
        ),
        services.DeletedLink(link=gone, **cupa),
        services.DeletedLink(link=EnforcementViolation(pk=gone.pk + 1000), **cupa),
    ]
    of_refused = services.DeletedEnforcement(enforcement=pa_action, **cupa)
    links_before, events_before = EnforcementViolation.objects.count(), AuditEvent.objects.count()
    with pytest.raises(services.RecordsRefused) as refused:
        services.delete_cme_batch(actor=cast.cupa_reviewer, links=links, enforcements=[of_refused])
    reasons = refused.value.refused
    assert [item for item, _error in reasons] == links
    errors = [error for _item, error in reasons]
    assert isinstance(errors[0], PermissionDenied)
    assert "does not regulate the Underground Storage Tanks" in str(errors[0])
    assert errors[1].message_dict == {
        "occurred_on": ["The enforcement date cannot be before a linked violation's date."]
    }
    assert errors[2].messages == ["This enforcement-violation link no longer exists."]
    # The first two are the errors the portal's list change raises, and ``delete_link``.
    kwargs = {"actor": cast.cupa_reviewer, "regulator": cast.cupa}
    for (item, error), (changed, left) in zip(
        reasons[:2], ((pa_action, [ust_violation]), (action, [late])), strict=True
    ):
        with pytest.raises((ValidationError, PermissionDenied)) as portal:
            services.update_enforcement(enforcement=changed, violations=left, **kwargs)
        with pytest.raises((ValidationError, PermissionDenied)) as single:
            services.delete_link(link=item.link, **kwargs)
        for raised in (portal.value, single.value):
            assert type(raised) is type(error) and str(raised) == str(error)
    assert EnforcementViolation.objects.count() == links_before
    assert EnforcementViolation.objects.filter(pk=kept.pk).exists()
    assert AuditEvent.objects.count() == events_before
    assert Enforcement.objects.filter(pk=pa_action.pk).exists()


@pytest.mark.django_db
def test_a_batch_writes_link_keys_as_the_single_service_does(cast):
    """A link sent again (its key), and one made in the portal taken over (no key yet): the
    same keys as ``update_link_keys`` one by one, and the same events: each link's keys before
    and after."""
    one, other = cast.cupa_reviewer, factories.make_user("second@sac-cupa.example")
    factories.add_staff(cast.cupa, other, "reviewer")
    single, batch = _world(cast, one), _world(cast, one)
    at = timezone.now().replace(microsecond=0)
    for world in (single, batch):
        EnforcementViolation.objects.filter(pk=_link(world, "E1", "V1").pk).update(
            regulator_key="EV-1", regulator_action_at=at - datetime.timedelta(days=1)
        )
    sent = [("E1", "V1", "EV-1"), ("E2", "V3", "EV-7")]
    for action, found, key in sent:
        link = services.update_link_keys(
            actor=one,
            regulator=cast.cupa,
            link=_link(single, action, found),
            regulator_key=key,
            regulator_action_at=at,
        )
        assert (link.regulator_key, link.regulator_action_at) == (key, at)
    events = AuditEvent.objects.count()
    single_events = _keyed_events()
    assert [(e["before"]["regulator_key"], e["after"]) for e in single_events] == [
        ("EV-1", {"regulator_key": "EV-1", "regulator_action_at": at.isoformat()}),
        ("", {"regulator_key": "EV-7", "regulator_action_at": at.isoformat()}),
    ]
    items = [
        services.ChangedLink(
            regulator=cast.cupa,
            link=_link(batch, action, found),
            regulator_key=key,
            regulator_action_at=at,
        )
        for action, found, key in sent
    ]
    services.update_cme_batch(actor=other, links=items)

    assert _links(batch) == _links(single)
    assert ("E2", "V3", "EV-7", at) in _links(batch) and ("E1", "V1", "EV-1", at) in _links(batch)
    assert [item.written.regulator_key for item in items] == ["EV-1", "EV-7"]
    assert AuditEvent.objects.count() == events + len(sent)
    assert _keyed_events()[len(sent) :] == single_events


def _keyed_events() -> list[dict]:
    """The ``cme.link.keyed`` events, oldest first: what they record of each link (the
    twin worlds' links differ only by their primary keys)."""
    return list(
        AuditEvent.objects.filter(action="cme.link.keyed")
        .order_by("pk")
        .values("object_type", "before", "after", "regulator_id")
    )


@pytest.mark.django_db
def test_a_link_under_another_key_or_gone_is_refused_and_no_key_is_written(cast):
    world = _world(cast, cast.cupa_reviewer)
    taken = _link(world, "E1", "V1")
    EnforcementViolation.objects.filter(pk=taken.pk).update(regulator_key="EV-1")
    free = _link(world, "E1", "V2")
    Enforcement.objects.filter(pk=world["E1"].pk).update(regulator_key="E-1")
    Violation.objects.filter(pk=world["V1"].pk).update(regulator_key="V-1")
    cupa = {"regulator": cast.cupa, "regulator_action_at": timezone.now()}
    items = [
        services.ChangedLink(link=free, regulator_key="EV-2", **cupa),
        services.ChangedLink(link=taken, regulator_key="EV-9", **cupa),
        services.ChangedLink(
            link=EnforcementViolation(pk=free.pk + 1000), regulator_key="X", **cupa
        ),
    ]
    with pytest.raises(services.RecordsRefused) as refused:
        services.update_cme_batch(actor=cast.cupa_reviewer, links=items)
    assert [(item, error.messages) for item, error in refused.value.refused] == [
        (items[1], ["Enforcement E-1 already links violation V-1 under the key EV-1."]),
        (items[2], ["This enforcement-violation link no longer exists."]),
    ]
    with pytest.raises(ValidationError) as single:
        services.update_link_keys(
            actor=cast.cupa_reviewer, link=taken, regulator_key="EV-9", **cupa
        )
    assert single.value.messages == refused.value.refused[0][1].messages
    assert set(EnforcementViolation.objects.values_list("regulator_key", flat=True)) == {
        "EV-1",
        "",
    }
    with pytest.raises(ValueError, match="changed twice"):
        services.update_cme_batch(
            actor=cast.cupa_reviewer,
            links=[services.ChangedLink(link=free, regulator_key="EV-2", **cupa)] * 2,
        )


def test_a_link_keyed_twice_in_a_batch_is_checked_against_the_key_the_first_gives_it(cast):
    """The same link named twice under two keys (an agency's system sending a link again
    beside a new key for its pair): the second is refused as ``update_link_keys`` refuses it
    after the first, and nothing is written."""
    world = _world(cast, cast.cupa_reviewer)
    link = _link(world, "E1", "V2")
    EnforcementViolation.objects.filter(pk=link.pk).update(regulator_key="EV-1")
    Enforcement.objects.filter(pk=world["E1"].pk).update(regulator_key="E-1")
    Violation.objects.filter(pk=world["V2"].pk).update(regulator_key="V-2")
    cupa = {"regulator": cast.cupa, "regulator_action_at": timezone.now()}
    items = [
        services.ChangedLink(link=link, regulator_key="EV-1", **cupa),
        services.ChangedLink(link=link, regulator_key="EV-2", **cupa),
    ]
    with pytest.raises(services.RecordsRefused) as refused:
        services.update_cme_batch(actor=cast.cupa_reviewer, links=items)
    message = "Enforcement E-1 already links violation V-2 under the key EV-1."
    assert [(item, error.messages) for item, error in refused.value.refused] == [
        (items[1], [message])
    ]
    assert not AuditEvent.objects.filter(action="cme.link.keyed").exists()
    assert EnforcementViolation.objects.get(pk=link.pk).regulator_action_at is None

    services.update_link_keys(actor=cast.cupa_reviewer, link=link, regulator_key="EV-1", **cupa)
    with pytest.raises(ValidationError) as single:
        services.update_link_keys(actor=cast.cupa_reviewer, link=link, regulator_key="EV-2", **cupa)
    assert single.value.messages == [message]


@pytest.mark.django_db
def test_a_links_keys_are_written_only_by_an_agency_that_may_record_its_violation(cast):
    """Writing a link's EDT keys asks the rule for the link (its action's facility and its
    violation's program element), alone or in a batch: the CUPA may not key its PA's UST link,
    nor another CUPA's staff the CUPA's link."""
    pa = pa_reviewer(cast)
    ust = inspection(cast, regulator=cast.pa, actor=pa, program_element="c")
    ust_violation = violation(cast, ust, type_number=UST_TYPE, actor=pa, regulator=cast.pa)
    pa_action = enforcement(cast, violations=[ust_violation], regulator=cast.pa, actor=pa)
    pa_link = EnforcementViolation.objects.get(enforcement=pa_action)
    world = _world(cast, cast.cupa_reviewer)
    cupa_link = _link(world, "E1", "V1")
    at = timezone.now()
    attempts = [
        (cast.cupa_reviewer, cast.cupa, pa_link, "does not regulate the Underground Storage"),
        (cast.cupa2_reviewer, cast.cupa, cupa_link, ""),
        (cast.cupa2_reviewer, cast.cupa2, cupa_link, "does not regulate"),
    ]
    for actor, regulator, link, says in attempts:
        item = services.ChangedLink(
            regulator=regulator, link=link, regulator_key="EV-9", regulator_action_at=at
        )
        with pytest.raises(services.RecordsRefused) as refused:
            services.update_cme_batch(actor=actor, links=[item])
        [(_item, error)] = refused.value.refused
        assert isinstance(error, PermissionDenied) and says in str(error)
        with pytest.raises(PermissionDenied) as single:
            services.update_link_keys(
                actor=actor,
                regulator=regulator,
                link=link,
                regulator_key="EV-9",
                regulator_action_at=at,
            )
        assert str(single.value) == str(error)
    assert not EnforcementViolation.objects.exclude(regulator_key="").exists()
    assert not AuditEvent.objects.filter(action="cme.link.keyed").exists()
    # The PA itself keys its own link.
    services.update_link_keys(
        actor=pa, regulator=cast.pa, link=pa_link, regulator_key="EV-9", regulator_action_at=at
    )
    assert EnforcementViolation.objects.get(pk=pa_link.pk).regulator_key == "EV-9"


@pytest.mark.django_db
def test_batches_of_links_cost_the_same_queries_whatever_their_size(cast):
    facilities = [factories.make_facility(cast.org) for _ in range(4)]

    def queries(count: int) -> tuple[int, int]:
        pairs = []
        for n in range(count):
            site = facilities[n % 4]
            parent = inspection(cast, facility=site)
            found = [violation(cast, parent) for _ in "ab"]
            action = enforcement(cast, violations=found, facility=site)
            pairs.append(
                list(EnforcementViolation.objects.filter(enforcement=action).order_by("pk"))
            )
        keyed = [
            services.ChangedLink(
                regulator=cast.cupa,
                link=links[0],
                regulator_key=f"EV-{count}-{n}",
                regulator_action_at=timezone.now(),
            )
            for n, links in enumerate(pairs)
        ]
        with CaptureQueriesContext(connection) as changed:
            services.update_cme_batch(actor=cast.cupa_reviewer, links=keyed)
        deleted = [
            services.DeletedLink(regulator=cast.cupa, link=link)
            for links in pairs
            for link in links
        ]
        with CaptureQueriesContext(connection) as captured:
            services.delete_cme_batch(actor=cast.cupa_reviewer, links=deleted)
        assert not EnforcementViolation.objects.filter(pk__in=[i.link.pk for i in deleted]).exists()
        assert (
            AuditEvent.objects.filter(
                action="cme.enforcement.updated",
                object_id__in=[str(links[0].enforcement_id) for links in pairs],
                actor=cast.cupa_reviewer,
                after__violations=[],
            ).count()
            == count
        )
        return len(changed), len(captured)

    assert queries(3) == queries(12)
