"""The portal in a real browser: Debian's headless Chromium driven by Selenium.

A real `hub serve` on a free port, a demo database with a few known records,
and Chromium at a phone's width and a desktop's. Each page's screenshot is
saved under test-artifacts/browser/. `.ci/run` installs chromium and
chromium-driver and sets HUB_REQUIRE_BROWSER=1, so CI fails rather than skip
when they are missing; elsewhere the tests are skipped with the reason.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from hub.enums import Grade, RatingStatus
from hub.ingest.table import read_table
from seeds import builders as b
from tests.test_serve import free_port

HUB = str(Path(sys.executable).with_name("hub"))
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
PHONE = (390, 844)
DESKTOP = (1280, 900)

_missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
if _missing and os.environ.get("HUB_REQUIRE_BROWSER") == "1":
    raise RuntimeError(
        f"browser tests need {', '.join(_missing)} (apt install chromium chromium-driver)"
    )
pytestmark = pytest.mark.skipif(
    bool(_missing),
    reason=f"no {', '.join(_missing)}: apt install chromium chromium-driver",
)


@dataclass(frozen=True, slots=True)
class Known:
    """Records the tests look for, added to the demo data."""

    green_code: str
    green_name: str
    penalty_number: str
    noticed_code: str
    noticed_rating_id: int


@dataclass(frozen=True, slots=True)
class Portal:
    base: str
    known: Known
    downloads: Path


def add_known(database: Path) -> Known:
    """A green enterprise with a published penalty, and one grade in public notice."""
    today = date.today()
    engine = create_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        green = b.enterprise(
            code=b.credit_code(900_001), name="无锡市清源环保科技有限公司"
        )
        noticed = b.enterprise(
            code=b.credit_code(900_002), name="无锡市示例化工有限公司"
        )
        session.add_all([green, noticed])
        session.flush()
        session.add(
            b.rating(green, grade=Grade.GREEN, valid_from=date(today.year, 1, 1))
        )
        session.add(
            b.penalty(
                green,
                number="锡环罚〔2026〕901号",
                decision_date=today - timedelta(days=30),
                publication_end_date=today + timedelta(days=300),
                fine=Decimal("30000.00"),
            )
        )
        rating = b.rating(
            noticed,
            grade=Grade.YELLOW,
            valid_from=today + timedelta(days=20),
            status=RatingStatus.IN_PUBLIC_NOTICE,
        )
        rating.notice_until = today + timedelta(days=10)
        session.add(rating)
        session.commit()
        known = Known(
            green.code, green.name, "锡环罚〔2026〕901号", noticed.code, rating.id
        )
    engine.dispose()
    return known


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    home = tmp_path_factory.mktemp("portal")
    database = home / "hub.db"
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "HUB_KEYS_DIR": str(home / "keys"),
        "HUB_AUDIT_KEYS_DIR": str(home / "audit-keys"),
        "HUB_AUDIT_CHECKPOINT_FILE": str(home / "checkpoints.jsonl"),
        "HUB_LOG_LEVEL": "WARNING",
    }
    for command in (["db", "upgrade"], ["seed", "--enterprises", "300"]):
        subprocess.run(
            [HUB, *command], env=env, check=True, capture_output=True, cwd=home
        )
    known = add_known(database)
    port = free_port()
    process = subprocess.Popen(
        [HUB, "serve", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, f"hub serve exited with {process.returncode}"
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "hub serve did not come up"
            time.sleep(0.1)
        downloads = home / "downloads"
        downloads.mkdir()
        yield Portal(base, known, downloads)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def browser(portal: Portal, tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # The flags this machine's closed network needs (no background fetches).
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(portal.downloads),
            "download.prompt_for_download": False,
        },
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def shoot(driver: WebDriver, name: str, size: tuple[int, int] = DESKTOP) -> None:
    """Save a screenshot of the whole page as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(*size)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(size[0], max(size[1], int(height)))
    assert driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    driver.set_window_size(*size)


def test_search_and_open_an_enterprise(portal: Portal, browser: WebDriver) -> None:
    # given the search page at a phone's width
    browser.set_window_size(*PHONE)
    browser.get(portal.base + "/")
    shoot(browser, "home", PHONE)
    # when a visitor searches part of a name and opens the result
    box = browser.find_element(By.ID, "q")
    box.send_keys("清源环保")
    box.send_keys(Keys.ENTER)
    shoot(browser, "search-results", PHONE)
    browser.find_element(By.LINK_TEXT, portal.known.green_name).click()
    # then the enterprise page shows its grade and its published penalty
    assert browser.current_url == f"{portal.base}/enterprises/{portal.known.green_code}"
    badge = browser.find_element(By.CSS_SELECTOR, ".badge.GREEN")
    assert badge.is_displayed()
    assert portal.known.penalty_number in browser.page_source
    assert "张伟" not in browser.page_source  # the legal representative
    shoot(browser, "enterprise", PHONE)
    shoot(browser, "enterprise-desktop")


def test_a_malformed_code_is_explained(portal: Portal, browser: WebDriver) -> None:
    browser.get(portal.base + "/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("91320200MA1X0000XX")
    box.send_keys(Keys.ENTER)
    error = browser.find_element(By.ID, "q-error")
    # the API's own message for INVALID_CREDIT_CODE, in the page
    assert error.text.startswith("统一社会信用代码格式不正确"), error.text
    assert "character 17" in error.text, error.text
    shoot(browser, "search-malformed-code", PHONE)


def test_page_through_the_ratings(portal: Portal, browser: WebDriver) -> None:
    browser.get(portal.base + "/ratings")
    first = [
        r.text for r in browser.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    ]
    assert len(first) == 50
    shoot(browser, "ratings")
    browser.find_element(By.PARTIAL_LINK_TEXT, "下一页").click()
    second = [
        r.text for r in browser.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    ]
    assert second
    assert not set(first) & set(second)
    browser.find_element(By.PARTIAL_LINK_TEXT, "上一页").click()
    again = browser.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    assert len(again) == 50


def test_file_an_objection(portal: Portal, browser: WebDriver) -> None:
    # given the grades in public notice
    browser.get(portal.base + "/notice")
    shoot(browser, "notice")
    link = browser.find_element(
        By.CSS_SELECTOR,
        f"a[href='/notice/{portal.known.noticed_rating_id}/objection"
        f"?code={portal.known.noticed_code}']",
    )
    link.click()
    # when a visitor fills in the form by keyboard and sends it
    browser.find_element(By.ID, "name").send_keys("李明")
    browser.find_element(By.ID, "contact").send_keys("13800000000")
    browser.find_element(By.ID, "text").send_keys("评价所依据的处罚已经撤销，请复核。")
    shoot(browser, "objection-form")
    time.sleep(3.1)  # the form refuses to be sent sooner (anti-abuse)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    # then it is filed, and the confirmation shows no personal data
    assert "异议" in browser.find_element(By.TAG_NAME, "h1").text
    assert "李明" not in browser.page_source
    assert "13800000000" not in browser.page_source
    shoot(browser, "objection-filed")


def test_download_the_ratings_list(portal: Portal, browser: WebDriver) -> None:
    browser.get(portal.base + "/ratings")
    browser.find_element(By.LINK_TEXT, "CSV 文件").click()
    deadline = time.monotonic() + 15
    while True:
        done = [p for p in portal.downloads.iterdir() if p.suffix == ".csv"]
        if done:
            break
        assert time.monotonic() < deadline, list(portal.downloads.iterdir())
        time.sleep(0.2)
    table = read_table(done[0].read_bytes(), done[0].name)
    assert "统一社会信用代码" in table.header
    assert len(table.rows) > 50


def test_view_the_dashboard(portal: Portal, browser: WebDriver) -> None:
    browser.get(portal.base + "/dashboard")
    charts = browser.find_elements(By.CSS_SELECTOR, "figure svg")
    assert len(charts) >= 4
    captions = [c.text for c in browser.find_elements(By.TAG_NAME, "caption")]
    assert captions
    shoot(browser, "dashboard")
    shoot(browser, "dashboard-phone", PHONE)


def test_keyboard_users_can_skip_to_the_content(
    portal: Portal, browser: WebDriver
) -> None:
    browser.get(portal.base + "/ratings")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.text == "跳到正文"
    focused.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"


def test_pages_forbid_framing_and_foreign_scripts(portal: Portal) -> None:
    for path in ("/", "/ratings", "/notice", "/red-black", "/dashboard"):
        response = httpx.get(portal.base + path)
        assert response.status_code == 200, path
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "http" not in response.text.split("<body", 1)[0].replace(
            'content="width', ""
        ), path  # nothing loaded from elsewhere
