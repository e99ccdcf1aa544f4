"""Every setting of the daemon, in one place: embedded defaults < config file < command-line flags."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

DEFAULT_STATE_DIR = Path("/var/lib/tripleo-upgrade")
DEFAULT_LISTEN = "127.0.0.1:8990"


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names the setting and, when known, the file."""


@dataclasses.dataclass(frozen=True)
class Settings:
    state_dir: Path = DEFAULT_STATE_DIR
    listen: str = DEFAULT_LISTEN
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def host(self) -> str:
        return _split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return _split_listen(self.listen)[1]


def _split_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"listen: {listen!r} is not HOST:PORT (for example 127.0.0.1:8990)")
    return host.strip("[]"), int(port)


_PATH_FIELDS = {"state_dir", "tls_cert", "tls_key"}


def load_settings(config_file: Path | None = None, **overrides) -> Settings:
    """Build the settings from the embedded defaults, an optional YAML config file and explicit overrides."""
    values: dict = {}
    if config_file is not None:
        values.update(_read_config_file(config_file))
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in _PATH_FIELDS & values.keys():
        values[key] = Path(values[key])
    settings = Settings(**values)
    _split_listen(settings.listen)
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise SettingsError("tls_cert and tls_key go together: give both or neither")
    return settings


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
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return data
