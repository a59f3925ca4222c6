"""``manage.py create_edt_account --regulator CODE --username NAME --tiers 1-6
--environment production [--secret SECRET] [--email EMAIL]``: see edt.access.services."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from edt.access.services import create_edt_account
from edt.tiers import parse_environments, parse_tiers
from regulators.models import Regulator


class Command(BaseCommand):
    help = (
        "Create a dedicated EDT account for an agency with approved tier grants, without the "
        "access-request workflow (for operators and tests). Prints the secret, which is not "
        "stored and cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--regulator", required=True, help="The agency's 4-digit code.")
        parser.add_argument("--username", required=True, help="The EDT username.")
        parser.add_argument("--tiers", default="1-2", help="Tiers to grant, e.g. 1-6 or 1,2,4.")
        parser.add_argument("--environment", default="testing", help="testing, production or both.")
        parser.add_argument("--secret", help="The secret (16+ characters); generated if absent.")
        parser.add_argument("--email", help="The account's own e-mail address (optional).")

    def handle(self, *args, regulator, username, tiers, environment, secret, email, **options):
        agency = Regulator.objects.filter(code=regulator).first()
        if agency is None:
            raise CommandError(f"There is no regulator with code {regulator}.")
        try:
            account, secret = create_edt_account(
                actor=None,
                regulator=agency,
                username=username,
                email=email,
                tiers=parse_tiers(tiers),
                environments=parse_environments(environment),
                secret=secret,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Created EDT account {account.username} for {agency.name} ({agency.code}): "
            f"tiers {tiers} in {environment}."
        )
        self.stdout.write(f"Secret (shown once): {secret}")
