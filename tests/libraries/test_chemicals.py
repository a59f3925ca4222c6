"""The chemical library: the seeded chemicals, and the pages every signed-in user reads."""

import importlib
import re

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from libraries.models import Chemical

seed_migration = importlib.import_module("libraries.migrations.0002_seed_common_chemicals")
ccl_migration = importlib.import_module("libraries.migrations.0008_chemical_ccl_id_and_loads")

# Session, user, whether to offer the maintenance links, the count and the page.
LIST_QUERIES = 5


def listed(response) -> list[str]:
    return [chemical.chemical_name for chemical in response.context["page"]]


def cas_check_digit_ok(cas: str) -> bool:
    """A CAS number's last digit is a checksum of the others (CAS Registry rules)."""
    first, second, check = cas.split("-")
    digits = (first + second)[::-1]
    return sum(i * int(d) for i, d in enumerate(digits, start=1)) % 10 == int(check)


def test_the_seeded_chemicals_have_valid_codes_and_cas_numbers(db):
    chemicals = list(Chemical.objects.all())
    assert len(chemicals) >= 40
    # This project's numbers 1-44 were not CalEPA's CCL IDs, and none of CalEPA's is known
    # for them: the seeded chemicals carry none (a real CCL ID in 1-44 names another chemical).
    assert {c.ccl_id for c in chemicals} == {None}
    for chemical in chemicals:
        assert chemical.physical_state in {"a", "b", "c"}, chemical
        assert chemical.hm_type in {"a", "b", "c"}, chemical
        if chemical.cas_number:
            assert cas_check_digit_ok(chemical.cas_number), chemical


@pytest.mark.parametrize(
    ("cas", "name", "ehs", "state", "dot"),
    [
        ("7782-50-5", "Chlorine", True, "c", "2.3"),
        ("7664-41-7", "Ammonia", True, "c", "2.2"),
        ("7664-93-9", "Sulfuric acid", True, "b", "8"),
        ("7446-09-5", "Sulfur dioxide", True, "c", "2.3"),
        ("74-98-6", "Propane", False, "c", "2.1"),
        ("1310-73-2", "Sodium hydroxide", False, "a", "8"),
    ],
)
def test_well_known_chemicals_are_seeded_as_the_federal_lists_have_them(
    db, cas, name, ehs, state, dot
):
    chemical = Chemical.objects.get(cas_number=cas)
    assert (chemical.chemical_name, chemical.ehs) == (name, ehs)
    assert (chemical.physical_state, chemical.dot_hazard_class) == (state, dot)


def test_used_oil_is_a_waste_and_gasoline_a_mixture(db):
    assert Chemical.objects.get(chemical_name="Used oil").hm_type == "c"
    assert Chemical.objects.get(chemical_name="Gasoline").hm_type == "b"


def test_reversing_the_seed_deletes_exactly_its_rows(db):
    Chemical.objects.create(ccl_id=9001, chemical_name="Added by the state administrator")

    ccl_migration.restore_seed_numbers(apps, connection.schema_editor())  # 0008 reversed
    seed_migration.unseed(apps, connection.schema_editor())
    assert list(Chemical.objects.values_list("ccl_id", flat=True)) == [9001]

    seed_migration.seed(apps, connection.schema_editor())
    assert Chemical.objects.count() == len(seed_migration.CHEMICALS) + 1


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("7782-50-5", "Chlorine"),
        ("ammonia", "Ammonia"),
        ("battery acid", "Sulfuric acid"),
        ("muriatic", "Hydrochloric acid"),
        ("PERC", "Tetrachloroethylene"),
        ("102843", "Entry with CalEPA's CCL ID"),  # CCL ID
    ],
)
def test_the_library_is_searchable_by_cas_name_synonym_and_ccl_id(cast, client, query, found):
    Chemical.objects.create(ccl_id=102843, chemical_name="Entry with CalEPA's CCL ID")
    client.force_login(cast.viewer)
    response = client.get(reverse("libraries:chemicals"), {"q": query})
    assert response.status_code == 200
    assert found in listed(response)


def test_a_search_that_matches_nothing_says_so(cast, client):
    client.force_login(cast.cupa_reviewer)
    response = client.get(reverse("libraries:chemicals"), {"q": "unobtainium"})
    assert listed(response) == []
    assert "No chemical matches" in response.content.decode()


def test_the_chemical_page_shows_labels_from_the_registry(cast, client):
    client.force_login(cast.state_admin)
    chlorine = Chemical.objects.get(cas_number="7782-50-5")
    response = client.get(reverse("libraries:chemical", args=[chlorine.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "7782-50-5" in page and "Gas" in page and "Chlorine gas" in page
    assert client.get(reverse("libraries:chemical", args=[99999])).status_code == 404


def test_the_list_issues_the_same_queries_for_one_page_or_many(
    cast, client, django_assert_num_queries
):
    url = reverse("libraries:chemicals")
    client.force_login(cast.editor)
    client.get(url)  # the first request settles the session

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    Chemical.objects.bulk_create(
        Chemical(ccl_id=1000 + n, chemical_name=f"Test chemical {n}") for n in range(200)
    )
    with django_assert_num_queries(len(few)):
        response = client.get(url, {"page": 5})
    assert len(few) == LIST_QUERIES
    assert response.context["page"].number == 5


@pytest.mark.parametrize("name", ["libraries:chemicals", "libraries:chemical"])
def test_library_pages_need_sign_in(db, client, name):
    args = [Chemical.objects.first().pk] if name == "libraries:chemical" else []
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_chemical_page_shows_every_field_and_the_components(cast, client):
    thinner = Chemical.objects.create(
        ccl_id=9002,
        cas_number="",
        chemical_name="Lacquer thinner",
        ehs=False,
        physical_state="b",
        hm_type="b",
        fire_code_hazard_classes=[12, 30],
        federal_hazard_categories=["216f", "216t"],
        dot_hazard_class="3",
        components=[
            {"name": "Toluene", "cas_number": "108-88-3", "percent_by_weight": "40", "ehs": False},
            {"name": "Acetone", "cas_number": "67-64-1", "percent_by_weight": "30", "ehs": False},
        ],
    )
    client.force_login(cast.lead)
    page = client.get(reverse("libraries:chemical", args=[thinner.pk])).content.decode()
    assert "9002" in page
    assert "Mixture" in page and "Liquid" in page
    assert "12, 30" in page
    assert "216f physical flammable" in page and "216t health acute toxicity" in page
    assert "108-88-3" in page and "Acetone" in page and "40" in page


def test_the_chemical_page_offers_editing_to_the_state_administrator_only(cast, client):
    chlorine = Chemical.objects.get(cas_number="7782-50-5")
    url = reverse("libraries:chemical", args=[chlorine.pk])
    edit = reverse("libraries:chemical_edit", args=[chlorine.pk])
    client.force_login(cast.cupa_reviewer)
    assert edit not in client.get(url).content.decode()
    client.force_login(cast.state_admin)
    assert edit in client.get(url).content.decode()


def test_inventory_rows_forget_the_seed_numbers_they_carried(cast):
    """submittals 0005: a row picked from a seeded chemical carried its seed number as CCL ID
    (250); it loses it, keeping the link. Any other CCL ID stays."""
    from submittals import services
    from submittals.inventory import add_material
    from submittals.models import HazardousMaterial

    forget = importlib.import_module("submittals.migrations.0007_forget_seed_ccl_ids").forget
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=2)
    values = {"207": "Chlorine", "208": "Y", "214": "c", "218": "10", "221": "c"}
    seeded, calepa = (
        add_material(actor=cast.editor, record=record, values=values) for _ in range(2)
    )
    chlorine = Chemical.objects.get(cas_number="7782-50-5")
    for material, number in ((seeded, 14), (calepa, 102843)):
        HazardousMaterial.objects.filter(pk=material.pk).update(
            chemical=chlorine, data={**material.data, "250": number}
        )

    forget(apps, connection.schema_editor())

    seeded.refresh_from_db()
    calepa.refresh_from_db()
    assert "250" not in seeded.data and seeded.chemical == chlorine
    assert calepa.data["250"] == 102843


def test_each_link_of_the_list_is_named_by_words(cast, client):
    """A chemical without a CCL ID (most of the seeded ones) is linked by its name alone: a
    link read as "dash" says nothing in a screen reader's list of links."""
    assert Chemical.objects.filter(ccl_id=None).exists()
    client.force_login(cast.viewer)
    html = client.get(reverse("libraries:chemicals")).content.decode()
    names = [
        re.sub(r"<[^>]+>|\s+", " ", text).strip()
        for text in re.findall(r"<a\b[^>]*>(.*?)</a>", html, re.S)
    ]
    assert names and all(re.search(r"\w", name) for name in names), names


# --- the Proposition 65 mark ------------------------------------------------------------------


def prop65_marks(html: str) -> list[str]:
    """The text of each Proposition 65 mark on a page, as a screen reader reads it."""
    found = re.findall(r'<span class="prop65-mark">(.*?)</span>\s*(?=</td>|</dd>)', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip() for text in found]


def test_the_library_marks_the_chemicals_listed_under_prop_65_in_words(cast, client):
    lead_types = ["Cancer", "Developmental", "Female", "Male"]
    Chemical.objects.filter(cas_number="7439-92-1").update(prop65_types=lead_types)
    Chemical.objects.filter(cas_number="108-88-3").update(prop65_types=["Developmental", "Female"])
    client.force_login(cast.cupa_reviewer)
    lead = client.get(reverse("libraries:chemicals"), {"q": "7439-92-1"}).content.decode()
    toluene = client.get(reverse("libraries:chemicals"), {"q": "108-88-3"}).content.decode()
    water = client.get(reverse("libraries:chemicals"), {"q": "ammonia"}).content.decode()
    assert "<th>Prop 65</th>" in lead
    assert prop65_marks(lead) == [
        "Prop 65 (Proposition 65) listed for: cancer; "
        "reproductive toxicity (developmental, female, male)"
    ]
    assert prop65_marks(toluene) == [
        "Prop 65 (Proposition 65) listed for: reproductive toxicity (developmental, female)"
    ]
    assert prop65_marks(water) == []  # ammonia is not listed


def test_the_chemical_page_shows_the_prop_65_types_and_the_other_library_fields(cast, client):
    perc = Chemical.objects.get(cas_number="127-18-4")
    Chemical.objects.filter(pk=perc.pk).update(
        prop65_types=["Cancer"],
        usepa_srs_number="1305",
        sta_code="741",
        radioactive=False,
        trade_secret=False,
        comments="A known human carcinogen.",
        additional_mixture_components="",
    )
    client.force_login(cast.lead)
    page = client.get(reverse("libraries:chemical", args=[perc.pk])).content.decode()
    assert prop65_marks(page) == ["Prop 65 (Proposition 65) listed for: cancer"]
    for text in ("US EPA SRS number (251)", "1305", "State waste code (220)", "741"):
        assert text in page, text
    assert "A known human carcinogen." in page
    assert "Radioactive (212)</dt><dd>No" in page
    assert "Trade secret (206)</dt><dd>No" in page


def test_the_inventory_picker_shows_the_prop_65_mark_and_still_picks(cast, client):
    from submittals import services as submittals

    Chemical.objects.filter(cas_number="50-00-0").update(prop65_types=["Cancer"])
    formaldehyde = Chemical.objects.get(cas_number="50-00-0")
    record = submittals.start_draft(actor=cast.editor, facility=cast.facility, element=2)
    url = reverse("business:material_add", args=[record.pk])
    client.force_login(cast.editor)
    search = client.get(url, {"chemical_q": "50-00-0"})
    assert search.context["results"] == [formaldehyde]
    assert prop65_marks(search.content.decode()) == ["Prop 65 (Proposition 65) listed for: cancer"]
    picked = client.get(url, {"chemical": formaldehyde.pk})
    assert picked.context["form"]["f_209"].value() == "50-00-0"
