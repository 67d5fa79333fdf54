package dev.berth.layers.internal;

/** Entry starts not reached yet, in order: offsets and name fingerprints, in a growing ring. */
final class EntryStarts {
    private long[] offsets = new long[1024];
    private int[] fingerprints = new int[1024];
    private int head;
    private int size;

    void add(long at, int fingerprint) {
        if (size == offsets.length) {
            long[] o = new long[size * 2];
            int[] f = new int[size * 2];
            for (int i = 0; i < size; i++) {
                o[i] = offsets[(head + i) % size];
                f[i] = fingerprints[(head + i) % size];
            }
            offsets = o;
            fingerprints = f;
            head = 0;
        }
        int i = (head + size) % offsets.length;
        offsets[i] = at;
        fingerprints[i] = fingerprint;
        size++;
    }

    boolean isEmpty() {
        return size == 0;
    }

    long nextOffset() {
        return offsets[head];
    }

    int remove() {
        int f = fingerprints[head];
        head = (head + 1) % offsets.length;
        size--;
        return f;
    }
}
