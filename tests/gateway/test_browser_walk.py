"""The demo city walked in headless Chromium by a resident, a reviewer and a regulator.

Every page of the walk is loaded in both languages (chosen as a browser does, by
Accept-Language and the language cookie) at a phone's 390x844 and a laptop's 1366x768,
and saved under test-artifacts/browser/walk/. On each page: status 200, ``<html lang>``
in the page's language, no horizontal scrolling on a phone for the portal's pages, and no
"serious" or "critical" axe-core violation.

axe-core comes from its npm package (scripts/run-tests installs it under .cache/npm),
never from a CDN. The pages' strict CSP forbids inline script, which is what
``add_script_tag`` would add; axe is injected instead with ``add_init_script``, which
the browser runs in every page before the page's own scripts and outside its CSP, so the
pages are checked under the very policy they are served with.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from audit.models import AuditEntry
from compliance.models import EligibilityThreshold
from gateway.models import Account, Appeal, AppealStatus, ScoreEvent
from tests.gateway.test_browser import chromium  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser" / "walk"
AXE = Path(os.environ.get("AXE_PATH", ROOT / ".cache/npm/node_modules/axe-core/axe.min.js"))
SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768}}
LANGUAGES = {"zh-hans": "zh-CN,zh;q=0.9", "en": "en-US,en;q=0.9"}
BLOCKING = {"serious", "critical"}


@pytest.fixture
def axe_source() -> Path:
    if not AXE.is_file():
        if shutil.which("npm") is None:
            pytest.skip(f"no axe-core at {AXE}, and npm is not installed to fetch it")
        pytest.skip(
            f"no axe-core at {AXE}: `npm install --prefix .cache/npm axe-core@4` "
            "(scripts/run-tests does so when npm is installed)"
        )
    return AXE


@pytest.fixture
def demo(settings, tmp_path, transactional_db):
    """The demo city, and the pages of its story (read before the browser starts)."""
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", "--quiet-credentials")
    logins = json.loads((tmp_path / "demo-credentials.json").read_text())["logins"]
    resident = "resident1"
    citizen = Account.objects.get(user__username=resident).citizen
    event = ScoreEvent.objects.filter(citizen=citizen).order_by("-occurred_at").first()
    appeal = Appeal.objects.filter(status=AppealStatus.PENDING, reviewer__isnull=False).first()
    assert appeal is not None, "the demo has an objection open before a reviewer"
    reviewer = appeal.reviewer.username
    assert reviewer in logins
    entry = AuditEntry.objects.order_by("-pk").first()
    threshold = EligibilityThreshold.objects.order_by("code").first()
    walks = {
        "resident": (
            resident,
            "portal",
            [
                ("home", "/portal/"),
                # From another page: a fragment alone would not load the page again.
                ("record-reasons", f"/portal/events/#event-{event.pk}"),
                ("records", "/portal/events/"),
                ("accesses", "/portal/accesses/"),
                ("appeals", "/portal/appeals/"),
                ("notifications", "/portal/notifications/"),
                ("report", "/portal/report/"),
                ("eligibility", f"/portal/eligibility/{threshold.code}/"),
            ],
        ),
        "reviewer": (
            reviewer,
            "portal",
            [("queue", "/portal/review/"), ("objection", f"/portal/review/{appeal.pk}/")],
        ),
        "regulator": (
            "regulator",
            "admin",
            [
                ("index", "/admin/"),
                ("audit-log", "/admin/audit/auditentry/"),
                ("audit-entry", f"/admin/audit/auditentry/{entry.pk}/change/"),
                ("findings", "/admin/findings/"),
                ("rules", "/admin/compliance/rule/"),
                ("screening-policy", "/admin/compliance/screeningcategory/"),
            ],
        ),
    }
    return {
        role: (user, logins[user]["password"], door, pages)
        for role, (user, door, pages) in walks.items()
    }


def test_the_demo_walked_in_both_languages_at_both_sizes_passes_axe(
    live_server,
    demo,
    chromium,  # noqa: F811 (the fixture of test_browser.py, imported above)
    axe_source,
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with chromium() as (_driver, browser):
        for role, (username, password, door, pages) in demo.items():
            for language, accept in LANGUAGES.items():
                for size, viewport in SIZES.items():
                    problems += _walk(
                        browser,
                        live_server.url,
                        axe_source,
                        role=role,
                        credentials=(username, password),
                        door=door,
                        pages=pages,
                        language=language,
                        accept=accept,
                        size=size,
                        viewport=viewport,
                    )
    assert not problems, "\n".join(problems)


def _walk(browser, base, axe, *, role, credentials, door, pages, language, accept, size, viewport):
    phone = size == "phone"
    context = browser.new_context(
        base_url=base,
        viewport=viewport,
        is_mobile=phone,
        has_touch=phone,
        locale=accept.split(",")[0],
        extra_http_headers={"Accept-Language": accept},
        timezone_id="Asia/Shanghai",
    )
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    context.add_init_script(path=str(axe))
    page = context.new_page()
    problems: list[str] = []
    try:
        _log_in(page, door, *credentials)
        for name, path in pages:
            where = f"{role}/{language}/{size}/{name} ({path})"
            response = page.goto(path)
            page.wait_for_load_state()
            if "#" in path:
                target = page.locator(path[path.index("#") :])
                if not target.count():
                    problems.append(f"{where}: no {path[path.index('#') :]} on the page")
                    continue
                details = target.locator("details")
                if details.count():
                    details.first.locator("summary").click()
                target.scroll_into_view_if_needed()
            page.screenshot(
                path=str(ARTIFACTS / f"{role}-{language}-{size}-{name}.png"), full_page=True
            )
            if response is None or response.status != 200:
                problems.append(f"{where}: status {response and response.status}")
                continue
            lang = (page.get_attribute("html", "lang") or "").lower()
            if lang != language:
                problems.append(f"{where}: <html lang={lang!r}>, not {language!r}")
            if phone and door == "portal":
                scroll, inner = page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                if scroll > inner + 1:
                    problems.append(f"{where}: {scroll} px wide in a {inner} px window")
            for violation in page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ):
                if violation["impact"] in BLOCKING:
                    targets = "; ".join(
                        " ".join(map(str, node["target"])) + f" ({node['failureSummary']})"
                        for node in violation["nodes"][:5]
                    )
                    problems.append(
                        f"{where}: axe {violation['impact']} {violation['id']} at {targets}"
                    )
    finally:
        context.close()
    return problems


def _log_in(page, door: str, username: str, password: str) -> None:
    page.goto(f"/{door}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click(
        "form.stack button[type=submit]" if door == "portal" else "#login-form [type=submit]"
    )
    page.wait_for_load_state()
    assert "/login/" not in page.url, f"{username} could not log in at /{door}/"
