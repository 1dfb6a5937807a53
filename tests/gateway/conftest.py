"""Fixtures shared by the gateway tests: the people of tests/gateway/people.py."""

from tests.gateway.people import (  # noqa: F401
    _fast_passwords,
    _fresh_throttles,
    _long_lived_tokens,
    people,
)
