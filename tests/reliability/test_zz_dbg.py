import traceback
import pytest
from django.db import connection
from tests.reliability.test_fuzz import *  # noqa

@pytest.fixture
def spy(monkeypatch):
    orig = type(connection)._close
    def _close(self):
        traceback.print_stack(limit=25)
        return orig(self)
    monkeypatch.setattr(type(connection), "_close", _close)
    orig2 = type(connection).close
    def close(self):
        traceback.print_stack(limit=25)
        return orig2(self)
    monkeypatch.setattr(type(connection), "close", close)

def test_y(spy, api_schema):
    pass
