"""
A small file tree with everything node data carries (several owners, modes, a symlink, a hard
link, POSIX ACLs, user and trusted xattrs, a sparse file), and a file-by-file snapshot of a tree
to compare it before and after a round trip. Needs root (chown, trusted.*) and the attr/acl tools.
"""
import hashlib
import os
import subprocess


def make_tree(root):
    """Create the tree under ``root`` (which must not exist); returns ``root``."""
    os.makedirs(os.path.join(root, 'instances', 'uuid-1'))
    os.makedirs(os.path.join(root, 'empty'))
    _write(os.path.join(root, 'instances', 'uuid-1', 'disk.info'), b'{"disk": "qcow2"}\n', 0o640, 42436, 42436)
    _write(os.path.join(root, 'instances', 'uuid-1', 'console.log'), b'boot\n' * 1000, 0o600, 107, 107)
    _write(os.path.join(root, 'secret.key'), os.urandom(64), 0o400, 0, 0)
    _write(os.path.join(root, 'helper'), b'#!/bin/sh\nexit 0\n', 0o4755, 0, 0)
    os.chown(os.path.join(root, 'instances'), 42436, 42436)
    os.chmod(os.path.join(root, 'instances'), 0o2750)
    os.chmod(os.path.join(root, 'empty'), 0o1777)
    os.symlink('instances/uuid-1/disk.info', os.path.join(root, 'current-disk'))
    os.link(os.path.join(root, 'secret.key'), os.path.join(root, 'secret.key.hardlink'))
    with open(os.path.join(root, 'sparse.img'), 'wb') as f:
        f.seek(8 * 1024 * 1024)
        f.write(b'end')
    subprocess.check_call(['setfacl', '-m', 'u:1234:rw,g:4321:r', os.path.join(root, 'instances', 'uuid-1',
                                                                               'disk.info')])
    subprocess.check_call(['setfacl', '-d', '-m', 'u:1234:rwx', os.path.join(root, 'instances')])
    os.setxattr(os.path.join(root, 'secret.key'), 'user.tripleo.origin', b'controller-0')
    os.setxattr(os.path.join(root, 'instances'), 'trusted.tripleo.mark', b'\x00\x01binary')
    return root


def _write(path, data, mode, uid, gid):
    with open(path, 'wb') as f:
        f.write(data)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def snapshot(root):
    """relative path -> everything a service would notice about it (content, metadata, link structure)."""
    entries = {}
    inodes = {}
    for directory, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            entry = {'mode': oct(st.st_mode), 'owner': (st.st_uid, st.st_gid)}
            if os.path.islink(path):
                entry['target'] = os.readlink(path)
            else:
                entry['xattrs'] = dict((a, os.getxattr(path, a)) for a in sorted(os.listxattr(path)))
                entry['acl'] = subprocess.check_output(['getfacl', '--omit-header', '--numeric', path])
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, 'rb') as f:
                    entry['sha256'] = hashlib.sha256(f.read()).hexdigest()
                entry['mtime'] = int(st.st_mtime)
                entry['linked_to'] = inodes.setdefault(st.st_ino, rel)
            entries[rel] = entry
    return entries
