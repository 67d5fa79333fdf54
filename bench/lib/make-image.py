#!/usr/bin/env python3
"""Writes a deterministic OCI image layout of about TOTAL_MB megabytes of gzip layers (default 1000) in
LAYERS layers (default 20) whose compressed sizes run from about 1 MB to about 30% of the total.

Usage: make-image.py DEST [TOTAL_MB] [LAYERS] [SEED] [BUSYBOX]. Different SEEDs give images that share no layer. The first layer holds BUSYBOX (default
/bin/busybox, a static one) as /bin/busybox with /bin/sh and /bin/true linking to it, so the image runs
`true`. Every layer holds files of 4 KB to 4 MB under /l<N>/: three bytes in five seeded pseudo-random
(incompressible, as binaries and assets are), the rest lines drawn from a fixed pool (compressible, as text
is). Tars are written in name order with mtime 1 and owner 0:0, compressed with `pigz -6 -n`, so the same
arguments give the same digests on any machine with the same pigz. Prints the manifest digest.
"""
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tarfile

RANDOM_SHARE = 0.6
TEXT_RATIO = 4.0  # about what pigz -6 makes of the text part


def layer_sizes(total, layers):
    """Compressed sizes in bytes, growing geometrically from 1 MB, the largest about 30% of the total."""
    weights = [1.0]
    ratio = 1.0
    # find a growth ratio whose geometric series sums to total with a 1 MB first term
    lo, hi = 1.0, 3.0
    for _ in range(60):
        ratio = (lo + hi) / 2
        s = sum(ratio ** i for i in range(layers)) * 1_000_000
        lo, hi = (ratio, hi) if s < total else (lo, ratio)
    weights = [ratio ** i for i in range(layers)]
    scale = total / sum(weights)
    return [int(w * scale) for w in weights]


def text_pool(rng):
    words = ("func return if else for while import package class struct int string error nil true false var "
             "const type interface map chan go defer select case switch break continue default range self "
             "this new delete try catch throw final static public private void byte long double").split()
    return [(" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) + "\n").encode()
            for _ in range(4096)]


def add(tar, name, data=None, mode=0o644, kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.mtime = 1
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = mode
    info.type = kind
    info.linkname = link
    if data is not None:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)


def write_layer(path, index, compressed_target, rng, pool, busybox):
    raw_target = int(compressed_target / (RANDOM_SHARE + (1 - RANDOM_SHARE) / TEXT_RATIO))
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        if busybox:
            add(tar, "bin/", mode=0o755, kind=tarfile.DIRTYPE)
            with open(busybox, "rb") as f:
                add(tar, "bin/busybox", f.read(), mode=0o755)
            add(tar, "bin/sh", kind=tarfile.SYMTYPE, link="busybox", mode=0o777)
            add(tar, "bin/true", kind=tarfile.SYMTYPE, link="busybox", mode=0o777)
        top = "l%02d/" % index
        add(tar, top, mode=0o755, kind=tarfile.DIRTYPE)
        written, n, d = 0, 0, -1
        while written < raw_target:
            if n % 200 == 0:
                d += 1
                add(tar, "%sd%03d/" % (top, d), mode=0o755, kind=tarfile.DIRTYPE)
            size = min(int(rng.lognormvariate(11.5, 1.2)), 4_000_000, raw_target - written)
            size = max(size, 4000)
            if rng.random() < RANDOM_SHARE:
                data = rng.randbytes(size)
                name = "%sd%03d/f%05d.bin" % (top, d, n)
            else:
                chunks, length = [], 0
                while length < size:
                    line = pool[rng.getrandbits(12)]
                    chunks.append(line)
                    length += len(line)
                data = b"".join(chunks)[:size]
                name = "%sd%03d/f%05d.txt" % (top, d, n)
            add(tar, name, data)
            written += size
            n += 1


def main():
    dest = sys.argv[1]
    total = (int(sys.argv[2]) if len(sys.argv) > 2 else 1000) * 1_000_000
    layers = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    busybox = sys.argv[5] if len(sys.argv) > 5 else "/bin/busybox"
    blobs = os.path.join(dest, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    rng = random.Random(20261207 + seed)
    pool = text_pool(rng)
    descriptors, diff_ids = [], []
    for i, size in enumerate(layer_sizes(total, layers)):
        tar_path = os.path.join(dest, "layer.tar")
        write_layer(tar_path, i, size, rng, pool, busybox if i == 0 else None)
        h = hashlib.sha256()
        with open(tar_path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        diff_ids.append("sha256:" + h.hexdigest())
        gz_path = os.path.join(dest, "layer.tar.gz")
        with open(tar_path, "rb") as src, open(gz_path, "wb") as out:
            subprocess.run(["pigz", "-6", "-n", "-c"], stdin=src, stdout=out, check=True)
        os.remove(tar_path)
        h = hashlib.sha256()
        with open(gz_path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        digest = h.hexdigest()
        os.replace(gz_path, os.path.join(blobs, digest))
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": "sha256:" + digest, "size": os.path.getsize(os.path.join(blobs, digest))})
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}, separators=(",", ":")).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
                                      "size": len(config)},
                           "layers": descriptors}, separators=(",", ":")).encode()
    for doc in (config, manifest):
        with open(os.path.join(blobs, hashlib.sha256(doc).hexdigest()), "wb") as f:
            f.write(doc)
    md = hashlib.sha256(manifest).hexdigest()
    with open(os.path.join(dest, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(dest, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                      "digest": "sha256:" + md, "size": len(manifest),
                                                      "annotations": {"org.opencontainers.image.ref.name": "bench"}}]},
                  f, separators=(",", ":"))
    print("sha256:" + md)


if __name__ == "__main__":
    main()
