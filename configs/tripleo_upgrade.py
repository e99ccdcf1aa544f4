"""
The ``tripleo_upgrade`` section of the actor configuration, read by leapp from the ``*.yaml`` files
of its actor configuration directory (``/etc/leapp/actor_conf.d`` by default). Example::

    tripleo_upgrade:
      daemon_url: https://undercloud-0.ctlplane.localdomain:8990
      ca_file: /etc/pki/ca-trust/source/anchors/undercloud-ca.pem
      target_repositories:
        - id: rhel-9-baseos
          name: RHEL 9 BaseOS
          baseurl: http://mirror/rhel9/BaseOS
      remove_packages: ["*el8ost*"]

The keys, their defaults and meanings are defined once, in libraries/tripleo_config.py (KEYS).
Every key takes any YAML value here: leapp's loader stops with a traceback on a value of the
wrong type, so the tripleo_config_scanner actor checks the values instead and reports a wrong one
as an inhibitor naming the key and the file.
"""
from leapp.actors.config import Config
from leapp.libraries.common.tripleo_config import KEYS, SECTION
from leapp.models import fields


def _config(key):
    return type(''.join(part.capitalize() for part in key.name.split('_')), (Config,), {
        'section': SECTION,
        'name': key.name,
        'type_': fields.Nullable(fields.JSON()),
        'default': key.default,
        'description': key.description,
        '__module__': __name__,
    })


TRIPLEO_UPGRADE_CONFIG = tuple(_config(key) for key in KEYS)
# Leapp's actor discovery pickles the schema classes by reference (module and name): each one must be an
# attribute of this module.
globals().update((config.__name__, config) for config in TRIPLEO_UPGRADE_CONFIG)
