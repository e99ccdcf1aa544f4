"""
A stand-in for the ``ceph`` command line (no Ceph cluster runs here), for the node-side tests.

It keeps the cluster's OSD map flags and monitor quorum in a JSON state file and speaks the real CLI:

    fake_ceph.py --state FILE [--cluster NAME] [--connect-timeout N] osd set FLAG
    fake_ceph.py --state FILE ... osd unset FLAG
    fake_ceph.py --state FILE ... osd dump --format json        (also -f json, --format=json)
    fake_ceph.py --state FILE ... quorum_status -f json

``osd set``/``unset`` answer on stderr as ceph does ("noout is set"), and refuse an unknown flag with ceph's
EINVAL (exit 22). ``osd dump`` prints the flags as the real one does: ``flags`` a comma-separated string in the
OSD map's bit order, always including the flags a Nautilus-or-newer cluster keeps set (sortbitwise,
recovery_deletes, purged_snapdirs, pglog_hardlimit), plus ``flags_num`` and ``flags_set``. A state with
``"down": true`` answers like a client that cannot reach the monitors. Every call is appended to
``calls`` in the state file, so a test sees what ran and in which order.

The tests give it as the ``ceph_command`` prefix: [sys.executable, fake_ceph.py, --state, FILE].
"""
import fcntl
import json
import os
import sys
import tempfile

# (name, bit) in the order ceph's OSDMap::get_flag_string() prints them.
FLAG_BITS = (
    ('full', 1 << 1), ('pauserd', 1 << 2), ('pausewr', 1 << 3), ('pauserec', 1 << 4), ('noup', 1 << 5),
    ('nodown', 1 << 6), ('noout', 1 << 7), ('noin', 1 << 8), ('nobackfill', 1 << 9), ('norebalance', 1 << 14),
    ('norecover', 1 << 10), ('noscrub', 1 << 11), ('nodeep-scrub', 1 << 12), ('notieragent', 1 << 13),
    ('nosnaptrim', 1 << 21), ('sortbitwise', 1 << 15), ('recovery_deletes', 1 << 19),
    ('purged_snapdirs', 1 << 20), ('pglog_hardlimit', 1 << 22),
)
ALWAYS_SET = ('sortbitwise', 'recovery_deletes', 'purged_snapdirs', 'pglog_hardlimit')
SETTABLE = ('full', 'pause', 'noup', 'nodown', 'noout', 'noin', 'nobackfill', 'norebalance', 'norecover',
            'noscrub', 'nodeep-scrub', 'notieragent', 'nosnaptrim', 'pglog_hardlimit')
FSID = '4b5c8c0a-ff60-454b-a1b4-9747aa737d19'


def default_state():
    return {'flags': list(ALWAYS_SET), 'epoch': 1, 'down': False, 'calls': [],
            'quorum_status': None}


def load(path):
    if not os.path.exists(path):
        return default_state()
    with open(path) as stream:
        state = default_state()
        state.update(json.load(stream))
        return state


def save(path, state):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix='.ceph-state-')
    with os.fdopen(fd, 'w') as stream:
        json.dump(state, stream, indent=1, sort_keys=True)
    os.rename(tmp, path)


def flag_string(flags):
    return ','.join(name for name, _ in FLAG_BITS if name in flags)


def osd_dump(state):
    flags = set(state['flags'])
    return {
        'epoch': state['epoch'], 'fsid': FSID, 'created': '2026-11-01T08:00:00.000000+0000',
        'modified': '2026-11-26T08:00:00.000000+0000', 'last_up_change': '2026-11-26T08:00:00.000000+0000',
        'last_in_change': '2026-11-01T08:00:00.000000+0000',
        'flags': flag_string(flags),
        'flags_num': sum(bit for name, bit in FLAG_BITS if name in flags),
        'flags_set': sorted(flags),
        'crush_version': 7, 'full_ratio': 0.95, 'backfillfull_ratio': 0.9, 'nearfull_ratio': 0.85,
        'cluster_snapshot': '', 'pool_max': 3, 'max_osd': 3, 'require_min_compat_client': 'luminous',
        'min_compat_client': 'jewel', 'require_osd_release': 'pacific', 'pools': [], 'osds': [],
    }


def main(argv):
    state_path = None
    args = list(argv)
    # Global options come first, as ceph accepts them.
    while args and args[0].startswith('--'):
        option = args.pop(0)
        if option == '--state':
            state_path = args.pop(0)
        elif option in ('--cluster', '--connect-timeout', '--name', '--keyring', '--conf'):
            args.pop(0)
        elif '=' not in option:
            break
    if state_path is None:
        sys.stderr.write('fake ceph: --state FILE is required\n')
        return 2
    # The monitors apply commands one at a time: concurrent callers must not lose each other's updates here either.
    with open(state_path + '.lock', 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return command(state_path, args)


def command(state_path, args):
    state = load(state_path)
    state['calls'].append(' '.join(args))
    save(state_path, state)
    if state.get('down'):
        sys.stderr.write('[errno 110] RADOS timed out (error connecting to the cluster)\n')
        return 1
    json_output = any(a in ('json', '--format=json', '-fjson') for a in args)
    words = [a for a in args if a not in ('-f', '--format', 'json', '--format=json', '-fjson', 'json-pretty')]

    if words[:2] in (['osd', 'set'], ['osd', 'unset']) and len(words) == 3:
        verb, flag = words[1], words[2]
        if flag not in SETTABLE:
            sys.stderr.write('Invalid command: {} not in {}\nosd {} <key> [--yes-i-really-mean-it] :  {} <key>\n'
                             'Error EINVAL: invalid command\n'.format(flag, '|'.join(SETTABLE), verb, verb))
            return 22
        flags = set(state['flags'])
        changed = (flag not in flags) if verb == 'set' else (flag in flags)
        if verb == 'set':
            flags.add(flag)
        else:
            flags.discard(flag)
        state['flags'] = sorted(flags)
        state['epoch'] += 1 if changed else 0
        save(state_path, state)
        sys.stderr.write('{} is {}\n'.format(flag, verb))
        return 0
    if words == ['osd', 'dump']:
        dump = osd_dump(state)
        if json_output:
            sys.stdout.write(json.dumps(dump) + '\n')
        else:
            sys.stdout.write('epoch {}\nfsid {}\nflags {}\n'.format(dump['epoch'], FSID, dump['flags']))
        return 0
    if words == ['quorum_status'] and state.get('quorum_status') is not None:
        sys.stdout.write(json.dumps(state['quorum_status']) + '\n')
        return 0
    sys.stderr.write('no valid command found; 10 closest matches:\n{}\nError EINVAL: invalid command\n'.format(
        ' '.join(words)))
    return 22


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
