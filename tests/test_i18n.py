"""Language: the English catalogue is complete and compiled, and the switch works end to end.

Our msgids are Chinese; portal/translations/en translates them. When a test here fails
because of a new string: run scripts/i18n.sh extract, translate, compile (and commit
the .po and .mo).
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask_babel import get_babel
from sqlalchemy import select

from portal.models import User

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "portal" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
FIX = "run scripts/i18n.sh extract, translate, compile"


def _po():
    with PO.open("rb") as f:
        return read_po(f)


def _messages(catalog) -> dict[str, str]:
    return {m.id: m.string for m in catalog if m.id}


# -- the catalogue -------------------------------------------------------------------------


def test_every_msgid_is_translated_without_fuzzy_and_placeholders_match():
    catalog = _po()
    assert len(catalog) > 100, "the en catalogue looks empty"
    problems = []
    for m in catalog:
        if not m.id:
            continue
        if not m.string:
            problems.append(f"untranslated: {m.id!r}")
        if m.fuzzy:
            problems.append(f"fuzzy: {m.id!r}")
        if sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string or "")):
            problems.append(f"placeholders differ: {m.id!r} -> {m.string!r}")
    assert not problems, f"{PO.relative_to(ROOT)} ({FIX}):\n" + "\n".join(problems)


def test_committed_mo_matches_the_po(tmp_path):
    fresh = tmp_path / "messages.mo"
    with fresh.open("wb") as f:
        write_mo(f, _po())
    with fresh.open("rb") as f:
        expected = _messages(read_mo(f))
    with MO.open("rb") as f:
        committed = _messages(read_mo(f))
    assert committed == expected, f"{MO.relative_to(ROOT)} is stale: {FIX}"


def test_every_string_in_the_code_is_in_the_catalogue():
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    assert any(where.startswith("templates/") for where in found.values()), "no template string"
    assert "客户名称" in found, "extraction from portal/**.py found nothing"
    translated = {k for k, v in _messages(_po()).items() if v}
    missing = sorted(set(found) - translated)
    assert not missing, (
        f"{len(missing)} string(s) not translated in {PO.relative_to(ROOT)} — {FIX}:\n"
        + "\n".join(f"  {found[msgid]}: {msgid}" for msgid in missing)
    )


# -- through the app (SQLite and PostgreSQL) ------------------------------------------------


def test_app_loads_the_committed_translations(app):
    with app.app_context():
        directories = get_babel(app).translation_directories
    assert str(TRANSLATIONS) in [str(Path(d).resolve()) for d in directories]


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page
    assert "Sign in" not in page


def test_anonymous_visitor_switches_the_login_page_to_english(client):
    response = client.post("/locale", data={"locale": "en", "next": "/login"})
    assert response.status_code == 302
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in" in page and "Username" in page
    assert "登录" not in page
    # Flask-Login's message is a plain msgid translated at run time (runtime_strings.py).
    page = client.get("/password", follow_redirects=True).get_data(as_text=True)
    assert "Please sign in first" in page


def test_english_is_stored_on_the_user_and_survives_a_new_sign_in(app, login, session):
    client = login("east.clerk1")
    assert (
        client.post("/locale", data={"locale": "en", "next": "/admin/customer/"}).status_code == 302
    )
    page = client.get("/admin/customer/").get_data(as_text=True)
    assert "Customer name" in page  # ours
    assert ">List" in page  # Flask-Admin's own catalogue
    assert "客户名称" not in page and "列表" not in page

    stored = session.scalar(select(User.locale).where(User.username == "east.clerk1"))
    assert stored == "en"

    fresh = login("east.clerk1")
    page = fresh.get("/admin/customer/").get_data(as_text=True)
    assert "Customer name" in page and ">List" in page


def test_switching_back_to_chinese(login, session):
    client = login("east.clerk1")
    client.post("/locale", data={"locale": "en", "next": "/admin/"})
    assert "Customer name" in client.get("/admin/customer/").get_data(as_text=True)
    client.post("/locale", data={"locale": "zh_Hans_CN", "next": "/admin/"})
    page = client.get("/admin/customer/").get_data(as_text=True)
    assert "客户名称" in page and "列表" in page
    assert "Customer name" not in page
    stored = session.scalar(select(User.locale).where(User.username == "east.clerk1"))
    assert stored == "zh_Hans_CN"
