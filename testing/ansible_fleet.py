"""Test hosts for the Ansible collection: one sshd per overcloud node, on its own loopback address, in its own mount
namespace so that what the playbooks write on a node lands in that node's directory only.

Each host's directory (``Host.root``) is bound over the paths the node side writes (``MOUNTS``), over
``/etc/os-release`` (RHEL 8.4 until the stand-in reboot), ``/proc/sys/kernel/random/boot_id`` (changed by the
reboot) and ``/usr/bin/systemctl`` (the stand-in, which ``shutdown`` links to). ``/usr/local/sbin`` holds the
``leapp`` stand-in. Each host has its own private D-Bus with the systemd1 peer (testing/systemd_bus.py) for the
node commands. Ansible manages them with RHEL 8's Python 3.6 (.venv-rhel8) as the target interpreter.
"""
import json
import os
import shutil
import socket
import subprocess

from testing.processes import wait_for
from testing.systemd_bus import SystemdBus

HERE = os.path.dirname(os.path.abspath(__file__))
STANDINS = os.path.join(os.path.dirname(HERE), 'integration', 'ansible', 'standins')
SSHD = '/usr/sbin/sshd'
SYSTEMCTL = '/usr/bin/systemctl'
# host directory -> the path it is bound over inside the host's mount namespace
MOUNTS = {
    'etc-leapp': '/etc/leapp',
    'etc-tripleo-upgrade': '/etc/tripleo-upgrade',
    'leapp-repository': '/usr/share/leapp-repository',
    'var-lib-tripleo-upgrade-node': '/var/lib/tripleo-upgrade-node',
    'var-lib-tripleo': '/var/lib/tripleo',
    'var-log-leapp': '/var/log/leapp',
    'usr-local-sbin': '/usr/local/sbin',
}
OLD_OS_RELEASE = 'NAME="Red Hat Enterprise Linux"\nVERSION="8.4 (Ootpa)"\nID="rhel"\nVERSION_ID="8.4"\n'
DATADIR = '/var/lib/tripleo/mysql'  # on the host's own file system (a datadir is renamed: not a mount point)


def free_port(address):
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


class Host(object):
    def __init__(self, base, name, index, node_python, keys):
        self.name = name
        self.root = os.path.join(base, name)
        self.address = '127.0.0.{}'.format(20 + index)
        self.node_python = node_python
        self.keys = keys
        self.bus = None
        self.sshd = None
        self.port = None

    def path(self, inside):
        """Where the host's ``inside`` path (under one of MOUNTS, or /etc/os-release) is on this machine."""
        if inside == '/etc/os-release':
            return os.path.join(self.root, 'os-release')
        for directory, mounted in MOUNTS.items():
            if inside == mounted or inside.startswith(mounted + '/'):
                return os.path.join(self.root, directory, os.path.relpath(inside, mounted))
        raise ValueError('{} is not on a per-host mount'.format(inside))

    def start(self, units):
        os.makedirs(self.root)
        for directory, mounted in MOUNTS.items():
            os.makedirs(os.path.join(self.root, directory))
            os.makedirs(mounted, exist_ok=True)  # the mount point on this machine stays empty
        with open(os.path.join(self.root, 'os-release'), 'w') as stream:
            stream.write(OLD_OS_RELEASE)
        with open(os.path.join(self.root, 'boot_id'), 'w') as stream:
            stream.write(open('/proc/sys/kernel/random/boot_id').read())
        self._standin('leapp', os.path.join(self.root, 'usr-local-sbin', 'leapp'))
        self._standin('systemctl', os.path.join(self.root, 'systemctl'))
        bus_dir = os.path.join(self.root, 'bus')
        os.makedirs(bus_dir)
        self.bus = SystemdBus(bus_dir)
        self.bus.start_bus()
        self.bus.load(units)
        self.port = free_port(self.address)
        config = os.path.join(self.root, 'sshd_config')
        with open(config, 'w') as stream:
            stream.write('\n'.join([
                'ListenAddress {}:{}'.format(self.address, self.port),
                'HostKey {}'.format(self.keys['host']),
                'PidFile {}'.format(os.path.join(self.root, 'sshd.pid')),
                'AuthorizedKeysFile {}'.format(self.keys['authorized']),
                'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
                'UsePAM no', 'StrictModes no', 'Subsystem sftp internal-sftp',
                'SetEnv DBUS_SYSTEM_BUS_ADDRESS={}'.format(self.bus.address), '']))
        binds = [(os.path.join(self.root, d), m) for d, m in MOUNTS.items()] + [
            (os.path.join(self.root, 'os-release'), '/etc/os-release'),
            (os.path.join(self.root, 'boot_id'), '/proc/sys/kernel/random/boot_id')]
        if os.path.exists(SYSTEMCTL):  # shutdown and reboot link to it
            binds.append((os.path.join(self.root, 'systemctl'), SYSTEMCTL))
        else:  # a machine without systemd: the stand-ins are the only ones, in /usr/local/sbin
            sbin = os.path.join(self.root, 'usr-local-sbin')
            shutil.copy(os.path.join(self.root, 'systemctl'), sbin)
            for name in ('shutdown', 'reboot'):
                os.symlink('systemctl', os.path.join(sbin, name))
        script = 'set -e; {}; exec {} -D -e -f {}'.format(
            '; '.join('mount --bind {} {}'.format(src, dst) for src, dst in binds), SSHD, config)
        os.makedirs('/run/sshd', exist_ok=True)
        log = open(os.path.join(self.root, 'sshd.log'), 'wb')
        self.sshd = subprocess.Popen(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script],
                                     stdout=log, stderr=log)
        log.close()
        wait_for(self._listening, 'sshd of {} on {}:{}'.format(self.name, self.address, self.port), 15, self.sshd)
        return self

    def _standin(self, name, dest):
        with open(os.path.join(STANDINS, name)) as stream:
            text = stream.read()
        with open(dest, 'w') as stream:
            stream.write('#!{}\n'.format(self.node_python) + text.split('\n', 1)[1])
        os.chmod(dest, 0o755)

    def _listening(self):
        try:
            socket.create_connection((self.address, self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def read(self, inside):
        with open(self.path(inside)) as stream:
            return stream.read()

    def units(self):
        return self.bus.units()

    def stop(self):
        if self.sshd is not None and self.sshd.poll() is None:
            self.sshd.terminate()
            self.sshd.wait(10)
        if self.bus is not None:
            self.bus.close()


def make_keys(directory):
    """A client key pair and a host key; the client's public key is the only authorized key."""
    os.makedirs(directory, exist_ok=True)
    keys = {'client': os.path.join(directory, 'client'), 'host': os.path.join(directory, 'host'),
            'authorized': os.path.join(directory, 'authorized_keys')}
    for name in ('client', 'host'):
        subprocess.check_call(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', keys[name]])
    shutil.copy(keys['client'] + '.pub', keys['authorized'])
    return keys


def inventory(hosts, roles, extra_groups, node_python, keys, settings):
    """A TripleO-shaped inventory: role groups with tripleo_role_name, overcloud, service groups."""
    doc = {'all': {'vars': settings}}
    for role, names in roles.items():
        doc[role] = {'hosts': {n: {'ansible_host': hosts[n].address, 'ansible_port': hosts[n].port,
                                   'canonical_hostname': n + '.localdomain'} for n in names},
                     'vars': {'tripleo_role_name': role}}
    doc['overcloud'] = {'children': {role: {} for role in roles},
                        'vars': {'ansible_user': 'root', 'ansible_ssh_private_key_file': keys['client'],
                                 'ansible_ssh_common_args': '-o StrictHostKeyChecking=no '
                                                            '-o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes',
                                 'ansible_python_interpreter': node_python, 'ansible_pipelining': True}}
    for group, children in extra_groups.items():
        doc[group] = {'children': {c: {} for c in children}}
    return doc


def write_json(path, value):
    with open(path, 'w') as stream:
        json.dump(value, stream, indent=1)
    return path
