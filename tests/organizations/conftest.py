import pytest

from tests import factories


@pytest.fixture
def newcomer(db):
    """A signed-up business user who belongs to no organization yet."""
    return factories.make_user("nina@newco.example", first_name="Nina", last_name="Newcomer")


@pytest.fixture
def lead_client(client, cast):
    client.force_login(cast.lead)
    return client
