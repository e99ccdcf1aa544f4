"""Shared fixtures for tests anywhere in the tree; each module starts one kind of real component."""

pytest_plugins = [
    'testing.daemon',
    'testing.systemd_bus',
    'testing.rpmdb',
    'testing.mariadb',
    'testing.ceph_cluster',
]
