"""Role → view → verbs, as a table a reader checks at a glance (Odoo's access CSV).

Verbs: r read, c create, e edit, d delete, x export. Rows are view endpoints.
Which rows a role sees inside a view is portal/scope.py; this table says what it may do.
"""

from __future__ import annotations

ROLES = ("clerk", "division_head", "division_admin", "group_manager", "sysadmin")

_TABLE = """
view               clerk  division_head  division_admin  group_manager  sysadmin
customer           rce    rcedx          r               rcedx          r
pool               r      rex            r               rex            r
contact            rced   rcedx          r               rcedx          r
lead               rce    rcedx          r               rcedx          r
opportunity        rce    rcedx          r               rcedx          r
activity           rce    rcedx          r               rcedx          r
service_request    rce    rcedx          r               rcedx          r
order              rce    rcedx          r               rcedx          r
campaign           r      rcedx          r               rcedx          r
user               -      r              r               r              r
account_request    -      r              rced            rced           rced
transfer_request   -      rced           r               r              r
audit_log          -      r              r               r              r
login_log          -      r              r               r              r
lookups            -      -              -               r              rcedx
regions            -      -              -               r              r
reports            r      r              r               r              r
"""

# Actions (custom verbs) and the roles that may run them.
ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    "customer": {
        "delete": frozenset({"division_head", "group_manager"}),
        # 资料共享人 (R-SCOPE-2): services/sharing.py adds "the owner, or the division's head".
        "share": frozenset({"clerk", "division_head"}),
        "print_profile": frozenset(ROLES),  # 打印客户档案 (R-REPORT-6), customers in scope
        # 暂缓流失 / 确认流失 (R-CHURN-1): services/churn.py adds "the owner or the head".
        "churn": frozenset({"clerk", "division_head", "group_manager"}),
        "release": frozenset({"clerk", "division_head", "group_manager"}),  # R-POOL-4
        "lock": frozenset({"clerk", "division_head"}),  # R-POOL-5 锁定
        "handover": frozenset({"division_head", "group_manager"}),  # R-POOL-7 交接
    },
    "contact": {"delete": frozenset({"clerk", "division_head", "group_manager"})},
    # R-SERVICE-1/2: services/service_requests.py adds who exactly (the division's head,
    # the handler, the creator or owner) and in which state.
    "service_request": {
        verb: frozenset({"clerk", "division_head", "group_manager"})
        for verb in ("assign", "start", "resolve", "feedback", "archive")
    },
    "activity": {
        "instruct": frozenset({"division_head", "group_manager"}),  # 领导批示 (R-FOLLOW-6)
        "complete": frozenset({"clerk", "division_head", "group_manager"}),  # R-FOLLOW-2
        "acknowledge": frozenset({"clerk", "division_head"}),  # the assignee replies
    },
    # Sales workflow (issue #5); services/pool.py and leads.py add the finer rules.
    "lead": {"convert": frozenset({"clerk", "division_head", "group_manager"})},
    "pool": {
        "claim": frozenset({"clerk", "division_head"}),  # R-POOL-2
        "assign": frozenset({"division_head", "group_manager"}),  # R-POOL-3
        "preview": frozenset({"division_head", "group_manager"}),  # R-POOL-5
    },
    # The workflow of R-ACCOUNT-1/5; services/accounts.py adds the finer rules
    # (applicant only, the division's own head, senior roles need group management).
    # R-REPORT: division-wide reports for supervisors; a clerk opens only his own
    # follow-up compliance line (views/reports.py). Every print is logged.
    "reports": {
        "division": frozenset({"division_head", "division_admin", "group_manager", "sysadmin"}),
        "print": frozenset(ROLES),
    },
    "account_request": {
        "submit": frozenset({"division_admin", "group_manager", "sysadmin"}),
        "approve": frozenset({"division_head", "group_manager"}),
        "reject": frozenset({"division_head", "group_manager"}),
        "execute": frozenset({"sysadmin"}),
        "print": frozenset({"division_head", "division_admin", "group_manager", "sysadmin"}),
    },
    "transfer_request": {
        "submit": frozenset({"division_head"}),
        "approve": frozenset({"group_manager"}),
        "reject": frozenset({"group_manager"}),
        "execute": frozenset({"group_manager", "sysadmin"}),
        "print": frozenset({"division_head", "division_admin", "group_manager", "sysadmin"}),
    },
}

VERBS = {"r": "read", "c": "create", "e": "edit", "d": "delete", "x": "export"}


def _parse(table: str) -> dict[str, dict[str, frozenset[str]]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0][1:], lines[1:]
    assert tuple(header) == ROLES, header
    parsed: dict[str, dict[str, frozenset[str]]] = {}
    for view, *cells in rows:
        assert len(cells) == len(ROLES), view
        parsed[view] = {
            role: frozenset(VERBS[c] for c in cell if c != "-")
            for role, cell in zip(ROLES, cells, strict=True)
        }
    return parsed


PERMISSIONS = _parse(_TABLE)


def can(user, view: str, verb: str) -> bool:
    """May this user do `verb` (read/create/edit/delete/export) in `view`?"""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return verb in PERMISSIONS.get(view, {}).get(user.role_code, frozenset())


def can_action(user, view: str, action: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    roles = ACTIONS.get(view, {}).get(action)
    if roles is None:
        return can(user, view, "edit")
    return user.role_code in roles
