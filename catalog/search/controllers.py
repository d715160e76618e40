"""The search API."""

CONTROLLERS: list = []
