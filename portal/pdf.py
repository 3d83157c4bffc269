"""PDF rendering for printed documents (WeasyPrint + bundled Noto Sans SC).

Security model: the HTML handed to WeasyPrint may contain user-supplied text
(Jinja autoescapes it, but we do not rely on that alone).  WeasyPrint is given
a URL fetcher that serves *only* the bundled font files, matched by exact
resolved path; every other URL (http, https, data:, file:// anywhere else, ...)
is refused.  WeasyPrint catches the refusal, logs it and renders the element
without the resource, so a hostile ``<img src>`` / ``url()`` / ``<link>`` can
neither crash the render nor make the server fetch anything.

No Flask app is imported at module level; :func:`render_pdf` imports
``flask.render_template`` lazily.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import pylopdf_fonts_zh_cn
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

__all__ = [
    "BASE_URL",
    "FONT_FAMILY",
    "FONT_FILES",
    "SafeFontFetcher",
    "render_pdf",
    "render_pdf_html",
]

log = logging.getLogger(__name__)

FONT_FAMILY = "PortalCJK"

# Relative URLs in documents resolve against this; ".invalid" never resolves
# (RFC 2606) and the fetcher refuses it anyway.
BASE_URL = "https://portal.invalid/"


def _find_font_files() -> dict[str, Path]:
    """Locate the Noto Sans SC OTFs shipped in ``pylopdf_fonts_zh_cn``.

    The package (0.1.1) ships only ``NotoSansSC-Regular.otf``; if a bold file
    ever appears it is used, otherwise "bold" maps to the regular file (the
    @font-face rule then declares weight 700 for it, so fontconfig reports it
    as bold and Pango does not synthesise a fake bold).
    """
    pkg_dir = Path(pylopdf_fonts_zh_cn.__file__).resolve().parent
    regular = Path(pylopdf_fonts_zh_cn.sans_path()).resolve()
    if not regular.is_file():  # pragma: no cover - broken install
        candidates = sorted(pkg_dir.glob("NotoSansSC-Regular.*tf"))
        if not candidates:
            raise RuntimeError(f"Noto Sans SC regular font not found in {pkg_dir}")
        regular = candidates[0].resolve()
    bold_candidates = sorted(pkg_dir.glob("NotoSansSC-Bold.*tf"))
    bold = bold_candidates[0].resolve() if bold_candidates else regular
    return {"regular": regular, "bold": bold}


FONT_FILES: dict[str, Path] = _find_font_files()
_ALLOWED_PATHS: frozenset[Path] = frozenset(FONT_FILES.values())


class SafeFontFetcher(URLFetcher):
    """WeasyPrint 70 URL fetcher that serves only the bundled font files.

    WeasyPrint 70 calls ``url_fetcher(url)`` and, on exception, reads
    ``url_fetcher._fail_on_errors``, so a plain function is not enough: we
    subclass :class:`weasyprint.urls.URLFetcher` (``__call__`` -> ``fetch``)
    and never touch its urllib opener.  ``fail_on_errors`` stays False so a
    refused URL becomes a logged, non-fatal ``URLFetchingError``.
    """

    def __init__(self, allowed: frozenset[Path] = _ALLOWED_PATHS) -> None:
        super().__init__(fail_on_errors=False, allowed_protocols=("file",))
        self._allowed = frozenset(Path(p).resolve() for p in allowed)

    def allowed_path(self, url: str) -> Path | None:
        """Return the font path ``url`` designates, or None if not allowed."""
        if not isinstance(url, str):
            return None
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        if parts.query or parts.fragment:
            return None
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve()
        except (OSError, ValueError):
            return None
        return path if path in self._allowed else None

    def fetch(self, url, headers=None):  # WeasyPrint 70 signature
        path = self.allowed_path(url)
        if path is None:
            raise ValueError(f"URL refused by PDF fetcher: {str(url)[:200]!r}")
        return URLFetcherResponse(
            path.as_uri(),
            body=path.read_bytes(),
            headers={"Content-Type": "font/otf"},
        )


def _font_face_css() -> str:
    rules = []
    for key, weight in (("regular", 400), ("bold", 700)):
        rules.append(
            "@font-face {"
            f' font-family: "{FONT_FAMILY}";'
            f' src: url("{FONT_FILES[key].as_uri()}") format("opentype");'
            f" font-weight: {weight}; font-style: normal; }}"
        )
    return "\n".join(rules)


# Per-process cache: (pid, CSS, FontConfiguration, fetcher).  The
# FontConfiguration owns a fontconfig config + temp dir with the registered
# font, so reusing it avoids re-reading 8 MB per render.  It is not shared
# across forks (keyed by pid) and renders are serialised by a lock because
# fontconfig/Pango objects in one FontConfiguration are not thread-safe.
_cache: tuple[int, CSS, FontConfiguration, SafeFontFetcher] | None = None
_lock = threading.Lock()


def _resources() -> tuple[CSS, FontConfiguration, SafeFontFetcher]:
    global _cache
    pid = os.getpid()
    if _cache is None or _cache[0] != pid:
        fetcher = SafeFontFetcher()
        font_config = FontConfiguration()
        css = CSS(
            string=_font_face_css(),
            base_url=BASE_URL,
            url_fetcher=fetcher,
            font_config=font_config,
        )
        _cache = (pid, css, font_config, fetcher)
    return _cache[1], _cache[2], _cache[3]


def render_pdf_html(html: str) -> bytes:
    """Render an HTML string to PDF bytes with the bundled CJK font."""
    with _lock:
        css, font_config, fetcher = _resources()
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
        return document.write_pdf(stylesheets=[css], font_config=font_config)


def render_pdf(template_name: str, **context) -> bytes:
    """Render a Jinja template (autoescaped .html) to PDF bytes.

    Must be called inside a Flask app context.
    """
    from flask import render_template

    return render_pdf_html(render_template(template_name, **context))
