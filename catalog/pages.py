"""Server-rendered pages of the catalog domain (templates in catalog/templates/catalog/)."""

ROUTES: list = []
