"""Business operations: plain functions over a SQLAlchemy Session.

They check rules, raise BusinessRuleError with a user-facing message, flush, and
never commit: the caller (view, CLI, test) owns the transaction.
"""


class BusinessRuleError(Exception):
    """A rule of REQUIREMENTS refused the operation; str(error) is shown to the user."""
