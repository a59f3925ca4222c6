"""The organization dashboard."""

from django.urls import reverse


def test_home_shows_the_organization_and_the_users_role(client, cast):
    cast.org.refresh_from_db()
    client.force_login(cast.editor)
    response = client.get(reverse("business:home"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<h1>Acme Fuels</h1>" in content
    assert f"<dd>{cast.org.code}</dd>" in content
    assert f"<dd>{cast.org.lead_regulator.name} ({cast.org.lead_regulator.code})</dd>" in content
    assert "<dt>Your role</dt><dd>Editor</dd>" in content
    assert "<dt>Facilities</dt><dd>2</dd>" in content
    assert "<dt>Members</dt><dd>4</dd>" in content
    assert reverse("business:facilities") in content
    assert reverse("business:people") in content


def test_only_the_lead_sees_add_facility_and_join_requests(client, cast):
    client.force_login(cast.lead)
    lead_page = client.get(reverse("business:home")).content.decode()
    assert reverse("business:facility_create") in lead_page
    assert reverse("business:join_requests") in lead_page

    client.force_login(cast.approver)
    approver_page = client.get(reverse("business:home")).content.decode()
    assert reverse("business:facility_create") not in approver_page
    assert reverse("business:join_requests") not in approver_page


def test_home_counts_only_the_current_organization(client, cast):
    client.force_login(cast.outsider)
    content = client.get(reverse("business:home")).content.decode()
    assert "<h1>Other Co</h1>" in content
    assert "<dt>Facilities</dt><dd>1</dd>" in content
    assert "<dt>Members</dt><dd>1</dd>" in content
    assert "Acme Fuels" not in content
