"""The system check of the EDT schema files: a deployment whose ``EDT_SCHEMA_DIR`` lacks what the
service validates with stops at start (``manage.py check``, ``runserver``, ``migrate``), instead
of answering its first upload with an error.

What is needed comes from the endpoint catalogue (``SCHEMA_VERSIONS``: every schema version the
service reads or writes), looked up in the schema registry the service itself uses
(``core.xmlsafe``), so the check and the service cannot disagree on what "present" means.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register

# The folders of the schema sets the repository carries (edt/schemas/).
SCHEMA_SETS = ("1.05", "cers3")

HINT = (
    "Point CERS_EDT_SCHEMA_DIR (the EDT_SCHEMA_DIR setting) at a copy of edt/schemas/, which "
    "holds CalEPA's published files unchanged, or unset it to use that folder."
)


@register()
def check_schema_files(app_configs=None, **kwargs) -> list[Error]:
    """Errors for a missing schema folder, a missing set, an unreadable file, and every schema
    version the catalogue serves that no file declares."""
    from core import xmlsafe

    from .api.catalogue import SCHEMA_VERSIONS, schema_namespace

    directory = Path(settings.EDT_SCHEMA_DIR)
    if not directory.is_dir():
        return [
            Error(
                f"The EDT schema folder {str(directory)!r} does not exist: EDT uploads cannot "
                "be validated.",
                hint=HINT,
                id="edt.E001",
            )
        ]
    errors = [
        Error(
            f"The EDT schema folder {str(directory)!r} has no {name}/ schema set.",
            hint=HINT,
            id="edt.E002",
        )
        for name in SCHEMA_SETS
        if not (directory / name).is_dir()
    ]
    try:
        known = xmlsafe.schema_index(directory)
    except xmlsafe.SchemasUnavailable as error:
        return [*errors, Error(str(error), hint=HINT, id="edt.E003")]
    missing = [
        (name, version)
        for name, versions in SCHEMA_VERSIONS.items()
        for version in versions
        # The registry knows a schema by the name in its namespace (CMESubmittalQuery's file
        # declares RegulatorCMEQuery): ".../Schemas/{Name}/{major}/{minor}/".
        if (schema_namespace(name, version).split("/")[-4], version) not in known
    ]
    errors.extend(
        Error(
            f"No file in the EDT schema folder {str(directory)!r} declares {name} version "
            f"{version}, which the EDT services use.",
            hint=HINT,
            id="edt.E004",
        )
        for name, version in missing
    )
    return errors
