"""Tests for portal.pdf (WeasyPrint rendering with bundled CJK font + safe fetcher).

Needs poppler-utils (pdfinfo, pdffonts, pdftotext), installed by scripts/setup.sh.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
from flask import Flask

from portal import pdf
from portal.pdf import (
    FONT_FILES,
    SafeFontFetcher,
    render_pdf,
    render_pdf_html,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLE = "pdf/_sample.html"
TITLE = "客户服务确认单"

app = Flask(__name__, template_folder=str(REPO / "templates"))


@pytest.fixture()
def app_ctx():
    with app.app_context():
        yield


def _poppler(tool: str, pdf_bytes: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / f"doc-{time.monotonic_ns()}.pdf"
    path.write_bytes(pdf_bytes)
    out = subprocess.run(
        [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out.stdout.decode("utf-8", "replace")


def _page_count(pdf_bytes: bytes, tmp_path: Path) -> int:
    info = _poppler("pdfinfo", pdf_bytes, tmp_path)
    match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    assert match, info
    return int(match.group(1))


def _embedded_fonts(pdf_bytes: bytes, tmp_path: Path) -> list[tuple[str, bool]]:
    """Parse `pdffonts` output into (name, embedded) pairs."""
    lines = _poppler("pdffonts", pdf_bytes, tmp_path).splitlines()
    sep = next(i for i, line in enumerate(lines) if line.startswith("---"))
    fonts = []
    for line in lines[sep + 1 :]:
        if not line.strip():
            continue
        # columns: name type... encoding emb sub uni object-id gen
        cols = line.split()
        emb = cols[-5]
        fonts.append((cols[0], emb == "yes"))
    return fonts


def _squash(text: str) -> str:
    return "".join(text.split())


class _FetchSpy:
    """Records every URL WeasyPrint asks the fetcher for, and the outcome."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple[str, bool]] = []
        original = SafeFontFetcher.fetch
        spy = self

        def fetch(self, url, headers=None):
            try:
                response = original(self, url, headers)
            except Exception:
                spy.calls.append((url, False))
                raise
            spy.calls.append((url, True))
            return response

        monkeypatch.setattr(SafeFontFetcher, "fetch", fetch)

    def allowed(self) -> list[str]:
        return [url for url, ok in self.calls if ok]

    def refused(self) -> list[str]:
        return [url for url, ok in self.calls if not ok]


FONT_URIS = {p.as_uri() for p in FONT_FILES.values()}


@pytest.fixture()
def spy(monkeypatch):
    return _FetchSpy(monkeypatch)


@pytest.fixture()
def listener():
    """A local TCP listener; any connection to it means the renderer fetched."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.setblocking(False)
    yield sock.getsockname()[1], sock
    sock.close()


def _assert_no_connection(sock) -> None:
    with pytest.raises(BlockingIOError):
        conn, _ = sock.accept()
        conn.close()


# --------------------------------------------------------------------------- fonts


def test_font_files_found():
    assert set(FONT_FILES) == {"regular", "bold"}
    for path in FONT_FILES.values():
        assert path.is_file()
        assert "SansSC" in path.name
        assert path.read_bytes()[:4] == b"OTTO"  # static CFF OpenType


# --------------------------------------------------------------------------- sample


def test_sample_renders_multipage_with_cjk_font(app_ctx, tmp_path):
    render_pdf(SAMPLE)  # warm the per-process font cache
    start = time.perf_counter()
    data = render_pdf(SAMPLE)
    elapsed = time.perf_counter() - start
    print(f"sample render: {elapsed:.3f}s, {len(data)} bytes")

    assert data[:4] == b"%PDF"
    pages = _page_count(data, tmp_path)
    assert pages > 1

    fonts = _embedded_fonts(data, tmp_path)
    assert any(emb and ("SC" in name or "CJK" in name) for name, emb in fonts), fonts

    raw = _poppler("pdftotext", data, tmp_path, "-raw")
    assert TITLE in raw
    assert "第 1 页 / 共" in raw
    assert f"第 {pages} 页 / 共 {pages} 页" in raw

    # thead repeats: the header row appears on every page of the table.
    last = _poppler(
        "pdftotext", data, tmp_path, "-raw", "-f", str(pages), "-l", str(pages)
    )
    assert "序号" in last and "金额（元）" in last
    assert "120" in last and "客户确认" in last


# --------------------------------------------------------------------------- hostile input

HOSTILE = {
    "script": "<script>alert(1)</script>",
    "img": '<img src="http://127.0.0.1:{port}/x.png">',
    "link": "<link rel=stylesheet href=file:///etc/passwd>",
    "css": "<style>body{{background:url(file:///etc/hostname)}}</style>",
}


def test_user_text_is_escaped_and_never_fetched(app_ctx, tmp_path, spy, listener):
    port, sock = listener
    payloads = {k: v.format(port=port) for k, v in HOSTILE.items()}
    data = render_pdf(
        SAMPLE,
        note=payloads["script"] + payloads["img"],
        customer=payloads["link"] + payloads["css"],
        rows=3,
    )
    assert data[:4] == b"%PDF"

    text = _squash(_poppler("pdftotext", data, tmp_path, "-raw"))
    for payload in payloads.values():
        assert _squash(payload) in text, payload

    # Escaped text is never a URL to WeasyPrint; only font files may be served.
    assert set(spy.allowed()) <= FONT_URIS
    for url, _ in spy.calls:
        assert "127.0.0.1" not in url and "/etc/" not in url
    _assert_no_connection(sock)


def test_raw_html_urls_are_refused_without_crashing(tmp_path, spy, listener):
    port, sock = listener
    html = f"""<!DOCTYPE html><html><head>
      <link rel="stylesheet" href="http://127.0.0.1:{port}/evil.css">
      <link rel="stylesheet" href="file:///etc/passwd">
      <style>
        @import url("http://127.0.0.1:{port}/import.css");
        @font-face {{ font-family: Evil; src: url("http://127.0.0.1:{port}/f.woff"); }}
        body {{ font-family: PortalCJK; background: url(file:///etc/hostname); }}
        p {{ background-image: url("http://127.0.0.1:{port}/bg.png"); }}
      </style></head><body>
      <p>原始 HTML 测试</p>
      <img src="file:///etc/hostname">
      <img src="http://127.0.0.1:{port}/x">
      <img src="relative.png">
      <object data="file:///etc/passwd"></object>
      <embed src="http://127.0.0.1:{port}/e">
    </body></html>"""
    data = render_pdf_html(html)
    assert data[:4] == b"%PDF"
    assert "原始HTML测试" in _squash(_poppler("pdftotext", data, tmp_path))

    refused = spy.refused()
    assert "file:///etc/hostname" in refused
    assert f"http://127.0.0.1:{port}/x" in refused
    assert f"http://127.0.0.1:{port}/evil.css" in refused
    assert set(spy.allowed()) <= FONT_URIS
    _assert_no_connection(sock)


def test_fetcher_allows_only_font_files():
    fetcher = SafeFontFetcher()
    for uri in FONT_URIS:
        response = fetcher(uri)
        try:
            assert response.read(4) == b"OTTO"
        finally:
            response.close()

    font = FONT_FILES["regular"]
    refused = [
        "file:///etc/hostname",
        "file:///etc/passwd",
        "http://127.0.0.1:9/x",
        "https://example.com/font.otf",
        "data:text/plain,hello",
        "ftp://127.0.0.1/x",
        font.as_uri() + "?x=1",
        font.as_uri() + "#frag",
        "file://evil.example" + font.as_posix(),
        (font.parent / "NotoSerifSC-Regular.otf").as_uri(),
        (font.parent / ".." / ".." / ".." / ".." / "etc" / "passwd").as_uri(),
        "https://portal.invalid/relative.png",
        "relative.png",
    ]
    for url in refused:
        with pytest.raises(ValueError):
            fetcher(url)
    # Percent-encoded / dotted form of an allowed file is still that file.
    dotted = "file://" + (font.parent / "." / font.name).as_posix()
    assert fetcher.allowed_path(dotted) == font
    # Non-fatal: WeasyPrint turns the ValueError into a logged warning.
    assert fetcher._fail_on_errors is False


def test_template_without_title_or_header(app_ctx, tmp_path):
    html = app.jinja_env.from_string(
        '{% extends "pdf/base.html" %}{% block content %}<p>仅正文</p>{% endblock %}'
    ).render()
    assert 'class="doc-header"' not in html
    data = render_pdf_html(html)
    raw = _poppler("pdftotext", data, tmp_path, "-raw")
    assert "仅正文" in raw and "第 1 页 / 共 1 页" in raw
    assert pdf.BASE_URL.endswith(".invalid/")
