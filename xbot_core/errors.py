"""One shallow hierarchy of errors for bugs and invalid configuration.

Expected data conditions (not enough data, post unavailable) are values, not exceptions.
"""


class XbotError(Exception):
    """Base class of every error raised on purpose by xbot_core."""


class ConfigError(XbotError):
    """A setting, CLI argument or parameter is invalid."""


class DatabaseError(XbotError):
    """The database could not be reached or is not in the expected state."""


class MigrationError(DatabaseError):
    """A migration file is missing, edited after being applied, or failed."""


class BrowserError(XbotError):
    """The browser adapter hit a page it could not understand."""


class ParseError(BrowserError):
    """Scraped text could not be parsed; carries the raw text."""

    def __init__(self, message: str, raw: str) -> None:
        super().__init__(f"{message}: {raw!r}")
        self.raw = raw


class SessionExpiredError(BrowserError):
    """The X session is missing or no longer logged in."""


class RateLimitedError(BrowserError):
    """X answered with a rate limit."""


class PostRefusedError(RateLimitedError):
    """X refused to create the post for now (226 looks automated, 344 daily limit): back off and requeue."""


class PublishError(BrowserError):
    """Publishing a post failed before X confirmed it."""


class DuplicatePostError(PublishError):
    """X refused a post as a duplicate: it may already be live, so reconcile and never post it again."""


class XApiBudgetExceededError(RateLimitedError):
    """The daily X API budget cannot cover the call; no request was made (the work stays pending)."""


class XApiError(BrowserError):
    """The X API answered with an error the client cannot act on (after retries where reads allow them)."""


class LLMError(XbotError):
    """The LLM call failed after its retries."""


class QuotaExceededError(LLMError):
    """The LLM provider reported insufficient quota; the day's circuit is open."""


class BudgetExceededError(LLMError):
    """The daily LLM budget cannot cover the call; no request was made."""


class CircuitOpenError(LLMError):
    """The day's LLM circuit is open after a quota error; no request was made."""


class InvalidOutputError(LLMError):
    """The LLM output failed validation."""


class StatsError(XbotError):
    """Statistics were asked of inputs that cannot support them (e.g. missing propensities)."""


class KillSwitchError(XbotError):
    """Posting is stopped by the runtime kill switch."""


class ReportError(XbotError):
    """A report notebook failed to execute or render; names the notebook and the failing cell."""


class ImportDataError(XbotError):
    """An analytics export is of no known format or holds a bad value; names the file and the line."""
