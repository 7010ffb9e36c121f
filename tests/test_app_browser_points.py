"""A 2-D model in a real browser (Playwright and Debian's chromium, as tests/test_app_browser.py): the Sample
tab shows its points over the modes, unscaled, and the Score tab streams the published 2-D protocol's scores.
Keeps screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

from tests.test_app import make_test_models, running_app
from tests.test_app_browser import loaded_image, open_tab, page, press, screenshot  # noqa: F401
from tests.test_app_points import POINTS, make_points_model


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):  # (the page fixture of test_app_browser.py opens it)
    folder = tmp_path_factory.mktemp("browser-point-models")
    models = make_test_models(folder)
    with running_app(models, extra=(make_points_model(folder),)) as url:
        yield url


def pick(page, name: str) -> None:  # noqa: F811  (page: the fixture)
    picker = page.locator("#model-picker input")
    picker.click()
    page.get_by_role("option", name=name, exact=True).click()
    page.wait_for_function(f"() => document.querySelector('#model-picker input').value === '{name}'")


def test_sample_tab_draws_a_2d_model_as_a_scatter(page):  # noqa: F811
    pick(page, POINTS)
    page.wait_for_function("() => document.querySelector('#model-summary').innerText.includes('2-D points')")
    open_tab(page, "Sample")
    page.get_by_role("button", name="Generate").click()
    width, height = loaded_image(page, "#sample-output")
    assert (width, height) == (364, 376)  # gan_hub.scatter's picture, no larger than the box shows unscaled
    screenshot(page, "sample-points")


def test_score_tab_streams_the_2d_protocol(page):  # noqa: F811
    press(page, "Score", "Score")
    page.wait_for_function("() => document.querySelector('#score-status').innerText.includes('Done.')")
    text = page.locator("#score-text").inner_text()
    assert "modes captured@" in text and "of 8 (ring8-unit)" in text and "final, exact for all samples" in text
    assert "Real data (the mixture, the same N): modes captured 8 of 8" in text
    for plot in ("#score-plot", "#score-histogram"):
        page.locator(f"{plot} img, {plot} svg, {plot} canvas").first.wait_for(state="visible")
    screenshot(page, "score-points")
