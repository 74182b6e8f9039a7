"""A real browser on a phone's screen: Debian's headless Chromium (through its
chromedriver; nothing is downloaded) opens the passport page at 390×844, sends a request
with a photo, follows the status link, writes to the chat, watches the arrival estimate,
and rates the finished order. Screenshots go to the test's folder (``screens``); set
FSM_SCREENS to a folder to keep a copy.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlmodel import select

from fsm_core.models import Order, Position
from fsm_core.services import orders
from tests.web.conftest import finish, passport_token, setup_company, status_token

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WIDTH, HEIGHT = 390, 844


@pytest.fixture
def phone() -> Iterator[webdriver.Chrome]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(
            "Debian's chromium and chromium-driver are needed: "
            "apt-get install -y chromium chromium-driver (.ci/run installs them)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--lang=ru-RU",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "mobileEmulation",
        {
            "deviceMetrics": {"width": WIDTH, "height": HEIGHT, "pixelRatio": 2},
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
        },
    )
    options.add_experimental_option("prefs", {"intl.accept_languages": "ru-RU,ru"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Screens:
    def __init__(self, driver: webdriver.Chrome, folder: Path) -> None:
        self.driver = driver
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def shot(self, name: str) -> Path:
        """The whole page, as tall as it is, at the phone's width."""
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        height = int(metrics["cssContentSize"]["height"])
        data = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": WIDTH, "height": max(height, HEIGHT), "scale": 1},
            },
        )["data"]
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        path.write_bytes(base64.b64decode(data))
        self.taken.append(path)
        return path


def wait_for(driver: webdriver.Chrome, text: str) -> None:
    """Until the page shows ``text`` (through reloads: a page being replaced is retried)."""
    WebDriverWait(driver, 20, ignored_exceptions=(WebDriverException,)).until(
        lambda d: text in d.execute_script("return document.body ? document.body.innerText : ''")
    )


def test_from_the_label_to_the_rating_on_a_phone(world, fsm_server, phone, tmp_path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (160, 48), (11, 98, 196)).save(logo)
    setup_company(world, company_logo=str(logo))
    photo = tmp_path / "leak.jpg"
    Image.new("RGB", (1200, 900), (200, 210, 220)).save(photo, "JPEG")
    screens = Screens(phone, tmp_path / "screens")
    base = fsm_server.url

    phone.get(f"{base}/p/{passport_token(world)}")
    wait_for(phone, "Кондиционер Daikin FTXB35C")
    assert phone.execute_script("return window.innerWidth") == WIDTH
    # nothing is wider than the phone's screen
    assert phone.execute_script("return document.documentElement.scrollWidth") <= WIDTH
    assert phone.find_element(By.CSS_SELECTOR, "img.logo").get_attribute("naturalWidth") == "160"
    screens.shot("passport")
    # an empty description: the form comes back with the message beside the field
    phone.find_element(By.ID, "name").send_keys("Ольга Смирнова")
    phone.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(phone, "опишите, что случилось")
    assert phone.find_element(By.ID, "name").get_attribute("value") == "Ольга Смирнова"
    screens.shot("passport-error")
    phone.find_element(By.ID, "description").send_keys("Из внутреннего блока капает вода")
    phone.find_element(By.ID, "phone").send_keys("+7 921 345-67-01")
    phone.find_element(By.ID, "photo").send_keys(str(photo))
    phone.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(phone, "Заявка принята")
    with world.db.reader() as s:
        order = s.exec(select(Order)).one()
    assert order.number in phone.find_element(By.ID, "number").text
    screens.shot("received")

    phone.find_element(By.ID, "status-link").click()
    wait_for(phone, f"Заявка № {order.number}")
    phone.find_element(By.ID, "text").send_keys("Подъезд со двора, код 2580")
    phone.find_element(By.CSS_SELECTOR, "#chat button[type=submit]").click()
    wait_for(phone, "Подъезд со двора, код 2580")
    assert "Смирнова Ольга Викторовна" in phone.find_element(By.ID, "chat").text
    screens.shot("status-chat")

    # the technician drives over: assigned, en route, a fix 2 km away a minute ago
    with world.db.transaction() as s:
        orders.assign_order(session=s, order_id=order.id, assignee_id=world.ivanov.id, actor="t")
        orders.move_order(session=s, order_id=order.id, stage="en_route", actor="t")
        s.add(
            Position(
                employee_id=world.ivanov.id,
                fix_at=datetime.now(UTC) - timedelta(minutes=1),
                latitude=59.931172 + 2000 / 111_195.0,
                longitude=30.360891,
                source="osmand",
            )
        )
    phone.refresh()
    wait_for(phone, "приедет около")
    assert "Специалист в пути" in phone.find_element(By.ID, "stage").text
    assert "по местоположению специалиста" in phone.find_element(By.ID, "eta").text
    screens.shot("status-en-route")

    with world.db.reader() as s:
        order = s.get(Order, order.id)
    finish(world, order)
    phone.refresh()
    wait_for(phone, "Оцените работу")
    assert phone.find_element(By.ID, "act").get_attribute("href").endswith("/act.pdf")
    screens.shot("status-done")
    for field, score in (("promptness", 5), ("accuracy", 4), ("communication", 5)):
        phone.find_element(By.CSS_SELECTOR, f"label[for={field}-{score}]").click()
    phone.find_element(By.ID, "comment").send_keys("Быстро и аккуратно")
    screens.shot("rating-filled")
    phone.find_element(By.CSS_SELECTOR, "#rating button[type=submit]").click()
    wait_for(phone, "Ваша оценка: 4,67 из 5")
    screens.shot("rated")

    assert status_token(world, order.id) in phone.current_url
    keep = os.environ.get("FSM_SCREENS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for path in screens.taken:
            shutil.copy(path, Path(keep) / path.name)
