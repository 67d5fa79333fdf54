#!/usr/bin/env python3
"""Copies a benchmark tree out of this machine's /usr: about TARGET_MB megabytes in about FILES files.

Usage: make-tree.py DEST [TARGET_MB] [FILES]. The selection is deterministic for a given machine: files
are taken in sorted path order, first the compilers' support files (large binaries), then small files
from /usr/share, then shared libraries until the size is reached. Symlinks are copied as symlinks.
"""
import os
import shutil
import sys


def walk(root, max_size):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            p = os.path.join(dirpath, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if os.path.islink(p) or (st.st_mode & 0o170000) == 0o100000 and st.st_size <= max_size:
                yield p, (0 if os.path.islink(p) else st.st_size)


def main():
    dest = sys.argv[1]
    target = int(sys.argv[2]) * 1000 * 1000 if len(sys.argv) > 2 else 200 * 1000 * 1000
    files = int(sys.argv[3]) if len(sys.argv) > 3 else 7000
    chosen, total = [], 0
    for p, size in walk("/usr/lib/gcc", 64 << 20):
        if total + size > target * 0.6:
            break
        chosen.append(p)
        total += size
    for p, size in walk("/usr/share", 1 << 20):
        if len(chosen) >= files - 300:
            break
        chosen.append(p)
        total += size
    for p, size in walk("/usr/lib/x86_64-linux-gnu", 16 << 20):
        if total >= target:
            break
        chosen.append(p)
        total += size
    for p in chosen:
        out = os.path.join(dest, p.lstrip("/"))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        if os.path.islink(p):
            os.symlink(os.readlink(p), out)
        else:
            shutil.copyfile(p, out)
            os.chmod(out, os.stat(p).st_mode & 0o7777)
    print("%d files, %.1f MB" % (len(chosen), total / 1e6))


main()
