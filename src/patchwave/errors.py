"""Errors raised by patchwave.

::

    PatchwaveError                    base; every error carries a one-line, actionable message
    ├── UserError                     a user input is wrong: the CLI prints it and exits 2
    │   ├── InventoryError            a bad inventory file (names file, line/row, field)
    │   ├── CampaignSpecError         a bad campaign file (names file, field path)
    │   ├── CalendarError             a bad window calendar
    │   └── NotFound                  a named tenant, host, run, calendar... does not exist
    ├── StoreError                    the database is unreachable or its schema is wrong
    ├── ApprovalError                 an approval was refused (who, why)
    ├── EndpointError                 talking to a host failed
    │   ├── HostUnreachable (Transient)
    │   ├── HostKeyError              unknown or changed SSH host key (never retried)
    │   ├── PatchFailed               the host's package manager refused or failed
    │   └── ParseError                a package manager's output could not be understood
    └── NotificationError             a notification could not be delivered

``Transient`` is a mixin: an error that is worth retrying (a timeout, a dropped connection,
a 5xx). Retry conditions check ``isinstance(exc, Transient)`` and nothing else.
"""

from __future__ import annotations


class PatchwaveError(Exception):
    """Base of every patchwave error."""

    exit_code = 1


class Transient:
    """Mixin: the operation may succeed if retried."""


class UserError(PatchwaveError):
    """A user's input is wrong; the message says where and what to do."""

    exit_code = 2


class InventoryError(UserError):
    """An inventory file is invalid."""


class CampaignSpecError(UserError):
    """A campaign specification is invalid."""


class CalendarError(UserError):
    """A maintenance-window calendar is invalid."""


class NotFound(UserError):
    """A named object does not exist."""


class StoreError(PatchwaveError):
    """The store cannot be used (unreachable, wrong schema)."""


class ApprovalError(PatchwaveError):
    """An approval decision was refused."""

    exit_code = 3


class EndpointError(PatchwaveError):
    """An operation on a host failed."""


class HostUnreachable(Transient, EndpointError):
    """The host could not be reached (retryable)."""


class TransientEndpointError(Transient, EndpointError):
    """A retryable failure on the host (timeout, lock held by another package manager)."""


class HostKeyError(EndpointError):
    """The host's SSH key is unknown or changed; never retried."""

    exit_code = 2


class PatchFailed(EndpointError):
    """The package manager failed to apply a patch."""


class ParseError(EndpointError):
    """Output from a host could not be parsed."""


class NotificationError(Transient, PatchwaveError):
    """A notification could not be delivered."""


def is_transient(exc: BaseException) -> bool:
    """Retry condition used by every task: retry only errors marked Transient."""
    return isinstance(exc, Transient)
