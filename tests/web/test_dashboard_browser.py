"""The dashboard's new pages in headless Chromium against the real app (the sample shop, built and trained):
charts drawn by the vendored Chart.js with axes that fit, search analytics after real searches, a pin rule set
on the page moving an item to the top of the home feed, the privacy ledger, and pages that fit a phone.
Screenshots land in ``test-artifacts/web/``."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from tests.web.conftest import ADMIN_KEY, LiveApp, csrf_token, shoot, sign_in
from tests.web.test_browser import A11Y_PROBLEMS, PHONE, _sign_in, page  # noqa: F401  (page is a fixture)

NEW_PAGES = ("/admin/trends", "/admin/search-analytics", "/admin/rules", "/admin/privacy")

#: Per drawn chart: its title, value-axis range and the largest value it was given.
CHART_STATE = """() => Array.from(document.querySelectorAll('figure.chart canvas')).map(c => {
  const ch = Chart.getChart(c);
  if (!ch) return null;
  const axis = ch.options.indexAxis === 'y' ? ch.scales.x : ch.scales.y;
  const values = ch.data.datasets.flatMap(d => d.data).flatMap(v => Array.isArray(v) ? v : [v && typeof v === 'object' ? v.x : v])
    .filter(v => typeof v === 'number');
  return {title: ch.options.plugins.title.text, min: axis.min, max: axis.max, top: Math.max(...values), drawn: c.dataset.drawn};
})"""


def _csp_watch(pg: Any) -> list[str]:
    blocked: list[str] = []
    pg.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    return blocked


def _shop_traffic(live_app: LiveApp) -> None:
    """Demo shoppers open the home feed and click its first product; then the impressions are flushed."""
    with httpx.Client(base_url=live_app.url, timeout=60) as c:
        sign_in(c, ADMIN_KEY)
        token = csrf_token(c)
        users = re.findall(
            r'<option value="([^"]+)"', c.get("/shop").text.split('id="shopper"')[1].split("</select>")[0]
        )
        for user in [u for u in users if u][:4]:
            assert (
                c.post(
                    "/shop/shopper", data={"user_id": user, "csrf": token}, follow_redirects=False
                ).status_code
                == 303
            )
            link = re.search(r'href="(/shop/product/[^"]+slot=home[^"]*)"', c.get("/shop").text)
            assert link is not None
            c.get(link.group(1).replace("&amp;", "&"))
    time.sleep(2.5)  # impressions are flushed to the store every second


def test_trends_page_draws_every_chart_with_axes_that_fit(page: Any, live_app: LiveApp) -> None:  # noqa: F811
    _shop_traffic(live_app)
    blocked = _csp_watch(page)
    _sign_in(page)
    page.goto("/admin/trends?fresh=1")  # not a copy of the store made by an earlier test
    page.wait_for_function("document.querySelectorAll('canvas[data-drawn=true]').length >= 4")
    charts = page.evaluate(CHART_STATE)
    by_title = {c["title"]: c for c in charts if c}
    rates = by_title["CTR and conversion per day"]
    assert rates["min"] == 0 and 0 < rates["max"] <= 1 and rates["top"] <= rates["max"]
    for c in by_title.values():
        assert c["drawn"] == "true" and c["min"] <= 0 <= c["max"], c
        assert c["top"] <= c["max"], f"{c['title']}: {c['top']} drawn above the axis top {c['max']}"
    traffic = by_title["Traffic per day"]
    assert traffic["top"] >= 4 and traffic["max"] <= 2 * traffic["top"]  # the axis fits: not 10x the data
    top = page.locator("#top-items tbody tr")
    assert top.count() >= 1
    assert top.first.locator("a").count() == 1  # a catalogue item links to its page
    shoot(page, "dashboard-trends")
    # one day only, from the form
    last = page.locator("#range-end").input_value()
    page.locator("#range-start").fill(last)
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert f"start={last}" in page.url and "(1 day, UTC)" in page.content()
    page.wait_for_function("document.querySelectorAll('canvas[data-drawn=true]').length >= 4")
    page.select_option("#top-sort", "views")  # submits itself
    page.wait_for_url(re.compile(r"sort=views"))
    assert blocked == [], blocked


def test_search_analytics_shows_what_shoppers_searched(page: Any, live_app: LiveApp) -> None:  # noqa: F811
    blocked = _csp_watch(page)
    for query in ("wood glue", "wood glue", "wood glue", "qxzjvw"):
        page.goto(f"/shop/search?q={query.replace(' ', '+')}")
    nothing = page.locator("#search-results article").count() == 0
    time.sleep(2.5)  # impressions flush
    _sign_in(page)
    page.goto("/admin/search-analytics?fresh=1")
    row = page.locator('#top-queries-table tr[data-query="wood glue"]')
    assert row.count() == 1
    assert int(row.locator("td").nth(1).inner_text().replace(",", "")) >= 3
    if nothing:  # the search found nothing for the made-up word: it must be listed as such
        assert page.locator('#zero-result-table tr[data-query="qxzjvw"]').count() == 1
    else:
        assert page.locator('#top-queries-table tr[data-query="qxzjvw"]').count() == 1
    page.wait_for_selector("#searches-per-day canvas[data-drawn=true]")
    shoot(page, "dashboard-search-analytics")
    assert blocked == [], blocked


def _feed_ids(pg: Any) -> list[str]:
    return pg.locator("#home-feed article.card").evaluate_all("els => els.map(e => e.dataset.itemId)")


def test_a_pin_rule_set_on_the_page_puts_the_item_first_in_the_home_feed(page: Any) -> None:  # noqa: F811
    blocked = _csp_watch(page)
    _sign_in(page)
    page.goto("/shop")
    before = _feed_ids(page)
    assert len(before) >= 5
    pinned = before[4]
    page.goto("/admin/rules")
    page.select_option("#rule-action", "pin")
    page.select_option("#rule-target", "item_id")
    page.locator("#rule-value").fill(pinned)
    page.locator("#rule-position").fill("1")
    page.locator("#slot-home").check()
    page.locator("#rule-note").fill("browser test")
    with page.expect_navigation():
        page.get_by_role("button", name="Add rule").click()
    assert "Rule added" in page.locator(".flash").inner_text()
    row = page.locator("#rules-table tbody tr")
    assert row.count() == 1 and f"pin item {pinned} at 1" in row.inner_text()
    shoot(page, "dashboard-rules")
    page.goto("/shop")
    assert _feed_ids(page)[0] == pinned
    page.goto("/admin/rules")
    with page.expect_navigation():
        row.get_by_role("button").click()
    assert page.locator("#no-rules").is_visible()
    page.goto("/shop")
    assert _feed_ids(page)[0] != pinned
    assert blocked == [], blocked


def test_privacy_page_lists_a_release_and_the_remaining_budget(page: Any, live_app: LiveApp) -> None:  # noqa: F811
    from shelfwise.privacy.releases import ledger_of

    state = live_app.app.state
    ledger = ledger_of(state.store, state.settings.privacy.dp)
    left = ledger.remaining()["epsilon"]
    ledger.spend(0.25, 0.0, "browser test: event counts per day")
    _sign_in(page)
    page.goto("/admin/privacy")
    assert float(page.locator("#epsilon-remaining").inner_text()) == round(left - 0.25, 6)
    assert page.locator("#releases-table tbody tr").first.inner_text().count("browser test") == 1
    assert 0 < float(page.locator("#budget-meter").get_attribute("value") or 0) <= 1
    shoot(page, "dashboard-privacy")


def test_the_new_pages_fit_a_phone_label_their_controls_and_show_every_latency_column(
    browser: Any,
    live_app: LiveApp,
    page: Any,  # noqa: F811
) -> None:
    httpx.post(
        f"{live_app.url}/v1/recommendations",
        json={"slot": "home", "k": 5},
        headers={"X-API-Key": ADMIN_KEY},
        timeout=30,
    )
    _sign_in(page)
    for path in NEW_PAGES:  # a desktop window holds every page without sideways scrolling
        page.goto(path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{path} scrolls sideways on a desktop ({overflow}px)"
        assert page.evaluate(A11Y_PROBLEMS) == [], path  # labelled controls and figures, one h1
    page.goto("/admin")
    errors = page.locator("#latency-table thead th").last
    assert errors.inner_text() == "errors"
    box, panel = errors.bounding_box(), page.locator("#service").bounding_box()
    assert box and panel and box["x"] + box["width"] <= panel["x"] + panel["width"] + 1, (box, panel)
    context = browser.new_context(viewport=PHONE, base_url=live_app.url, is_mobile=True, has_touch=True)
    try:
        phone = context.new_page()
        _sign_in(phone)
        for path in ("/admin", *NEW_PAGES):
            phone.goto(path)
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} scrolls sideways on a phone ({overflow}px)"
        phone.goto("/admin/trends")
        phone.wait_for_function("document.querySelectorAll('canvas[data-drawn=true]').length >= 4")
        shoot(phone, "phone-dashboard-trends")
    finally:
        context.close()
