"""The catalogue's lifecycle: the services, the Rule admin, GET /api/v1/rules and /catalogue/."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance import lifecycle
from compliance.lifecycle import Refusal
from compliance.models import Rule, RuleComment, RuleStatus
from compliance.services import ComplianceError, catalogue_object_save, grant_set
from gateway.identity import vault
from gateway.models import Citizen, Score, ScoreEvent
from tests import factories
from tests.conftest import body_json

SHANGHAI = ZoneInfo("Asia/Shanghai")
ACTOR = {"actor_kind": "regulator", "actor_id": "reg"}
CITIZEN = factories.identity_number(serial=701)
D = dt.date
# The empty formset of the read-only public comments on the rule's admin page.
INLINE = {"comments-TOTAL_FORMS": 0, "comments-INITIAL_FORMS": 0}


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


class Clock:
    """Stands in for django.utils.timezone.now; None means the real time."""

    def __init__(self):
        self.now: dt.datetime | None = None

    def set(self, day: dt.date, hour: int = 9) -> dt.datetime:
        self.now = at(day, hour)
        return self.now


@pytest.fixture
def clock():
    real = timezone.now
    frozen = Clock()
    with mock.patch("django.utils.timezone.now", side_effect=lambda: frozen.now or real()):
        yield frozen


def draft(code="traffic.speeding", *, points=-3, severity="ordinary", effective_from=None):
    return lifecycle.rule_draft_create(
        code=code,
        title_zh="超速行驶",
        title_en="Speeding",
        points=points,
        severity=severity,
        legal_basis_law="《中华人民共和国道路交通安全法》",
        legal_basis_article="第四十二条",
        effective_from=effective_from or timezone.localdate(),
        **ACTOR,
    )


def transitions(rule) -> list[tuple]:
    return [
        (entry.details["from"], entry.details["to"])
        for entry in AuditEntry.objects.filter(
            action=AuditAction.RULE_TRANSITIONED, object_ref=f"rule:{rule.pk}"
        ).order_by("id")
    ]


def refused(call, message_part: str) -> ComplianceError:
    before = (
        list(Rule.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
        Rule.history.count(),
    )
    with pytest.raises(ComplianceError) as info:
        call()
    assert message_part in str(info.value)
    after = (
        list(Rule.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
        Rule.history.count(),
    )
    assert after == before
    return info.value


def score_of(identity: str) -> int:
    return Score.objects.get(
        citizen=Citizen.objects.get(identity_index=vault().blind_index(identity))
    ).score


def deduction(code: str, occurred: dt.datetime, issued_on: dt.date) -> dict:
    record = factories.deduction_record(CITIZEN, rule=code, occurred_at=occurred.isoformat())
    record["evidence"]["issued_on"] = issued_on.isoformat()
    return record


class TestTransitions:
    def test_a_rule_goes_from_draft_through_comment_to_publication(self, db, clock):
        clock.set(D(2027, 3, 1))
        rule = draft()
        assert (rule.status, rule.version) == (RuleStatus.DRAFT, 1)
        lifecycle.rule_open_comment(
            rule=rule, opens_on=D(2027, 3, 1), closes_on=D(2027, 3, 7), **ACTOR
        )
        clock.set(D(2027, 3, 8))
        rule = lifecycle.rule_publish(rule=rule, effective_from=D(2027, 3, 8), **ACTOR)
        rule.refresh_from_db()
        assert rule.status == RuleStatus.PUBLISHED
        assert rule.published_at == at(D(2027, 3, 8))
        assert (rule.comment_opens_on, rule.comment_closes_on) == (D(2027, 3, 1), D(2027, 3, 7))
        assert transitions(rule) == [
            (None, "draft"),
            ("draft", "comment"),
            ("comment", "published"),
        ]
        reasons = list(
            rule.history.order_by("history_date").values_list("history_change_reason", flat=True)
        )
        assert reasons == ["draft created", "opened for public comment", "published"]

    @pytest.mark.parametrize(
        ("severity", "days", "accepted"),
        [
            ("serious", 29, False),
            ("serious", 30, True),
            ("ordinary", 6, False),
            ("ordinary", 7, True),
        ],
    )
    def test_the_comment_period_has_a_legal_minimum(self, db, severity, days, accepted):
        rule = draft(severity=severity)
        opens = timezone.localdate()
        call = lambda: lifecycle.rule_open_comment(  # noqa: E731
            rule=rule, opens_on=opens, closes_on=opens + dt.timedelta(days=days - 1), **ACTOR
        )
        if accepted:
            assert call().status == RuleStatus.COMMENT
        else:
            error = refused(call, f"at least {30 if severity == 'serious' else 7} days")
            if severity == "serious":
                assert "2020 No. 49 §7" in str(error)

    def test_a_comment_period_cannot_open_in_the_past(self, db):
        rule = draft()
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        refused(
            lambda: lifecycle.rule_open_comment(
                rule=rule, opens_on=yesterday, closes_on=yesterday + dt.timedelta(days=30), **ACTOR
            ),
            "cannot open in the past",
        )

    def test_only_a_draft_opens_for_comment(self, db, clock):
        clock.set(D(2027, 3, 1))
        rule = draft()
        lifecycle.rule_open_comment(
            rule=rule, opens_on=D(2027, 3, 1), closes_on=D(2027, 3, 7), **ACTOR
        )
        refused(
            lambda: lifecycle.rule_open_comment(
                rule=rule, opens_on=D(2027, 3, 2), closes_on=D(2027, 3, 9), **ACTOR
            ),
            "Only a draft",
        )

    def test_publication_waits_for_the_end_of_the_comment_period(self, db, clock):
        clock.set(D(2027, 3, 1))
        rule = draft()
        refused(
            lambda: lifecycle.rule_publish(rule=rule, effective_from=D(2027, 4, 1), **ACTOR),
            "went through public comment",
        )
        lifecycle.rule_open_comment(
            rule=rule, opens_on=D(2027, 3, 1), closes_on=D(2027, 3, 7), **ACTOR
        )
        clock.set(D(2027, 3, 7), hour=23)
        refused(
            lambda: lifecycle.rule_publish(rule=rule, effective_from=D(2027, 4, 1), **ACTOR),
            "runs until 2027-03-07",
        )

    def test_a_retroactive_publication_is_refused(self, db, clock):
        clock.set(D(2027, 3, 1))
        rule = draft()
        lifecycle.rule_open_comment(
            rule=rule, opens_on=D(2027, 3, 1), closes_on=D(2027, 3, 7), **ACTOR
        )
        clock.set(D(2027, 3, 10))
        error = refused(
            lambda: lifecycle.rule_publish(rule=rule, effective_from=D(2027, 3, 9), **ACTOR),
            "cannot apply retroactively",
        )
        assert "SH 10" in str(error)

    def test_a_published_rule_is_never_edited_in_place(self, world):
        world.rule.points = -10
        with pytest.raises(ComplianceError, match="never edited"):
            catalogue_object_save(world.rule, **ACTOR)
        world.rule.refresh_from_db()
        assert world.rule.points == -3

    def test_a_code_already_in_the_catalogue_needs_a_new_version(self, world):
        refused(lambda: draft(code=world.rule.code), "make a new version")

    def test_a_new_version_is_made_only_from_the_published_version(self, db, clock):
        clock.set(D(2027, 3, 1))
        rule = draft()
        refused(
            lambda: lifecycle.rule_new_version(rule=rule, effective_from=D(2027, 4, 1), **ACTOR),
            "made from the published version",
        )

    def test_one_version_at_a_time_is_in_preparation(self, world):
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        lifecycle.rule_new_version(rule=world.rule, effective_from=tomorrow, points=-4, **ACTOR)
        refused(
            lambda: lifecycle.rule_new_version(
                rule=world.rule, effective_from=tomorrow, points=-5, **ACTOR
            ),
            "already in preparation",
        )

    def test_a_new_version_cannot_change_the_code(self, world):
        refused(
            lambda: lifecycle.rule_new_version(
                rule=world.rule, effective_from=timezone.localdate(), code="x.y", **ACTOR
            ),
            "cannot change: code",
        )

    def test_a_new_version_keeps_the_departments_granted(self, world):
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        v2 = lifecycle.rule_new_version(
            rule=world.reward, effective_from=tomorrow, points=3, **ACTOR
        )
        assert v2.version == 2
        assert v2.status == RuleStatus.DRAFT
        assert v2.points == 3
        assert v2.legal_basis == world.reward.legal_basis
        from compliance.selectors import departments_by_rule

        assert departments_by_rule([v2.pk])[v2.pk] == ["tax", "traffic_police"]

    def test_withdrawal_needs_a_reason(self, world):
        refused(lambda: lifecycle.rule_withdraw(rule=world.rule, reason="  ", **ACTOR), "reason")

    def test_a_withdrawn_rule_is_no_longer_applied_and_its_events_stand(self, world):
        response = world.submit(world.key_a, [factories.deduction_record(CITIZEN)])
        assert response.status_code == 201
        lifecycle.rule_withdraw(rule=world.rule, reason="repealed by the city", **ACTOR)
        assert transitions(world.rule)[-1] == ("published", "withdrawn")
        event = ScoreEvent.objects.get()
        assert (event.rule_id, event.points) == (world.rule.pk, -3)
        assert score_of(CITIZEN) == 97
        again = world.submit(world.key_a, [factories.deduction_record(CITIZEN)])
        assert again.status_code == 400
        refused(
            lambda: lifecycle.rule_withdraw(rule=world.rule, reason="again", **ACTOR),
            "already withdrawn",
        )


class TestFullLifecycle:
    def test_versions_change_the_law_only_for_later_acts(self, world, clock):
        """draft -> comment -> publish -> new version -> publish; recorded events never move."""
        clock.set(D(2027, 3, 1))
        v1 = draft("traffic.speeding", points=-3)
        grant_set(v1, [world.dept_a], **ACTOR)
        lifecycle.rule_open_comment(
            rule=v1, opens_on=D(2027, 3, 1), closes_on=D(2027, 3, 7), **ACTOR
        )
        clock.set(D(2027, 3, 8))
        lifecycle.rule_publish(rule=v1, effective_from=D(2027, 3, 8), **ACTOR)

        clock.set(D(2027, 3, 9))
        first = world.submit(
            world.key_a, [deduction("traffic.speeding", at(D(2027, 3, 8), 10), D(2027, 3, 9))]
        )
        assert first.status_code == 201, first.content
        assert body_json(first)["events"][0]["rule_version"] == 1
        assert score_of(CITIZEN) == 97

        v2 = lifecycle.rule_new_version(rule=v1, effective_from=D(2027, 4, 1), points=-5, **ACTOR)
        assert (v2.version, v2.status) == (2, RuleStatus.DRAFT)
        lifecycle.rule_open_comment(
            rule=v2, opens_on=D(2027, 3, 9), closes_on=D(2027, 3, 15), **ACTOR
        )
        clock.set(D(2027, 3, 16))
        # Ending version 1 yesterday would move acts of today to version 2.
        error = refused(
            lambda: lifecycle.rule_publish(rule=v2, effective_from=D(2027, 3, 16), **ACTOR),
            "shorten version 1 into the past",
        )
        assert "2027-03-17" in str(error)
        lifecycle.rule_publish(rule=v2, effective_from=D(2027, 3, 17), **ACTOR)
        v1.refresh_from_db()
        assert (v1.status, v1.effective_to) == (RuleStatus.PUBLISHED, D(2027, 3, 16))
        assert transitions(v1)[-1] == ("published", "published")

        # The event recorded under version 1 keeps its version and its points.
        event = ScoreEvent.objects.get()
        assert (event.rule_id, event.points) == (v1.pk, -3)
        assert score_of(CITIZEN) == 97

        clock.set(D(2027, 3, 18))
        second = world.submit(
            world.key_a,
            [
                deduction("traffic.speeding", at(D(2027, 3, 16), 20), D(2027, 3, 17)),
                deduction("traffic.speeding", at(D(2027, 3, 17), 8), D(2027, 3, 18)),
            ],
        )
        assert second.status_code == 201, second.content
        events = body_json(second)["events"]
        assert [(e["rule_version"], e["points"]) for e in events] == [(1, -3), (2, -5)]
        assert score_of(CITIZEN) == 89
        assert list(ScoreEvent.objects.order_by("pk").values_list("rule__version", "points")) == [
            (1, -3),
            (1, -3),
            (2, -5),
        ]

        # The public catalogue shows each version with its history.
        rules = [r for r in body_json(Client().get("/api/v1/rules")) if r["code"] == v1.code]
        assert [r["version"] for r in rules] == [1, 2]
        current = rules[1]
        assert current["effective_from"] == "2027-03-17"
        assert current["comment_period"] == {"opens_on": "2027-03-09", "closes_on": "2027-03-15"}
        assert current["legal_basis"]["article"] == "第四十二条"
        assert current["history"] == [
            {
                "version": 1,
                "status": "published",
                "title": {"zh": "超速行驶", "en": "Speeding"},
                "points": -3,
                "severity": "ordinary",
                "legal_basis": {"law": "《中华人民共和国道路交通安全法》", "article": "第四十二条"},
                "effective_from": "2027-03-08",
                "effective_to": "2027-03-16",
                "published_at": current["history"][0]["published_at"],
            }
        ]
        assert rules[0]["history"] == []

    def test_a_version_withdrawn_before_it_takes_effect_gives_the_days_back(self, world, clock):
        today = timezone.localdate()
        v2 = lifecycle.rule_new_version(
            rule=world.rule, effective_from=today + dt.timedelta(days=20), points=-4, **ACTOR
        )
        lifecycle.rule_open_comment(
            rule=v2, opens_on=today, closes_on=today + dt.timedelta(days=6), **ACTOR
        )
        clock.set(today + dt.timedelta(days=7))
        lifecycle.rule_publish(rule=v2, effective_from=today + dt.timedelta(days=20), **ACTOR)
        world.rule.refresh_from_db()
        assert world.rule.effective_to == today + dt.timedelta(days=19)
        lifecycle.rule_withdraw(rule=v2, reason="drafting error", **ACTOR)
        world.rule.refresh_from_db()
        assert world.rule.effective_to is None


class TestPublicComment:
    @pytest.fixture
    def in_comment(self, db):
        rule = draft("tax.late_filing", points=-2)
        today = timezone.localdate()
        return lifecycle.rule_open_comment(
            rule=rule, opens_on=today, closes_on=today + dt.timedelta(days=6), **ACTOR
        )

    def test_the_public_comments_while_the_period_is_open(self, in_comment):
        comment = lifecycle.comment_submit(rule=in_comment, body="  请说明适用范围。 ")
        assert comment.body == "请说明适用范围。"
        assert RuleComment.objects.filter(rule=in_comment).count() == 1

    @pytest.mark.parametrize(
        ("body", "message"),
        [("", Refusal.COMMENT_EMPTY), ("   ", Refusal.COMMENT_EMPTY), ("x" * 2001, "at most 2000")],
    )
    def test_an_empty_or_overlong_comment_is_refused(self, in_comment, body, message):
        with pytest.raises(ComplianceError, match=message):
            lifecycle.comment_submit(rule=in_comment, body=body)
        assert not RuleComment.objects.exists()

    def test_no_comment_outside_the_period(self, in_comment, world):
        after = at(in_comment.comment_closes_on + dt.timedelta(days=1))
        with pytest.raises(ComplianceError, match="not open for public comment"):
            lifecycle.comment_submit(rule=in_comment, body="late", now=after)
        with pytest.raises(ComplianceError, match="not open for public comment"):
            lifecycle.comment_submit(rule=world.rule, body="on a published rule")
        assert not RuleComment.objects.exists()


class TestCatalogueApi:
    def test_drafts_and_rules_in_comment_never_appear(self, world, client):
        draft("tax.draft_only")
        in_comment = draft("tax.in_comment")
        today = timezone.localdate()
        lifecycle.rule_open_comment(
            rule=in_comment, opens_on=today, closes_on=today + dt.timedelta(days=6), **ACTOR
        )
        tomorrow = today + dt.timedelta(days=1)
        lifecycle.rule_new_version(rule=world.rule, effective_from=tomorrow, points=-9, **ACTOR)
        rules = body_json(client.get("/api/v1/rules"))
        assert {r["code"] for r in rules} == {world.rule.code, world.reward.code}
        assert [r["points"] for r in rules if r["code"] == world.rule.code] == [-3]
        assert all(r["history"] == [] for r in rules)


class TestPublicPage:
    @pytest.fixture
    def in_comment(self, world):
        rule = draft("tax.late_filing", points=-2, severity="serious")
        today = timezone.localdate()
        return lifecycle.rule_open_comment(
            rule=rule, opens_on=today, closes_on=today + dt.timedelta(days=29), **ACTOR
        )

    def test_it_lists_the_catalogue_in_chinese_by_default_without_login(self, in_comment, client):
        draft("tax.secret_draft")
        response = client.get("/catalogue/")
        assert response.status_code == 200
        page = response.content.decode()
        assert '<html lang="zh-hans">' in page
        assert "公共信用评分目录" in page
        assert "traffic.failure_to_yield 规则" in page
        assert "第四十七条" in page
        assert "征求意见" in page and "tax.late_filing" in page
        assert "tax.secret_draft" not in page
        assert 'name="viewport"' in page
        assert "csrfmiddlewaretoken" in page
        assert "http://" not in page and "https://" not in page  # no external assets

    def test_it_switches_to_english(self, in_comment, client):
        page = client.get("/catalogue/?lang=en").content.decode()
        assert '<html lang="en">' in page
        assert "Public credit scoring catalogue" in page
        assert "traffic.failure_to_yield rule" in page
        assert "Comment period" in page
        # The choice is remembered.
        assert '<html lang="en">' in client.get("/catalogue/").content.decode()

    def test_a_comment_posted_through_the_form_is_stored(self, in_comment):
        browser = Client(enforce_csrf_checks=True)
        page = browser.get("/catalogue/")
        token = page.cookies["csrftoken"].value
        response = browser.post(
            f"/catalogue/rules/{in_comment.pk}/comments",
            {"body": "建议明确“逾期”的起算日。", "csrfmiddlewaretoken": token, "lang": "zh-hans"},
        )
        assert response.status_code == 303
        assert response["Location"].endswith(f"#rule-{in_comment.pk}")
        assert RuleComment.objects.get().body == "建议明确“逾期”的起算日。"
        assert "感谢您的意见" in browser.get(response["Location"]).content.decode()

    def test_a_comment_without_the_csrf_token_is_refused(self, in_comment):
        response = Client(enforce_csrf_checks=True).post(
            f"/catalogue/rules/{in_comment.pk}/comments", {"body": "hello"}
        )
        assert response.status_code == 403
        assert not RuleComment.objects.exists()

    def test_an_empty_comment_gets_400_with_the_reason(self, in_comment, client):
        response = client.post(
            f"/catalogue/rules/{in_comment.pk}/comments", {"body": " ", "lang": "en"}
        )
        assert response.status_code == 400
        assert "Write a comment." in response.content.decode()
        assert not RuleComment.objects.exists()

    def test_a_comment_holding_prohibited_data_gets_422_and_is_not_shown_again(
        self, in_comment, client
    ):
        response = client.post(
            f"/catalogue/rules/{in_comment.pk}/comments",
            {"body": "我信仰伊斯兰教，这条规则不公平。", "lang": "en"},
        )
        assert response.status_code == 422
        page = response.content.decode()
        assert "the law forbids collecting" in page
        assert "伊斯兰" not in page
        assert not RuleComment.objects.exists()

    def test_a_comment_holding_an_identity_number_gets_400(self, in_comment, client):
        response = client.post(
            f"/catalogue/rules/{in_comment.pk}/comments",
            {"body": "请核查 11010519491231002X 的记录。", "lang": "en"},
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "must not contain an identity number" in page
        assert "11010519491231002X" not in page
        assert not RuleComment.objects.exists()

    def test_a_comment_on_a_rule_not_in_comment_gets_404(self, world, client):
        response = client.post(f"/catalogue/rules/{world.rule.pk}/comments", {"body": "x"})
        assert response.status_code == 404
        assert client.get("/catalogue/rules/999/comments").status_code == 405


class TestAdmin:
    @pytest.fixture
    def admin_client(self, db):
        user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-12345678")
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    def act(self, admin_client, action, rules, **fields):
        return admin_client.post(
            "/admin/compliance/rule/",
            {"action": action, "_selected_action": [r.pk for r in rules], "index": 0, **fields},
            follow=True,
        )

    def test_regulators_run_the_lifecycle_from_the_admin(self, admin_client, clock):
        clock.set(D(2027, 3, 1))
        admin_client.force_login(get_user_model().objects.get(username="root"))  # a fresh session
        response = admin_client.post(
            "/admin/compliance/rule/add/",
            {
                "code": "traffic.noise",
                "title_zh": "噪声扰民",
                "title_en": "Noise",
                "points": -2,
                "severity": "ordinary",
                "legal_basis_law": "《中华人民共和国噪声污染防治法》",
                "legal_basis_article": "第八十七条",
                "effective_from": "2027-04-01",
                "retention_years": 5,
                **INLINE,
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        rule = Rule.objects.get(code="traffic.noise")
        assert transitions(rule) == [(None, "draft")]

        self.act(
            admin_client, "open_comment", [rule], opens_on="2027-03-01", closes_on="2027-03-07"
        )
        rule.refresh_from_db()
        assert rule.status == RuleStatus.COMMENT

        clock.set(D(2027, 3, 9))
        response = self.act(admin_client, "publish", [rule], effective_from="2027-03-08")
        messages = [str(m) for m in get_messages(response.wsgi_request)]
        assert any("cannot apply retroactively" in m for m in messages), messages
        rule.refresh_from_db()
        assert rule.status == RuleStatus.COMMENT

        self.act(admin_client, "publish", [rule], effective_from="2027-03-09")
        rule.refresh_from_db()
        assert (rule.status, rule.effective_from) == (RuleStatus.PUBLISHED, D(2027, 3, 9))

        page = admin_client.get(f"/admin/compliance/rule/{rule.pk}/change/").content.decode()
        assert 'name="points"' not in page  # published: read-only

        self.act(admin_client, "new_version", [rule], effective_from="2027-05-01")
        v2 = Rule.objects.get(code="traffic.noise", version=2)
        assert v2.status == RuleStatus.DRAFT
        page = admin_client.get(f"/admin/compliance/rule/{v2.pk}/change/").content.decode()
        assert 'name="points"' in page and 'name="status"' not in page

        response = self.act(admin_client, "withdraw", [v2])
        assert any("reason" in str(m) for m in get_messages(response.wsgi_request))
        self.act(admin_client, "withdraw", [v2], reason="not needed")
        v2.refresh_from_db()
        assert v2.status == RuleStatus.WITHDRAWN

    def test_regulators_read_the_public_comments(self, admin_client, world):
        rule = draft("tax.late_filing")
        today = timezone.localdate()
        lifecycle.rule_open_comment(
            rule=rule, opens_on=today, closes_on=today + dt.timedelta(days=6), **ACTOR
        )
        lifecycle.comment_submit(rule=rule, body="请明确起算日。")
        page = admin_client.get(f"/admin/compliance/rule/{rule.pk}/change/").content.decode()
        assert "请明确起算日。" in page

    def test_the_admin_refuses_a_code_that_exists(self, admin_client, world):
        response = admin_client.post(
            "/admin/compliance/rule/add/",
            {
                "code": world.rule.code,
                "title_zh": "x",
                "title_en": "x",
                "points": -2,
                "severity": "ordinary",
                "legal_basis_law": "law",
                "legal_basis_article": "1",
                "effective_from": "2027-04-01",
                "retention_years": 5,
                **INLINE,
            },
        )
        assert response.status_code == 200
        assert "make a new version" in response.content.decode()
        assert Rule.objects.filter(code=world.rule.code).count() == 1

    def test_a_malformed_date_in_the_action_bar_changes_nothing(self, admin_client, world):
        response = self.act(admin_client, "publish", [world.rule], effective_from="soon")
        assert response.status_code == 200
        assert any("effective from" in str(m) for m in get_messages(response.wsgi_request))


def test_every_refusal_message_names_its_reason_without_formatting_errors():
    for name in dir(Refusal):
        if name.isupper():
            assert isinstance(getattr(Refusal, name), str)
    assert json.dumps(lifecycle.MIN_COMMENT_DAYS) == '{"serious": 30, "ordinary": 7, "minor": 7}'
