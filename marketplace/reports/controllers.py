"""CSV exports of the reports dashboard: one per section, the section's table as the page
shows it, UTF-8 with a byte order mark so that spreadsheet programs read the Chinese."""

from typing import Annotated

from litestar import Request, Response, get
from litestar.params import PathParameter

from marketplace.core import csvfiles
from marketplace.core.errors import NotFound
from marketplace.core.identity import guards
from marketplace.reports import pages, services

Section = Annotated[str, PathParameter(max_length=20)]


def to_csv(table: dict) -> bytes:
    """Through the one CSV writer: search terms typed by visitors never run as formulas."""
    return csvfiles.to_bytes(table["headers"], table["rows"])


@get("/console/reports/export/{section:str}", include_in_schema=False, guards=[guards.operator])
async def export(request: Request, section: Section, node_id: pages.NodeQuery = None) -> Response:
    if section not in pages.SECTIONS:
        raise NotFound("No such report.", code="not_found")
    board = await services.dashboard(request.user, node_id)
    table = pages.sections(board)[section]["table"]
    filename = f"report-{section}-{board.node.id}-{board.end.isoformat()}.csv"
    return Response(
        content=to_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        },
    )


ROUTES: list = [export]
