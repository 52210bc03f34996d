"""The rate limits on logging in (the form and the API's token), declared once for both."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from certify.accounts import throttle
from certify.extensions import limiter

# Failed logins from one address for all names together. An exam hall of 2,000 behind one
# NAT address makes a few hundred typos in its first ten minutes; a spray makes thousands.
DEFAULT_ADDRESS_LIMIT = "600 per 10 minutes"


def throttle_logins(**options) -> Callable:
    """Failed logins only, per name tried and address (LOGIN_RATE_LIMIT), and per address
    for every name together (LOGIN_ADDRESS_LIMIT, against trying one password on many
    accounts). A hall of successful logins behind one address meets neither."""

    def decorate(view: Callable) -> Callable:
        per_name = limiter.limit(
            lambda: current_app.config["LOGIN_RATE_LIMIT"],
            key_func=throttle.failure_key,
            deduct_when=throttle.is_failure,
            **options,
        )
        per_address = limiter.limit(
            lambda: current_app.config.get("LOGIN_ADDRESS_LIMIT", DEFAULT_ADDRESS_LIMIT),
            key_func=throttle.address_key,
            deduct_when=throttle.is_failure,
            **options,
        )
        return per_address(per_name(view))

    return decorate
