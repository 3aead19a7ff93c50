"""The one tree of domain errors.

Faces (CLI, API, workers) translate these in one place each; domain code never raises
HTTP or CLI errors itself.

    TextoptError
    ├── ConfigError            configuration missing or invalid
    ├── NotFoundError          a contact, campaign, message... that does not exist
    ├── ConflictError          the operation contradicts the current state
    │   ├── InvalidTransition  a state machine refused a transition
    │   └── NothingToSend      a launch whose plan sends no message: refused
    ├── ValidationError        bad input; says what and where
    │   ├── InvalidPhoneNumber
    │   ├── InvalidEmail
    │   ├── InvalidTimezone
    │   ├── TemplateError      a template that does not parse or render
    │   ├── ContentTooLarge    an uploaded file past its size limit
    │   └── SignatureError     a provider callback unsigned or wrongly signed: not applied
    ├── ConsentError           consent rules refuse the operation (e.g. suppressed number)
    ├── LedgerIntegrityError   the consent ledger chain does not verify
    ├── ProviderError          a provider failed (carries temporary/permanent)
    ├── AuthError              who is calling, and whether they may
    │   ├── AuthenticationError  no valid credentials (unknown key, wrong password...)
    │   └── PermissionDenied     valid credentials without the right role or scope
    └── RateLimited            too many requests or messages; carries retry_after seconds
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "ConsentError",
    "ContentTooLarge",
    "InvalidEmail",
    "InvalidPhoneNumber",
    "InvalidTimezone",
    "InvalidTransition",
    "LedgerIntegrityError",
    "NotFoundError",
    "NothingToSend",
    "PermissionDenied",
    "ProviderError",
    "RateLimited",
    "SignatureError",
    "TemplateError",
    "TextoptError",
    "ValidationError",
]


class TextoptError(Exception):
    """Base of every error textopt raises on purpose."""

    code = "error"
    default_field: str | None = None  # the field at fault when the raiser names none

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field if field is not None else self.default_field


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


class NothingToSend(ConflictError):
    """A launch refused because no message of its plan would go out; says why."""

    code = "nothing_to_send"


class ValidationError(TextoptError):
    """Bad input: the message says what is wrong and where."""

    code = "invalid"


class InvalidPhoneNumber(ValidationError):
    """A phone number that cannot be parsed or is not a valid number."""

    code = "invalid_number"
    default_field = "phone"


class InvalidEmail(ValidationError):
    """An email address that is not valid."""

    code = "invalid_email"
    default_field = "email"


class InvalidTimezone(ValidationError):
    """A time zone name that is not in the IANA database."""

    code = "invalid_timezone"
    default_field = "timezone"


class TemplateError(ValidationError):
    """A template that does not parse, or lacks a variable when rendered."""

    code = "template_error"


class ContentTooLarge(ValidationError):
    """An uploaded file larger than the workspace accepts (`max_upload_mb`)."""

    code = "body_too_large"


class SignatureError(ValidationError):
    """A provider callback (status or inbound) without a valid signature; nothing applied."""

    code = "bad_signature"


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


class AuthError(TextoptError):
    """Base of the errors about who calls and what they may do."""

    code = "auth_error"


class AuthenticationError(AuthError):
    """No valid credentials: unknown or revoked key, wrong password, expired session."""

    code = "unauthenticated"


class PermissionDenied(AuthError):
    """The caller is known but lacks the role or scope the operation needs."""

    code = "forbidden"


class RateLimited(TextoptError):
    """Too many requests (or confirmation messages) for now; retry after `retry_after` s."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after
