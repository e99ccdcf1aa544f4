"""
The ``tripleo_upgrade`` section of the actor configuration, read by leapp from
``/etc/leapp/actor_conf.d/*.yaml``. Example::

    tripleo_upgrade:
      daemon_url: https://undercloud-0.ctlplane.localdomain:8990
      ca_file: /etc/pki/ca-trust/source/anchors/undercloud-ca.pem
      target_repositories:
        - {id: rhel-9-baseos, name: RHEL 9 BaseOS, baseurl: http://mirror/rhel9/BaseOS}
      remove_packages: ["*el8ost*"]

Values are validated by the tripleo_config_scanner actor: a wrong value is an
inhibitor naming the key and the file. Structured values are JSON fields so
that a wrong shape reaches that validation instead of failing leapp's load.
"""
from leapp.actors.config import Config
from leapp.libraries.common.tripleo_config import DEFAULTS, SECTION
from leapp.models import fields


class DaemonUrl(Config):
    section = SECTION
    name = 'daemon_url'
    type_ = fields.String()
    default = DEFAULTS[name]
    description = 'URL of the undercloud helper daemon, e.g. https://undercloud-0.ctlplane.localdomain:8990.'


class TokenFile(Config):
    section = SECTION
    name = 'token_file'
    type_ = fields.String()
    default = DEFAULTS[name]
    description = 'File with this node\'s token issued by the daemon (mode 0600).'


class CaFile(Config):
    section = SECTION
    name = 'ca_file'
    type_ = fields.String()
    default = DEFAULTS[name]
    description = 'CA bundle that signed the daemon certificate; empty uses the system trust store.'


class NodeName(Config):
    section = SECTION
    name = 'node_name'
    type_ = fields.String()
    default = DEFAULTS[name]
    description = 'Node name as the daemon knows it; empty means the short host name.'


class RequestTimeout(Config):
    section = SECTION
    name = 'request_timeout'
    type_ = fields.JSON()
    default = DEFAULTS[name]
    description = 'Seconds to wait for the daemon to answer one request.'


class PersistItems(Config):
    section = SECTION
    name = 'persist_items'
    type_ = fields.JSON()
    default = DEFAULTS[name]
    description = 'Node data kept across the upgrade: item name -> list of absolute paths.'


class PersistDropinDir(Config):
    section = SECTION
    name = 'persist_dropin_dir'
    type_ = fields.String()
    default = DEFAULTS[name]
    description = 'Directory of *.json drop-in files in which TripleO services declare more items to persist.'


class Compression(Config):
    section = SECTION
    name = 'compression'
    type_ = fields.String()
    default = DEFAULTS[name]
    description = 'Compression of persisted archives: none or zstd.'


class RestoreMode(Config):
    section = SECTION
    name = 'restore_mode'
    type_ = fields.String()
    default = DEFAULTS[name]
    description = ('missing-only (in-place upgrade: restore only what is missing or an empty directory) '
                   'or always (replace what is there).')


class TargetRepositories(Config):
    section = SECTION
    name = 'target_repositories'
    type_ = fields.JSON()
    default = DEFAULTS[name]
    description = 'Newer OS and OpenStack repositories for the upgrade: a list of {id, name, baseurl}.'


class RemovePackages(Config):
    section = SECTION
    name = 'remove_packages'
    type_ = fields.JSON()
    default = DEFAULTS[name]
    description = 'Installed packages to remove during the upgrade: names or glob patterns such as *el8ost*.'


class InstallPackages(Config):
    section = SECTION
    name = 'install_packages'
    type_ = fields.JSON()
    default = DEFAULTS[name]
    description = 'Packages to install or keep on the target system.'


TRIPLEO_UPGRADE_CONFIG = (
    DaemonUrl, TokenFile, CaFile, NodeName, RequestTimeout, PersistItems, PersistDropinDir,
    Compression, RestoreMode, TargetRepositories, RemovePackages, InstallPackages,
)
