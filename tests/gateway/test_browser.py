"""End to end in headless Chromium: a deduction, a read, an objection, its overturn.

Debian's ``chromium`` package, driven by Playwright for Python (never its own browser
downloads). scripts/run-tests installs the package when it can; without a browser the
test is skipped and says why. Each page visited is saved under test-artifacts/browser/
as a phone-sized screenshot.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from audit.actions import AuditAction
from audit.models import AuditEntry
from gateway.models import Appeal, AppealOutcome
from tests import factories
from tests.gateway.people import ALICE_ID, PASSWORD, score_of

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def chromium():
    """Start Playwright and Chromium: ``with chromium() as (driver, browser): ...``.

    Playwright's sync API runs an event loop in this thread, and Django refuses
    database calls while one runs: the test reads the database only outside the block.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed: pip install -e '.[dev]'")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            f"no browser at {CHROMIUM}: install Debian's chromium package "
            "(scripts/run-tests does so when run as root with apt-get)"
        )

    @contextmanager
    def start():
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield driver, browser
            finally:
                browser.close()

    return start


class Visit:
    """One phone-sized browser session that screenshots every page it shows."""

    def __init__(self, browser, base_url: str, who: str):
        self.context = browser.new_context(
            base_url=base_url,
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        self.page = self.context.new_page()
        self.who = who

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def log_in(self, username: str) -> None:
        self.page.goto("/portal/")
        assert "/portal/login/" in self.page.url
        self.shot(f"{self.who}-01-login")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("form.stack button[type=submit]")
        self.page.wait_for_load_state()

    def nav(self, label: str) -> None:
        self.page.click(f"nav.menu >> text={label}")
        self.page.wait_for_load_state()

    def log_out(self) -> None:
        self.page.click("text=退出登录")
        self.page.wait_for_load_state()
        assert "/portal/login/" in self.page.url
        self.context.close()


def department_api(playwright, base_url: str, key: str):
    return playwright.request.new_context(
        base_url=base_url,
        extra_http_headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
    )


def test_a_resident_sees_a_deduction_and_a_read_objects_and_gets_it_overturned(
    live_server, people, chromium
):
    key = people.world.key_a
    subject = people.alice.citizen.identity_index
    with chromium() as (driver, browser):
        event_id = _the_story(driver, browser, live_server.url, key)

    # What the pages showed is what the store and the log hold.
    appeal = Appeal.objects.get(event_id=event_id)
    assert appeal.outcome == AppealOutcome.OVERTURNED
    assert score_of() == 100
    for action in (
        AuditAction.SCORE_READ_BY_DEPARTMENT,
        AuditAction.SCORE_READ_BY_CITIZEN,
        AuditAction.EVENTS_READ_BY_CITIZEN,
        AuditAction.ACCESSES_READ_BY_CITIZEN,
        AuditAction.DATA_READ_BY_REVIEWER,
        AuditAction.REPORT_READ_BY_CITIZEN,
    ):
        assert AuditEntry.objects.filter(action=action, subject=subject).exists(), action


def _the_story(playwright, browser, base: str, key: str) -> int:
    """Everything over HTTP, as the department, the resident and the reviewer see it."""

    # A department deducts and reads the score for a purpose, over HTTP.
    api = department_api(playwright, base, key)
    submitted = api.post(
        "/api/v1/submissions",
        data=factories.body([factories.deduction_record(ALICE_ID)], "browser-1").decode(),
    )
    assert submitted.status == 201, submitted.text()
    event_id = submitted.json()["events"][0]["id"]
    read = api.post(
        "/api/v1/score-queries",
        data=json.dumps({"citizen_id": ALICE_ID, "purpose": "licensing_review"}),
    )
    assert read.status == 200, read.text()
    # Told first (CRR 15): departments are told of it only after the notice period.
    assert read.json()["score"] == 100
    api.dispose()

    # The resident sees the deduction and the read, and objects.
    alice = Visit(browser, base, "resident")
    alice.log_in("alice")
    page = alice.page
    assert page.locator("[data-testid=score]").inner_text() == "97"
    assert page.locator("svg polyline.score").count() == 1
    alice.shot("resident-02-my-score")

    alice.nav("我的记录")
    record = page.locator(f"#event-{event_id}")
    assert "traffic.failure_to_yield 规则" in record.inner_text()
    assert "-3" in record.inner_text()
    assert "苏公交决字〔2026〕第123号" in record.inner_text()
    record.locator("summary").click()
    assert "信用扣分告知" in record.inner_text()
    alice.shot("resident-03-my-records")

    alice.nav("谁查阅了我的数据")
    accesses = page.locator("main").inner_text()
    assert "traffic_police 部门" in accesses
    assert "贷款资格" in accesses  # the purpose's title (the factory names every purpose so)
    alice.shot("resident-04-who-saw-my-data")

    alice.nav("我的记录")
    page.click(f"#event-{event_id} >> text=对此记录提出异议")
    page.wait_for_load_state()
    alice.shot("resident-05-objection-form")
    page.fill("textarea[name=statement]", "那天我的车停在车库里，这不是我的车。")
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    assert re.search(r"/portal/appeals/\d+/$", page.url)
    assert "待处理" in page.locator("main").inner_text()
    alice.shot("resident-06-objection-filed")
    alice.log_out()

    # A reviewer of another department overturns it.
    reviewer = Visit(browser, base, "reviewer")
    reviewer.log_in("rev_tax")
    page = reviewer.page
    assert page.url.endswith("/portal/review/")
    reviewer.shot("reviewer-02-queue")
    page.click("main article h3 a")
    page.wait_for_load_state()
    assert "那天我的车停在车库里" in page.locator("main").inner_text()
    reviewer.shot("reviewer-03-objection")
    page.check("input[name=outcome][value=overturned]")
    page.fill("textarea[name=reason]", "照片中的车牌与当事人车辆不符。")
    page.click("text=记录决定")
    page.wait_for_load_state()
    assert page.url.endswith("/portal/review/")
    assert "决定已记录" in page.locator("main").inner_text()
    reviewer.shot("reviewer-04-decided")
    reviewer.log_out()

    # The resident sees the score restored and the decision with its reasons.
    alice = Visit(browser, base, "resident-after")
    alice.log_in("alice")
    page = alice.page
    assert page.locator("[data-testid=score]").inner_text() == "100"
    alice.shot("resident-after-02-my-score")
    alice.nav("我的异议")
    text = page.locator("main").inner_text()
    assert "撤销：记录已撤销" in text
    assert "照片中的车牌与当事人车辆不符。" in text
    alice.shot("resident-after-03-my-objections")
    alice.nav("通知")
    alice.shot("resident-after-04-notifications")
    alice.nav("信用报告")
    assert "我的信用记录报告" in page.locator("h1").inner_text()
    alice.shot("resident-after-05-report")
    page.emulate_media(media="print")
    assert not page.locator("header.bar").is_visible()
    alice.shot("resident-after-06-report-print")
    page.emulate_media(media="screen")
    page.click("button[value=en]")
    page.wait_for_load_state()
    assert "Report of my credit record" in page.locator("h1").inner_text()
    alice.shot("resident-after-07-report-english")
    alice.context.close()
    return event_id
