"""Generated customers at scale: `flask --app portal demo --customers N` (issue #4).

Adds N customers to the demo divisions, with about 1.5 contacts and 2 activities each
and the name index of portal/models/search.py, reproducibly from a seed. It extends the
design of services/demo.py (rows as plain values, inserted per table in bulk) for a
million rows on a 2-core machine: names are drawn from Faker's zh_CN word lists with one
`random.Random` rather than by a Faker call per row, rows go to the database through the
driver itself (PostgreSQL `COPY`, SQLite `executemany` in one transaction), and for a
big load the secondary indexes (and, on PostgreSQL, the foreign keys) of the filled
tables are dropped first and built once at the end, which is several times faster than
maintaining them row by row. Like every service it does not commit; `refresh_statistics`
runs after the commit so that plans and row estimates see the new data.
"""

from __future__ import annotations

import random
import string
import time
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from itertools import accumulate

from faker.providers.address.zh_CN import Provider as AddressWords
from faker.providers.company.zh_CN import Provider as CompanyWords
from faker.providers.person.zh_CN import Provider as PersonWords
from sqlalchemy import Engine, ForeignKeyConstraint, Table, func, select
from sqlalchemy.orm import Session

from portal.clock import now
from portal.models import (
    Activity,
    CompanyNature,
    Contact,
    Customer,
    CustomerGram,
    CustomerStanding,
    Division,
    EmployeeBand,
    FeedbackReason,
    Grade,
    Industry,
    Region,
    RevenueBand,
    Source,
    User,
)
from portal.models.search import name_grams
from portal.services.demo import DIVISIONS

CHUNK = 20_000  # customers generated and written at a time
REBUILD_INDEXES_FROM = 50_000  # below this, maintaining the indexes is cheaper
# customer_standings gets its rows from a trigger on customers (schema/versions/0007).
BULK_TABLES = (
    Customer.__table__,
    CustomerStanding.__table__,
    Contact.__table__,
    Activity.__table__,
    CustomerGram.__table__,
)

INDUSTRY_WORDS = {
    "manufacturing": ("机械", "精密制造", "五金", "模具", "汽车零部件", "电气"),
    "it": ("科技", "软件", "网络科技", "信息技术", "数据服务"),
    "finance": ("投资", "资产管理", "融资租赁", "保险代理"),
    "retail": ("商贸", "百货", "贸易", "超市", "电器销售"),
    "construction": ("建筑工程", "置业", "装饰工程", "建材"),
    "logistics": ("物流", "运输", "供应链管理", "货运代理"),
    "education": ("教育咨询", "培训学校", "文化教育"),
    "healthcare": ("医药", "医疗器械", "健康管理", "大药房"),
    "energy": ("能源", "化工", "新能源", "燃气"),
    "agriculture": ("农业", "生态农业", "种业", "农产品"),
    "government": ("城市建设投资", "公用事业", "城市管理服务"),
    "services": ("企业管理咨询", "商务服务", "广告", "人力资源"),
    "other": ("实业", "文化传播", "餐饮管理", "酒店管理"),
}
COMPANY_SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司", "经营部")
SUFFIX_WEIGHTS = (60, 20, 8, 4, 8)
BRAND_CHARS = "华鑫恒泰盛达宏瑞祥德信诚汇丰远通博创新兴金源鸿嘉隆安佳和天宇正永腾飞卓越星辰海"
POSITIONS = ("总经理", "采购经理", "财务主管", "行政主管", "技术总监", "销售经理", "董事长助理")
SUBJECTS_DONE = ("电话回访", "48小时回访", "上门拜访", "微信沟通", "邀约到店", "满意度回访")
RESULTS = ("已电话沟通，客户有意向", "客户在比较竞品", "约好下周到店", "客户暂无需求", "已发送报价")
SUBJECTS_PLANNED = ("电话回访", "上门拜访", "邀约试驾", "发送方案")
STATUSES = ("intent", "following", "following", "contract", "won", "failed")
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com")
MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 175 176 177 178 180 181 182 183 185 186 187 188 189 191 198 199"
).split()


@dataclass
class BulkReport:
    customers: int = 0
    contacts: int = 0
    activities: int = 0
    grams: int = 0
    seconds: float = 0.0
    steps: list[tuple[str, float]] = field(default_factory=list)

    def __str__(self) -> str:
        steps = ", ".join(f"{name} {secs:.1f} s" for name, secs in self.steps)
        return (
            f"generated {self.customers} customers, {self.contacts} contacts, "
            f"{self.activities} activities, {self.grams} name-index rows "
            f"in {self.seconds:.1f} s ({steps})"
        )


# -- words ---------------------------------------------------------------------------


class _Words:
    """Faker's zh_CN word lists, sampled with our own seeded Random."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        surnames = PersonWords.last_names
        self.surnames = list(surnames)
        self.surname_cum = list(accumulate(surnames.values()))
        self.given = list(dict.fromkeys(PersonWords.first_names))
        self.given_chars = sorted({ch for name in self.given for ch in name})
        self.brands = sorted({w for w in CompanyWords.company_prefixes if "公司" not in w})
        self.streets = list(AddressWords.cities)
        self.suffix_cum = list(accumulate(SUFFIX_WEIGHTS))

    def surname(self) -> str:
        return self.surnames[bisect(self.surname_cum, self.rng.random() * self.surname_cum[-1])]

    def person(self) -> str:
        """Surname + a common given name, or + one or two characters used in given names."""
        rng = self.rng
        if rng.random() < 0.5:
            given = rng.choice(self.given)
        elif rng.random() < 0.8:
            given = rng.choice(self.given_chars) + rng.choice(self.given_chars)
        else:
            given = rng.choice(self.given_chars)
        return self.surname() + given

    def company(self, place: str, industry_code: str) -> str:
        rng = self.rng
        brand = (
            rng.choice(self.brands)
            if rng.random() < 0.5
            else rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
        )
        words = INDUSTRY_WORDS.get(industry_code, INDUSTRY_WORDS["other"])
        suffix = COMPANY_SUFFIXES[bisect(self.suffix_cum, rng.random() * self.suffix_cum[-1])]
        return f"{place}{brand}{rng.choice(words)}{suffix}"

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def email(self) -> str:
        rng = self.rng
        local = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 8)))
        return f"{local}{rng.randrange(1000)}@{rng.choice(EMAIL_DOMAINS)}"

    def address(self, county: str) -> str:
        rng = self.rng
        street = rng.choice(self.streets) + rng.choice(("路", "街", "大道"))
        return f"{county}{street}{rng.randint(1, 999)}号"


GENERIC_PLACES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def _short_place(name: str) -> str:
    """杭州市 → 杭州, 文山壮族苗族自治州 → 文山, 阿里地区 → 阿里."""
    if name.endswith("自治州"):
        return name[:2]
    for suffix in ("市", "地区", "盟"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)][:4]
    return name[:4]


# -- what the generator needs from the database -----------------------------------------


@dataclass
class _Division:
    id: int
    clerks: list[int]
    head: int


@dataclass
class _Plan:
    divisions: list[_Division]
    grades: list[int]
    industries: list[tuple[int, str]]
    sources: list[int]
    natures: list[int]
    revenue_bands: list[int]
    employee_bands: list[int]
    feedback_reasons: list[int]
    counties: list[tuple[str, str, str]]  # code, county name, short city name
    taken: dict[int, set[str]]
    next_id: dict[str, int]

    @classmethod
    def read(cls, session: Session) -> _Plan:
        divisions = []
        for code, _name in DIVISIONS:
            division_id = session.scalar(select(Division.id).where(Division.code == code))
            if division_id is None:
                raise RuntimeError("demo divisions missing: load the demo first")
            users = dict(
                session.execute(
                    select(User.username, User.id).where(User.division_id == division_id)
                ).all()
            )
            divisions.append(
                _Division(
                    division_id,
                    [users[f"{code}.clerk1"], users[f"{code}.clerk2"]],
                    users[f"{code}.head"],
                )
            )

        def ids(model) -> list[int]:
            return list(session.scalars(select(model.id).order_by(model.sort_order, model.id)))

        regions = {
            code: (name, level, parent)
            for code, name, level, parent in session.execute(
                select(Region.code, Region.name, Region.level, Region.parent_code)
            )
        }
        counties = []
        for code, (name, level, parent) in sorted(regions.items()):
            if level != 3:
                continue
            place = name
            while parent in regions:  # nearest ancestor with a real name
                ancestor, _level, parent = regions[parent]
                if ancestor not in GENERIC_PLACES:
                    place = ancestor
                    break
            counties.append((code, name, _short_place(place)))
        taken = {
            d.id: set(session.scalars(select(Customer.name).where(Customer.division_id == d.id)))
            for d in divisions
        }
        next_id = {
            table.name: (session.scalar(select(func.max(table.c.id))) or 0) + 1
            for table in (Customer.__table__, Contact.__table__, Activity.__table__)
        }
        return cls(
            divisions=divisions,
            grades=ids(Grade),
            industries=list(
                session.execute(select(Industry.id, Industry.code).order_by(Industry.sort_order))
            ),
            sources=ids(Source),
            natures=ids(CompanyNature),
            revenue_bands=ids(RevenueBand),
            employee_bands=ids(EmployeeBand),
            feedback_reasons=ids(FeedbackReason),
            counties=counties,
            taken=taken,
            next_id=next_id,
        )


# -- the rows --------------------------------------------------------------------------

CUSTOMER_COLUMNS = (
    "id", "division_id", "name", "kind", "owner_id", "created_by_id", "grade_id",
    "industry_id", "source_id", "nature_id", "revenue_band_id", "employee_band_id", "rating",
    "region_code", "address", "postcode", "mobile", "phone", "email", "status", "pinned",
    "locked", "in_pool_since", "previous_owner_id", "last_followup_at",
    "next_followup_at", "created_at", "updated_at", "version",
)  # fmt: skip
CONTACT_COLUMNS = (
    "id", "division_id", "customer_id", "created_by_id", "name", "gender",
    "position", "mobile", "email", "is_primary", "created_at", "updated_at", "version",
)  # fmt: skip
ACTIVITY_COLUMNS = (
    "id", "division_id", "customer_id", "owner_id", "created_by_id", "kind", "subject",
    "state", "planned_at", "done_at", "result", "feedback_reason_id", "created_at",
    "updated_at", "version",
)  # fmt: skip
GRAM_COLUMNS = ("lead", "follow", "customer_id")


@dataclass
class _Chunk:
    customers: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(default_factory=list)
    activities: list[tuple] = field(default_factory=list)
    grams: list[tuple] = field(default_factory=list)


class _Generator:
    def __init__(self, plan: _Plan, rng: random.Random, at: datetime):
        self.plan, self.rng, self.at = plan, rng, at
        self.words = _Words(rng)
        self.ids = dict(plan.next_id)
        self.serial = 0

    def _next(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _unique_name(self, division_id: int, make: Callable[[], str], place: str) -> str:
        taken = self.plan.taken[division_id]
        for _ in range(8):
            name = make()
            if name not in taken:
                break
        else:  # a namesake: told apart by place, as clerks do
            base = f"{name}（{place}）"
            name, n = base, 2
            while name in taken:
                name, n = f"{base[:-1]}{n}）", n + 1
        taken.add(name)
        return name

    def chunk(self, size: int) -> _Chunk:
        out = _Chunk()
        rng, plan, at, words = self.rng, self.plan, self.at, self.words
        for _ in range(size):
            division = plan.divisions[self.serial % len(plan.divisions)]
            self.serial += 1
            owner = rng.choice((*division.clerks, None))  # a third in the pool
            company = rng.random() < 0.6
            county_code, county, place = rng.choice(plan.counties)
            industry_id, industry_code = rng.choice(plan.industries)
            if company:
                name = self._unique_name(
                    division.id, partial(words.company, place, industry_code), county
                )
            else:
                name = self._unique_name(division.id, words.person, county)
            customer_id = self._next("customers")
            created = at - timedelta(days=rng.randrange(0, 730), seconds=rng.randrange(86400))
            updated = min(at, created + timedelta(days=rng.randrange(0, 120)))
            updated -= timedelta(seconds=rng.randrange(3600))
            last_follow = updated if rng.random() < 0.7 else None
            previous = rng.choice(division.clerks) if owner is None else None
            mobile = words.mobile()
            out.customers.append(
                (
                    customer_id,
                    division.id,
                    name,
                    "company" if company else "person",
                    owner,
                    owner or previous,
                    rng.choice(plan.grades),
                    industry_id if company else None,
                    rng.choice(plan.sources),
                    rng.choice(plan.natures) if company else None,
                    rng.choice(plan.revenue_bands) if company else None,
                    rng.choice(plan.employee_bands) if company else None,
                    rng.randint(1, 3),
                    county_code,
                    words.address(county),
                    f"{rng.randrange(100000, 900000)}",
                    mobile,
                    f"0{rng.randint(10, 999)}-{rng.randrange(10**7, 10**8)}"
                    if company and rng.random() < 0.5
                    else None,
                    words.email() if rng.random() < 0.4 else None,
                    rng.choice(STATUSES),
                    rng.random() < 0.02,
                    False,
                    updated if owner is None else None,
                    previous,
                    last_follow,
                    at + timedelta(days=rng.randrange(-5, 30)) if owner else None,
                    created,
                    updated,
                    1,
                )
            )
            out.grams.extend((lead, follow, customer_id) for lead, follow in name_grams(name))
            holder = owner or previous
            for n in range(1 + (rng.random() < 0.5)):
                person = name if (n == 0 and not company) else words.person()
                out.contacts.append(
                    (
                        self._next("contacts"),
                        division.id,
                        customer_id,
                        holder,
                        person,
                        rng.choice(("male", "female")),
                        rng.choice(POSITIONS) if company else None,
                        mobile if (n == 0 and not company) else words.mobile(),
                        None,
                        n == 0,
                        created,
                        created,
                        1,
                    )
                )
            visits = rng.choice((1, 2, 3))
            for n in range(visits):
                pending = owner is not None and n == visits - 1
                when = (
                    at + timedelta(days=rng.randrange(-3, 20), hours=rng.randrange(8, 18))
                    if pending
                    else created + timedelta(days=rng.randrange(0, 60), hours=rng.randrange(24))
                )
                out.activities.append(
                    (
                        self._next("activities"),
                        division.id,
                        customer_id,
                        holder,
                        holder,
                        "plan" if pending or rng.random() < 0.6 else "action",
                        rng.choice(SUBJECTS_PLANNED if pending else SUBJECTS_DONE),
                        "pending" if pending else "done",
                        when,
                        None if pending else when + timedelta(hours=1),
                        None if pending else rng.choice(RESULTS),
                        None if pending else rng.choice(plan.feedback_reasons),
                        min(when, at),
                        min(when, at),
                        1,
                    )
                )
        return out


# -- writing ---------------------------------------------------------------------------


class BulkWriter:
    """Rows into tables through the driver of the session's connection."""

    def __init__(self, session: Session):
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.raw = self.connection.connection.driver_connection
        # An autocommit session (some tests) gets the rows, without the transaction-wide
        # settings, lock and index rebuild that need one transaction around the load.
        options = self.connection.get_execution_options()
        self.transactional = options.get("isolation_level") != "AUTOCOMMIT"
        self.dropped_indexes: list = []
        self.dropped_fks: list[ForeignKeyConstraint] = []
        if self.dialect.name == "sqlite":
            # One transaction (so `synchronous` matters only at its single commit) and a
            # page cache big enough to keep the index B-trees in memory while they grow.
            cursor = self.raw.cursor()
            cursor.execute("PRAGMA cache_size = -1000000")  # 1 GB while loading
            if not self.raw.in_transaction:  # SQLite refuses it inside a transaction
                cursor.execute("PRAGMA temp_store = MEMORY")
            cursor.close()
            self._converters: dict[str, list] = {}
        elif self.transactional:
            self.connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
            self.connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            # One loader at a time, and no one else taking ids while we allocate them.
            self.connection.exec_driver_sql(
                "LOCK TABLE customers, contacts, activities IN EXCLUSIVE MODE"
            )

    def _sqlite_converters(self, table: Table, columns: Sequence[str]) -> list:
        """SQLAlchemy's own conversions (datetimes as text, booleans as 0/1)."""
        key = table.name
        if key not in self._converters:
            self._converters[key] = [
                table.c[name].type.dialect_impl(self.dialect).bind_processor(self.dialect)
                for name in columns
            ]
        return self._converters[key]

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.dialect.name == "postgresql":
            names = ", ".join(f'"{c}"' for c in columns)
            with self.raw.cursor() as cursor:
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            return
        converters = self._sqlite_converters(table, columns)
        active = [(i, conv) for i, conv in enumerate(converters) if conv is not None]
        if active:
            converted = []
            for row in rows:
                values = list(row)
                for i, conv in active:
                    if values[i] is not None:
                        values[i] = conv(values[i])
                converted.append(values)
            rows = converted
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" * len(columns))
        cursor = self.raw.cursor()
        cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
        cursor.close()

    def drop_indexes(self) -> None:
        """Secondary indexes (and PostgreSQL foreign keys) off until `restore`."""
        for table in BULK_TABLES:
            for index in sorted(table.indexes, key=lambda i: i.name):
                if not index.unique:
                    self.connection.exec_driver_sql(f'DROP INDEX "{index.name}"')
                    self.dropped_indexes.append(index)
            if self.dialect.name == "postgresql":
                for fk in sorted(table.foreign_key_constraints, key=lambda c: c.name):
                    self.connection.exec_driver_sql(
                        f'ALTER TABLE {table.name} DROP CONSTRAINT "{fk.name}"'
                    )
                    self.dropped_fks.append(fk)

    def restore(self) -> None:
        from sqlalchemy.schema import AddConstraint

        for index in self.dropped_indexes:
            index.create(self.connection)
        for fk in self.dropped_fks:
            self.connection.execute(AddConstraint(fk))
        self.dropped_indexes, self.dropped_fks = [], []

    def reset_sequences(self, tables: Sequence[str] = ("customers", "contacts", "activities")):
        """PostgreSQL's id sequences past the ids written here (SQLite needs nothing)."""
        if self.dialect.name != "postgresql":
            return
        for table in tables:
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )


def _chunks(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


def load_bulk_customers(
    session: Session,
    count: int,
    *,
    seed: int = 2026,
    at: datetime | None = None,
    chunk: int = CHUNK,
    progress: Callable[[str], None] | None = None,
) -> BulkReport:
    """Add `count` generated customers with contacts, activities and their name index
    to the demo divisions (which must be loaded); the same seed on the same database
    gives the same rows. The caller commits, then calls `refresh_statistics`."""
    started = time.perf_counter()
    report = BulkReport()
    if count <= 0:
        return report
    at = (at or now()).replace(microsecond=0)
    writer = BulkWriter(session)
    plan = _Plan.read(session)
    generator = _Generator(plan, random.Random(seed), at)

    def step(name: str, since: float) -> float:
        now_ = time.perf_counter()
        report.steps.append((name, now_ - since))
        if progress:
            progress(f"{name}: {now_ - since:.1f} s")
        return now_

    mark = time.perf_counter()
    rebuild = count >= REBUILD_INDEXES_FROM and writer.transactional
    if rebuild:
        writer.drop_indexes()
        mark = step("drop indexes", mark)
    generating = writing = 0.0
    for size in _chunks(count, chunk):
        t0 = time.perf_counter()
        rows = generator.chunk(size)
        t1 = time.perf_counter()
        writer.write(Customer.__table__, CUSTOMER_COLUMNS, rows.customers)
        writer.write(Contact.__table__, CONTACT_COLUMNS, rows.contacts)
        writer.write(Activity.__table__, ACTIVITY_COLUMNS, rows.activities)
        writer.write(CustomerGram.__table__, GRAM_COLUMNS, rows.grams)
        t2 = time.perf_counter()
        generating += t1 - t0
        writing += t2 - t1
        report.customers += len(rows.customers)
        report.contacts += len(rows.contacts)
        report.activities += len(rows.activities)
        report.grams += len(rows.grams)
        if progress and report.customers % (chunk * 10) == 0:
            progress(f"{report.customers} customers")
    report.steps += [("generate", generating), ("insert", writing)]
    mark = time.perf_counter()
    if rebuild:
        writer.restore()
        mark = step("build indexes", mark)
    writer.reset_sequences()
    session.expire_all()
    report.seconds = time.perf_counter() - started
    return report


def refresh_statistics(engine: Engine) -> float:
    """After a big load: fresh planner statistics (and on PostgreSQL a vacuum, which sets
    the visibility map that index-only scans need). Runs outside any transaction."""
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if connection.dialect.name == "postgresql":
            for table in (
                *("customers", "customer_standings", "contacts", "activities", "customer_grams"),
                "opportunities",
                *("stage_changes", "orders", "service_requests"),
            ):
                connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
        else:
            connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started
