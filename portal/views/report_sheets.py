"""How each report is laid out: sections of a table and a chart, with labels.

A builder takes the figures of portal/services/reports and returns sections that one
screen template and one print template render alike; numbers are formatted here so the
templates hold no logic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal import charts
from portal.charts import Chart
from portal.i18n import label
from portal.services import reports
from portal.services.reports import ReportFilter

# -- what a sheet is made of -------------------------------------------------------------


@dataclass
class Column:
    label: object
    numeric: bool = False


@dataclass
class Link:
    text: str
    url: str


@dataclass
class Table:
    columns: list[Column]
    rows: list[list]
    total: list | None = None


@dataclass
class Section:
    title: object
    table: Table | None = None
    chart: Chart | None = None
    note: object = ""


@dataclass
class Sheet:
    sections: list[Section]
    tabs: list[tuple[object, str, bool]] = field(default_factory=list)  # label, url, active
    links: list[Link] = field(default_factory=list)


Builder = Callable[[Session, ReportFilter, dict, Callable[..., str]], Sheet]


# -- number formats ----------------------------------------------------------------------

DASH = "—"


def count(n) -> str:
    return f"{int(n):,}"


def money(amount) -> str:
    return f"¥{Decimal(amount):,.2f}"


def pct(value) -> str:
    return DASH if value is None else f"{value:.1%}"


def one_decimal(value) -> str:
    return DASH if value is None else f"{value:,.1f}"


def money_axis(value) -> str:
    """Short amounts on chart axes: 12,500 → 1.25万, 189,688,200 → 1.897亿; never in
    scientific notation (a division's pipeline runs to billions of yuan)."""
    for unit, size in (("亿", 100_000_000), ("万", 10_000)):
        if abs(value) >= size:
            scaled = value / size
            return f"{scaled:,.0f}{unit}" if abs(scaled) >= 10_000 else f"{scaled:.4g}{unit}"
    return f"{value:,.0f}"


def _col(text, numeric=False) -> Column:
    return Column(text, numeric)


# -- R-REPORT-1 --------------------------------------------------------------------------


def compliance_sheet(session, f, params, link) -> Sheet:
    figures = reports.followup_compliance(session, f)
    columns = [
        _col(_l("业务人员")),
        _col(_l("应回访"), True),
        _col(_l("按时完成"), True),
        _col(_l("逾期完成"), True),
        _col(_l("逾期未办"), True),
        _col(_l("未到期"), True),
        _col(_l("按时率"), True),
        _col(_l("已记录反馈"), True),
        _col(_l("反馈率"), True),
        _col(_l("领导批示"), True),
        _col(_l("已确认批示"), True),
    ]

    def row(line, name):
        return [
            name,
            count(line.due),
            count(line.on_time),
            count(line.late),
            count(line.overdue),
            count(line.open),
            pct(line.on_time_rate),
            count(line.feedback),
            pct(line.feedback_rate),
            count(line.instructions),
            count(line.acknowledged),
        ]

    names = [line.name or gettext("（未分配）") for line in figures.lines]
    chart = charts.bar_chart(
        names,
        [
            (gettext("按时完成"), [x.on_time for x in figures.lines]),
            (gettext("逾期完成"), [x.late for x in figures.lines]),
            (gettext("逾期未办"), [x.overdue for x in figures.lines]),
            (gettext("未到期"), [x.open for x in figures.lines]),
        ],
        label=gettext("各业务人员回访计划完成情况"),
        stacked=True,
    )
    table = Table(
        columns,
        [row(x, n) for x, n in zip(figures.lines, names, strict=True)],
        total=row(figures.total, gettext("合计")),
    )
    note = _l(
        "应回访：计划日期在期间内的回访计划（不含已取消）；按时：完成日期不晚于计划日期；"
        "逾期未办：今天之前到期仍未完成；领导批示：对期间内计划的行动下达的批示。"
    )
    return Sheet([Section(_l("回访计划执行情况"), table, chart, note)])


# -- R-REPORT-2 --------------------------------------------------------------------------

DIMENSION_LABELS = {
    "grade": _l("客户等级"),
    "industry": _l("行业"),
    "source": _l("客户来源"),
    "region": _l("地区"),
    "value_class": _l("价值等级"),
}
PIE_DIMENSIONS = {"grade", "source", "value_class"}


def composition_sheet(session, f, params, link) -> Sheet:
    chosen = params.get("by") or "grade"
    if chosen not in (*reports.DIMENSIONS, "all"):
        chosen = "grade"
    tabs = [
        (text, link(by=code, province=None), code == chosen)
        for code, text in (*DIMENSION_LABELS.items(), ("all", _l("全部维度")))
    ]
    dimensions = reports.DIMENSIONS if chosen == "all" else (chosen,)
    province = params.get("province") if chosen == "region" else None
    sections, links = [], []
    if chosen == "all":
        every = reports.customer_compositions(session, f, dimensions)
    else:
        every = [reports.customer_composition(session, f, chosen, province=province)]
    for figures in every:
        sections.append(_composition_section(figures, link, drill=chosen == "region"))
        if figures.province:
            links.append(Link(gettext("返回各省份"), link(by="region", province=None)))
    return Sheet(sections, tabs=tabs, links=links)


def _composition_section(figures, link, *, drill: bool) -> Section:
    dimension = figures.dimension
    heading = DIMENSION_LABELS[dimension]
    if figures.province:
        heading = gettext("%(province)s 各城市", province=figures.province_name or "")
    elif dimension == "region":
        heading = _l("省份")

    def name_of(row):
        text = row.name or (gettext("未填写") if row.key is None else row.key)
        if drill and dimension == "region" and not figures.province and row.key:
            return Link(text, link(by="region", province=row.key))
        return text

    rows = [[name_of(r), count(r.customers), pct(r.share), count(r.new)] for r in figures.rows]
    names = [r.name or (gettext("未填写") if r.key is None else r.key) for r in figures.rows]
    values = [r.customers for r in figures.rows]
    title = gettext("客户构成：%(what)s", what=heading)
    if dimension in PIE_DIMENSIONS:
        chart = charts.pie_chart(list(zip(names, values, strict=True)), label=title)
    else:
        chart = charts.bar_chart(names, [(gettext("客户数"), values)], label=title)
    table = Table(
        [
            _col(heading),
            _col(_l("客户数"), True),
            _col(_l("占比"), True),
            _col(_l("期间新增"), True),
        ],
        rows,
        total=[
            gettext("合计"),
            count(figures.customers),
            pct(1 if figures.customers else None),
            count(figures.new),
        ],
    )
    note = _l("客户数为当前可见的全部客户（含公海）；期间新增为期间内建档的客户。")
    if dimension == "region" and not figures.province and drill:
        note = _l("点击省份查看其各城市。") + " " + note
    return Section(title, table, chart, note)


# -- R-REPORT-3 --------------------------------------------------------------------------


def contribution_sheet(session, f, params, link) -> Sheet:
    figures = reports.contribution(session, f)
    summary = Table(
        [_col(_l("订单金额合计"), True), _col(_l("有效订单"), True), _col(_l("成交客户"), True)],
        [[money(figures.amount), count(figures.orders), count(figures.customers)]],
    )
    months = Table(
        [_col(_l("月份")), _col(_l("订单数"), True), _col(_l("金额"), True)],
        [[m.month, count(m.orders), money(m.amount)] for m in figures.months],
        total=[gettext("合计"), count(figures.orders), money(figures.amount)],
    )
    month_chart = charts.bar_chart(
        [m.month for m in figures.months],
        [(gettext("金额"), [float(m.amount) for m in figures.months])],
        label=gettext("月度订单金额"),
        value_format=money_axis,
    )
    classes = Table(
        [
            _col(_l("类别")),
            _col(_l("客户数"), True),
            _col(_l("金额"), True),
            _col(_l("金额占比"), True),
        ],
        [
            [c.value_class, count(c.customers), money(c.amount), pct(c.share)]
            for c in figures.classes
        ],
        total=[
            gettext("合计"),
            count(figures.customers),
            money(figures.amount),
            pct(1 if figures.amount else None),
        ],
    )
    class_chart = charts.pie_chart(
        [(c.value_class, float(c.amount)) for c in figures.classes],
        label=gettext("ABC 分类金额占比"),
        value_format=money_axis,
    )
    top = Table(
        [
            _col(_l("排名"), True),
            _col(_l("客户")),
            _col(_l("负责人")),
            _col(_l("订单数"), True),
            _col(_l("金额"), True),
            _col(_l("占比"), True),
            _col(_l("类别")),
        ],
        [
            [
                str(t.rank),
                t.name,
                t.owner or gettext("公海"),
                count(t.orders),
                money(t.amount),
                pct(t.share),
                t.value_class,
            ]
            for t in figures.top
        ],
    )
    top_chart = charts.bar_chart(
        [t.name for t in figures.top[:10]],
        [(gettext("金额"), [float(t.amount) for t in figures.top[:10]])],
        label=gettext("金额前十的客户"),
        value_format=money_axis,
    )
    return Sheet(
        [
            Section(_l("概况"), summary, note=_l("期间内签订的有效订单（不含已取消）。")),
            Section(_l("月度订单金额"), months, month_chart),
            Section(
                _l("ABC 分类"),
                classes,
                class_chart,
                _l("按客户在期间内的订单金额排名：前 5% 为 A，其后 15% 为 B，其余为 C。"),
            ),
            Section(_l("重点客户（前 20 名）"), top, top_chart),
        ]
    )


# -- R-REPORT-4 --------------------------------------------------------------------------


def pipeline_sheet(session, f, params, link) -> Sheet:
    figures = reports.pipeline(session, f)
    stages = Table(
        [
            _col(_l("阶段")),
            _col(_l("商机数"), True),
            _col(_l("金额"), True),
            _col(_l("加权金额"), True),
        ],
        [
            [s.name, count(s.opportunities), money(s.amount), money(s.weighted)]
            for s in figures.stages
        ],
        total=[
            gettext("合计"),
            count(sum(s.opportunities for s in figures.stages)),
            money(sum((s.amount for s in figures.stages), Decimal(0))),
            money(sum((s.weighted for s in figures.stages), Decimal(0))),
        ],
    )
    stage_chart = charts.bar_chart(
        [s.name for s in figures.stages],
        [(gettext("金额"), [float(s.amount) for s in figures.stages])],
        label=gettext("各阶段商机金额"),
        value_format=money_axis,
    )
    path = [s for s in figures.stages if s.outcome != "lost"]
    funnel = Table(
        [
            _col(_l("阶段")),
            _col(_l("到达商机"), True),
            _col(_l("转入下一阶段"), True),
            _col(_l("平均停留天数"), True),
            _col(_l("停留次数"), True),
        ],
        [
            [s.name, count(s.reached), pct(s.conversion), one_decimal(s.avg_days), count(s.stints)]
            for s in path
        ],
    )
    funnel_chart = charts.funnel_chart(
        [(s.name, s.reached) for s in path],
        notes=[
            gettext("转化 %(rate)s", rate=pct(s.conversion)) if s.conversion is not None else ""
            for s in path
        ],
        label=gettext("商机漏斗"),
    )
    outcomes = Table(
        [_col(_l("结果")), _col(_l("商机数"), True), _col(_l("金额"), True)],
        [
            [gettext("赢单"), count(figures.won.opportunities), money(figures.won.amount)],
            [gettext("输单"), count(figures.lost.opportunities), money(figures.lost.amount)],
        ],
        total=[gettext("赢率"), pct(figures.win_rate), ""],
    )
    reasons = Table(
        [_col(_l("输单原因")), _col(_l("商机数"), True), _col(_l("金额"), True)],
        [
            [r.key or gettext("未填写"), count(r.opportunities), money(r.amount)]
            for r in figures.lost_reasons
        ],
    )
    reason_chart = charts.pie_chart(
        [(r.key or gettext("未填写"), r.opportunities) for r in figures.lost_reasons],
        label=gettext("输单原因"),
    )
    return Sheet(
        [
            Section(
                _l("阶段分布"),
                stages,
                stage_chart,
                _l("期间内在途的商机（期间结束前创建、期间开始前未关闭），按当前阶段。"),
            ),
            Section(
                _l("阶段转化"),
                funnel,
                funnel_chart,
                gettext(
                    "期间内有阶段变更的商机 %(n)s 个：到达某阶段即最远到达该阶段或更后；"
                    "平均停留天数按期间内结束的停留计算。",
                    n=figures.moving,
                ),
            ),
            Section(_l("赢单与输单"), outcomes, note=_l("期间内关闭的商机。")),
            Section(_l("输单原因"), reasons, reason_chart),
        ]
    )


# -- R-REPORT-5 --------------------------------------------------------------------------


def service_sheet(session, f, params, link) -> Sheet:
    figures = reports.service_analysis(session, f)

    def row(line, name):
        return [
            name,
            count(line.requests),
            count(line.resolved),
            pct(line.resolution_rate),
            one_decimal(line.avg_response_hours),
            one_decimal(line.avg_resolution_hours),
            one_decimal(line.avg_satisfaction),
            count(line.complaints),
            one_decimal(line.avg_complaint_hours),
        ]

    def table(heading, lines, blank):
        return Table(
            [
                _col(heading),
                _col(_l("服务单"), True),
                _col(_l("已解决"), True),
                _col(_l("解决率"), True),
                _col(_l("平均响应(小时)"), True),
                _col(_l("平均解决(小时)"), True),
                _col(_l("满意度"), True),
                _col(_l("投诉"), True),
                _col(_l("投诉处理(小时)"), True),
            ],
            [row(x, x.label or blank) for x in lines],
            total=row(figures.total, gettext("合计")),
        )

    handlers = [x.label or gettext("未分配") for x in figures.by_handler]
    return Sheet(
        [
            Section(
                _l("按处理人"),
                table(_l("处理人"), figures.by_handler, gettext("未分配")),
                charts.bar_chart(
                    handlers,
                    [
                        (gettext("服务单"), [x.requests for x in figures.by_handler]),
                        (gettext("已解决"), [x.resolved for x in figures.by_handler]),
                    ],
                    label=gettext("各处理人服务单"),
                ),
                _l("期间内创建的服务单。响应：创建至开始处理；解决：创建至解决。"),
            ),
            Section(
                _l("按服务类型"),
                table(_l("服务类型"), figures.by_type, gettext("未填写")),
                charts.pie_chart(
                    [(x.label, x.requests) for x in figures.by_type],
                    label=gettext("服务单类型分布"),
                ),
            ),
            Section(
                _l("按月份"),
                table(_l("月份"), figures.by_month, ""),
                charts.bar_chart(
                    [x.label for x in figures.by_month],
                    [(gettext("服务单"), [x.requests for x in figures.by_month])],
                    label=gettext("每月服务单"),
                ),
            ),
        ]
    )


def churn_sheet(session, f, params, link) -> Sheet:
    figures = reports.churn_analysis(session, f)
    states = Table(
        [_col(_l("流失状态")), _col(_l("当前客户数"), True), _col(_l("期间内发生"), True)],
        [
            [
                str(label("churn_state", s.state)),
                count(s.customers),
                DASH if s.state == "none" else count(s.in_period),
            ]
            for s in figures.states
        ],
        total=[gettext("合计"), count(sum(s.customers for s in figures.states)), ""],
    )
    chart = charts.pie_chart(
        [(str(label("churn_state", s.state)), s.customers) for s in figures.states],
        label=gettext("客户流失状态分布"),
    )
    reasons = Table(
        [_col(_l("确认流失原因")), _col(_l("客户数"), True)],
        [[r or gettext("未填写"), count(n)] for r, n in figures.lost_reasons],
    )
    return Sheet(
        [
            Section(
                _l("流失状态"),
                states,
                chart,
                _l("期间内发生：流失预警为期间内发出的预警；暂缓流失、确认流失为期间内的处理。"),
            ),
            Section(_l("期间内确认流失的原因"), reasons),
        ]
    )


# -- R-REPORT-7 --------------------------------------------------------------------------


def campaigns_sheet(session, f, params, link) -> Sheet:
    lines = reports.campaign_results_of_period(session, f)

    def day(d):
        return d.isoformat() if d else DASH

    def maybe_money(amount):
        return DASH if amount is None else money(amount)

    table = Table(
        [
            _col(_l("市场活动")),
            _col(_l("渠道")),
            _col(_l("开始")),
            _col(_l("结束")),
            _col(_l("线索"), True),
            _col(_l("转化"), True),
            _col(_l("转化率"), True),
            _col(_l("收入"), True),
            _col(_l("预算"), True),
            _col(_l("实际成本"), True),
            _col(_l("投资回报率"), True),
        ],
        [
            [
                x.name,
                x.channel or "",
                day(x.starts_on),
                day(x.ends_on),
                count(x.results.leads),
                count(x.results.converted),
                pct(x.results.conversion_rate),
                money(x.results.revenue),
                maybe_money(x.budget),
                maybe_money(x.results.cost),
                pct(x.results.roi),
            ]
            for x in lines
        ],
    )
    chart = charts.bar_chart(
        [x.name for x in lines],
        [
            (gettext("收入"), [float(x.results.revenue) for x in lines]),
            (gettext("实际成本"), [float(x.results.cost or 0) for x in lines]),
        ],
        label=gettext("市场活动收入与成本"),
        value_format=money_axis,
    )
    note = _l(
        "期间内进行中的活动及其至今的效果。转化：已转化为客户的线索；收入：这些客户自首条线索"
        "报备之日起的有效订单；投资回报率 =（收入 − 实际成本）÷ 实际成本。"
    )
    return Sheet([Section(_l("市场活动效果"), table, chart, note)])


# -- pool --------------------------------------------------------------------------------

OWNERSHIP_KINDS = {
    "create": _l("新建"),
    "claim": _l("领取"),
    "assign": _l("分配"),
    "release": _l("放入公海"),
    "return": _l("自动收回"),
    "handover": _l("交接"),
    "transfer": _l("跨版块转移"),
    "conflict": _l("冲突裁定"),
    "convert": _l("线索转化"),
}


def _kind(code) -> str:
    return str(OWNERSHIP_KINDS.get(code, code))


def pool_sheet(session, f, params, link) -> Sheet:
    figures = reports.pool_analysis(session, f)
    summary = Table(
        [
            _col(_l("当前公海客户"), True),
            _col(_l("期间进入公海"), True),
            _col(_l("期间离开公海"), True),
        ],
        [[count(figures.in_pool), count(figures.entered), count(figures.left)]],
    )
    flows = Table(
        [_col(_l("方式")), _col(_l("进入公海"), True), _col(_l("离开公海"), True)],
        [[_kind(x.kind), count(x.entered), count(x.left)] for x in figures.flows],
        total=[gettext("合计"), count(figures.entered), count(figures.left)],
    )
    flow_chart = charts.bar_chart(
        [_kind(x.kind) for x in figures.flows],
        [
            (gettext("进入公海"), [x.entered for x in figures.flows]),
            (gettext("离开公海"), [x.left for x in figures.flows]),
        ],
        label=gettext("公海进出"),
    )
    clerks = Table(
        [
            _col(_l("业务人员")),
            _col(_l("领取"), True),
            _col(_l("分配获得"), True),
            _col(_l("放入公海"), True),
            _col(_l("被收回"), True),
        ],
        [
            [x.name, count(x.claims), count(x.assigned), count(x.released), count(x.returned)]
            for x in figures.clerks
        ],
    )
    clerk_chart = charts.bar_chart(
        [x.name for x in figures.clerks],
        [
            (gettext("领取"), [x.claims for x in figures.clerks]),
            (gettext("分配获得"), [x.assigned for x in figures.clerks]),
        ],
        label=gettext("各业务人员从公海获得的客户"),
        stacked=True,
    )
    reasons = Table(
        [_col(_l("方式")), _col(_l("原因")), _col(_l("次数"), True)],
        [[_kind(k), r or gettext("未填写"), count(n)] for k, r, n in figures.reasons],
    )
    return Sheet(
        [
            Section(_l("概况"), summary),
            Section(_l("进出公海（按方式）"), flows, flow_chart),
            Section(_l("各业务人员"), clerks, clerk_chart),
            Section(_l("放入与收回的原因"), reasons),
        ]
    )


# -- the reports, in menu order ----------------------------------------------------------


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: object
    summary: object
    build: Builder
    division_wide: bool = True  # False: a clerk may open it, for his own line only


REPORTS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        ReportSpec(
            "compliance",
            _l("回访执行情况"),
            _l("各业务人员应回访、按时完成、逾期、客户反馈和领导批示"),
            compliance_sheet,
            division_wide=False,
        ),
        ReportSpec(
            "composition",
            _l("客户构成分析"),
            _l("按等级、行业、来源、地区、价值等级统计客户"),
            composition_sheet,
        ),
        ReportSpec(
            "contribution",
            _l("客户贡献分析"),
            _l("订单金额按客户和月份，ABC 分类与重点客户"),
            contribution_sheet,
        ),
        ReportSpec(
            "pipeline",
            _l("销售漏斗分析"),
            _l("各阶段商机数量与金额、阶段转化、赢单输单及原因"),
            pipeline_sheet,
        ),
        ReportSpec(
            "service",
            _l("客户服务分析"),
            _l("按处理人、类型、月份的响应、解决和满意度"),
            service_sheet,
        ),
        ReportSpec(
            "churn",
            _l("客户流失分析"),
            _l("流失预警、暂缓流失、确认流失"),
            churn_sheet,
        ),
        ReportSpec(
            "campaigns",
            _l("市场活动效果"),
            _l("各活动的线索、转化、收入、成本和投资回报率"),
            campaigns_sheet,
        ),
        ReportSpec(
            "pool",
            _l("公海分析"),
            _l("进出公海的客户、各业务人员领取与被收回、收回原因"),
            pool_sheet,
        ),
    )
}
