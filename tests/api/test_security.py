"""The front door of a real ``shelfwise serve --no-web`` process: oversized bodies refused before they are read
(server memory measured with psutil), the key checked before the body, failed authentication rate-limited per
address, security headers, CORS off unless configured, and no pages mounted.

The served store is the sample shop ingested but not built: no model is needed to guard a door.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shelfwise.api.server import free_port

ADMIN_KEY = "security-tests-admin-" + os.urandom(8).hex()
MB = 1 << 20


@dataclass
class Served:
    url: str
    port: int
    pid: int


@pytest.fixture(scope="module")
def raw_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shelfwise.demo import run_demo

    path = tmp_path_factory.mktemp("security") / "raw"
    run_demo(path)
    return path


@pytest.fixture(scope="module")
def served(raw_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``shelfwise serve --no-web`` as a process, settled (nothing loading) before the tests measure it."""
    store = tmp_path_factory.mktemp("security-served") / "shop"
    shutil.copytree(raw_store, store)
    port = free_port()
    log = (store.parent / "stderr.txt").open("w+")
    env = {**os.environ, "SHELFWISE_ADMIN_KEY": ADMIN_KEY}
    cmd = [sys.executable, "-m", "shelfwise", "serve", "--store", str(store), "--port", str(port), "--no-web"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                body = httpx.get(f"{url}/health/ready", timeout=5).json()
                if "loading" not in body.get("components", {}).values():
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            log.seek(0)
            pytest.fail(f"serve did not settle: {log.read()[-2000:]}")
        yield Served(url, port, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def _rss(pid: int) -> int:
    import psutil

    return int(psutil.Process(pid).memory_info().rss)


def _push(port: int, head: bytes, body_bytes: int, chunked: bool) -> tuple[int | None, int]:
    """Send ``head`` then up to ``body_bytes`` of body in 256 KiB pieces, stopping as soon as the server answers
    (or closes); returns (the status it answered with, body bytes sent)."""
    piece = b"x" * (256 * 1024)
    sent = 0
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head)
        while sent < body_bytes:
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                break
            data = (b"%x\r\n" % len(piece) + piece + b"\r\n") if chunked else piece
            try:
                s.sendall(data)
            except OSError:
                break
            sent += len(piece)
        s.settimeout(10)
        try:
            while b"\r\n" not in answer:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except OSError:
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, sent


def _record(what: str, figures: dict[str, object]) -> None:
    """Keep the measured figures in ``test-artifacts/security/body_limits.json`` (git-ignored) for reports."""
    import json

    path = Path(__file__).resolve().parents[2] / "test-artifacts" / "security" / "body_limits.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[what] = figures
    path.write_text(json.dumps(data, indent=2))


def _head(path: str, extra: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{extra}\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("what", "path", "extra", "chunked", "expected"),
    [
        ("declared 100 MB, no key", "/v1/items", f"Content-Length: {100 * MB}\r\n", False, 413),
        ("chunked 100 MB, no key", "/v1/items", "Transfer-Encoding: chunked\r\n", True, 401),
        (
            "chunked 100 MB, admin key, 1 MiB route",
            "/v1/search",
            f"Transfer-Encoding: chunked\r\nAuthorization: Bearer {ADMIN_KEY}\r\n",
            True,
            413,
        ),
    ],
)
def test_a_100_mb_body_is_refused_without_the_server_growing(
    served: Served, what: str, path: str, extra: str, chunked: bool, expected: int
) -> None:
    before = _rss(served.pid)
    status, sent = _push(served.port, _head(path, extra), 100 * MB, chunked)
    time.sleep(0.5)
    grown = _rss(served.pid) - before
    _record(
        what, {"status": status, "rss_growth_mb": round(grown / MB, 2), "body_mb_sent": round(sent / MB, 2)}
    )
    assert status == expected, (what, status, sent)
    assert grown < 20 * MB, f"{what}: the server grew by {grown / MB:.1f} MB"
    assert sent < 40 * MB, f"{what}: {sent / MB:.0f} MB went out before the answer"
    assert httpx.get(f"{served.url}/health/live", timeout=10).status_code == 200  # still serving


def test_413_is_json_saying_what_to_fix(served: Served) -> None:
    r = httpx.post(
        f"{served.url}/v1/search",
        content=b"{" + b" " * (2 * MB) + b"}",
        headers={"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 413
    err = r.json()["error"]
    assert err["code"] == "body_too_large" and "max_body_bytes" in err["fix"] and r.headers["x-request-id"]


def test_bulk_routes_take_bigger_bodies_than_the_default_cap(served: Served) -> None:
    rows = [
        {"user_id": f"bulk-{i}", "item_id": "B0000223UV", "type": "view", "session_id": f"{i:0>100}"}
        for i in range(9_000)
    ]
    body = httpx.Request("POST", "/", json={"events": rows}).content
    assert len(body) > MB  # above the 1 MiB cap of other routes
    r = httpx.post(
        f"{served.url}/v1/events",
        content=body,
        headers={"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"},
        timeout=120,
    )
    assert r.status_code != 413, r.text[:300]


def test_failed_authentication_is_limited_per_address(served: Served) -> None:
    # a client address of its own (loopback has 127/8), so other tests' failures do not count here
    transport = httpx.HTTPTransport(local_address="127.0.0.77")
    with httpx.Client(base_url=served.url, transport=transport, timeout=30) as c:
        codes = [
            c.post("/v1/search", json={"query": "x"}, headers={"X-API-Key": f"wrong-{i}"}).status_code
            for i in range(21)
        ]
        assert codes == [401] * 20 + [429]
        right = c.post("/v1/search", json={"query": "x"}, headers={"X-API-Key": ADMIN_KEY})
        assert right.status_code == 429 and int(right.headers["Retry-After"]) >= 1
        assert right.json()["error"]["code"] == "too_many_failures"
    other = httpx.HTTPTransport(local_address="127.0.0.78")
    with httpx.Client(base_url=served.url, transport=other, timeout=30) as c:
        r = c.post("/v1/search", json={"query": "x"}, headers={"X-API-Key": ADMIN_KEY})
        assert r.status_code not in (401, 429)  # another address is not blocked


def test_no_web_mounts_no_pages_and_api_answers_carry_headers(served: Served) -> None:
    for path in ("/shop", "/admin", "/admin/sign-in", "/web/static/shelfwise.css"):
        assert httpx.get(f"{served.url}{path}", timeout=10).status_code == 404, path
    r = httpx.get(f"{served.url}/health/live", timeout=10)
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    docs = httpx.get(f"{served.url}/docs", timeout=10)
    # Swagger UI is served by the app itself (no CDN), under a same-origin policy without inline scripts
    assert docs.status_code == 200 and "script-src 'self';" in docs.headers["content-security-policy"]
    assert httpx.get(f"{served.url}/docs/assets/swagger-ui-bundle.js", timeout=10).status_code == 200


def test_cors_is_off_unless_origins_are_configured(served: Served, raw_store: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from shelfwise.api import create_app
    from shelfwise.config import load_settings

    preflight = {
        "Origin": "https://shop.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    off = httpx.options(f"{served.url}/v1/search", headers=preflight, timeout=10)
    assert "access-control-allow-origin" not in off.headers
    store = tmp_path / "shop"
    shutil.copytree(raw_store, store)
    settings = load_settings(environ={}, overrides=['api.cors_origins=["https://shop.example"]'])
    app = create_app(settings, store_path=store)
    on = TestClient(app).options("/v1/search", headers=preflight)
    assert on.status_code == 200 and on.headers["access-control-allow-origin"] == "https://shop.example"
    evil = TestClient(app).options("/v1/search", headers={**preflight, "Origin": "https://evil.example"})
    assert evil.headers.get("access-control-allow-origin") != "https://evil.example"
    app.state.store.close()


def test_demo_prints_an_env_provided_admin_key_by_name_only(api_store: Path, tmp_path: Path) -> None:
    """``shelfwise demo`` on a built store: the ready-to-paste requests name ``$SHELFWISE_ADMIN_KEY``, never its
    value; and they work once the shell expands it."""
    store = tmp_path / "shop"
    shutil.copytree(api_store, store)
    port = free_port()
    out = tmp_path / "stdout.txt"
    env = {**os.environ, "SHELFWISE_ADMIN_KEY": ADMIN_KEY}
    with out.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "shelfwise", "demo", "--store", str(store), "--port", str(port)],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None and "API docs" not in out.read_text():
            time.sleep(0.5)
        text = out.read_text()
        assert "API docs" in text, text[-2000:]
        assert ADMIN_KEY not in text
        assert text.count('Bearer $SHELFWISE_ADMIN_KEY"') >= 10
        command = next(line for line in text.splitlines() if "/v1/keys" in line and "curl" in line)
        while time.monotonic() < deadline:  # the printed request works as printed (bash expands the name)
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        ran = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60)
        assert '"scopes":["read"]' in ran.stdout.replace(" ", ""), ran.stdout + ran.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=60)
