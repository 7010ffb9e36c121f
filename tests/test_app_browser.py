"""The app in a real browser: Playwright drives Debian's chromium (no browser download needed) through
every tab, checks what a user sees, and keeps a screenshot of each tab in test-artifacts/ (gitignored).

Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it).
The tests share one page and run in file order, like a user going from tab to tab.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_app import make_test_models, running_app

ROOT = Path(__file__).resolve().parents[1]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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
            page = browser.new_page(viewport={"width": 1280, "height": 1100}, accept_downloads=True)
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(app_url, wait_until="domcontentloaded")
            yield page
        finally:
            browser.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"app-{name}.png"), full_page=True)


def loaded_image(page, selector: str):
    """The first <img> under ``selector`` once it has loaded; returns its natural [width, height]."""
    image = page.locator(f"{selector} img").first
    image.wait_for(state="visible")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    return image.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def press(page, tab: str, button: str) -> None:
    """Go to ``tab`` and press its ``button``."""
    open_tab(page, tab)
    page.get_by_role("button", name=button, exact=True).click()


def picked_model(page) -> str:
    return page.locator("#model-picker input").input_value()


def error_toast(page, text: str):
    toast = page.get_by_text(text)
    toast.first.wait_for(state="visible")
    return toast


def test_browse_shows_every_model_and_a_click_selects_it(page):
    gallery = page.locator("#model-gallery")
    gallery.get_by_text("dcgan-tiny · dcgan · mnist").first.wait_for(state="visible")
    assert gallery.get_by_text("cgan-tiny · cgan · mnist").count() >= 1
    table = page.locator("#model-table")
    page.wait_for_function("() => document.querySelector('#model-table').innerText.includes('Mirza & Osindero, 2014')")
    assert "scorer=mnist-classifier, num_samples=10000, seed=0; classifier IS: splits=10" in table.inner_text()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#model-table img')].some(img => img.complete && img.naturalWidth > 0)"
    )  # thumbnails from /v1/.../thumbnail.png
    page.wait_for_function("() => document.querySelector('#model-card').innerText.includes('dcgan on MNIST')")
    assert "library_name" not in page.locator("#model-card").inner_text()  # front matter stripped
    assert picked_model(page) == "dcgan-tiny"
    screenshot(page, "browse")
    gallery.locator("img").nth(1).click()  # the cgan-tiny thumbnail
    page.wait_for_function("() => document.querySelector('#model-picker input').value === 'cgan-tiny'")
    page.wait_for_function("() => document.querySelector('#model-card').innerText.includes('cgan on MNIST')")


def test_sample_tab_draws_a_grid_with_a_download_button(page):
    open_tab(page, "Sample")
    page.get_by_role("button", name="Generate").click()
    assert loaded_image(page, "#sample-output") == [122, 122]  # 16 samples of 28 px, 4x4, 2 px padding
    assert (
        page.locator("#sample-output").get_by_role("button", name="Download").count() >= 1
        or page.locator("#sample-output a[download]").count() >= 1
    )
    screenshot(page, "sample")


def test_out_of_range_seed_shows_its_message_in_the_page(page):
    # (the sliders clamp what is typed into them; a number box passes it on and the server names the limit)
    seed = page.get_by_label("seed", exact=True).first
    seed.fill("-5")
    page.get_by_role("button", name="Generate").click()
    error_toast(page, "seed must be between 0 and 4294967295, got -5")
    screenshot(page, "sample-error")
    seed.fill("0")


def test_a_bad_repo_id_shows_its_message_in_the_page(page):
    open_tab(page, "Browse")
    page.get_by_text("Add a model: a Hub repo id", exact=True).click()  # (folders: only where the operator allows)
    page.locator("#add-model-box textarea, #add-model-box input").first.fill("not a repo id!")
    page.locator("#add-model-button").click()
    error_toast(page, "is not a Hub repo id (org/name): this app adds models from the Hub only")
    screenshot(page, "add-model-error")


def test_interpolate_tab_shows_frames_and_exports(page):
    press(page, "Interpolate", "Interpolate")
    exports = page.locator("#exports")
    exports.get_by_text(".mp4").first.wait_for(state="visible")
    assert exports.get_by_text(".gif").count() >= 1
    assert loaded_image(page, "#interpolation-output") == [8 * 30 + 2, 32]  # 8 frames in one row
    width, height = loaded_image(page, "#animation")
    assert width >= 224 and width == height
    screenshot(page, "interpolate")


def test_class_grid_tab_names_the_rows(page):
    press(page, "Class grid", "Draw class grid")
    width, height = loaded_image(page, "#class-grid-output")
    assert height > 10 * 28 * 2  # ten class rows, scaled up
    assert "Rows, top to bottom, are the classes 0, 1, 2" in page.locator("body").inner_text()
    screenshot(page, "class-grid")


def test_score_tab_streams_and_stops(page):
    open_tab(page, "Score")
    scorer = page.locator("#scorer input")
    page.wait_for_function("() => document.querySelector('#scorer input').value === 'mnist-classifier'")
    assert scorer.input_value() == "mnist-classifier"  # preselected: it runs here (its weights ship)
    for field, value in (("#score-n", "10000"), ("#score-batch", "100")):
        box = page.locator(f"{field} input[type=number]")
        box.fill(value)
        box.press("Enter")
    page.get_by_role("button", name="Score", exact=True).click()
    text = page.locator("#score-text")
    page.wait_for_function("() => document.querySelector('#score-text').innerText.includes('running,')")
    page.locator("#score-plot img, #score-plot svg, #score-plot canvas").first.wait_for(state="visible")
    page.get_by_role("button", name="Stop").click()
    page.wait_for_timeout(1500)
    stopped = text.inner_text()
    assert "running," in stopped and "of 10000 samples" in stopped  # it did not run to the end
    page.wait_for_timeout(1500)
    assert text.inner_text() == stopped  # nothing arrives after Stop
    assert "Stopped." in page.locator("#score-status").inner_text()
    screenshot(page, "score")


def test_compare_tab_puts_models_side_by_side(page):
    press(page, "Compare", "Compare")
    captions = page.locator("#compare-output").get_by_text("(dcgan, latent 100) · seed 0")
    captions.first.wait_for(state="visible")
    assert page.locator("#compare-output").get_by_text("cgan-tiny (cgan").count() >= 1
    assert page.locator("#compare-output img").count() == 2
    screenshot(page, "compare")


def test_class_grid_of_unconditional_model_shows_the_error_in_the_page(page):
    open_tab(page, "Browse")
    page.locator("#model-gallery img").nth(0).click()  # dcgan-tiny
    page.wait_for_function("() => document.querySelector('#model-picker input').value === 'dcgan-tiny'")
    press(page, "Class grid", "Draw class grid")
    error_toast(page, "is unconditional (it has no classes)")
    screenshot(page, "class-grid-error")


# the words of the matched elements' text that the layout breaks over two lines
WORDS_SPLIT_ACROSS_LINES = """(selector) => [...document.querySelectorAll(selector)].flatMap((element) => {
  const split = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    for (const match of node.textContent.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
      if (lines.size > 1) split.push(match[0]);
    }
  }
  return split;
})"""

# the text of the matched elements whose content is wider than their box (cut off or spilling over)
CLIPPED_TEXT = """(selector) => [...document.querySelectorAll(selector)]
  .filter((element) => [element, ...element.querySelectorAll('*')].some((e) => e.scrollWidth > e.clientWidth + 1))
  .map((element) => element.textContent.trim())"""


def test_browse_the_whole_zoo(page):
    """The bundled zoo (34 models): the gallery and the leaderboard list them all, best first, and nothing
    is crowded: no header word split or cut off, no caption cut off under its thumbnail."""
    import json

    from gan_hub.app import build_demo, launch
    from gan_hub.app.ui import close
    from tests.test_app import free_port

    zoo = ROOT / "model_zoo"
    names = sorted(p.name for p in zoo.iterdir() if (p / "config.json").is_file())
    best = max(
        (n for n in names if n.endswith("-mnist")),
        key=lambda n: next(
            s["mean"]
            for s in json.loads((zoo / n / "metrics.json").read_text())["scores"]
            if s["name"] == "classifier IS@10k"
        ),
    )
    demo = build_demo([], zoo_dir=zoo)
    port = free_port()
    launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    zoo_page = page.context.browser.new_page(viewport={"width": 1280, "height": 1100})  # the same browser
    try:
        zoo_page.set_default_timeout(TIMEOUT_MS)
        zoo_page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
        zoo_page.locator("#model-gallery").get_by_text(names[-1], exact=True).first.wait_for(state="attached")
        assert zoo_page.locator("#model-gallery img").count() == len(names)
        # the table renders the rows in view (it scrolls): it counts them all and a header
        zoo_page.wait_for_function(
            "(rows) => document.querySelector('#model-table [role=grid]')?.getAttribute('aria-rowcount') === rows",
            arg=str(len(names) + 1),
        )
        rows = zoo_page.evaluate(
            "() => [...document.querySelectorAll('#model-table [role=row]')]"
            ".map((r) => r.innerText.trim()).filter(Boolean)"
        )
        body = [r for r in rows if not r.startswith("thumbnail")]
        assert body and best in body[0], body[:2]  # the best classifier IS first
        headers = "#model-table thead th"
        assert zoo_page.evaluate(WORDS_SPLIT_ACROSS_LINES, headers) == []  # not "classifie / r IS"
        assert zoo_page.evaluate(CLIPPED_TEXT, headers) == []  # nor "classifie" cut at the column's edge
        assert zoo_page.evaluate(CLIPPED_TEXT, "#model-gallery .caption-label") == []  # not "fgan-reverse-k…"
        screenshot(zoo_page, "browse-zoo")
    finally:
        zoo_page.close()
        close(demo)
