"""Server-rendered pages of the providers domain (templates in providers/templates/providers/)."""

ROUTES: list = []
