"""The base of every EDT endpoint: parameters, authentication, the transaction log, formats.

``EndpointView`` is a Django REST framework view. For every call it reads the query parameters
(names case-insensitive, as CalEPA's server does), checks the credentials
(``edt.api.authentication``) against the endpoint's tier in the environment the URL names
(``/EDT/`` production, ``/Staging/`` testing), writes the transaction row, and hands an
``EdtCall`` to the endpoint's ``answer``. An ``EdtError`` raised anywhere becomes a plain
message with its HTTP status, never a stack trace; so do missing schema files
(``SchemasUnavailable``), as a 503 logged as an error (``refusal``).
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import islice

from django.db.models import Model
from django.db.transaction import atomic
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from core.clock import CALIFORNIA
from core.keys import column_range, fits
from core.net import client_address
from core.ratelimit import first_in
from core.xmlsafe import SchemasUnavailable
from regulators.models import CODE_PATTERN

from ..credentials import Authentication
from ..models import EdtTransaction
from .authentication import (
    BearerTokenAuthentication,
    EdtAuthenticationFailed,
    LegacyHeaderAuthentication,
    TierPermission,
    challenge,
)
from .catalogue import Endpoint
from .renderers import (
    PLAIN_TEXT,
    EdtContentNegotiation,
    ErrorBody,
    JsonRenderer,
    XmlParser,
    XmlRenderer,
    ZipParser,
    wants_json,
)
from .schema import EndpointSchema
from .throttles import FailedCallThrottle, OpenEndpointThrottle

log = logging.getLogger(__name__)


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
        _within_columns(name, number)
        return number

    def integers(self, name: str) -> list[int] | None:
        value = self.param(name)
        if value is None:
            return None
        try:
            numbers = [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise EdtError(
                f"{name} is a comma-separated list of numbers; '{value}' is not."
            ) from None
        for number in numbers:
            _within_columns(name, number)
        return numbers

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
        """A query-string date: MM-DD-YYYY with an optional HH:MM[:SS] (Pacific time; a
        12-hour clock with AM or PM too); an ISO date is accepted too. Without a time a start
        means 00:00:00, an end 23:59:59; an end takes in the whole of the second (or minute)
        it names, see ``parse_query_date``."""
        value = self.param(name)
        if value is None:
            return None
        return parse_query_date(name, value, end=end)


_DATE_FORMATS = ("%m-%d-%Y", "%m/%d/%Y", "%Y-%m-%d")
# 24-hour, as CalEPA documents; a 12-hour clock with AM or PM too, as .NET's DateTime.ToString()
# writes it in en-US ("3/1/2024 11:59:59 PM"), which CalEPA's server read.
_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")


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
            raise EdtError(
                f"{name}: the time must be HH:MM:SS (24-hour, or 12-hour with AM or PM); "
                f"'{value}' is not."
            )
        if end and "%S" not in fmt:
            moment = moment.replace(second=59)
    if end:
        # Stored moments carry fractions of a second: an end of 23:59:59 that stopped at the
        # second's start would leave out what happened in its last fraction, and the next
        # day's query (from 00:00:00) would not have it either.
        moment = moment.replace(microsecond=999999)
    try:
        return pacific_bound(datetime.combine(day, moment), end=end)
    except OverflowError:
        # The last hours of 12-31-9999 (.NET's DateTime.MaxValue, which clients send for "no
        # end") lie past the last moment a datetime holds in UTC, as the database compares
        # them: they stand for that last moment, later than anything stored.
        return datetime.max.replace(tzinfo=UTC)


def backwards(low: datetime | None, high: datetime | None) -> bool:
    """Whether a range of query dates starts after it ends, compared as Pacific clock
    readings (01:30 PDT to 01:10 PST is backwards). A range within the hour the clock skips
    in March, whose start stands for the jump and whose end for the moment before it, is
    empty, not backwards."""
    if low is None or high is None:
        return False
    adjacent = low.astimezone(UTC) - high.astimezone(UTC) == timedelta(microseconds=1)
    low, high = low.astimezone(CALIFORNIA), high.astimezone(CALIFORNIA)
    if adjacent and low.utcoffset() != high.utcoffset():
        return False  # the two sides of the jump
    return low.replace(tzinfo=None) > high.replace(tzinfo=None)


def pacific_bound(reading: datetime, *, end: bool) -> datetime:
    """The first moment (a start) or the last (an ``end``) whose Pacific clock reading is
    ``reading``, so that a range holds every moment whose reading lies in it, as CalEPA's
    Pacific times compared. 01:00-01:59 on the first Sunday of November is read twice (PDT,
    then PST): a start takes the first, an end the second. 02:00-02:59 on the second Sunday
    of March is never read: a start or an end within it stands for the moment the clock
    jumped (an end, the moment before it)."""
    first = reading.replace(tzinfo=CALIFORNIA, fold=0)
    last = reading.replace(tzinfo=CALIFORNIA, fold=1)
    if first.astimezone(UTC).astimezone(CALIFORNIA).replace(tzinfo=None) == reading:
        # A reading that exists (once, or twice in the hour the clock goes back).
        return (last if end else first).astimezone(UTC)
    # In the gap: fold 1 reads it with the offset after the jump, an earlier moment than
    # fold 0 reads; the jump lies between them, found to the microsecond.
    low, high = last.astimezone(UTC), first.astimezone(UTC)
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(CALIFORNIA).utcoffset() == low.astimezone(CALIFORNIA).utcoffset():
            low = middle
        else:
            high = middle
    return low if end else high


def _within_columns(name: str, number: int) -> None:
    """Refuse a number no CERS column holds (past 19 digits): it names nothing, and SQLite's
    driver would refuse it in a query with a server error."""
    if not fits(number):
        low, high = column_range()
        raise EdtError(f"{name} must be a whole number from {low} to {high}; {number} is not.")


def refuse_nul(params: Iterable[tuple[str, str]], path_arguments: dict) -> None:
    """Refuse a call with a NUL character in a query parameter (its name or value) or in the
    path: no CERS value holds one, and PostgreSQL's text cannot, so the transaction log or the
    query would otherwise fail with a server error."""
    for name, value in params:
        if "\x00" in name or "\x00" in value:
            shown = name.partition("\x00")[0] or "a parameter's name"
            raise EdtError(
                f"The parameter {shown} holds a NUL character (%00), which no CERS value can "
                "hold. Remove it and call again."
            )
    if any("\x00" in str(value) for value in path_arguments.values()):
        raise EdtError(
            "The path holds a NUL character (%00), which no CERS key or name can hold. Remove "
            "it and call again."
        )


def http_methods(endpoint: Endpoint, *, with_argument: bool) -> list[str]:
    """The methods one of an endpoint's paths answers: GET (and HEAD) for queries; POST for an
    upload, and GET alone on its path with a transaction key (the status query)."""
    if endpoint.is_upload:
        return ["get"] if with_argument else ["post"]
    return ["get", "head"]


class EndpointView(APIView):
    """One EDT endpoint, a Django REST framework view. Subclasses set ``endpoint`` and implement
    ``answer(call, **kwargs)``.

    ``initial`` does, for every call and in this order: choose XML or JSON, refuse a method
    the path does not answer (405), read the query parameters, apply the rate limits, check
    the credentials (``authentication_classes``) and the tier (``TierPermission``), and write
    the transaction row. The handler then hands an ``EdtCall`` to ``answer``.
    ``handle_exception`` turns every refusal into a plain message (or ``{"error", "status"}``
    in JSON) with its HTTP status, never a stack trace."""

    endpoint: Endpoint
    authentication_classes = [LegacyHeaderAuthentication, BearerTokenAuthentication]
    permission_classes = [TierPermission]
    throttle_classes = [OpenEndpointThrottle, FailedCallThrottle]
    renderer_classes = [XmlRenderer, JsonRenderer]
    parser_classes = [XmlParser, ZipParser]
    content_negotiation_class = EdtContentNegotiation
    schema = EndpointSchema()

    call: EdtCall | None = None
    authorized: Authentication | None = None

    @property
    def default_response_headers(self) -> dict:
        return {}  # no Allow or Vary on every answer: the services' headers are their own

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        if "http_method_names" not in vars(self):  # not given to as_view(): from the path
            argument = self.endpoint.path_argument
            self.http_method_names = http_methods(
                self.endpoint, with_argument=bool(argument) and argument in kwargs
            )

    def get_authenticators(self):
        if self.endpoint.tier is None:
            return []  # open endpoints look at no credentials
        return super().get_authenticators()

    def initial(self, request, *args, **kwargs):
        self.format_kwarg = None
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(
            request
        )
        request.version, request.versioning_scheme = None, None
        allowed = {name.upper() for name in self.http_method_names}
        if request.method not in allowed:
            raise EdtError(
                f"{self.endpoint.acronym} answers {' or '.join(sorted(allowed))} only.", 405
            )
        # A query string is percent-encoded UTF-8 whatever charset the body's Content-Type
        # names, but Django decodes it with that charset: a .NET client's UTF-16 body
        # (StringContent with Encoding.Unicode: charset=utf-16) made every parameter
        # unreadable. The body's charset is read from the header where the body is.
        request._request.encoding = "utf-8"
        params = {key.lower(): value for key, value in request.GET.items()}
        refuse_nul(request.GET.items(), kwargs)
        as_json = request.accepted_renderer.format == "json"
        self.call = EdtCall(
            self.endpoint, kwargs["environment"], request, params, None, None, None, as_json
        )
        if self.endpoint.tier is None:
            self.check_throttles(request)
            return
        if self.endpoint.needs_regulator:
            code = self.call.param("regulatorCode")
            if code is None:
                raise EdtError(
                    "The regulatorCode parameter is required: your agency's 4-digit CERS "
                    "regulator code, e.g. ?regulatorCode=1001."
                )
            if not re.match(CODE_PATTERN, code, re.ASCII):
                # Not an agency the account may lack rights to (401, result 2), but a value
                # no agency has: CalEPA's service answers that the code is invalid.
                raise EdtError(
                    f"The specified regulatorCode '{code}' is invalid: give your agency's "
                    "4-digit CERS regulator code, e.g. ?regulatorCode=1001."
                )
        self.check_throttles(request)
        try:
            self.perform_authentication(request)
            self.check_permissions(request)
        except EdtAuthenticationFailed as refused:
            self._log(refused.outcome, refused)
            for throttle in self.get_throttles():
                if isinstance(throttle, FailedCallThrottle):
                    throttle.record_failure(request, self)
            raise
        self._log(self.authorized)

    def throttled(self, request, wait):
        """Refuse a call past a rate limit (429). The first refusal of a burst (until the
        client may call again) is written to the transaction log, later ones are not: a client
        hammering the service leaves one row, not one a call."""
        address = client_address(request)
        if first_in("edt-refused", address or "unknown", wait or 60):
            minutes = max(1, math.ceil((wait or 60) / 60))
            EdtTransaction.objects.create(
                key=uuid.uuid4(),
                endpoint=self.endpoint.acronym,
                environment=self.call.environment,
                status=EdtTransaction.Status.REJECTED,
                http_status=429,
                arguments=self.call.params,
                messages=[
                    {
                        "level": "Required",
                        "message": "Too many calls from this address; this and its further "
                        f"calls for about {minutes} minute(s) are refused, and only this one "
                        "is logged.",
                    }
                ],
                client_ip=address,
                completed_at=timezone.now(),
            )
        super().throttled(request, wait)

    def get(self, request, *args, **kwargs):
        return self._answer(kwargs)

    def post(self, request, *args, **kwargs):
        return self._answer(kwargs)

    def _answer(self, kwargs):
        if self.endpoint.path_argument and self.endpoint.path_argument in kwargs:
            return self.answer(self.call, argument=kwargs[self.endpoint.path_argument])
        return self.answer(self.call)

    def handle_exception(self, exc):
        """Every refusal as a message with its status; anything else is a server error."""
        headers = {}
        if isinstance(exc, SchemasUnavailable):
            exc = refusal(exc)
        if isinstance(exc, EdtAuthenticationFailed):
            message, status = str(exc.detail), 401
            headers["WWW-Authenticate"] = challenge()
            headers["X-CERS-Authentication-Result"] = str(int(exc.outcome.result))
        elif isinstance(exc, EdtError):
            message, status = exc.message, exc.status
            if status == 405:
                headers["Allow"] = ", ".join(sorted(n.upper() for n in self.http_method_names))
            if self.call is not None and self.call.transaction is not None:
                self._finish(self.call.transaction, exc.logged_as, exc)
        elif isinstance(exc, exceptions.Throttled):
            message, status = "Too many calls; try again later.", 429
            if exc.wait is not None:
                message = f"Too many calls; try again in {math.ceil(exc.wait)} seconds."
                headers["Retry-After"] = str(math.ceil(exc.wait))
        elif isinstance(exc, exceptions.APIException):
            message, status = str(exc.detail), exc.status_code
        else:
            self.raise_uncaught_exception(exc)
        as_json = self.call.wants_json if self.call is not None else wants_json(self.request)
        return Response(
            ErrorBody(message, status),
            status=status,
            headers=headers,
            content_type=None if as_json else PLAIN_TEXT,
        )

    def _log(self, outcome: Authentication, refused: EdtAuthenticationFailed | None = None):
        """The transaction row of an authenticated (or refused) call."""
        call = self.call
        call.account, call.regulator = outcome.account, outcome.regulator
        fields = {}
        if refused is not None:
            fields = {
                "completed_at": timezone.now(),
                "messages": [{"level": "Required", "message": str(refused.detail)}],
            }
        call.transaction = EdtTransaction.objects.create(
            key=uuid.uuid4(),
            endpoint=self.endpoint.acronym,
            environment=call.environment,
            account=outcome.account,
            regulator=outcome.regulator or getattr(outcome.account, "regulator", None),
            status=EdtTransaction.Status.IN_PROCESS
            if outcome.ok
            else EdtTransaction.Status.REJECTED,
            authentication_result=int(outcome.result),
            http_status=200 if outcome.ok else 401,
            arguments=call.params,
            client_ip=client_address(call.request),
            **fields,
        )

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


def key_batches(queryset, batch_size: int | None = None) -> Iterator[list]:
    """The keys of ``queryset``'s rows, in its order, ``batch_size`` (``BATCH_SIZE``) at a time,
    read through one cursor inside a transaction (see ``batches``) while the answer is written:
    the first batch comes as soon as the query finds it, and no list of every key is held.
    The caller reads each batch's rows by these keys, with what it needs of them."""
    size = batch_size or BATCH_SIZE
    with atomic(using=queryset.db, savepoint=False):
        keys = queryset.values_list("pk", flat=True).iterator(chunk_size=size)
        while batch := list(islice(keys, size)):
            yield batch


def row_batches(queryset, batch_size: int | None = None) -> Iterator[list[tuple]]:
    """The tuples of a ``values_list`` queryset, in its order, ``batch_size`` (``BATCH_SIZE``)
    at a time, read through one cursor inside a transaction (see ``batches``). A tuple holds no
    reference back to anything, so a batch is freed the moment the next replaces it: there is
    nothing to ``release``, and no model instance is built."""
    size = batch_size or BATCH_SIZE
    with atomic(using=queryset.db, savepoint=False):
        rows = queryset.iterator(chunk_size=size)
        while batch := list(islice(rows, size)):
            yield batch


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
