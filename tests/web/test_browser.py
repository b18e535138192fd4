"""End to end in headless chromium against the real app over HTTP (the sample shop, built and trained).

Each test opens its own browser context (its own cookies: its own shopper). Screenshots land in
``test-artifacts/web/``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.web.conftest import ADMIN_KEY, LiveApp, csrf_token, shoot, sign_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture()
def page(browser: Any, live_app: LiveApp) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, base_url=live_app.url)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def _feed_ids(page: Any) -> list[str]:
    return page.locator("#home-feed article.card").evaluate_all("els => els.map(e => e.dataset.itemId)")


def _sign_in(page: Any) -> None:
    """Sign in to the dashboard through its form, as a person would (the admin key from the environment)."""
    page.goto("/admin")  # not signed in: sent to the sign-in page, which returns here after
    page.wait_for_url(re.compile(r"/admin/sign-in\?next="))
    page.get_by_label("Admin API key").fill(ADMIN_KEY)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/admin"), page.url
    assert page.get_by_role("button", name="Sign out").is_visible()


def _pick_shopper(page: Any, index: int) -> str:
    """Sign in, then choose the ``index``-th demo shopper in the header's picker (it submits itself on change;
    only a signed-in admin may shop as someone else)."""
    _sign_in(page)
    page.goto("/shop")
    option = page.locator("#shopper option").nth(index)
    user_id = option.get_attribute("value")
    with page.expect_navigation():
        page.select_option("#shopper", user_id)
    assert page.locator("#shopper").input_value() == user_id
    return user_id


def test_search_with_a_price_constraint_shows_only_matching_products_and_the_chip(page: Any) -> None:
    page.goto("/shop")
    box = page.get_by_label("Search products")
    box.fill("tape under $10")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/shop/search"))
    chip = page.locator(".chip", has_text="Under $10")
    assert chip.count() == 1
    prices = [
        float(p)
        for p in page.locator("#search-results .price").evaluate_all("els => els.map(e => e.dataset.price)")
    ]
    assert prices, "the search returned nothing"
    assert max(prices) <= 10.0
    reasons = page.locator("#search-results .reason").all_inner_texts()
    assert len(reasons) == len(prices) and all(r.strip() for r in reasons)
    shoot(page, "search-price-chip")
    # removing the chip keeps the text and drops only the price constraint
    chip.get_by_role("link", name="Remove filter Under $10").click()
    page.wait_for_url(re.compile(r"qf=0"))
    assert page.locator(".chip", has_text="Under $10").count() == 0
    after = [
        float(p)
        for p in page.locator("#search-results .price").evaluate_all("els => els.map(e => e.dataset.price)")
    ]
    assert max(after) > 10.0


def test_a_brand_facet_filters_the_results_and_becomes_a_chip(page: Any) -> None:
    page.goto("/shop/search?q=tape")
    facet = page.locator(".facets details", has_text="Brand").locator("a").first
    brand = facet.inner_text()
    facet.click()
    page.wait_for_url(re.compile(r"brand="))
    assert page.locator(".chip", has_text=f"Brand: {brand}").count() == 1
    brands = page.locator("#search-results .meta").all_inner_texts()
    assert brands and set(brands) == {brand}


def test_autocomplete_offers_completions_and_works_from_the_keyboard(page: Any) -> None:
    page.goto("/shop")
    box = page.get_by_label("Search products")
    box.press_sequentially("therm", delay=30)
    options = page.locator("#q-suggestions [role=option]")
    options.first.wait_for()
    first = options.first.inner_text()
    assert first.lower().startswith("therm")
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    with page.expect_navigation():
        box.press("Enter")
    assert page.get_by_label("Search products").input_value() == first


def test_clicking_a_product_then_returning_home_changes_the_feed(page: Any) -> None:
    _pick_shopper(page, 1)
    before = _feed_ids(page)
    assert len(before) >= 8
    page.goto("/shop/search?q=thermometer")
    card = page.locator("#search-results article.card").first
    clicked = card.get_attribute("data-item-id")
    title = card.locator(".title").inner_text()
    card.locator("a").click()
    page.wait_for_url(re.compile(rf"/shop/product/{clicked}"))
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r"added=true"))
    assert page.get_by_role("status").inner_text() == "Added to your cart."
    page.get_by_role("link", name="Shop", exact=True).click()
    after = _feed_ids(page)
    shoot(page, "home-after-click")
    assert after != before
    reasons = " ".join(page.locator("#home-feed .reason").all_inner_texts())
    assert title[:25] in reasons, "no result explains itself by the product just clicked"


def test_dashboard_shows_the_shoppers_profile_updated_by_a_click(page: Any) -> None:
    user_id = _pick_shopper(page, 2)
    page.goto("/admin")
    events_before = int(page.locator("#profile-activity").inner_text().split()[0])
    page.goto("/shop/search?q=glue")
    card = page.locator("#search-results article.card").first
    clicked = card.get_attribute("data-item-id")
    card.locator("a").click()
    page.wait_for_url(re.compile(rf"/shop/product/{clicked}"))
    page.get_by_role("link", name="Dashboard").click()
    profile = page.locator("#profile-card")
    assert profile.get_attribute("data-user-id") == user_id
    assert int(page.locator("#profile-activity").inner_text().split()[0]) == events_before + 1
    assert "click" in page.locator("#profile-activity").inner_text()
    newest = page.locator("#recent-events tbody tr").first
    assert newest.get_attribute("data-item-id") == clicked
    assert newest.locator("td").nth(1).inner_text() == "click"
    shoot(page, "dashboard-profile")


def test_the_diversity_slider_widens_the_feed_from_the_keyboard(page: Any) -> None:
    _pick_shopper(page, 3)
    page.goto("/shop?diversity=0")
    narrow = page.locator("#home-feed article.card").evaluate_all("els => els.map(e => e.dataset.category)")
    slider = page.get_by_label("Diversity")
    slider.focus()
    with page.expect_navigation():
        slider.press("End")  # to 1.0; the slider submits itself on change
    assert "diversity=1" in page.url
    assert page.locator("#diversity-value").inner_text() == "1.0"
    wide = page.locator("#home-feed article.card").evaluate_all("els => els.map(e => e.dataset.category)")
    assert len(wide) == len(narrow)
    assert len(set(wide)) > len(set(narrow)), "a diversity of 1 should show more categories than 0"


def test_an_experiments_confidence_interval_chart_renders(page: Any, live_app: LiveApp) -> None:
    admin = {"X-API-Key": ADMIN_KEY}
    body = {
        "name": "feed-diversity",
        "surface": "recommend",
        "slots": ["home"],
        "variants": [
            {"name": "control", "share": 0.5, "params": {"diversity": 0.0}},
            {"name": "diverse", "share": 0.5, "params": {"diversity": 0.8}},
        ],
    }
    r = httpx.post(f"{live_app.url}/v1/experiments", json=body, headers=admin, timeout=30)
    assert r.status_code in (200, 201), r.text
    try:
        _experiment_traffic_and_chart(page, live_app)
    finally:
        httpx.post(f"{live_app.url}/v1/experiments/feed-diversity/stop", headers=admin, timeout=30)


def _experiment_traffic_and_chart(page: Any, live_app: LiveApp) -> None:
    # traffic: demo shoppers open the home feed and click its first item (real HTTP, real events), picked by
    # a signed-in admin (a hand-made shopper cookie would be ignored)
    _sign_in(page)
    page.goto("/shop")
    users = [u for u in page.locator("#shopper option").evaluate_all("els => els.map(e => e.value)") if u]
    with httpx.Client(base_url=live_app.url, timeout=60) as c:
        sign_in(c, ADMIN_KEY)
        token = csrf_token(c)
        for user in users:
            picked = c.post("/shop/shopper", data={"user_id": user, "csrf": token}, follow_redirects=False)
            assert picked.status_code == 303
            html = c.get("/shop").text
            assert f"Picked for {user}" in html
            link = re.search(r'href="(/shop/product/[^"]+slot=home[^"]*)"', html)
            assert link is not None
            c.get(link.group(1).replace("&amp;", "&"))
    time.sleep(2.5)  # impressions are flushed to the store every second
    page.goto("/admin")
    panel = page.locator('#experiments article[data-experiment="feed-diversity"]')
    charts = panel.locator("figure.chart-interval")
    assert charts.count() >= 3
    ctr = panel.locator("figure.chart-interval", has_text="CTR by arm")
    page.wait_for_function(
        "document.querySelectorAll('figure.chart-interval canvas[data-drawn=true]').length >= 3"
    )
    # drawn by Chart.js: one estimate per arm, at least one arm with an interval, on an axis from 0
    drawn = ctr.locator("canvas").evaluate(
        "c => { const ch = Chart.getChart(c); return {points: ch.data.datasets[1].data.length, "
        "intervals: ch.data.datasets[0].data.filter(v => v).length, min: ch.scales.x.min}; }"
    )
    assert drawn["points"] == 2 and drawn["intervals"] >= 1 and drawn["min"] == 0, drawn
    desc = ctr.locator("figcaption").text_content()
    assert "control:" in desc and "diverse:" in desc
    panel.scroll_into_view_if_needed()
    shoot(page, "dashboard-experiment", full_page=True)


def test_pages_fit_a_phone_and_work_from_the_keyboard(browser: Any, live_app: LiveApp) -> None:
    context = browser.new_context(viewport=PHONE, base_url=live_app.url, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        _sign_in(page)
        for path in ("/shop", "/shop/search?q=tape", "/admin"):
            page.goto(path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} scrolls sideways on a phone ({overflow}px)"
        page.goto("/shop")
        # with JavaScript the picker and the slider submit themselves: their buttons are hidden
        assert not page.get_by_role("button", name="Switch").is_visible()
        assert not page.get_by_role("button", name="Apply").is_visible()
        shoot(page, "phone-home", full_page=False)
        page.keyboard.press("Tab")  # the skip link comes first
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        for _ in range(12):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.classList.contains('product-link')"):
                break
        else:
            pytest.fail("no product card is reachable with the Tab key")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/shop/product/" in page.url
    finally:
        context.close()


#: Controls without an accessible name, images without alt text, SVG figures without a label (as a list).
A11Y_PROBLEMS = """() => {
  const problems = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label')
      || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled) problems.push(`unlabelled ${el.tagName.toLowerCase()} ${el.name || el.id}`);
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (!(el.innerText.trim() || el.getAttribute('aria-label'))) problems.push(`nameless ${el.outerHTML.slice(0, 60)}`);
  }
  for (const el of document.querySelectorAll('img')) if (!el.hasAttribute('alt')) problems.push(`img without alt ${el.src.slice(0, 40)}`);
  for (const el of document.querySelectorAll('svg[role=img]')) {
    if (!(el.getAttribute('aria-label') || el.querySelector('title'))) problems.push('svg figure without a label');
  }
  if (!document.documentElement.lang) problems.push('no lang on <html>');
  if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
  return problems;
}"""


def test_every_page_labels_its_controls_and_figures(page: Any) -> None:
    page.goto("/admin/sign-in")
    assert page.evaluate(A11Y_PROBLEMS) == [], "/admin/sign-in"
    _sign_in(page)
    for path in ("/shop", "/shop/search?q=glue+under+$20", "/shop/product/B0000223UV", "/admin?user=u0001"):
        page.goto(path)
        assert page.evaluate(A11Y_PROBLEMS) == [], path


def test_the_dashboard_asks_for_a_sign_in_and_the_csp_blocks_nothing(page: Any) -> None:
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/admin?user=u0001")
    assert "/admin/sign-in" in page.url and page.locator("#profile-card").count() == 0
    page.get_by_label("Admin API key").fill("not-the-key")
    page.get_by_role("button", name="Sign in").click()
    assert "not valid" in page.locator(".notice").inner_text()
    page.get_by_label("Admin API key").fill(ADMIN_KEY)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.locator("#profile-card").get_attribute("data-user-id") == "u0001"  # back where it was going
    page.goto("/shop/search?q=glue")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    page.goto("/admin")
    assert "/admin/sign-in" in page.url
    assert blocked == [], blocked
