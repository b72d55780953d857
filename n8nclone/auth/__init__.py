"""Login and API keys: who may use the UI and the management API (see README, "Login and
API keys"). Webhooks and `/e/<key>` have their own authentication."""

from n8nclone.auth.accounts import WRONG_CREDENTIALS, Accounts
from n8nclone.auth.passwords import (
    PASSWORD_MIN,
    check_email,
    check_password,
    hash_password,
    verify_password,
)

__all__ = ["PASSWORD_MIN", "WRONG_CREDENTIALS", "Accounts", "check_email", "check_password",
           "hash_password", "verify_password"]
