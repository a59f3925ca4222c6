"""The persona cast every test can use.

Business side, all in "Acme Fuels" (two facilities, one in each CUPA's area):
  lead, approver, editor, viewer; outsider is the Lead User of "Other Co".
Regulator side:
  cupa_reviewer   reviewer at Sacramento County CUPA (1001), ZIP 95814
  cupa2_reviewer  reviewer at Yolo County CUPA (1002), ZIP 95616
  pa_viewer       viewer at the City PA (1101) under CUPA 1001: UST (element 4) in ZIP 95814
  state_admin     administrator at Cal/EPA (1000)
"""

import copy
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import override_settings

from tests import factories

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """A fast hasher in tests: the production one costs about 0.2 s a password. Session-wide,
    so the cast built once for many tests (below) hashes with it too."""
    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        yield


@pytest.fixture(scope="session", autouse=True)
def media_root(tmp_path_factory):
    """Uploads land in a folder of this test process, never in the project's ``media/``: two
    processes running tests side by side (pytest-xdist) never share a stored file. Tests that
    look at what was stored still point ``MEDIA_ROOT`` at their own ``tmp_path``."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(autouse=True)
def nothing_counted():
    """Rate limits and throttles count in the cache, which outlives a test: each test starts
    with nothing counted. Only the local-memory cache of the default settings is cleared; a
    Redis cache (the integration tests') is also their broker, and is never flushed."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture
def password():
    return factories.PASSWORD


def build_cast() -> SimpleNamespace:
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


class SharedCast:
    """The cast, built once and kept for every test that uses it, as Django's
    ``TestCase.setUpTestData`` keeps a class's data.

    Building the cast takes about twenty service calls (each with its transaction and audit
    event), and most tests use it. So it is built inside a transaction of its own, opened
    before the test's transaction (which becomes a savepoint within it: each test still rolls
    back everything it did), and kept open from one test that uses the cast to the next. A test
    that does not use it, or that needs real commits (``transactional_db``), finds the database
    as before: the transaction is rolled back before that test starts, and the cast is built
    again for the next test that uses it. Each test gets its own copies of the objects, so what
    one test changes on them never reaches another. A test whose cast must be made under its own
    conditions (a clock its fixtures pin first) is marked ``fresh_cast``: it builds its own.
    """

    def __init__(self):
        self.blocker = None  # set once the test database exists
        self.atomic = None
        self.cast = None

    def wanted_by(self, item) -> bool:
        if "cast" not in getattr(item, "fixturenames", ()):
            return False
        if item.get_closest_marker("fresh_cast"):
            return False
        marker = item.get_closest_marker("django_db")
        if marker and (
            marker.kwargs.get("transaction")
            or marker.kwargs.get("reset_sequences")
            or marker.kwargs.get("serialized_rollback")
        ):
            return False
        committing = {"transactional_db", "live_server", "django_db_reset_sequences"}
        return not committing.intersection(item.fixturenames)

    def prepare_for(self, item) -> None:
        if self.blocker is None:
            return
        if self.wanted_by(item):
            self.open()
        else:
            self.close()

    def open(self) -> None:
        if self.atomic is not None:
            return
        with self.blocker.unblock():
            atomic = transaction.atomic()
            # As Django's TestCase marks its own: a durable service block may run inside.
            atomic._from_testcase = True
            atomic.__enter__()
            try:
                self.cast = build_cast()
            except BaseException:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
                raise
            self.atomic = atomic

    def close(self) -> None:
        if self.atomic is None:
            return
        with self.blocker.unblock():
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)
        self.atomic = None
        self.cast = None


_shared_cast = SharedCast()


def commits(item) -> bool:
    """Whether a test commits to the database, so that pytest-django empties every table
    after it (a flush): ``django_db(transaction=True)`` and the fixtures that imply it."""
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    committing = {"transactional_db", "live_server", "django_db_reset_sequences"}
    return bool(committing.intersection(getattr(item, "fixturenames", ())))


def restores_its_own(item) -> bool:
    """A test marked ``serialized_rollback`` (the browser tests) has the whole database as
    migrated put back before the next such test: nothing may be seeded in between."""
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("serialized_rollback"))


def restore_seeded_rows() -> None:
    """Put back what the migrations seed (the example violation types and the published ones,
    the common chemicals) when a flush took it away, as the migrations wrote it: a test that
    follows a committing one in the same process finds the database as migrated."""
    from importlib import import_module

    from django.apps import apps

    from libraries.models import Chemical, ViolationType

    def migration(name):
        return import_module(f"libraries.migrations.{name}")

    if not ViolationType.objects.exists():
        migration("0004_seed_example_violation_types").seed(apps, None)
        migration("0006_violation_library_loads").forwards(apps, None)
        migration("0007_seed_published_violation_types").seed(apps, None)
    if not Chemical.objects.exists():
        migration("0002_seed_common_chemicals").seed(apps, None)
        migration("0008_chemical_ccl_id_and_loads").forget_seed_numbers(apps, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a committing test's flush, the migrations' seeded rows come back (browser tests
    restore theirs from the serialized database, and find nothing missing here). Not after
    the session's last test: its teardown has already dropped the test database, and the
    connection points at the configured one again."""
    yield
    if nextitem is not None and commits(item) and not restores_its_own(item):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            restore_seeded_rows()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before the test's fixtures (its own transaction among them): open or close the shared
    cast's transaction, as the test needs."""
    _shared_cast.prepare_for(item)


@pytest.fixture(scope="session")
def shared_cast(django_db_setup, django_db_blocker):
    _shared_cast.blocker = django_db_blocker
    yield _shared_cast
    _shared_cast.close()
    _shared_cast.blocker = None


@pytest.fixture
def cast(shared_cast, db):
    if shared_cast.cast is None:
        # The first test of the run (the test database did not exist yet when it started), tests
        # that commit, and tests marked fresh_cast: the cast is built within the test.
        return build_cast()
    return copy.deepcopy(shared_cast.cast)


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
