"""The JSON bodies the API answers with, as the OpenAPI document shows them to clients (errors: errors.py).

Routes return plain dicts; FastAPI checks them against these models, so the document cannot drift from what the
daemon sends. Request bodies live with their routes.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

PHASES = ("preupgrade", "prepared", "upgraded", "completed", "failed")


class ReportEntry(BaseModel):
    """One leapp report entry as a node sends it (PUT /v1/nodes/{node}/status) and gets it back."""

    # strict: a JSON 0 or "yes" is not a boolean; a client sending one has a bug worth a 400.
    model_config = ConfigDict(strict=True)

    key: str = Field("", max_length=256)
    title: str = Field(max_length=1024)
    summary: str = Field("", max_length=65536)
    severity: str = Field("info", max_length=32)
    inhibitor: bool = False
    remediation: Optional[str] = Field(None, max_length=65536)


# --- nodes ----------------------------------------------------------------------------------------------------------


class NodeRegistered(BaseModel):
    name: str
    role: str
    ceph_mon: bool
    one_by_one: bool
    created: bool
    token: Optional[str] = Field(description="the new token, shown only here; null when the node kept its own")


class RegisteredNode(BaseModel):
    name: str
    role: str
    ceph_mon: bool
    one_by_one: bool
    phase: Optional[str]
    os_release: Optional[str]
    updated_at: Optional[str]


class NodeList(BaseModel):
    nodes: list[RegisteredNode]


# --- data -----------------------------------------------------------------------------------------------------------


class ItemStored(BaseModel):
    node: str
    item: str
    size: int
    sha256: str  # of the bytes as stored (for encoding "zstd": the compressed bytes)
    encoding: Literal["identity", "zstd"]


class StoredItem(BaseModel):
    item: str
    size: int
    sha256: str  # of the bytes as stored (for encoding "zstd": the compressed bytes)
    stored_at: str
    encoding: Literal["identity", "zstd"]


class ItemList(BaseModel):
    items: list[StoredItem]
    free_bytes: int = Field(description="bytes that may still be stored above the disk reserve")


# --- node status ----------------------------------------------------------------------------------------------------


class StatusAccepted(BaseModel):
    node: str
    phase: Literal[PHASES]
    os_release: Optional[str] = Field(description="the node's OS release now: the reported one, else the last known")
    updated_at: str
    inhibitors: int
    paused_fleet: bool = Field(False, description="this report (phase failed) paused the fleet: rule node-failed")


class ReportedStatus(BaseModel):
    at: str
    phase: Optional[str]
    os_release: Optional[str]
    leapp_run_id: Optional[str]
    error: Optional[str]
    reports: list[ReportEntry]


class OlderReports(BaseModel):
    """What the bounded timeline dropped."""

    count: int
    first_at: str
    last_at: str
    phases: list[str]


class NodeStatusView(BaseModel):
    node: str
    phase: Optional[str]
    os_release: Optional[str]
    leapp_run_id: Optional[str]
    error: Optional[str]
    reports: list[ReportEntry]
    updated_at: Optional[str]
    timeline: list[ReportedStatus] = Field(description="the latest reports, oldest first")
    older_reports: Optional[OlderReports]


# --- leases ---------------------------------------------------------------------------------------------------------


class LeaseGranted(BaseModel):
    node: str
    granted: bool
    dry_run: bool
    since: Optional[str] = Field(description="when the lease began; null for a dry run of a new lease")
    already_held: bool


class LeaseReleased(BaseModel):
    node: str
    released: bool = Field(description="false: the node held no lease (nothing changed)")
    since: Optional[str] = Field(description="when the released lease began")
    reason: str


class Lease(BaseModel):
    node: str
    since: str
    granted_by: str


# --- node services ----------------------------------------------------------------------------------------------


class NodeServices(BaseModel):
    state: Literal["down", "up"] = Field(description="down: the node stopped its TripleO services (not ceph-mon)")
    at: str
    detail: str = Field(description="what the node stopped or started, in its own words")


class ServicesReported(NodeServices):
    node: str


# --- transfers ------------------------------------------------------------------------------------------------------


class Transfer(BaseModel):
    id: str
    role: str
    source: str
    target: str
    items: list[str]
    state: Literal["open", "sealed"]
    forced_reason: Optional[str]
    created_at: str
    sealed_at: Optional[str]


class TransferPlan(BaseModel):
    role: str
    valid: bool = Field(description="would POST /v1/transfers open a transfer for this role now")
    source: Optional[str]
    target: Optional[str]
    old_os: list[str]
    new_os: list[str]
    unknown_os: list[str]
    reasons: list[str]
    transfers: list[Transfer]
    source_services: Optional[NodeServices] = Field(
        description="what the source last reported of its services (null: never); its push waits for down")


class TransferPlans(BaseModel):
    target_os_major: int
    plans: list[TransferPlan]


class NodeTransfers(BaseModel):
    transfers: list[Transfer]


# --- fleet ----------------------------------------------------------------------------------------------------------


class AcceptedBy(BaseModel):
    id: int
    scope: Literal["node", "role", "fleet"]
    target: Optional[str]
    reason: str


class Inhibitor(BaseModel):
    key: Optional[str]
    title: Optional[str]
    remediation: Optional[str]
    accepted: bool = Field(False, description="an acceptance lets it through (POST /v1/inhibitors/accepted)")
    accepted_by: Optional[AcceptedBy] = None


class NodeLease(BaseModel):
    since: str
    granted_by: str


class FleetNode(BaseModel):
    name: str
    role: str
    ceph_mon: bool
    phase: Optional[str]
    os_release: Optional[str]
    os: Literal["old", "new", "unknown"]
    leapp_run_id: Optional[str]
    error: Optional[str]
    last_report_at: Optional[str]
    inhibitors: list[Inhibitor]
    items: list[StoredItem]
    stored_bytes: int
    lease: Optional[NodeLease]
    services: Optional[NodeServices] = Field(description="what the node last reported of its TripleO services")
    ceph_osd: bool = Field(False, description="the node hosts Ceph OSDs (inventory group ceph_osd)")
    leapp_result: Optional[dict] = Field(None, description="leapp's own result record as FirstBoot reported it")
    kept_on_old_os: bool = Field(False, description="its role stays on the old OS, as intended")


class RoleSummary(BaseModel):
    role: str
    nodes: int
    old_os: int
    new_os: int
    unknown_os: int
    leased: int
    one_by_one: bool
    budget: Optional[int | str] = Field(None, description="as configured (one-by-one: 1); null: no budget")
    budget_source: str = Field("none", description="one-by-one, admin, lease_budgets, default_lease_budget, none")
    allowed_down: int = Field(1, description="nodes of the role that may be down at once")
    down: int = Field(0, description="nodes of the role holding a lease")
    may_go_now: int = Field(0, description="how many more may be granted a lease now by the budget")
    keep_old_os: Optional[KeptOnOldOs] = Field(None, description="the role stays on the old OS, and why")


class CephMonSummary(BaseModel):
    running: list[str]
    leased: list[str]
    min: int
    ok: bool
    live: list[str] = Field(default_factory=list, description="running and in quorum by the newest facts")
    not_live: dict[str, str] = Field(default_factory=dict, description="running ones not counted, and why")
    live_ok: bool = True


class LeasePolicy(BaseModel):
    min_ceph_mons: int
    default_lease_budget: Optional[int | str] = Field(description="the budget of roles without their own "
                                                      "(replaces batch_size); null: no limit but never a whole role")
    lease_budgets: dict[str, int | str] = Field(description="per role, from the config file and the admin's "
                                                "PUT /v1/roles/{role}/budget (which wins)")
    one_by_one_roles: Optional[list[str]]


class FleetStatus(BaseModel):
    generated_at: str
    target_os_major: int
    nodes: list[FleetNode]
    roles: list[RoleSummary]
    ceph_mon: CephMonSummary
    leases: list[Lease]
    policy: LeasePolicy
    transfers: list[Transfer]
    paused: Optional[FleetPause] = Field(None, description="null: leases are granted")
    inhibitors: dict[str, int] = Field(default_factory=dict, description="{unresolved, accepted} over the fleet")
    ceph_osd_flags: list[OsdFlagRow] = Field(default_factory=list, description="every OSD flag the project holds "
                                             "or is clearing, with its node and since when")


# --- operations -----------------------------------------------------------------------------------------------------


class RemovedItem(BaseModel):
    node: str
    item: str
    size: int
    sha256: str


class CleanupDone(BaseModel):
    removed: list[RemovedItem]
    forced: bool
    overridden: list[str] = Field(description="the reasons a forced cleanup went past")


class Health(BaseModel):
    status: Literal["ok"]


# --- the safety controls (issue 15) ---------------------------------------------------------------------------------

MON_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"


def _rfc3339_text(value):
    if not isinstance(value, str):
        raise ValueError("expected an RFC 3339 date-time string such as 2026-11-26T10:00:00Z")
    return value


class CephMonQuorum(BaseModel):
    """What a node saw of the ceph-mon quorum right now (`ceph quorum_status`): a request body part (lease
    request, status report, group check); mon names compare to node names by short hostname."""

    model_config = ConfigDict(strict=True, populate_by_name=True)

    in_: list[Annotated[str, Field(pattern=MON_NAME_PATTERN)]] = Field(alias="in", max_length=64,
                                                                        description="quorum_names")
    out: list[Annotated[str, Field(pattern=MON_NAME_PATTERN)]] = Field(
        default_factory=list, max_length=64, description="monmap mons not in quorum")
    # JSON has no datetime type: an RFC 3339 string (not strict: parsed), and nothing else (no epoch number)
    observed_at: Annotated[datetime.datetime, BeforeValidator(_rfc3339_text)] = Field(
        strict=False, description="when the node asked (RFC 3339; without an offset: UTC)")
    observed_by: Optional[str] = Field(None, max_length=253,
                                       description="the node that asked (a node's own token: always itself)")

    def observed_at_utc(self) -> str:
        at = self.observed_at if self.observed_at.tzinfo else self.observed_at.replace(tzinfo=datetime.timezone.utc)
        try:
            at = at.astimezone(datetime.timezone.utc)
        except (OverflowError, ValueError):  # year 1 with a positive offset: before any upgrade anyway
            at = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
        return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class LeaseBlockerView(BaseModel):
    rule: str
    holders: list[str]
    must_release: int
    nodes: list[str] = Field(description="live-quorum: the mons not counted; inhibitors: their keys")


class LeaseCheckNode(BaseModel):
    node: str
    granted: bool
    already_held: bool
    reasons: list[str]
    blockers: list[LeaseBlockerView]


class LeaseCheck(BaseModel):
    allowed: bool = Field(description="every node could be down together now")
    nodes: list[LeaseCheckNode]
    reasons: list[str] = Field(description="every refusal reason, each prefixed with its node")


class AcceptedInhibitor(BaseModel):
    id: int
    key: str
    scope: Literal["node", "role", "fleet"]
    target: Optional[str]
    reason: str
    by: str
    at: str


class AcceptedInhibitors(BaseModel):
    accepted: list[AcceptedInhibitor]


class NodeAcceptedInhibitors(BaseModel):
    node: str
    accepted: list[AcceptedInhibitor]


class FleetPause(BaseModel):
    rule: Literal["admin", "node-failed", "node-silent"]
    reason: str
    by: str
    since: str
    node: Optional[str]


class FleetPauseState(BaseModel):
    paused: Optional[FleetPause] = Field(description="null: leases are granted")
    changed: bool = Field(description="false: the request found the fleet as it asked already")


ROLE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"


class RoleBudgetView(BaseModel):
    role: str
    budget: Optional[int | str] = Field(description="as configured; null: no budget")
    source: Literal["one-by-one", "admin", "lease_budgets", "default_lease_budget", "none"]
    nodes: Optional[int] = Field(description="nodes of the role that may be down at once now; null: all but one")
    one_by_one: bool


class KeptOnOldOs(BaseModel):
    reason: str
    by: str
    at: str


class RoleKeptView(BaseModel):
    role: str
    keep_old_os: Optional[KeptOnOldOs]


class OsdFlagRow(BaseModel):
    flag: str
    node: str
    state: Literal["held", "clearing"]
    since: str


class OsdFlagsHeld(BaseModel):
    node: str
    flags: list[str]
    holders: dict[str, list[str]] = Field(description="every flag held now -> the nodes holding it")


class OsdFlagsCleared(BaseModel):
    node: str
    clear: list[str] = Field(description="run `ceph osd unset` for each, then POST .../ceph-osd-flags/cleared")
    still_held: dict[str, list[str]] = Field(description="flags other nodes still hold: leave them set")


class OsdFlagsForgotten(BaseModel):
    forgotten: list[OsdFlagRow]
    reason: str
