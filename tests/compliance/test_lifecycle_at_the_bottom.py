"""Every bypass of the catalogue's lifecycle is refused below the admin, in the services
and the model, whichever door (admin, command, shell) the change comes in by."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance import lifecycle
from compliance.lifecycle import Refusal
from compliance.models import Rule, RuleStatus
from compliance.services import ComplianceError, catalogue_object_save, grant_set
from tests import factories
from tests.compliance.test_lifecycle import ACTOR, D, at, clock, deduction, draft, refused
from tests.conftest import body_json

__all__ = ["clock"]  # the fixture, imported for these tests


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def imported(code="traffic.red_light", **overrides):
    fields = {
        "code": code,
        "title_zh": "闯红灯",
        "title_en": "Running a red light",
        "points": -6,
        "legal_basis_law": "《中华人民共和国道路交通安全法》",
        "legal_basis_article": "第三十八条",
        "comment_opens_on": D(2026, 10, 1),
        "comment_closes_on": D(2026, 10, 30),
        "published_at": at(D(2026, 11, 20), 15),
        "effective_from": D(2026, 11, 20),
        **ACTOR,
    }
    fields.update(overrides)
    return lifecycle.rule_import_published(**fields)


class TestTheModelRefusesWritesOutsideTheLifecycle:
    def test_a_plain_save_is_refused(self, world):
        world.rule.points = -50
        with pytest.raises(ComplianceError, match="only through the catalogue's lifecycle"):
            world.rule.save()
        assert Rule.objects.get(pk=world.rule.pk).points == -3

    def test_create_update_and_delete_through_the_orm_are_refused(self, world):
        with pytest.raises(ComplianceError, match="lifecycle"):
            Rule.objects.create(
                code="traffic.shell",
                title_zh="x",
                title_en="x",
                points=-50,
                legal_basis_law="《中华人民共和国道路交通安全法》",
                legal_basis_article="第一条",
                status=RuleStatus.PUBLISHED,
                effective_from=D(2020, 1, 1),
            )
        with pytest.raises(ComplianceError, match="lifecycle"):
            Rule.objects.filter(pk=world.rule.pk).update(points=-50)
        with pytest.raises(ComplianceError, match="lifecycle"):
            Rule.objects.filter(pk=world.rule.pk).delete()
        with pytest.raises(ComplianceError, match="lifecycle"):
            world.rule.delete()
        assert not Rule.objects.filter(code="traffic.shell").exists()
        assert Rule.objects.get(pk=world.rule.pk).points == -3

    def test_a_rule_saved_as_published_in_2020_without_comment_is_refused(self, world):
        rule = Rule(
            code="traffic.backdated",
            title_zh="x",
            title_en="x",
            points=-50,
            legal_basis_law="《中华人民共和国道路交通安全法》",
            legal_basis_article="第一条",
            status=RuleStatus.PUBLISHED,
            published_at=timezone.now(),
            effective_from=D(2020, 1, 1),
        )
        refused(lambda: catalogue_object_save(rule, **ACTOR), str(Refusal.NOT_IN_COMMENT))

    def test_a_new_rule_cannot_start_in_comment(self, world):
        rule = Rule(
            code="traffic.skipped_draft",
            title_zh="x",
            title_en="x",
            points=-3,
            legal_basis_law="《中华人民共和国道路交通安全法》",
            legal_basis_article="第一条",
            status=RuleStatus.COMMENT,
            effective_from=D(2027, 1, 1),
        )
        refused(lambda: catalogue_object_save(rule, **ACTOR), "starts as a draft")


class TestImportedRulesMeetTheSameLaw:
    def test_an_effective_date_before_publication_is_refused(self, world):
        refused(
            lambda: imported(effective_from=D(2020, 1, 1)),
            "cannot apply retroactively",
        )

    def test_a_comment_period_too_short_for_the_severity_is_refused(self, world):
        refused(
            lambda: imported(severity="serious", points=-50, comment_opens_on=D(2026, 10, 24)),
            "at least 30 days",
        )

    def test_publication_before_the_comment_closed_is_refused(self, world):
        refused(
            lambda: imported(published_at=at(D(2026, 10, 30), 15), effective_from=D(2026, 11, 1)),
            "after its comment period",
        )

    def test_a_publication_in_the_future_or_without_time_zone_is_refused(self, world):
        refused(
            lambda: imported(published_at=timezone.now() + dt.timedelta(days=1)),
            "in the future",
        )
        refused(
            lambda: imported(published_at=dt.datetime(2026, 11, 20, 15)),
            "time zone",
        )

    def test_a_well_documented_rule_is_recorded_and_audited(self, world):
        rule = imported()
        assert rule.status == RuleStatus.PUBLISHED
        entry = AuditEntry.objects.get(
            action=AuditAction.RULE_TRANSITIONED, object_ref=f"rule:{rule.pk}"
        )
        assert entry.details["imported"] is True
        assert entry.details["comment_closes_on"] == "2026-10-30"


class TestCommentPeriod:
    def test_severity_and_points_changed_during_comment_restart_it(self, world, clock):
        clock.set(D(2027, 3, 1))
        rule = draft()
        rule = lifecycle.rule_open_comment(
            rule=rule, opens_on=D(2027, 3, 1), closes_on=D(2027, 3, 7), **ACTOR
        )
        rule.severity = "serious"
        rule.points = -50
        catalogue_object_save(rule, **ACTOR)  # what the admin's change form does
        rule = Rule.objects.get(pk=rule.pk)
        assert (rule.status, rule.severity, rule.points) == (RuleStatus.DRAFT, "serious", -50)
        assert rule.comment_opens_on is None and rule.comment_closes_on is None
        entry = AuditEntry.objects.filter(
            action=AuditAction.RULE_TRANSITIONED, object_ref=f"rule:{rule.pk}"
        ).latest("id")
        assert entry.details["comment_restarted"] is True
        assert (entry.details["from"], entry.details["to"]) == ("comment", "draft")

        # Seven days later it cannot be published: it is no longer in comment.
        clock.set(D(2027, 3, 8))
        refused(
            lambda: lifecycle.rule_publish(rule=rule, effective_from=D(2027, 3, 8), **ACTOR),
            str(Refusal.NOT_IN_COMMENT),
        )
        # A new period for a serious entry needs 30 days.
        refused(
            lambda: lifecycle.rule_open_comment(
                rule=rule, opens_on=D(2027, 3, 8), closes_on=D(2027, 3, 14), **ACTOR
            ),
            "at least 30 days",
        )

    def test_a_title_change_during_comment_keeps_the_period(self, world, clock):
        clock.set(D(2027, 3, 1))
        rule = lifecycle.rule_open_comment(
            rule=draft(), opens_on=D(2027, 3, 1), closes_on=D(2027, 3, 7), **ACTOR
        )
        rule.title_en = "Speeding on a city road"
        catalogue_object_save(rule, **ACTOR)
        assert Rule.objects.get(pk=rule.pk).status == RuleStatus.COMMENT

    def test_status_and_dates_are_never_edited(self, world, clock):
        clock.set(D(2027, 3, 1))
        rule = draft()
        rule.status = RuleStatus.PUBLISHED
        rule.published_at = timezone.now()
        refused(lambda: catalogue_object_save(rule, **ACTOR), "change only through")


class TestLegalBasisAndPeriods:
    @pytest.mark.parametrize(
        ("law", "article", "message"),
        [
            (" ", "第四十二条", "Name the law"),
            ("《中华人民共和国道路交通安全法》", " ", "Cite the article"),
            ("《中华人民共和国道路交通安全法》", "somewhere", "Cite the article"),
        ],
    )
    def test_a_legal_basis_must_be_a_real_citation(self, world, law, article, message):
        refused(
            lambda: lifecycle.rule_draft_create(
                code="traffic.blank_basis",
                title_zh="x",
                title_en="x",
                points=-3,
                legal_basis_law=law,
                legal_basis_article=article,
                effective_from=D(2027, 1, 1),
                **ACTOR,
            ),
            message,
        )

    @pytest.mark.parametrize("years", [0, 6, 50])
    def test_retention_stays_within_the_law(self, world, years):
        refused(
            lambda: lifecycle.rule_draft_create(
                code="traffic.retention",
                title_zh="x",
                title_en="x",
                points=-3,
                legal_basis_law="《中华人民共和国道路交通安全法》",
                legal_basis_article="第四十二条",
                effective_from=D(2027, 1, 1),
                retention_years=years,
                **ACTOR,
            ),
            "SH 35",
        )


class TestEffectiveInstants:
    def test_a_rule_published_at_15_00_does_not_reach_an_act_at_08_00(self, world):
        rule = imported()
        grant_set(rule, [world.dept_a], **ACTOR)
        morning = deduction("traffic.red_light", at(D(2026, 11, 20), 8), D(2026, 11, 21))
        response = world.submit(world.key_a, [morning])
        assert response.status_code == 400
        assert "SH 10" in body_json(response)["problems"][0]["message"]
        afternoon = deduction("traffic.red_light", at(D(2026, 11, 20), 16), D(2026, 11, 21))
        assert world.submit(world.key_a, [afternoon]).status_code == 201


def test_factories_publish_through_the_lifecycle(world):
    rule = factories.rule("traffic.factory_made", departments=[world.dept_a])
    assert rule.comment_closes_on < timezone.localtime(rule.published_at).date()
