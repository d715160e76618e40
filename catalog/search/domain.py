"""Search (templates and message catalogs of its own): what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "catalog/search",
    routes=[
        "catalog.search.controllers",
        "catalog.search.pages",
    ],
    actors=[
        "catalog.search.actors",
    ],
    on_startup=[
        "catalog.search.text:start_warming",  # the word lists, loaded beside the first requests
    ],
    on_shutdown=[
        "catalog.search.overlay:stop",  # the overlay's watcher task
        "catalog.search.index:close_clients",  # the HTTP sessions to the engine
    ],
)
