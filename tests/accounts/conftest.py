import pytest

from tests import factories


@pytest.fixture
def user(db):
    return factories.make_user("alice@example.com", first_name="Alice", last_name="Able")


@pytest.fixture
def inactive_user(db):
    return factories.make_user("ivan@example.com", first_name="Ivan", is_active=False)


@pytest.fixture
def service_account(db):
    return factories.make_user("edt@sac-cupa.example", first_name="EDT", is_service_account=True)
