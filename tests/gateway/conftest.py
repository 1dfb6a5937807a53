"""Fixtures shared by the gateway tests: the people of tests/gateway/people.py."""

from tests.gateway.people import _fast_passwords, _fresh_throttles, people  # noqa: F401
