from datetime import date, datetime
from typing import Any

import msgspec


class EvaluatorRead(msgspec.Struct):
    id: int
    name: str
    node_id: int


# Evaluator result batches (evaluation/batches.py) -------------------------------------------------

class BatchInput(msgspec.Struct, forbid_unknown_fields=True):
    """A batch of results. `batch_id` is the evaluator's own id for it (1–64 characters, no
    spaces or slashes); each result is checked one by one, so its fields are reported per
    row rather than rejected by the decoder: {provider_id, visit_date (YYYY-MM-DD), method
    (mystery_shopper | phone_survey | online_survey | site_inspection), score (0–100),
    honoured (0–100, optional), service (0–100, optional), sample_size (≥ 1), note (≤ 500
    characters, optional)}."""

    batch_id: str
    results: list[Any]


class ResultRead(msgspec.Struct):
    row: int
    provider_id: int
    visit_date: date
    method: str
    score: int
    honoured: int | None
    service: int | None
    sample_size: int
    note: str


class BatchRead(msgspec.Struct):
    id: int
    batch_id: str
    source: str
    rows: int
    provider_ids: list[int]
    received_at: datetime
    applied_at: datetime | None
    results: list[ResultRead] | None = None


class BatchPage(msgspec.Struct):
    items: list[BatchRead]
    total: int
    page: int
    page_size: int


class RowError(msgspec.Struct):
    """One problem of a submitted batch: `row` is the result's position (1 = the first
    result; in a CSV file, the line, counting the header as line 1; 0 = the batch as a
    whole), `field` the column."""

    row: int
    field: str
    code: str
    message: str


# Follow-up samples (evaluation/samples.py) --------------------------------------------------------

class SampleRead(msgspec.Struct):
    id: int
    provider_id: int
    provider_name: str
    redemption_id: int
    redeemed_at: datetime
    drawn_at: datetime
