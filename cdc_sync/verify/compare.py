"""`verify`: read the source in key ranges, fetch the same ids from the index, compare hashes.

Per key range (one keyset chunk) the index is asked for exactly those ids, so
missing and differing documents are found range by range. Documents the index
has beyond the source's ids are found by paging through the index's ids, which
is only needed when the index holds more documents than the ranges matched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import meilisearch

from cdc_sync.bootstrap.reader import SourceReader
from cdc_sync.bootstrap.run import map_rows
from cdc_sync.bootstrap.writes import Failure, Target
from cdc_sync.config import TableSettings
from cdc_sync.sink.http import SinkHttp
from cdc_sync.sink.indexes import document_ids, ensure_index, fetch_documents, index_exists
from cdc_sync.sink.retry import call
from cdc_sync.verify.diff import Diff, compare_range
from cdc_sync.verify.writes import write_repairs

log = logging.getLogger(__name__)

Document = dict[str, Any]


@dataclass
class Report:
    table: str
    index: str
    source_rows: int = 0
    index_documents: int = 0
    diff: Diff = field(default_factory=Diff)
    unmappable: list[Failure] = field(default_factory=list)
    repaired: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "index": self.index,
            "source_rows": self.source_rows,
            "index_documents": self.index_documents,
            "in_sync": self.diff.in_sync,
            **self.diff.summary(),
            "unmappable": {"count": len(self.unmappable), "examples": self.unmappable[:5]},
            "repaired": self.repaired,
        }


def index_documents(
    client: meilisearch.Client, uid: str, id_field: str, ids: list[str]
) -> dict[str, Document]:
    """The index's documents with these ids, by id (absent ids are missing)."""
    if not ids:
        return {}
    body = {"ids": ids, "limit": len(ids)}
    response = call(lambda: fetch_documents(client, uid, body), f"reading {uid}")
    return {str(d[id_field]): d for d in response["results"]}


class Verifier:
    def __init__(
        self,
        reader: SourceReader,
        client: meilisearch.Client,
        http: SinkHttp,
        table: TableSettings,
        chunk: int,
    ) -> None:
        self.reader, self.client, self.table, self.chunk = reader, client, table, chunk
        self.uid = table.index_uid
        self.target = Target(client, http, self.uid, table.id_field)

    def _fetch_ids(self, ids: list[str]) -> dict[str, Document]:
        return index_documents(self.client, self.uid, self.table.id_field, ids)

    def _index_total(self) -> int:
        body = {"limit": 0}
        return int(
            call(lambda: fetch_documents(self.client, self.uid, body), f"reading {self.uid}")[
                "total"
            ]
        )

    def compare(self, keep: bool = False) -> tuple[Report, dict[str, Document]]:
        """The report, and (with `keep`) the source documents of the missing/differing ids."""
        report = Report(self.table.qualified_name, self.uid)
        wanted: dict[str, Document] = {}
        exists = index_exists(self.client, self.uid)
        if not exists:
            log.warning("index %s does not exist", self.uid)
        seen: set[str] = set()
        matched = 0
        for rows in self.reader.chunks(self.chunk):
            report.source_rows += len(rows)
            expected = {
                d[self.table.id_field]: d for d in map_rows(self.table, rows, report.unmappable)
            }
            actual = self._fetch_ids(list(expected)) if exists and expected else {}
            matched += len(actual)
            missing, differing = len(report.diff.missing), len(report.diff.differing)
            compare_range(expected, actual, report.diff)
            seen.update(expected)
            if keep:
                for doc_id in report.diff.missing[missing:] + report.diff.differing[differing:]:
                    wanted[doc_id] = expected[doc_id]
        if exists:
            report.index_documents = self._index_total()
        if report.index_documents > matched:
            for ids in document_ids(self.client, self.uid, self.table.id_field, 10_000, 60.0):
                report.diff.extra.extend(i for i in ids if i not in seen)
        return report, wanted

    def repair(self, report: Report, wanted: dict[str, Document]) -> list[Failure]:
        """Re-write exactly the differences — upsert missing and differing, delete extra — as
        one compacted stretch: every task enqueued together, then awaited together."""
        ensure_index(self.client, self.uid, self.table)
        return write_repairs(self.target, list(wanted.values()), report.diff.extra, self.chunk)
