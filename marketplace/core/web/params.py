"""Parameters shared by the pages and the API: record ids in the path, the idempotency key header.

Two ranges, because the columns have two: `Id` for `serial` (int4) keys, `BigId` for
`bigserial` (int8) ones. A number beyond the column's range is refused as a bad request
here, instead of reaching the database driver and failing there with a 500.
"""

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter

Id = Annotated[int, PathParameter(gt=0, le=2**31 - 1)]
BigId = Annotated[int, PathParameter(gt=0, le=2**63 - 1)]
# A client's key for a POST it may retry (marketplace/core/idempotency): the same key, the same answer.
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False, max_length=255)]
