"""Screenshots of a running storefront and dashboard for the README (docs/img/storefront.png, dashboard.png).

Start the demo first (``shelfwise demo``), then::

    python scripts/web_screenshots.py --url http://127.0.0.1:8000 --out docs/img

It drives the system chromium (``--chromium``, default ``chromium`` on PATH) with Playwright: picks a demo
shopper, searches with a price constraint, opens the dashboard on that shopper. With ``--admin-key KEY`` it
first starts a two-arm experiment on the home feed and sends a little traffic through the storefront (each demo
shopper opens the home feed and clicks its first product), so the dashboard has an experiment to chart.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

log = logging.getLogger("web_screenshots")


EXPERIMENT = {
    "name": "feed-diversity",
    "surface": "recommend",
    "slots": ["home"],
    "variants": [
        {"name": "control", "share": 0.5, "params": {"diversity": 0.0}},
        {"name": "diverse", "share": 0.5, "params": {"diversity": 0.6}},
    ],
}


def traffic(url: str, admin_key: str, users: list[str]) -> None:
    """Start :data:`EXPERIMENT` (if new) and let each shopper open the home feed and click its first item."""
    r = httpx.post(f"{url}/v1/experiments", json=EXPERIMENT, headers={"X-API-Key": admin_key}, timeout=30)
    log.info("experiment: %s", r.status_code)
    for user in users:
        with httpx.Client(base_url=url, cookies={"sw_shopper": user}, timeout=60) as c:
            link = re.search(r'href="(/shop/product/[^"]+slot=home[^"]*)"', c.get("/shop").text)
            if link:
                c.get(link.group(1).replace("&amp;", "&"))
    time.sleep(2)  # impressions reach the store within a second


def main() -> None:
    """Take the two README screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of the running app")
    parser.add_argument("--out", type=Path, default=Path("docs/img"), help="folder for the PNG files")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--query", default="tape under $10", help="the storefront search shown")
    parser.add_argument("--shopper", type=int, default=1, help="which demo shopper of the picker (1 = first)")
    parser.add_argument("--admin-key", default=None, help="start an experiment and send traffic first")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 860}, base_url=args.url)
        page.goto("/shop")
        users = [u for u in page.locator("#shopper option").evaluate_all("els => els.map(e => e.value)") if u]
        if args.admin_key:
            traffic(args.url, args.admin_key, users)
        user = users[args.shopper - 1]
        with page.expect_navigation():
            page.select_option("#shopper", user)
        page.goto(f"/shop/search?q={args.query}")
        page.screenshot(path=str(args.out / "storefront.png"))
        page.goto("/admin")
        box = page.locator("#experiments").bounding_box()  # stats, segments, profile and experiments
        bottom = (box["y"] + box["height"] + 16) if box else 1600
        page.screenshot(
            path=str(args.out / "dashboard.png"),
            full_page=True,
            clip={"x": 0, "y": 0, "width": 1280, "height": bottom},
        )
        browser.close()
    log.info("wrote %s and %s", args.out / "storefront.png", args.out / "dashboard.png")


if __name__ == "__main__":
    main()
