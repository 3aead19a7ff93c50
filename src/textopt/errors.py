"""The one tree of domain errors.

Faces (CLI, API, workers) translate these in one place each; domain code never raises
HTTP or CLI errors itself.

    TextoptError
    ├── ConfigError            configuration missing or invalid
    ├── NotFoundError          a contact, campaign, message... that does not exist
    ├── ConflictError          the operation contradicts the current state
    │   └── InvalidTransition  a state machine refused a transition
    ├── ValidationError        bad input; says what and where
    │   ├── InvalidPhoneNumber
    │   ├── InvalidEmail
    │   ├── InvalidTimezone
    │   └── TemplateError      a template that does not parse or render
    ├── ConsentError           consent rules refuse the operation (e.g. suppressed number)
    ├── LedgerIntegrityError   the consent ledger chain does not verify
    └── ProviderError          a provider failed (carries temporary/permanent)
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConflictError",
    "ConsentError",
    "InvalidEmail",
    "InvalidPhoneNumber",
    "InvalidTimezone",
    "InvalidTransition",
    "LedgerIntegrityError",
    "NotFoundError",
    "ProviderError",
    "TemplateError",
    "TextoptError",
    "ValidationError",
]


class TextoptError(Exception):
    """Base of every error textopt raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConfigError(TextoptError):
    """Configuration is missing or invalid."""

    code = "config_error"


class NotFoundError(TextoptError):
    """The thing asked for does not exist."""

    code = "not_found"


class ConflictError(TextoptError):
    """The operation contradicts the current state."""

    code = "conflict"


class InvalidTransition(ConflictError):
    """A state machine refused a transition."""

    code = "invalid_transition"


class ValidationError(TextoptError):
    """Bad input: the message says what is wrong and where."""

    code = "invalid"


class InvalidPhoneNumber(ValidationError):
    """A phone number that cannot be parsed or is not a valid number."""

    code = "invalid_number"


class InvalidEmail(ValidationError):
    """An email address that is not valid."""

    code = "invalid_email"


class InvalidTimezone(ValidationError):
    """A time zone name that is not in the IANA database."""

    code = "invalid_timezone"


class TemplateError(ValidationError):
    """A template that does not parse, or lacks a variable when rendered."""

    code = "template_error"


class ConsentError(TextoptError):
    """Consent rules refuse the operation."""

    code = "consent_error"


class LedgerIntegrityError(TextoptError):
    """The consent ledger's hash chain is broken."""

    code = "ledger_broken"


class ProviderError(TextoptError):
    """A provider refused or failed a request."""

    code = "provider_error"

    def __init__(self, message: str, *, temporary: bool, provider_code: str | None = None) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.provider_code = provider_code
