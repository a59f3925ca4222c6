"""factory_boy factories. Objects that carry permissions are made through the services, so
tests see exactly what the product makes."""

import factory

from accounts.agreements import AGREEMENTS, agreement_for
from accounts.models import AgreementAcceptance, User

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_active = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()

    @factory.post_generation
    def agreements(obj, create, extracted, **kwargs):  # noqa: N805
        """The portals whose current user agreement the person has accepted: both unless
        the test names them (``agreements=()``: none, to be asked). An EDT service account
        never signs in to a portal, and accepts nothing."""
        if not create or (extracted is None and obj.is_service_account):
            return
        portals = AGREEMENTS if extracted is None else extracted
        AgreementAcceptance.objects.bulk_create(
            AgreementAcceptance(user=obj, portal=portal, version=agreement_for(portal).version)
            for portal in portals
        )


def make_user(email: str, **extra) -> User:
    """An active person who has accepted both portals' user agreements (``agreements=``
    names fewer)."""
    return UserFactory(email=email, **extra)


def make_organization(lead: User, name: str = "Acme Fuels"):
    from organizations.services import create_organization

    return create_organization(actor=lead, name=name)


def add_member(organization, user: User, role: str):
    """Add ``user`` with ``role`` through the invitation path a Lead User would use."""
    from organizations.services import accept_invitation, invite

    lead = organization.memberships.filter(role="lead").first().user
    invitation = invite(actor=lead, organization=organization, email=user.email, role=role)
    return accept_invitation(user=user, token=invitation.token)


def make_regulator(code: str, name: str, kind: str, parent=None, zip_codes=(), element=None):
    from regulators.models import ServiceArea
    from regulators.services import create_regulator

    regulator = create_regulator(actor=None, code=code, name=name, kind=kind, parent=parent)
    for zip_code in zip_codes:
        ServiceArea.objects.create(regulator=regulator, zip_code=zip_code, element=element)
    return regulator


def add_staff(regulator, user: User, role: str):
    from regulators.services import set_staff_role

    return set_staff_role(actor=None, regulator=regulator, user=user, role=role)


_street_numbers = iter(range(100, 10_000_000))


def make_facility(organization, actor=None, zip_code: str = "95814", **fields):
    from facilities.services import create_facility

    if actor is None:
        actor = organization.memberships.filter(role="lead").first().user
    number = next(_street_numbers)
    defaults = {
        "name": f"Site {number}",
        "street": f"{number} Main Street",
        "city": "Sacramento",
        "zip_code": zip_code,
    }
    defaults.update(fields)
    return create_facility(actor=actor, organization=organization, **defaults)
