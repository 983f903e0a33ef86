"""Errors with a message fit to show a user as one line."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for errors the assistant reports to its user."""


class BadQuestionError(AssistantError, ValueError):
    """The question is empty, too long or otherwise unusable."""


class IndexMissingError(AssistantError):
    """No index exists yet at the configured place."""


class LoadError(AssistantError):
    """A document could not be loaded; the message says why."""


class IndexUnusableError(AssistantError):
    """A SQLite file of the index cannot be opened or read: it is damaged, not a database,
    another program's, or cannot be read or written. The message names the file, not its
    folder."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"the index's {file} cannot be used: {reason}")
        self.file = file
        self.reason = reason


class IndexBusyError(AssistantError):
    """Another process is writing to the index."""


class VectorStoreError(AssistantError):
    """The vector store is unreachable or failed; the message names where it is."""


class UnknownAnswererError(AssistantError, ValueError):
    """No answerer is registered under the name asked for; the message lists the known ones."""


class AccountError(AssistantError, ValueError):
    """A user, group, grant or key operation that cannot be done as asked."""


class QualityError(AssistantError):
    """A quality command cannot do what was asked (unknown feedback id, bad expectation)."""


class BadArgumentError(AssistantError, ValueError):
    """An argument of a Python call is of the wrong kind or out of its range."""


class UsageError(AssistantError):
    """A command cannot run as configured or asked; the CLI exits 2 with the message."""


class CatalogUnavailableError(AssistantError):
    """The catalog's database (PostgreSQL) cannot be reached or failed; the message says where
    (never a password)."""


class DirectoryUnavailableError(AssistantError):
    """The user directory (LDAP) cannot be reached or refused the service account; the
    message says which (never a password)."""
