"""The JSON bodies the API answers with, as the OpenAPI document shows them to clients (errors: errors.py).

Routes return plain dicts; FastAPI checks them against these models, so the document cannot drift from what the
daemon sends. Request bodies live with their routes.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

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


class Inhibitor(BaseModel):
    key: Optional[str]
    title: Optional[str]
    remediation: Optional[str]


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


class RoleSummary(BaseModel):
    role: str
    nodes: int
    old_os: int
    new_os: int
    unknown_os: int
    leased: int
    one_by_one: bool


class CephMonSummary(BaseModel):
    running: list[str]
    leased: list[str]
    min: int
    ok: bool


class LeasePolicy(BaseModel):
    min_ceph_mons: int
    batch_size: Optional[int]
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
