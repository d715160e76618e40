"""The audit log (see services.py): `audit.record(connection, principal, action, ...)`."""

from marketplace.core.audit.services import events, record

__all__ = ["events", "record"]
