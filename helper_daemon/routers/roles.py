"""Per role: the admin's disruption budget, and whether the role stays on the old OS (audited)."""

from __future__ import annotations

from typing import Annotated, Optional, Union

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from helper_daemon import policy, records
from helper_daemon.auth import AdminCaller
from helper_daemon.dependencies import DatabaseDep, SettingsDep
from helper_daemon.errors import ApiError, documented
from helper_daemon.logs import event
from helper_daemon.schemas import ROLE_PATTERN, RoleBudgetView, RoleKeptView

router = APIRouter(prefix="/v1/roles/{role}", tags=["roles"])

RoleName = Annotated[str, Path(pattern=ROLE_PATTERN, description="a TripleO role with registered nodes")]


def _whole_number(value):
    """JSON Schema counts 2.0 as an integer: so does this body."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class BudgetRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    budget: Annotated[Optional[Union[Annotated[int, Field(ge=1, le=100000)],
                                     Annotated[str, Field(pattern=r"^(100|[1-9][0-9]?(\.[0-9]{1,3})?)%$")]]],
                      BeforeValidator(_whole_number)] = Field(
        description="nodes down at once (>= 1) or a share of the role such as \"25%\" (at least one node); null: "
                    "back to the configured budget")


class KeepRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    reason: str = Field(min_length=1, max_length=2048, pattern=r"\S", description="why it stays; audited")


def _known_role(conn, role: str) -> None:
    if not records.role_exists(conn, role):
        raise ApiError(404, "unknown role", f"no node of role {role!r} is registered (roles: "
                       f"{', '.join(records.roles(conn)) or 'none'})")


@router.put("/budget", summary="Set the role's disruption budget (audited); a one-by-one role stays at 1",
            response_model=RoleBudgetView, responses=documented(400, 401, 403, 404, 413))
def set_role_budget(role: RoleName, body: BudgetRequest, caller: AdminCaller, db: DatabaseDep,
                    settings: SettingsDep) -> dict:
    with db.transaction() as conn:
        _known_role(conn, role)
        records.set_role_budget(conn, role, body.budget, caller.name)
        records.audit(conn, caller.name, "role-budget", detail=f"{role}: {body.budget}")
        admin = records.admin_budgets(conn)
        members = [n for n in records.lease_nodes_of_role(conn, role)]
    rules = settings.lease_rules.with_budgets(admin)
    one_by_one = policy.is_one_by_one(role, members, rules)
    budget = policy.role_budget(role, len(members), one_by_one, rules, admin)
    event("role budget", role=role, budget=body.budget)
    return {"role": role, "budget": budget.budget, "source": budget.source, "nodes": budget.nodes,
            "one_by_one": one_by_one}


@router.put("/keep-old-os", summary="Mark the role to stay on the old OS (audited): no transfer plan, cleanup "
            "does not wait for it, status shows it as intended", response_model=RoleKeptView,
            responses=documented(400, 401, 403, 404, 413))
def keep_old_os(role: RoleName, body: KeepRequest, caller: AdminCaller, db: DatabaseDep) -> dict:
    reason = body.reason.strip()
    with db.transaction() as conn:
        _known_role(conn, role)
        records.set_keep_old_os(conn, role, reason, caller.name)
        records.audit(conn, caller.name, "role-keep-old-os", detail=f"{role}: {reason}")
        kept = records.kept_roles(conn)[role]
    event("role kept on the old OS", role=role, reason=reason)
    return {"role": role, "keep_old_os": kept}


@router.delete("/keep-old-os", status_code=204, summary="The role is upgraded after all (audited; idempotent)",
               responses=documented(400, 401, 403, 404))
def upgrade_role_after_all(role: RoleName, caller: AdminCaller, db: DatabaseDep) -> Response:
    with db.transaction() as conn:
        _known_role(conn, role)
        was = records.kept_roles(conn).get(role)
        records.set_keep_old_os(conn, role, None, caller.name)
        records.audit(conn, caller.name, "role-upgrade", detail=f"{role}: no longer kept on the old OS"
                      + (f" (was: {was['reason']})" if was else " (was not kept)"))
    event("role no longer kept on the old OS", role=role)
    return Response(status_code=204)
