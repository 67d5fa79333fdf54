#!/usr/bin/env python3
"""Writes a deterministic monorepo-like tree: FILES files (default 100,000), about TARGET_MB megabytes
(default 500) in all, in directories of 100 files nested three deep.

Usage: make-monorepo.py DEST [FILES] [TARGET_MB]. Nine files in ten are source-like text (lines of words
from a fixed vocabulary, 500 B to 8 KB, compressible as code is); the rest are binary blobs of seeded
pseudo-random bytes that carry the remaining size (incompressible, as assets and vendored archives are).
The same arguments always give the same bytes, names and modes; mtimes are those of the moment.
"""
import os
import random
import sys

WORDS = ("func return if else for while import package class struct int string error nil true false "
         "var const type interface map chan go defer select case switch break continue default range "
         "self this new delete try catch throw final static public private void byte long double").split()


def main():
    dest = sys.argv[1]
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    target = (int(sys.argv[3]) if len(sys.argv) > 3 else 500) * 1000 * 1000
    rng = random.Random(20261207)
    binaries = max(1, files // 10)
    texts = files - binaries
    text_bytes = 0
    n = 0
    for i in range(files):
        d = os.path.join(dest, "d%02d" % (i // 10000), "e%02d" % (i // 100 % 100))
        if i % 100 == 0:
            os.makedirs(d, exist_ok=True)
        if i % 10 != 9:
            size = rng.randint(500, 8000)
            words = []
            length = 0
            while length < size:
                line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
                words.append(line)
                length += len(line) + 1
            data = ("\n".join(words) + "\n").encode()
            text_bytes += len(data)
            name = "f%05d.src" % i
        else:
            # binaries carry what the texts (about 4,250 B each on average) leave of the target
            avg = max(0, target - texts * 4250) // binaries
            size = int(avg * rng.uniform(0.5, 1.5))
            text_bytes += size
            data = rng.randbytes(size)
            name = "f%05d.bin" % i
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(data)
        if i % 37 == 0:
            os.chmod(p, 0o755)
        n += 1
    print("%d files, %d bytes" % (n, text_bytes))


if __name__ == "__main__":
    main()
