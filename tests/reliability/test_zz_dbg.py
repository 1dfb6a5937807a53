import json
import pytest
from tests.reliability.cast import cast_create
from tests import factories

@pytest.mark.django_db
def test_nul(world, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cast = cast_create(world)
    out = []
    c = cast.key_client(cast.key_a); c.raise_request_exception=False
    out.append(("score-query purpose NUL", c.post("/api/v1/score-queries", {"citizen_id": "320505198506125215", "purpose": "a\x00b"}, format="json").status_code))
    out.append(("score path purpose NUL", c.get("/api/v1/citizens/320505198506125215/score", {"purpose": "a\x00b"}).status_code))
    r = factories.deduction_record("320505198506125215")
    r["data"] = {"location": "a\x00b"}
    out.append(("submission data NUL", (lambda cl: (setattr(cl, "raise_request_exception", False), cl.generic("POST", "/api/v1/submissions", factories.body([r]), content_type="application/json"))[1])(cast.key_client(cast.key_a)).status_code))
    from rest_framework.test import APIClient
    out.append(("login NUL", APIClient(raise_request_exception=False).post("/api/v1/auth/token", {"username": "a\x00b", "password": "x"}, format="json").status_code))
    t = cast.token_client(cast.rev_tax); t.raise_request_exception=False
    out.append(("queue status NUL", t.get("/api/v1/reviewer/appeals", {"status": "a\x00b"}).status_code))
    a = cast.token_client(cast.alice); a.raise_request_exception=False
    out.append(("appeal statement NUL", a.post("/api/v1/me/appeals", {"event": cast.open_deduction.pk, "statement": "a\x00b"}, format="json").status_code))
    out.append(("repair statement NUL", a.post("/api/v1/me/repairs", {"event": cast.open_deduction.pk, "statement": "a\x00b", "reference": "x\x00"}, format="json").status_code))
    out.append(("decision reason NUL", t.post(f"/api/v1/appeals/{cast.pending.pk}/extension", {"reason": "a\x00b"}, format="json").status_code))
    out.append(("review-request NUL", a.post(f"/api/v1/appeals/{cast.decided.pk}/review-request", {"statement": "a\x00b"}, format="json").status_code))
    d = cast.key_client(cast.key_a); d.raise_request_exception=False
    out.append(("repair decision NUL", d.post(f"/api/v1/repairs/{cast.repair.pk}/decision", {"decision": "refused", "reason": "a\x00b"}, format="json").status_code))
    print(out)
