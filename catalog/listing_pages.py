"""Provider-portal and console pages for listings (templates in catalog/templates/catalog/)."""

ROUTES: list = []
