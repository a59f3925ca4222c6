"""An upload's entity keys: written to their own table a chunk at a time while the upload runs
(never more than a chunk held), kept only when the upload is accepted, and answered from the
table in batches, in the bytes the whole tree rendered to."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree

from core.services import COPY_FROM
from core.xmlsafe import GuidanceMessage
from edt import uploads
from edt.api import upload_views
from edt.api.output import sub
from edt.api.renderers import EdtDocument, JsonRenderer, XmlRenderer
from edt.models import EdtEntityKey, EdtTransaction
from edt.uploads import UploadRejected

from .conftest import assert_valid, content, legacy_header
from .test_rcmes import URL, document, inspection

STAGING = "/Staging/Regulator/CME/Submit?regulatorCode=1001"
# Text an answer must escape, and text outside ASCII.
AWKWARD = ['K-&<1>"', "K-2 é", "K-3", "K-4", "K-5"]


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of two keys; the lengths of the chunks written (each ``EntityKeys.flush``, when
    it holds keys) and of the buffer after each key is added."""
    monkeypatch.setattr(uploads, "ENTITY_KEYS_PER_CHUNK", 2)
    seen = SimpleNamespace(written=[], held=[])
    add, flush = uploads.EntityKeys.add, uploads.EntityKeys.flush

    def watched_add(self, *args, **kwargs):
        add(self, *args, **kwargs)
        seen.held.append(len(self.buffer))

    def watched_flush(self):
        if self.buffer:
            seen.written.append(len(self.buffer))
        flush(self)

    monkeypatch.setattr(uploads.EntityKeys, "add", watched_add)
    monkeypatch.setattr(uploads.EntityKeys, "flush", watched_flush)
    return seen


@pytest.fixture
def reporting(monkeypatch):
    """A stand-in CME processor that reports five keys (three chunks of two), then ends as its
    client key says: accepted, rejected ("bad") or failing ("boom")."""

    def processor(context):
        for index, key in enumerate(AWKWARD):
            context.entity("CMEI", f"00000000-0000-0000-0000-00000000000{index}", key)
        outcome = context.root.findtext("RegulatorTransactionKey")
        if outcome == "bad":
            raise UploadRejected([GuidanceMessage(1050, "Required", "A record is refused.")])
        if outcome == "boom":
            raise RuntimeError("disk on fire")

    monkeypatch.setitem(uploads.PROCESSORS, "RCMES", processor)


def post(client, account, client_key: str, url: str = URL):
    response = client.post(
        url, document(client_key=client_key), content_type="text/xml", **legacy_header(account)
    )
    assert response.status_code == 200, content(response)
    return assert_valid(content(response), "cers3", "RegulatorCMESubmitResponse.xsd")


def answered(root) -> list[tuple[str, str, str]]:
    return [
        (k.findtext("EntityResource"), k.findtext("RegulatorKey"), k.findtext("CERSUniqueKey"))
        for k in root.iterfind("EntityKeys/EntityKey")
    ]


def stored(root) -> list[tuple[int, str, str, str]]:
    row = EdtTransaction.objects.get(key=root.findtext("Transaction/TransactionKey"))
    return list(
        row.entity_keys.order_by("position").values_list(
            "position", "resource", "regulator_key", "cers_unique_key"
        )
    )


def test_keys_written_in_several_chunks_come_back_in_order(
    client, edt_account, reporting, small_chunks
):
    root = post(client, edt_account, "fine")
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    expected = [
        ("CMEI", key, f"00000000-0000-0000-0000-00000000000{index}")
        for index, key in enumerate(AWKWARD)
    ]
    assert answered(root) == expected
    assert stored(root) == [(index, *key) for index, key in enumerate(expected)]
    # Never more than a chunk held: the buffer is written as it fills, the rest at the end.
    assert small_chunks.written == [2, 2, 1]
    assert max(small_chunks.held) < 2


def test_a_real_upload_reports_its_records_across_chunks_in_order(
    client, cast, edt_account, small_chunks
):
    keys = [f"I-{n}" for n in range(1, 6)]
    body = document(inspections=[inspection(key, cast.facility.cers_id) for key in keys])
    response = client.post(URL, body, content_type="text/xml", **legacy_header(edt_account))
    root = assert_valid(content(response), "cers3", "RegulatorCMESubmitResponse.xsd")
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert [key for _resource, key, _unique in answered(root)] == keys
    assert [(p, r, k) for p, r, k, _u in stored(root)] == [
        (index, "CMEI", key) for index, key in enumerate(keys)
    ]
    assert small_chunks.written == [2, 2, 1]
    assert max(small_chunks.held) < 2


@pytest.mark.parametrize(
    ("client_key", "status"), [("bad", "Rejected"), ("boom", "ErrorProcessing")]
)
def test_an_upload_not_accepted_leaves_no_keys(
    client, edt_account, reporting, small_chunks, client_key, status
):
    """Two chunks were written before the refusal: the savepoint takes them back."""
    root = post(client, edt_account, client_key)
    assert root.findtext("Transaction/TransactionStatus") == status
    assert root.find("EntityKeys") is None
    assert not EdtEntityKey.objects.exists()


def test_the_testing_environment_answers_its_keys_though_it_stores_nothing_else(
    client, edt_account, reporting, small_chunks
):
    root = post(client, edt_account, "try", url=STAGING)
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert [key for _resource, key, _unique in answered(root)] == AWKWARD
    assert [position for position, *_rest in stored(root)] == list(range(len(AWKWARD)))


def test_a_rejected_testing_upload_leaves_no_keys(client, edt_account, reporting, small_chunks):
    root = post(client, edt_account, "bad", url=STAGING)
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    assert not EdtEntityKey.objects.exists()


def whole_tree(streamed: bytes, row: EdtTransaction) -> etree._Element:
    """The answer as it was built before it streamed: the envelope's tree with an element
    per key appended to its EntityKeys (here the streamed answer's own, emptied first)."""
    root = etree.fromstring(streamed)
    keys = root.find("EntityKeys")
    keys.clear()
    for key in row.entity_keys.order_by("position"):
        item = etree.SubElement(keys, "EntityKey")
        sub(item, "EntityResource", key.resource)
        sub(item, "RegulatorKey", key.regulator_key)
        sub(item, "CERSUniqueKey", key.cers_unique_key)
    return root


def accepted_upload(client, edt_account) -> tuple[str, EdtTransaction, str]:
    """An accepted RCMES upload with entity keys: its key, its row and its status path."""
    root = post(client, edt_account, "fine")
    key = root.findtext("Transaction/TransactionKey")
    row = EdtTransaction.objects.get(key=key)
    return key, row, f"/EDT/Regulator/CME/Submit/{key}?regulatorCode=1001"


def test_the_status_answer_is_the_bytes_of_the_whole_tree(
    client, edt_account, reporting, monkeypatch
):
    monkeypatch.setattr(upload_views, "ENTITY_KEY_BATCH", 2)
    key, row, path = accepted_upload(client, edt_account)

    response = client.get(path, **legacy_header(edt_account))
    assert response.streaming
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response["X-CERS-Transaction-Key"] == key
    xml = content(response)
    assert_valid(xml, "1.05", "RegulatorCMESubmitResponse.xsd")
    assert XmlRenderer().render(whole_tree(xml, row)) == xml

    response = client.get(path, HTTP_ACCEPT="application/json", **legacy_header(edt_account))
    assert response["Content-Type"] == "application/json"
    data = content(response)
    parsed = json.loads(data)
    assert [k["RegulatorKey"] for k in parsed["CMESubmittalResponse"]["EntityKeys"]] == AWKWARD
    # The same time stamp as the XML answer's, so the trees differ in nothing else.
    xml_root = whole_tree(xml, row)
    xml_root.set("timeStamp", parsed["CMESubmittalResponse"]["@timeStamp"])
    whole = EdtDocument(xml_root, parsed["schema"], parsed["version"])
    assert JsonRenderer().render(whole) == data


def test_an_answer_without_keys_has_no_entity_keys_block(client, edt_account, monkeypatch):
    monkeypatch.setitem(uploads.PROCESSORS, "RCMES", lambda context: None)
    root = post(client, edt_account, "nothing")
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert root.find("EntityKeys") is None
    key = root.findtext("Transaction/TransactionKey")
    response = client.get(
        f"/EDT/Regulator/CME/Submit/{key}?regulatorCode=1001",
        HTTP_ACCEPT="application/json",
        **legacy_header(edt_account),
    )
    assert "EntityKeys" not in json.loads(content(response))["CMESubmittalResponse"]


def test_the_status_answer_reads_its_keys_in_as_many_queries_however_many(
    client, edt_account, reporting, monkeypatch
):
    monkeypatch.setattr(upload_views, "ENTITY_KEY_BATCH", 2)
    key, row, path = accepted_upload(client, edt_account)

    def status_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            answer = etree.fromstring(content(client.get(path, **legacy_header(edt_account))))
        return len(queries), len(answer.findall("EntityKeys/EntityKey"))

    few, answered_few = status_queries()
    EdtEntityKey.objects.bulk_create(
        EdtEntityKey(
            transaction=row, position=position, resource="CMEI", cers_unique_key=str(position)
        )
        for position in range(len(AWKWARD), 60)
    )
    many, answered_many = status_queries()
    assert (answered_few, answered_many) == (len(AWKWARD), 60)
    assert many == few


def test_the_transaction_page_lists_the_keys_a_page_at_a_time(
    client, cupa_admin, edt_account, reporting, settings
):
    settings.CERS_PAGE_SIZE = 2
    root = post(client, edt_account, "fine")
    key = root.findtext("Transaction/TransactionKey")
    client.force_login(cupa_admin)
    page = client.get(f"/regulator/edt/transactions/{key}/")
    assert page.status_code == 200
    shown = [k.regulator_key for k in page.context["page"].object_list]
    assert shown == AWKWARD[:2]
    assert "K-&amp;&lt;1&gt;&quot;" in page.content.decode()


def test_chunks_past_the_copy_threshold_keep_their_order(client, edt_account, monkeypatch):
    """Chunks large enough for ``insert_rows`` to COPY them on PostgreSQL."""
    monkeypatch.setattr(uploads, "ENTITY_KEYS_PER_CHUNK", COPY_FROM + 20)
    count = 2 * COPY_FROM + 50

    def processor(context):
        for index in range(count):
            context.entity("CMEI", uuid.UUID(int=index), f"K\t{index}")

    monkeypatch.setitem(uploads.PROCESSORS, "RCMES", processor)
    root = post(client, edt_account, "many")
    assert stored(root) == [
        (index, "CMEI", f"K\t{index}", str(uuid.UUID(int=index))) for index in range(count)
    ]
    assert [key for _resource, key, _unique in answered(root)] == [
        f"K\t{index}" for index in range(count)
    ]
