"""Operators' reports: usage, demand nobody serves, coverage, satisfaction and subsidy burn,
from aggregates that a scheduled job keeps current (see services.py)."""
