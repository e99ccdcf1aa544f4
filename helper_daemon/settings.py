"""Every setting of the daemon, in one place: embedded defaults < config file < command-line flags."""

from __future__ import annotations

import dataclasses
import ssl
from pathlib import Path
from typing import Optional

import yaml

from helper_daemon.policy import LeaseRules, budget_error

DEFAULT_STATE_DIR = Path("/var/lib/tripleo-upgrade")
DEFAULT_LISTEN = "127.0.0.1:8990"
MiB = 1024**2
GiB = 1024**3


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names the setting and, when known, the file."""


@dataclasses.dataclass(frozen=True)
class Settings:
    state_dir: Path = DEFAULT_STATE_DIR
    listen: str = DEFAULT_LISTEN
    tls_cert: Optional[Path] = None
    tls_key: Optional[Path] = None
    # A file holding the admin token; when unset the daemon creates <state_dir>/admin-token on first start.
    admin_token_file: Optional[Path] = None
    # One stored item may not exceed this many bytes (413 beyond).
    max_item_bytes: int = 200 * GiB
    # A status report (PUT /v1/nodes/<node>/status) may not exceed this many bytes (413 beyond); leapp's are KiBs.
    max_status_report_bytes: int = 4 * MiB
    # Each node's timeline keeps its latest this-many reports, within status_timeline_bytes (the newest always);
    # older ones are counted and summarised.
    status_timeline_length: int = 10
    status_timeline_bytes: int = 8 * MiB
    # Uploads get 507 rather than leave less than this free on the state dir's file system.
    disk_reserve_bytes: int = 2 * GiB
    # Lease policy (helper_daemon/policy.py): ceph-mon hosts that must stay up.
    min_ceph_mons: int = 2
    # Roles of which one node at a time may be down; None: the roles of Pacemaker and ceph-mon hosts.
    one_by_one_roles: Optional[tuple] = None
    # Disruption budgets of the roles not one-by-one: role -> nodes down at once (2) or a share ("25%", at least
    # one node); the admin may set one per role too (PUT /v1/roles/{role}/budget), which wins.
    lease_budgets: dict = dataclasses.field(default_factory=dict)
    # The budget of every other role; None: no limit beyond "never a whole role". Replaces `batch_size` (still
    # read from an old config file, as this, with a deprecation notice).
    default_lease_budget: Optional[object] = None
    # Pause the fleet (rule node-silent) when a leased node sent no report for this many seconds; 0: never.
    silent_node_pause_after: int = 7200
    # A ceph-mon host whose newest quorum facts (`ceph quorum_status` from any node) are older than this many
    # seconds does not count as running.
    ceph_mon_facts_max_age: int = 900
    # What reading the config file had to say (a deprecated setting); `serve` logs it.
    notices: tuple = ()
    # The major OS release a node is on once upgraded.
    target_os_major: int = 9
    log_level: str = "info"
    # Threads for blocking work (SQLite writes, file I/O); each holds one SQLite connection: this bounds both.
    worker_threads: int = 8

    @property
    def host(self) -> str:
        return _split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return _split_listen(self.listen)[1]

    @property
    def admin_token_path(self) -> Path:
        return self.admin_token_file or self.state_dir / "admin-token"

    @property
    def lease_rules(self) -> LeaseRules:
        roles = self.one_by_one_roles
        return LeaseRules(self.min_ceph_mons, frozenset(roles) if roles is not None else None,
                          self.default_lease_budget, dict(self.lease_budgets))


def _split_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"listen: {listen!r} is not HOST:PORT (for example 127.0.0.1:8990)")
    return host.strip("[]"), int(port)


_PATH_FIELDS = {"state_dir", "tls_cert", "tls_key", "admin_token_file"}
_TEXT_FIELDS = {"listen", "log_level"}
_NON_NEGATIVE_INT_FIELDS = {"max_item_bytes", "disk_reserve_bytes", "min_ceph_mons", "target_os_major",
                            "silent_node_pause_after"}
_POSITIVE_INT_FIELDS = {"max_status_report_bytes", "status_timeline_length", "status_timeline_bytes",
                        "worker_threads", "ceph_mon_facts_max_age"}
_LOG_LEVELS = ("debug", "info", "warning", "error")


def load_settings(config_file: Path | None = None, **overrides) -> Settings:
    """Build the settings from the embedded defaults, an optional YAML config file and explicit overrides."""
    values: dict = {}
    where = f"{config_file}: " if config_file is not None else ""
    if config_file is not None:
        values.update(_read_config_file(config_file))
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in (_PATH_FIELDS | _TEXT_FIELDS) & values.keys():
        if values[key] is not None and not isinstance(values[key], (str, Path)):
            raise SettingsError(f"{where}{key}: expected text, got {values[key]!r}")
    for key in _PATH_FIELDS & values.keys():
        if values[key] is not None:
            values[key] = Path(values[key])
    for key in _NON_NEGATIVE_INT_FIELDS & values.keys():
        if isinstance(values[key], bool) or not isinstance(values[key], int) or values[key] < 0:
            raise SettingsError(f"{where}{key}: expected a whole number >= 0, got {values[key]!r}")
    for key in _POSITIVE_INT_FIELDS & values.keys():
        if isinstance(values[key], bool) or not isinstance(values[key], int) or values[key] < 1:
            raise SettingsError(f"{where}{key}: expected a whole number >= 1, got {values[key]!r}")
    values.pop("notices", None)
    notices = []
    if "batch_size" in values:
        batch = values.pop("batch_size")
        if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
            raise SettingsError(f"{where}batch_size: expected a whole number >= 1 or null, got {batch!r}")
        if values.get("default_lease_budget") is not None:
            raise SettingsError(f"{where}batch_size and default_lease_budget both given: batch_size is deprecated, "
                                "keep default_lease_budget only")
        values["default_lease_budget"] = batch
        notices.append(f"{where}batch_size is deprecated: read as default_lease_budget: {batch} (the budget of "
                       "every role not one-by-one); rename it, and set per-role budgets in lease_budgets")
    default_budget = values.get("default_lease_budget")
    if default_budget is not None and budget_error(default_budget):
        raise SettingsError(f"{where}default_lease_budget: {budget_error(default_budget)} (or null: no limit)")
    budgets = values.get("lease_budgets")
    if budgets is not None:
        if not isinstance(budgets, dict) or not all(isinstance(r, str) and r for r in budgets):
            raise SettingsError(f"{where}lease_budgets: expected a mapping of role name -> budget, got {budgets!r}")
        for role, budget in budgets.items():
            if budget_error(budget):
                raise SettingsError(f"{where}lease_budgets.{role}: {budget_error(budget)}")
        values["lease_budgets"] = dict(budgets)
    else:
        values.pop("lease_budgets", None)
    roles = values.get("one_by_one_roles")
    if roles is not None:
        if not isinstance(roles, (list, tuple)) or not all(isinstance(r, str) and r for r in roles):
            raise SettingsError(f"{where}one_by_one_roles: expected a list of role names or null, got {roles!r}")
        values["one_by_one_roles"] = tuple(roles)
    if values.get("log_level", "info") not in _LOG_LEVELS:
        raise SettingsError(f"{where}log_level: expected one of {', '.join(_LOG_LEVELS)}")
    settings = Settings(**values, notices=tuple(notices))
    _split_listen(settings.listen)
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise SettingsError("tls_cert and tls_key go together: give both or neither")
    return settings


def check_tls_files(settings: Settings) -> None:
    """Before serving: load the pair once, so a wrong file is one clear message rather than a server traceback."""
    cert, key = settings.tls_cert, settings.tls_key
    if cert is None:
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise SettingsError(f"tls_cert {cert} / tls_key {key}: not a matching PEM certificate and private "
                            f"key: {exc.reason or exc}") from None
    except OSError as exc:
        raise SettingsError(f"tls_cert {cert} / tls_key {key}: cannot read them: {exc.strerror or exc}") from None


def _read_config_file(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the config file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of settings at the top level")
    known = ({f.name for f in dataclasses.fields(Settings)} - {"notices"}) | {"batch_size"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return data
