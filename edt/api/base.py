"""The base of every EDT endpoint: parameters, authentication, the transaction log, formats.

``EndpointView.dispatch`` does, for every call and in this order: read the query parameters
(names case-insensitive, as CalEPA's server does), check the credentials against the endpoint's
tier in the environment the URL names (``/EDT/`` production, ``/Staging/`` testing), write the
transaction row, and hand an ``EdtCall`` to the endpoint's ``answer``. An ``EdtError`` raised
anywhere becomes a plain message with its HTTP status, never a stack trace; so do missing schema
files (``SchemasUnavailable``), as a 503 logged as an error (``refusal``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time
from itertools import islice
from zoneinfo import ZoneInfo

from django.db.models import Model
from django.db.transaction import atomic
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from ..credentials import AuthResult, authenticate
from ..models import EdtTransaction
from ..xmlsafe import SchemasUnavailable
from .catalogue import Endpoint

log = logging.getLogger(__name__)
PACIFIC = ZoneInfo("America/Los_Angeles")


class EdtError(Exception):
    """A call the service refuses: the message tells the client what to change."""

    # How the transaction log records the refusal: the call was Rejected.
    logged_as = EdtTransaction.Status.REJECTED

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class ServiceUnavailable(EdtError):
    """A call the service cannot answer for a fault of its own (503): logged as an error on
    CERS's side, not as the client's mistake."""

    logged_as = EdtTransaction.Status.ERROR_PROCESSING

    def __init__(self, message: str):
        super().__init__(message, status=503)


SCHEMAS_UNAVAILABLE = (
    "The EDT service's XML schema files are unavailable, so CERS cannot check this call; "
    "nothing was stored. Try again later, and tell CERS support if it persists."
)


def refusal(error: EdtError | SchemasUnavailable) -> EdtError:
    """The ``EdtError`` a failed call answers with: the error itself, or for schema files that
    are missing or unreadable (a deployment fault the system check normally stops at start) a
    503 that says so, the details going to the server's log rather than to the client."""
    if isinstance(error, SchemasUnavailable):
        log.error("EDT schema files unavailable: %s", error)
        return ServiceUnavailable(SCHEMAS_UNAVAILABLE)
    return error


@dataclass
class EdtCall:
    """Everything an endpoint needs to answer one call."""

    endpoint: Endpoint
    environment: str
    request: object
    params: dict[str, str]
    account: object | None
    regulator: object | None
    transaction: EdtTransaction | None
    wants_json: bool

    def param(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name.lower(), "")
        return value.strip() if value.strip() else default

    def integer(self, name: str, *, low: int | None = None, high: int | None = None):
        value = self.param(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise EdtError(f"{name} must be a whole number; '{value}' is not.") from None
        if (low is not None and number < low) or (high is not None and number > high):
            raise EdtError(f"{name} must be between {low} and {high}; {number} is not.")
        return number

    def integers(self, name: str) -> list[int] | None:
        value = self.param(name)
        if value is None:
            return None
        try:
            return [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise EdtError(
                f"{name} is a comma-separated list of numbers; '{value}' is not."
            ) from None

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.param(name)
        if value is None:
            return default
        if value.lower() in ("true", "1", "yes", "y"):
            return True
        if value.lower() in ("false", "0", "no", "n"):
            return False
        raise EdtError(f"{name} is true or false; '{value}' is neither.")

    def schema_version(self, schema_name: str) -> str:
        """The version to answer in: ``schemaVersion`` (``1/05`` or ``1.05``) or the newest."""
        from .catalogue import SCHEMA_VERSIONS

        supported = SCHEMA_VERSIONS[schema_name]
        wanted = self.param("schemaVersion")
        if wanted is None:
            return supported[-1]
        wanted = wanted.replace(".", "/")
        if wanted not in supported:
            raise EdtError(
                f"{schema_name} is served in version(s) {', '.join(supported)}; "
                f"schemaVersion={wanted} is not one of them."
            )
        return wanted

    def date(self, name: str, *, end: bool = False) -> datetime | None:
        """A query-string date: MM-DD-YYYY with an optional HH:MM[:SS] (Pacific time); an
        ISO date is accepted too. Without a time a start means 00:00:00, an end 23:59:59."""
        value = self.param(name)
        if value is None:
            return None
        return parse_query_date(name, value, end=end)


_DATE_FORMATS = ("%m-%d-%Y", "%m/%d/%Y", "%Y-%m-%d")
_TIME_FORMATS = ("%H:%M:%S", "%H:%M")


def parse_query_date(name: str, value: str, *, end: bool = False) -> datetime:
    text = value.strip().replace("T", " ")
    day_text, _, time_text = text.partition(" ")
    day = None
    for fmt in _DATE_FORMATS:
        try:
            day = datetime.strptime(day_text, fmt).date()  # noqa: DTZ007 (zone added below)
            break
        except ValueError:
            continue
    if day is None:
        raise EdtError(f"{name} must be a date like 10-14-2021 (MM-DD-YYYY); '{value}' is not.")
    moment = time(23, 59, 59) if end else time(0, 0, 0)
    if time_text.strip():
        for fmt in _TIME_FORMATS:
            try:
                moment = datetime.strptime(time_text.strip(), fmt).time()  # noqa: DTZ007
                break
            except ValueError:
                continue
        else:
            raise EdtError(f"{name}: the time must be HH:MM:SS (24-hour); '{value}' is not.")
    return datetime.combine(day, moment, tzinfo=PACIFIC)


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "xml" not in accept.split(",")[0]


def error_response(message: str, status: int, *, as_json: bool, extra_headers=None):
    if as_json:
        response = JsonResponse({"error": message, "status": status}, status=status)
    else:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    for name, value in (extra_headers or {}).items():
        response[name] = value
    return response


@method_decorator(csrf_exempt, name="dispatch")
class EndpointView(View):
    """One EDT endpoint. Subclasses set ``endpoint`` and implement ``answer(call, **kwargs)``."""

    endpoint: Endpoint

    def dispatch(self, request, *args, environment: str, **kwargs):
        as_json = wants_json(request)
        allowed = self.allowed_methods(kwargs)
        if request.method not in allowed:
            return error_response(
                f"{self.endpoint.acronym} answers {' or '.join(sorted(allowed))} only.",
                405,
                as_json=as_json,
                extra_headers={"Allow": ", ".join(sorted(allowed))},
            )
        params = {key.lower(): value for key, value in request.GET.items()}
        call = EdtCall(self.endpoint, environment, request, params, None, None, None, as_json)
        try:
            if self.endpoint.tier is not None:
                self._authenticate(call)
            return self.answer(call, *args, **kwargs)
        except (EdtError, SchemasUnavailable) as caught:
            error = refusal(caught)
            if call.transaction is not None:
                self._finish(call.transaction, error.logged_as, error)
            headers = {}
            if isinstance(error, _Unauthorized):
                headers = {
                    "WWW-Authenticate": 'user realm="CERS EDT", Bearer realm="CERS EDT"',
                    "X-CERS-Authentication-Result": str(int(error.result)),
                }
            return error_response(
                error.message, error.status, as_json=as_json, extra_headers=headers
            )

    def allowed_methods(self, kwargs) -> set[str]:
        if self.endpoint.method == "GET":
            return {"GET", "HEAD"}
        return {self.endpoint.method}

    def _authenticate(self, call: EdtCall) -> None:
        regulator_code = None
        if self.endpoint.needs_regulator:
            regulator_code = call.param("regulatorCode")
            if regulator_code is None:
                raise EdtError(
                    "The regulatorCode parameter is required: your agency's 4-digit CERS "
                    "regulator code, e.g. ?regulatorCode=1001."
                )
        auth = authenticate(
            call.request.headers.get("Authorization"),
            environment=call.environment,
            tier=self.endpoint.tier,
            regulator_code=regulator_code,
        )
        call.account, call.regulator = auth.account, auth.regulator
        call.transaction = EdtTransaction.objects.create(
            key=uuid.uuid4(),
            endpoint=self.endpoint.acronym,
            environment=call.environment,
            account=auth.account,
            regulator=auth.regulator or getattr(auth.account, "regulator", None),
            status=EdtTransaction.Status.IN_PROCESS if auth.ok else EdtTransaction.Status.REJECTED,
            authentication_result=int(auth.result),
            http_status=200 if auth.ok else 401,
            arguments=call.params,
            client_ip=client_ip(call.request),
        )
        if not auth.ok:
            label = AuthResult(auth.result).label
            raise _Unauthorized(f"{int(auth.result)} {label}", auth.result)

    @staticmethod
    def _finish(transaction, status, error: EdtError | None = None, count: int | None = None):
        """Record how the call ended (one UPDATE, outside any lock)."""
        fields = {"status": status, "completed_at": timezone.now()}
        if error is not None:
            fields["http_status"] = error.status
            fields["messages"] = [{"level": "Required", "message": error.message}]
        if count is not None:
            fields["result_count"] = count
        EdtTransaction.objects.filter(pk=transaction.pk).update(**fields)

    def accepted(self, call: EdtCall, count: int | None = None) -> None:
        """Mark a query answered (before its body streams)."""
        if call.transaction is not None:
            self._finish(call.transaction, EdtTransaction.Status.ACCEPTED, count=count)

    def answer(self, call: EdtCall, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError


class _Unauthorized(EdtError):
    def __init__(self, message: str, result: int):
        super().__init__(message, status=401)
        self.result = result


BATCH_SIZE = 500


def check_ceiling(count: int, what: str, narrow_with: str) -> None:
    """Refuse (413) a query whose result passes ``EDT_QUERY_MAX_RESULTS``, saying how to narrow
    it; counted with one COUNT query before anything streams."""
    from django.conf import settings

    ceiling = settings.EDT_QUERY_MAX_RESULTS
    if count > ceiling:
        raise EdtError(
            f"The query matches {count:,} {what}, more than the {ceiling:,} one query may "
            f"return. Narrow it with {narrow_with}.",
            status=413,
        )


def batches(queryset, batch_size: int | None = None) -> Iterator[list]:
    """A queryset in lists of ``batch_size`` (``BATCH_SIZE``) rows, read through a server-side
    cursor where the database has one, its ``prefetch_related`` lookups loaded once per batch:
    constant memory and a constant number of queries per batch, whatever the result size.

    When the next batch is asked for, the last one is released (``release``) and emptied, so
    its rows are gone before the next are read, whoever still holds the list: use a batch's
    rows until then, not after."""
    size = batch_size or BATCH_SIZE
    # Read inside a transaction: outside one, Django declares PostgreSQL's cursor WITH HOLD,
    # and the database computes the whole result before it hands over the first row. Inside,
    # rows come as the query finds them, all from one snapshot of the data.
    with atomic(using=queryset.db, savepoint=False):
        rows = queryset.iterator(chunk_size=size)  # prefetches each chunk of ``size`` rows
        while batch := list(islice(rows, size)):
            yield batch
            release(batch)
            batch.clear()


def in_batches(queryset, batch_size: int | None = None) -> Iterator:
    """The rows of ``batches``, one at a time; a row is for use until the batch after its own
    begins."""
    for batch in batches(queryset, batch_size):
        yield from batch


def release(instances: Iterable[Model]) -> None:
    """Drop what prefetching and ``select_related`` attached to ``instances``, all the way down.

    Prefetched rows point back at the row they belong to (a reverse foreign key caches its
    parent on each child; the queryset Django keeps per prefetched relation remembers the parent
    too), so every batch is a web of reference cycles that reference counting never frees. Left
    to the cyclic collector, spent batches pile up until its next full collection, which comes
    later the more objects the process holds: peak memory grew with the result up to tens of
    megabytes. Cutting the links lets each batch go the moment it is replaced."""
    seen: set[int] = set()
    stack = list(instances)
    while stack:
        instance = stack.pop()
        if id(instance) in seen:
            continue
        seen.add(id(instance))
        for related in instance.__dict__.pop("_prefetched_objects_cache", {}).values():
            stack.extend(related._result_cache or ())
        for value in vars(instance).values():
            if isinstance(value, Model):
                stack.append(value)
            elif isinstance(value, list):  # a Prefetch(to_attr=...) list
                stack.extend(item for item in value if isinstance(item, Model))
        cached = instance._state.fields_cache
        stack.extend(value for value in cached.values() if isinstance(value, Model))
        cached.clear()
