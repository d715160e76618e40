"""Member pages that find offers (templates in catalog/templates/catalog/search/)."""

ROUTES: list = []
