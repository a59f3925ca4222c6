"""The EDT implementers' list for everyone: a public form, double opt-in through a signed link,
a one-click unsubscribe link in every message, announcements to confirmed addresses only, and
the same answer whatever the list holds."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent, OutboundEmail
from edt.access import services
from edt.models import Announcement, Subscriber

FORM = reverse("edt_program:implementers")
VENDOR = "dev@vendor.example"


def mails_to(email: str) -> list[OutboundEmail]:
    return [m for m in OutboundEmail.objects.order_by("pk") if m.to == [email]]


def link(mail: OutboundEmail, kind: str) -> str:
    """The path of the confirm or unsubscribe link in ``mail``."""
    found = re.findall(
        rf"{re.escape(settings.SITE_URL)}(/edt-program/implementers/{kind}/[^/\s]+/)", mail.body
    )
    assert len(found) == 1, mail.body
    return found[0]


def announce(cast, subject="Maintenance Saturday") -> Announcement:
    return services.post_announcement(
        actor=cast.state_admin, subject=subject, body="The services pause 6-8 a.m."
    )


def test_a_vendor_joins_confirms_hears_announcements_and_leaves_in_one_click(cast, client):
    response = client.post(FORM, {"email": "Dev@Vendor.example", "name": "Dee"})
    assert response.status_code == 302
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.name, subscriber.confirmed_at) == (VENDOR, "Dee", None)
    [confirmation] = mails_to(VENDOR)
    assert "confirm" in confirmation.subject.lower()
    confirm, leave = link(confirmation, "confirm"), link(confirmation, "unsubscribe")
    assert AuditEvent.objects.filter(action="edt.subscription_requested").count() == 1

    # not confirmed yet: announcements pass it by
    assert announce(cast).recipients == 0
    assert len(mails_to(VENDOR)) == 1

    # opening the link only shows what it will do (a mail scanner confirms nothing)
    page = client.get(confirm)
    assert page.status_code == 200 and VENDOR in page.content.decode()
    assert Subscriber.objects.get().confirmed_at is None
    # the button works without a session or a CSRF cookie: the signed link is the authority
    done = Client(enforce_csrf_checks=True).post(confirm)
    assert done.status_code == 200
    assert "is on the list" in done.content.decode()
    assert Subscriber.objects.get().confirmed_at is not None
    assert AuditEvent.objects.filter(action="edt.subscription_confirmed").count() == 1
    assert Client().post(confirm).status_code == 200  # twice is harmless
    assert AuditEvent.objects.filter(action="edt.subscription_confirmed").count() == 1

    # confirmed: the next announcement reaches it, with its own unsubscribe link
    assert announce(cast).recipients == 1
    mail = mails_to(VENDOR)[-1]
    assert mail.subject == "[CERS EDT] Maintenance Saturday"
    assert "The services pause 6-8 a.m." in mail.body
    unsubscribe = link(mail, "unsubscribe")
    assert unsubscribe == leave  # the same link as in the confirmation: it never expires

    assert client.get(unsubscribe).status_code == 200
    assert Subscriber.objects.exists()  # opening it removes nothing
    gone = Client(enforce_csrf_checks=True).post(unsubscribe)
    assert gone.status_code == 200
    assert f"{VENDOR} has left the list" in gone.content.decode()
    assert not Subscriber.objects.exists()
    assert AuditEvent.objects.filter(action="edt.unsubscribed").count() == 1

    # nothing more reaches it
    before = len(mails_to(VENDOR))
    assert announce(cast, "Another").recipients == 0
    assert len(mails_to(VENDOR)) == before
    again = Client().post(unsubscribe)  # the link used twice says so, calmly
    assert again.status_code == 200 and "not on the list" in again.content.decode()


def test_only_confirmed_addresses_receive_announcements(cast, client):
    client.post(FORM, {"email": "waiting@vendor.example"})
    client.post(FORM, {"email": VENDOR})
    services.confirm_subscription(token=link(mails_to(VENDOR)[0], "confirm").split("/")[-2])
    announcement = announce(cast)
    sent = OutboundEmail.objects.filter(subject="[CERS EDT] Maintenance Saturday")
    assert [m.to for m in sent] == [[VENDOR]]
    assert announcement.recipients == 1


def test_each_message_carries_the_link_of_its_own_address(cast, client):
    for email in ("a@vendor.example", "b@vendor.example"):
        subscriber = Subscriber.objects.create(email=email)
        services.confirm_subscription(token=services.confirmation_token(subscriber))
    announce(cast)
    first = mails_to("a@vendor.example")[-1]
    second = mails_to("b@vendor.example")[-1]
    assert link(first, "unsubscribe") != link(second, "unsubscribe")
    client.post(link(first, "unsubscribe"))
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["b@vendor.example"]


def answer(client, email: str) -> tuple:
    response = client.post(FORM, {"email": email}, follow=True)
    return (
        response.redirect_chain,
        [str(m) for m in response.context["messages"]],
    )


def test_the_form_answers_the_same_whether_the_address_is_on_the_list_or_not(cast, client):
    confirmed = Subscriber.objects.create(email="on@vendor.example")
    services.confirm_subscription(token=services.confirmation_token(confirmed))
    Subscriber.objects.create(email="waiting@vendor.example")

    answers = []
    for email in ("new@vendor.example", "waiting@vendor.example", "on@vendor.example"):
        redirects, shown = answer(client, email)
        answers.append((redirects, [m.replace(email, "ADDRESS") for m in shown]))
    assert answers[0] == answers[1] == answers[2]
    assert len(answers[0][1]) == 1 and "ADDRESS" in answers[0][1][0]

    # behind the answer: the new and the waiting address get a link, the confirmed one nothing
    assert len(mails_to("new@vendor.example")) == 1
    assert len(mails_to("waiting@vendor.example")) == 1
    assert mails_to("on@vendor.example") == []
    assert Subscriber.objects.count() == 3


def test_a_bad_address_is_shown_on_the_form_and_nothing_is_sent(cast, client):
    before = OutboundEmail.objects.count()
    response = client.post(FORM, {"email": "not-an-address"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not Subscriber.objects.exists()
    assert OutboundEmail.objects.count() == before


@pytest.fixture
def waiting(db):
    return Subscriber.objects.create(email=VENDOR)


def forged_tokens(subscriber) -> dict[str, str]:
    good = services.unsubscribe_token(subscriber)
    return {
        "garbage": "not-a-token",
        "truncated": good[:-6],
        "tampered": good[:-1] + ("A" if good[-1] != "A" else "B"),
        "other purpose": services.confirmation_token(subscriber),
        "another key": "eyJhIjoxfQ:1vS3:abcdefghijklmnopqrstuvwxyz0123456789ABCD",
    }


@pytest.mark.parametrize(
    "kind", ["garbage", "truncated", "tampered", "other purpose", "another key"]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_unsubscribe_link_answers_a_clear_page(client, waiting, kind, method):
    token = forged_tokens(waiting)[kind]
    url = reverse("edt_program:implementers_unsubscribe", args=[token])
    response = getattr(client, method)(url)
    assert response.status_code == 400
    assert "not one CERS sent" in response.content.decode()
    assert Subscriber.objects.filter(pk=waiting.pk).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_expired_confirmation_link_answers_a_clear_page(
    client, waiting, method, monkeypatch
):
    forged = services.unsubscribe_token(waiting)  # signed, but for the other purpose
    response = getattr(client, method)(reverse("edt_program:implementers_confirm", args=[forged]))
    assert response.status_code == 400
    assert "not one CERS sent" in response.content.decode()

    token = services.confirmation_token(waiting)
    monkeypatch.setattr(services, "CONFIRMATION_MAX_AGE", timedelta(seconds=-1))
    response = getattr(client, method)(reverse("edt_program:implementers_confirm", args=[token]))
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert Subscriber.objects.get().confirmed_at is None


def test_a_token_naming_another_shape_is_refused_not_a_500(client, waiting):
    from django.core import signing

    signer = signing.Signer(salt="edt.implementers.unsubscribe")
    for payload in ({"a": 1}, ["x", VENDOR], [waiting.pk], "text", [waiting.pk, VENDOR, 1]):
        token = signer.sign_object(payload)
        url = reverse("edt_program:implementers_unsubscribe", args=[token])
        assert client.post(url).status_code == 400
    assert Subscriber.objects.exists()


def test_an_old_link_does_not_touch_the_address_when_it_joins_again(cast, client, waiting):
    old_leave = services.unsubscribe_token(waiting)
    old_confirm = services.confirmation_token(waiting)
    client.post(reverse("edt_program:implementers_unsubscribe", args=[old_leave]))
    client.post(FORM, {"email": VENDOR})
    again = Subscriber.objects.get()
    # the first subscription's links name a row that is gone
    response = client.post(reverse("edt_program:implementers_confirm", args=[old_confirm]))
    assert "no longer on the list" in response.content.decode()
    client.post(reverse("edt_program:implementers_unsubscribe", args=[old_leave]))
    assert Subscriber.objects.get() == again
    assert again.confirmed_at is None


# --- the regulator portal: staff, and the state administrator's list -----------------------------


def test_staff_join_at_once_and_a_contact_the_state_administrator_adds_must_confirm(cast, client):
    url = reverse("regulator:edt_implementers")
    client.force_login(cast.cupa_reviewer)
    client.post(url, {"action": "subscribe"})
    assert Subscriber.objects.get(email=cast.cupa_reviewer.email).confirmed_at is not None
    assert mails_to(cast.cupa_reviewer.email) == []  # their account proved the address

    client.force_login(cast.state_admin)
    client.post(url, {"action": "add", "email": VENDOR})
    contact = Subscriber.objects.get(email=VENDOR)
    assert contact.confirmed_at is None
    [confirmation] = mails_to(VENDOR)
    page = client.get(url)
    assert page.context["counts"] == {"confirmed": 1, "waiting": 1}
    assert "Waiting" in page.content.decode()

    client.post(reverse("regulator:edt_announcement_new"), {"subject": "Hi", "body": "Hello."})
    assert Announcement.objects.get().recipients == 1
    assert len(mails_to(VENDOR)) == 1

    Client().post(link(confirmation, "confirm"))
    assert client.get(url).context["counts"] == {"confirmed": 2, "waiting": 0}


def test_staff_who_asked_through_the_form_are_confirmed_by_joining_with_their_account(cast, client):
    client.post(FORM, {"email": cast.cupa_reviewer.email})
    assert Subscriber.objects.get().confirmed_at is None
    client.force_login(cast.cupa_reviewer)
    client.post(reverse("regulator:edt_implementers"), {"action": "subscribe"})
    subscriber = Subscriber.objects.get()
    assert subscriber.confirmed_at is not None and subscriber.user == cast.cupa_reviewer
    # confirmed and on the list: joining again says so
    response = client.post(
        reverse("regulator:edt_implementers"), {"action": "subscribe"}, follow=True
    )
    assert "already on the implementers" in response.content.decode()


def test_the_state_administrators_list_issues_the_same_queries_for_1_or_12(cast, client):
    url = reverse("regulator:edt_implementers")
    client.force_login(cast.state_admin)
    client.get(url)  # the first page of a session also reads what later ones find cached
    counts = []
    for total in (1, 12):
        for index in range(Subscriber.objects.count(), total):
            Subscriber.objects.create(email=f"dev{index}@vendor.example")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def change_address(user, new_email: str) -> None:
    """The account's e-mail address changed as its owner changes it: the link followed."""
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from accounts.services import confirm_email_change
    from accounts.tokens import email_change_tokens

    link = (
        urlsafe_base64_encode(force_bytes(user.pk)),
        urlsafe_base64_encode(force_bytes(new_email)),
        email_change_tokens.make_token(user, new_email),
    )
    confirm_email_change(actor=user, link=link)
    user.refresh_from_db()


def test_a_staff_subscription_follows_its_account_to_a_new_address(cast, client):
    reviewer = cast.cupa_reviewer
    old = reviewer.email
    subscriber = services.subscribe(actor=reviewer, email=old)

    change_address(reviewer, "reviewer.new@sac-cupa.example")

    subscriber.refresh_from_db()
    assert subscriber.email == "reviewer.new@sac-cupa.example"
    assert subscriber.user == reviewer and subscriber.confirmed_at is not None
    event = AuditEvent.objects.get(action="edt.subscription_moved")
    assert (event.before, event.after) == ({"email": old}, {"email": subscriber.email})
    # The staff page still finds the account's own subscription, and can leave it.
    client.force_login(reviewer)
    page = client.get(reverse("regulator:edt_implementers"))
    assert page.context["subscription"] == subscriber


def test_an_address_subscribed_without_the_account_stays_with_the_address(cast):
    reviewer = cast.cupa_reviewer
    old = reviewer.email
    by_form = Subscriber.objects.create(email=old)

    change_address(reviewer, "reviewer.new@sac-cupa.example")

    by_form.refresh_from_db()
    assert by_form.email == old
    assert not AuditEvent.objects.filter(action="edt.subscription_moved").exists()


def test_a_new_address_already_on_the_list_keeps_one_subscription_of_the_account(cast):
    reviewer = cast.cupa_reviewer
    services.subscribe(actor=reviewer, email=reviewer.email)
    waiting = Subscriber.objects.create(email="Reviewer.New@sac-cupa.example")

    change_address(reviewer, "reviewer.new@sac-cupa.example")

    [subscriber] = Subscriber.objects.all()
    assert subscriber.pk == waiting.pk
    assert subscriber.user == reviewer and subscriber.confirmed_at is not None
    assert AuditEvent.objects.filter(action="edt.subscription_moved").exists()
