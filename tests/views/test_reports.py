"""Report pages, their PDFs and the customer profile sheet (issue #7): who may open what,
scope on every path (R-SCOPE-4), what the PDFs contain, and that prints are logged."""

from __future__ import annotations

import subprocess
from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal.clock import now
from portal.models import AuditLog, Division, User
from portal.services.reports import last_month
from portal.views.report_sheets import REPORTS, money_axis
from tests.factories import make_activity, make_customer, make_order

DIVISION_REPORTS = [name for name, spec in REPORTS.items() if spec.division_wide]


def pdf_text(data: bytes, tmp_path, *tool_args: str) -> str:
    path = tmp_path / f"doc-{len(list(tmp_path.iterdir()))}.pdf"
    path.write_bytes(data)
    tool, *args = tool_args
    out = subprocess.run(
        [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out.stdout.decode("utf-8", "replace")


def prints(session) -> list[AuditLog]:
    session.expire_all()
    return list(session.scalars(select(AuditLog).where(AuditLog.action == "print")))


@pytest.fixture
def last_month_plans(session, world):
    """Plans of last month for both east clerks and a west clerk, one order each side."""
    start, _end = last_month(now().date())
    day = datetime.combine(start, datetime.min.time()).replace(hour=10)
    for username, name in (
        ("east.clerk1", "东区客户一"),
        ("east.clerk2", "东区客户二"),
        ("west.clerk1", "西区客户一"),
    ):
        customer = make_customer(session, world[username], name=name)
        make_activity(session, customer, kind="plan", planned_at=day, state="done", done_at=day)
        make_order(session, customer, signed_on=start)
    session.commit()
    return world


# -- who may open what ---------------------------------------------------------------------


def test_clerk_gets_404_on_division_reports_and_sees_only_his_compliance_line(
    login, last_month_plans
):
    client = login("east.clerk1")
    for name in DIVISION_REPORTS:
        assert client.get(f"/admin/reports/{name}/").status_code == 404, name
        assert client.get(f"/admin/reports/{name}/pdf").status_code == 404, name
    index = client.get("/admin/reports/").get_data(as_text=True)
    assert "/admin/reports/compliance/" in index and "/admin/reports/pool/" not in index
    page = client.get("/admin/reports/compliance/").get_data(as_text=True)
    assert "东区业务员一" in page and "东区业务员二" not in page and "西区" not in page
    clerk2 = last_month_plans["east.clerk2"]
    assert client.get(f"/admin/reports/compliance/?clerk={clerk2.id}").status_code == 404


@pytest.mark.parametrize("name", list(REPORTS))
def test_division_head_opens_every_report_of_his_division_only(login, last_month_plans, name):
    client = login("east.head")
    page = client.get(f"/admin/reports/{name}/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="report-pdf"' in html and "西区" not in html
    west = last_month_plans["west.clerk1"]
    assert client.get(f"/admin/reports/{name}/?division={west.division_id}").status_code == 404


def test_head_clerk_filter_offers_only_his_people(login, last_month_plans):
    client = login("east.head")
    html = client.get("/admin/reports/compliance/").get_data(as_text=True)
    assert "东区业务员二" in html and "西区业务员一" not in html
    west_clerk = last_month_plans["west.clerk1"]
    assert client.get(f"/admin/reports/compliance/?clerk={west_clerk.id}").status_code == 404
    clerk2 = last_month_plans["east.clerk2"]
    only = client.get(f"/admin/reports/compliance/?clerk={clerk2.id}").get_data(as_text=True)
    assert "<td>东区业务员二</td>" in only and "<td>东区业务员一</td>" not in only


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_has_the_clerk_filter_within_scope(login, last_month_plans, name):
    """Issue #7: each report takes a clerk; the head is offered his own people only."""
    client = login("east.head")
    html = client.get(f"/admin/reports/{name}/").get_data(as_text=True)
    assert '<select class="form-control form-control-sm mr-3" id="clerk"' in html
    assert "东区业务员二" in html and "西区业务员一" not in html
    clerk2, west = last_month_plans["east.clerk2"], last_month_plans["west.clerk1"]
    assert client.get(f"/admin/reports/{name}/?clerk={west.id}").status_code == 404
    chosen = client.get(f"/admin/reports/{name}/?clerk={clerk2.id}")
    assert chosen.status_code == 200
    assert f'<option value="{clerk2.id}" selected>' in chosen.get_data(as_text=True)
    pdf = client.get(f"/admin/reports/{name}/pdf?clerk={clerk2.id}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_group_manager_sees_both_divisions_and_can_choose_one(login, session, last_month_plans):
    client = login("gm")
    both = client.get("/admin/reports/compliance/").get_data(as_text=True)
    assert "<td>东区业务员一</td>" in both and "<td>西区业务员一</td>" in both
    west = session.scalar(select(Division).where(Division.code == "west"))
    one = client.get(f"/admin/reports/compliance/?division={west.id}").get_data(as_text=True)
    assert "<td>西区业务员一</td>" in one and "<td>东区业务员一</td>" not in one
    assert client.get("/admin/reports/compliance/?division=999999").status_code == 404


def test_period_arguments_are_checked(login, last_month_plans):
    client = login("east.head")
    assert client.get("/admin/reports/compliance/?start=2026-13-40").status_code == 200
    swapped = client.get("/admin/reports/compliance/?start=2026-03-31&end=2026-03-01")
    assert 'value="2026-03-01"' in swapped.get_data(as_text=True)
    assert client.get("/admin/reports/compliance/?division=abc").status_code == 404
    assert client.get("/admin/reports/nonsense/").status_code == 404


def test_region_report_drills_down_to_cities(login, session, world):
    make_customer(session, world["east.clerk1"], region_code="320102")
    session.commit()
    client = login("east.head")
    html = client.get("/admin/reports/composition/?by=region").get_data(as_text=True)
    assert "province=32" in html and "江苏省" in html
    cities = client.get("/admin/reports/composition/?by=region&province=32").get_data(as_text=True)
    assert "南京市" in cities and "<svg" in cities


# -- the PDFs ------------------------------------------------------------------------------


def test_report_pdf_has_cjk_font_title_page_numbers_values_and_is_logged(
    login, session, last_month_plans, tmp_path
):
    client = login("east.head")
    response = client.get("/admin/reports/compliance/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    fonts = pdf_text(response.data, tmp_path, "pdffonts")
    assert "PortalCJK" in fonts and " yes " in fonts
    text = pdf_text(response.data, tmp_path, "pdftotext", "-raw")
    start, end = last_month(now().date())
    for expected in ("回访执行情况", "第 1 页 / 共", "东区业务员一", "华东版块", "东区负责人"):
        assert expected in text, expected
    assert f"{start.isoformat()} ~ {end.isoformat()}" in text
    assert "西区" not in text
    logged = prints(session)
    assert len(logged) == 1 and logged[0].model == "Report"
    assert logged[0].user_id == last_month_plans["east.head"].id
    assert "回访执行情况" in logged[0].summary


@pytest.mark.parametrize("name", DIVISION_REPORTS)
def test_every_report_prints(login, session, last_month_plans, name, tmp_path):
    response = login("gm").get(f"/admin/reports/{name}/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = pdf_text(response.data, tmp_path, "pdftotext", "-raw")
    assert str(REPORTS[name].title) in text and "第 1 页 / 共" in text
    assert len(prints(session)) == 1


def test_long_report_repeats_table_headers_on_every_page(login, session, world, tmp_path):
    division = world["east.clerk1"].division_id
    session.add_all(
        User(
            username=f"east.extra{n:02d}",
            display_name=f"临时业务员{n:02d}",
            role_code="clerk",
            division_id=division,
            password_hash="x",
        )
        for n in range(70)
    )
    session.commit()
    response = login("east.head").get("/admin/reports/compliance/pdf")
    pages = [p for p in pdf_text(response.data, tmp_path, "pdftotext", "-raw").split("\f")]
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"第 {number} 页 / 共 {len(pages)} 页" in page
    table_pages = [p for p in pages if "临时业务员" in p]
    assert len(table_pages) >= 2
    assert all("应回访" in p or "应回" in p for p in table_pages)


# -- the customer profile sheet (R-REPORT-6) -----------------------------------------------


def test_profile_from_the_details_page(login, session, world, tmp_path):
    mine = make_customer(session, world["east.clerk1"], name="档案客户")
    other = make_customer(session, world["east.clerk2"], name="同事客户")
    session.commit()
    client = login("east.clerk1")
    details = client.get(f"/admin/customer/details/?id={mine.id}").get_data(as_text=True)
    assert f"/admin/customer/{mine.id}/profile.pdf" in details
    response = client.get(f"/admin/customer/{mine.id}/profile.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = pdf_text(response.data, tmp_path, "pdftotext", "-raw")
    assert "客户档案" in text and "档案客户" in text and "第 1 页 / 共" in text
    assert "PortalCJK" in pdf_text(response.data, tmp_path, "pdffonts")
    assert client.get(f"/admin/customer/{other.id}/profile.pdf").status_code == 404
    logged = prints(session)
    assert [(x.model, x.record_id) for x in logged] == [("Customer", mine.id)]


def test_bulk_profile_prints_only_customers_in_scope_one_per_page(login, session, world, tmp_path):
    first = make_customer(session, world["east.clerk1"], name="批量客户甲")
    second = make_customer(session, world["east.clerk1"], name="批量客户乙")
    other = make_customer(session, world["east.clerk2"], name="别人的客户")
    west = make_customer(session, world["west.clerk1"], name="西区的客户")
    session.commit()
    client = login("east.clerk1")
    response = client.post(
        "/admin/customer/action/",
        data={
            "action": "print_profile",
            "rowid": [str(first.id), str(other.id), str(west.id), str(second.id)],
        },
    )
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = pdf_text(response.data, tmp_path, "pdftotext", "-raw")
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 2
    assert "批量客户甲" in pages[0] and "批量客户乙" in "".join(pages[1:])
    assert "别人的客户" not in text and "西区的客户" not in text
    assert sorted(x.record_id for x in prints(session)) == sorted([first.id, second.id])
    assert session.scalar(select(func.count()).select_from(AuditLog)) >= 2


def test_pool_view_offers_no_profile_print(login, session, world):
    pooled = make_customer(session, None, division=world["east.clerk1"].division)
    session.commit()
    client = login("east.head")
    assert client.get(f"/admin/pool/{pooled.id}/profile.pdf").status_code == 404
    assert "print_profile" not in client.get("/admin/pool/").get_data(as_text=True)


def test_clerk_prints_his_own_compliance_line(login, last_month_plans, tmp_path):
    response = login("east.clerk1").get("/admin/reports/compliance/pdf")
    assert response.status_code == 200
    text = pdf_text(response.data, tmp_path, "pdftotext", "-raw")
    assert "东区业务员一" in text and "东区业务员二" not in text


def test_profile_masks_mobiles_for_the_division_admin(login, session, world, tmp_path):
    customer = make_customer(session, world["east.clerk1"], name="掩码客户", mobile="13812345678")
    session.commit()
    response = login("east.admin").get(f"/admin/customer/{customer.id}/profile.pdf")
    text = pdf_text(response.data, tmp_path, "pdftotext", "-raw")
    assert "138****5678" in text and "13812345678" not in text


@pytest.mark.parametrize(
    ("amount", "label"),
    [
        (0, "0"),
        (9_500, "9,500"),
        (12_500, "1.25万"),
        (99_990_000, "9999万"),
        (189_688_200, "1.897亿"),
        (4_266_325_000, "42.66亿"),
        (2_000_000_000_000, "20,000亿"),
    ],
)
def test_chart_amounts_read_in_wan_and_yi(amount, label):
    """Chart axes and bar labels of large amounts (a 1M-customer pipeline) stay readable."""
    assert money_axis(amount) == label


def test_all_dimensions_page_shows_every_dimension(login, session, world):
    """R-REPORT-2: the 全部维度 tab lists the five compositions, each with its own total."""
    make_customer(session, world["east.clerk1"], region_code="320102", value_class="B")
    make_customer(session, world["west.clerk1"], region_code="310101")  # another division
    session.commit()
    html = login("east.head").get("/admin/reports/composition/?by=all").get_data(as_text=True)
    for heading in ("客户构成：客户等级", "客户构成：行业", "客户构成：客户来源", "客户构成：省份"):
        assert heading in html
    assert "客户构成：价值等级" in html and "江苏省" in html and "上海市" not in html
