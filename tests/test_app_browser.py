"""The app in a real browser: Playwright drives Debian's chromium (no browser download needed).

Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it).
Screenshots go to test-artifacts/ (gitignored).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_app import make_test_models, running_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMEOUT_MS = 60_000

@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with running_app(make_test_models(tmp_path_factory.mktemp("browser-models"))) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url):
    from playwright import sync_api

    assert CHROMIUM.is_file(), "Debian's chromium is missing: apt-get install -y chromium"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(app_url, wait_until="domcontentloaded")
            yield page
        finally:
            browser.close()


def test_generate_shows_an_image(page):
    page.get_by_role("button", name="Generate").click()
    image = page.locator("#sample-output img").first
    image.wait_for(state="visible")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    natural = image.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    assert natural == [122, 122]  # 16 samples of 28 px in a 4x4 grid with 2 px padding
    # The model card is rendered without its YAML front matter.
    card = page.locator("#model-card")
    assert "dcgan on MNIST" in card.inner_text() and "library_name" not in card.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app-sample.png"), full_page=True)


def test_class_grid_of_unconditional_model_shows_the_error_in_the_page(page):
    page.get_by_role("tab", name="Class grid").click()
    page.get_by_role("button", name="Draw class grid").click()
    toast = page.get_by_text("is unconditional (it has no classes)")
    toast.first.wait_for(state="visible")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app-class-grid-error.png"))
