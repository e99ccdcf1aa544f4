"""A Pacemaker cluster as a CIB file: `pcs -f FILE` changes its configuration, `crm_mon` (CIB_file=FILE) reads it,
and `SettlingCluster` plays the cluster's controller: whenever the configuration changed, Pacemaker's own
scheduler (`crm_simulate -S`) computes and applies the transition into the status section, as a live cluster
would, and `on_settled(status_xml)` lets the test act as the resource agents (stop the real MariaDB when
galera stopped)."""
import os
import shutil
import subprocess
import threading
import time

CIB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'libraries', 'tests', 'data',
                       'cib')
# Three controllers (controller-0..2) with a VIP, a promotable galera bundle and a haproxy bundle, all running.
ONLINE_CIB = os.path.join(CIB_DIR, 'online.xml')


def crm_mon_xml(cib_file):
    env = dict(os.environ, CIB_file=cib_file, LC_ALL='C')
    return subprocess.run(['crm_mon', '--output-as=xml'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60).stdout


class SettlingCluster(object):
    def __init__(self, directory, on_settled=lambda status: None, source=ONLINE_CIB, poll=0.2):
        self.cib = os.path.join(str(directory), 'cib.xml')
        shutil.copyfile(source, self.cib)
        self.on_settled = on_settled
        self.poll = poll
        self.transitions = 0
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(30)

    def _run(self):
        settled = os.stat(self.cib).st_mtime_ns
        while not self._stop.wait(self.poll):
            changed = os.stat(self.cib).st_mtime_ns
            if changed == settled:
                continue
            time.sleep(self.poll)  # let pcs finish writing
            if os.stat(self.cib).st_mtime_ns != changed:
                continue
            out = self.cib + '.next'
            done = subprocess.run(['crm_simulate', '-x', self.cib, '-S', '-O', out], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
            if done.returncode != 0:
                self.errors.append(done.stderr)
                settled = changed
                continue
            os.rename(out, self.cib)
            settled = os.stat(self.cib).st_mtime_ns
            self.transitions += 1
            self.on_settled(crm_mon_xml(self.cib))
