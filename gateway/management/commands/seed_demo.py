"""Load the synthetic demo city: departments, catalogue, purposes, residents, records.

Idempotent: a second run changes nothing and prints the same credentials, which
live in var/demo-credentials.json (never in the repository).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from audit.services import integrate_all, verification_run
from compliance.models import (
    Department,
    EligibilityThreshold,
    Purpose,
    Rule,
    RuleStatus,
)
from compliance.services import catalogue_object_save, department_create, grant_set
from fixtures import demo_data
from gateway.management import demo_story as story
from gateway.models import Role
from gateway.principals import DepartmentPrincipal
from gateway.services.accounts import account_create, account_of, regulator_group
from gateway.services.expiry import events_expire
from gateway.services.keys import department_key_create
from gateway.services.submissions import submission_accept

ACTOR = {"actor_kind": "system", "actor_id": "seed_demo"}
KEY_DEPARTMENTS = ("traffic_police", "court", "tax", "volunteer_federation", "development_reform")
# Reviewers come from departments that submit few or no deductions, so most appeals
# find a reviewer outside the deducting department (separation of duties).
DEMO_REVIEWER_DEPARTMENTS = ("civil_affairs", "development_reform")


class Command(BaseCommand):
    help = "Load the synthetic demo data (idempotent) and print demo keys and logins."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-credentials", action="store_true")

    def handle(self, *args, quiet_credentials=False, **options):
        departments = self._departments()
        thresholds = self._thresholds()
        self._rules(departments)
        self._purposes(departments, thresholds)
        credentials = self._credentials(departments)
        accepted = self._records(departments)
        if accepted:
            integrate_all()
        told = story.tell(departments)
        if accepted or told:
            # Deductions whose five years have run out since the last run.
            events_expire(now=timezone.now())
            integrate_all()
            # The admin's index shows the log verified, not an empty list of runs.
            verification_run()
        self.stdout.write(
            f"demo data: {len(departments)} departments, {Rule.objects.count()} rules, "
            f"{Purpose.objects.count()} purposes, {accepted} new records"
        )
        if not quiet_credentials:
            self._print(credentials)

    def _departments(self) -> dict[str, Department]:
        result = {}
        for item in demo_data.DEPARTMENTS:
            department = Department.objects.filter(code=item["code"]).first()
            if department is None:
                department = department_create(
                    code=item["code"],
                    title_zh=item["title_zh"],
                    title_en=item["title_en"],
                    contact_email=item.get("contact_email", ""),
                    **ACTOR,
                )
            result[department.code] = department
        return result

    def _thresholds(self) -> dict[str, EligibilityThreshold]:
        result = {}
        for item in demo_data.THRESHOLDS:
            threshold = EligibilityThreshold.objects.filter(code=item["code"]).first()
            if threshold is None:
                threshold = catalogue_object_save(EligibilityThreshold(**item), **ACTOR)
            result[threshold.code] = threshold
        return result

    def _rules(self, departments: dict[str, Department]) -> None:
        for item in demo_data.RULES:
            if Rule.objects.filter(code=item["code"], version=1).exists():
                continue
            fields = {k: v for k, v in item.items() if k != "departments"}
            fields["effective_from"] = dt.date.fromisoformat(str(fields["effective_from"]))
            # The demo catalogue went through 30 days of comment in October 2020, so
            # five years of history fall under it.
            rule = Rule(
                **fields,
                version=1,
                status=RuleStatus.PUBLISHED,
                comment_opens_on=dt.date(2020, 10, 1),
                comment_closes_on=dt.date(2020, 10, 30),
                published_at=dt.datetime(2020, 11, 1, 1, 0, tzinfo=dt.UTC),
            )
            with transaction.atomic():
                catalogue_object_save(rule, changed_fields=list(fields), **ACTOR)
                grant_set(rule, [departments[c] for c in item["departments"]], **ACTOR)

    def _purposes(self, departments, thresholds) -> None:
        for item in demo_data.PURPOSES:
            if Purpose.objects.filter(code=item["code"]).exists():
                continue
            fields = {k: v for k, v in item.items() if k not in {"departments", "thresholds"}}
            with transaction.atomic():
                purpose = catalogue_object_save(Purpose(**fields), **ACTOR)
                purpose.thresholds.set([thresholds[c] for c in item["thresholds"]])
                grant_set(purpose, [departments[c] for c in item["departments"]], **ACTOR)

    def _credentials(self, departments) -> dict:
        path = settings.VAR_DIR / "demo-credentials.json"
        stored = json.loads(path.read_text()) if path.exists() else {}
        database = str(settings.DATABASES["default"]["NAME"])
        if stored.get("database") != database:
            stored = {"database": database, "keys": {}, "logins": {}}
        for code in KEY_DEPARTMENTS:
            if code in departments and code not in stored["keys"]:
                _, plaintext = department_key_create(
                    department=departments[code], name="demo", expires_at=None, **ACTOR
                )
                stored["keys"][code] = plaintext
        users = get_user_model()
        regulator_group()
        admin = users.objects.filter(username="admin").first()
        if "admin" not in stored["logins"] or admin is None:
            password = secrets.token_urlsafe(12)
            admin = admin or users(username="admin")
            admin.is_staff = True
            admin.is_superuser = True
            admin.set_password(password)
            admin.save()
            stored["logins"]["admin"] = {"password": password, "role": "superuser"}
        for username, role, options in self._demo_accounts(departments):
            existing = users.objects.filter(username=username).first()
            if existing is not None:
                if username not in stored["logins"] or account_of(existing) is None:
                    self.stderr.write(
                        f"{username}: an older login without a demo account; left as it is "
                        "(start from a fresh database to get one)"
                    )
                continue
            password = secrets.token_urlsafe(12)
            account_create(role=role, username=username, password=password, **options, **ACTOR)
            shown_role = role
            if options.get("department_code"):
                shown_role = f"{role} ({options['department_code']})"
            stored["logins"][username] = {"password": password, "role": shown_role}
        path.write_text(json.dumps(stored, indent=2, ensure_ascii=False))
        path.chmod(0o600)
        return stored

    def _demo_accounts(self, departments) -> list[tuple[str, str, dict]]:
        """A regulator, two reviewers outside the deducting departments, three residents.

        The residents are the demo's story (fixtures.demo_data.story_records): one with an
        objection open, one above every threshold, one below every threshold.
        """
        accounts: list[tuple[str, str, dict]] = [("regulator", Role.REGULATOR, {})]
        for code in DEMO_REVIEWER_DEPARTMENTS:
            if code in departments:
                accounts.append((f"reviewer_{code}", Role.REVIEWER, {"department_code": code}))
        residents = demo_data.story_residents(demo_data.synthetic_residents())
        for n, name in enumerate(demo_data.STORIES, start=1):
            resident = residents[name]
            options = {"citizen_id": resident["citizen_id"], "email": resident["email"]}
            accounts.append((f"resident{n}", Role.CITIZEN, options))
        return accounts

    def _records(self, departments) -> int:
        residents = demo_data.synthetic_residents()
        batches: dict[str, list[dict]] = defaultdict(list)
        for item in demo_data.demo_records(residents) + demo_data.story_records(residents):
            batches[item["department"]].append(item["record"])
        # Every synthetic resident enters the store: those without a demo record get
        # one volunteering record, the first record about them registering them.
        covered = {r["citizen_id"] for records in batches.values() for r in records}
        for number, resident in enumerate(residents, start=1):
            if resident["citizen_id"] not in covered:
                batches["volunteer_federation"].append(
                    {
                        "citizen_id": resident["citizen_id"],
                        "rule": "volunteer.service_hours",
                        "occurred_at": "2026-06-01T09:00:00+08:00",
                        "evidence": {
                            "reference": f"VF-2026-R{number:04d}",
                            "issued_by": "苏州市志愿者总会",
                        },
                        "data": {"hours": 8, "station": "姑苏区志愿服务站"},
                    }
                )
        accepted = 0
        for code, records in sorted(batches.items()):
            principal = DepartmentPrincipal(department=departments[code], key_id="seed_demo")
            body = json.dumps(
                {"idempotency_key": f"demo-{code}-v2", "records": records}, ensure_ascii=False
            ).encode()
            outcome = submission_accept(principal=principal, body=body)
            if not outcome.replayed:
                accepted += outcome.payload["accepted"]
        return accepted

    def _print(self, credentials) -> None:
        self.stdout.write("")
        self.stdout.write("Demo department API keys (send as 'Authorization: Api-Key <key>'):")
        for code, key in credentials["keys"].items():
            self.stdout.write(f"  {code:<22} {key}")
        self.stdout.write("Demo logins:")
        for username, login in credentials["logins"].items():
            where = "/admin/" if login["role"] in {"superuser", "regulator"} else "/"
            self.stdout.write(
                f"  {username:<28} {login['password']:<18} {login['role']:<32} "
                f"http://127.0.0.1:8000{where}"
            )
        self.stdout.write("API documentation: http://127.0.0.1:8000/api/docs/")
        self.stdout.write(f"(kept in {settings.VAR_DIR / 'demo-credentials.json'})")
