/*
 * The container's seccomp filter: the rules of the spec (keys seccomp, scrule, scarg: see spec.c), already
 * chosen for the container's capabilities and this kernel by the JVM, compiled to classic BPF and
 * installed just before the process takes the container's user and capabilities (so the installing
 * process still has CAP_SYS_ADMIN in its namespace, as runc does without no_new_privs).
 *
 * The program: the architecture is checked first. The native one (x86_64, aarch64) is matched against the
 * rules by syscall number, in the spec's order, the first matching rule's action is returned, else the
 * default action. On x86_64, i386 calls (int 0x80) are matched by their own numbers, with 32-bit argument
 * comparisons; x32 calls and any other architecture get ENOSYS, as a filter that cannot tell what they are
 * must not let them through. Names this architecture has no number for are skipped, as libseccomp does.
 *
 * Contract: seccomp_install returns 0, or -1 with err set; nothing is installed when it fails.
 */
#include "helper.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "seccomp.c compares 64-bit arguments as two little-endian words"
#endif

struct syscall_name { const char *name; int nr; };

/* syscalls.gen.h (made by build.sh from this machine's kernel headers): SYSCALLS_NATIVE[], and on x86_64
 * SYSCALLS_I386[] with BERTH_SECCOMP_I386 defined. */
#include "syscalls.gen.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define X32_SYSCALL_BIT 0x40000000u
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

#define MAX_INSNS BPF_MAXINSNS
#define MAX_LABELS 8192
#define RET_ENOSYS (SECCOMP_RET_ERRNO | ENOSYS)

struct prog {
    struct sock_filter ins[MAX_INSNS];
    size_t n;
    long label_at[MAX_LABELS]; /* instruction index of each label, -1 until placed */
    size_t nlabels;
    struct { size_t at; size_t label; } fixups[MAX_INSNS];
    size_t nfixups;
    bool overflow;
};

static void emit(struct prog *p, unsigned short code, unsigned char jt, unsigned char jf, uint32_t k) {
    if (p->n >= MAX_INSNS) { p->overflow = true; return; }
    p->ins[p->n++] = (struct sock_filter){code, jt, jf, k};
}

static size_t label(struct prog *p) {
    if (p->nlabels >= MAX_LABELS) { p->overflow = true; return 0; }
    p->label_at[p->nlabels] = -1;
    return p->nlabels++;
}

static void place(struct prog *p, size_t l) { p->label_at[l] = (long)p->n; }

/* An unconditional jump to a label (32-bit offset, resolved at the end). */
static void jump(struct prog *p, size_t l) {
    if (p->nfixups >= MAX_INSNS) { p->overflow = true; return; }
    p->fixups[p->nfixups].at = p->n;
    p->fixups[p->nfixups].label = l;
    p->nfixups++;
    emit(p, BPF_JMP | BPF_JA, 0, 0, 0);
}

static void load(struct prog *p, uint32_t offset) { emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offset); }

static uint32_t arg_lo(unsigned i) { return (uint32_t)(offsetof(struct seccomp_data, args) + 8 * i); }
static uint32_t arg_hi(unsigned i) { return arg_lo(i) + 4; }

/* Continues when the comparison of one 32-bit word holds, else jumps to fail. code: BPF_JEQ, BPF_JGT or BPF_JGE. */
static void word_must(struct prog *p, unsigned short code, uint32_t k, size_t fail) {
    emit(p, BPF_JMP | code | BPF_K, 1, 0, k);
    jump(p, fail);
}

/* One argument condition: falls through when it holds, jumps to fail when it does not. */
static void arg_check(struct prog *p, const struct sc_arg *a, bool wide, size_t fail) {
    uint32_t vl = (uint32_t)a->value, vh = (uint32_t)(a->value >> 32);
    uint32_t ml = (uint32_t)a->value2, mh = (uint32_t)(a->value2 >> 32);
    size_t ok = label(p);
    switch (a->op) {
    case SC_MASKED_EQ: /* (arg & value) == value2 */
        if (wide) {
            load(p, arg_hi(a->index));
            emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, vh);
            word_must(p, BPF_JEQ, mh, fail);
        }
        load(p, arg_lo(a->index));
        emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, vl);
        word_must(p, BPF_JEQ, ml, fail);
        break;
    case SC_EQ:
        if (wide) { load(p, arg_hi(a->index)); word_must(p, BPF_JEQ, vh, fail); }
        load(p, arg_lo(a->index));
        word_must(p, BPF_JEQ, vl, fail);
        break;
    case SC_NE:
        if (wide) { load(p, arg_hi(a->index)); emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, vh); jump(p, ok); }
        load(p, arg_lo(a->index));
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, vl);
        jump(p, fail);
        break;
    case SC_GT: case SC_GE: /* above in the high word: holds; below: fails; equal: the low word decides */
        if (wide) {
            load(p, arg_hi(a->index));
            emit(p, BPF_JMP | BPF_JGT | BPF_K, 0, 1, vh);
            jump(p, ok);
            word_must(p, BPF_JEQ, vh, fail);
        }
        load(p, arg_lo(a->index));
        word_must(p, a->op == SC_GT ? BPF_JGT : BPF_JGE, vl, fail);
        break;
    case SC_LT: case SC_LE: /* below in the high word: holds; above: fails; equal: the low word decides */
        if (wide) {
            load(p, arg_hi(a->index));
            emit(p, BPF_JMP | BPF_JGT | BPF_K, 0, 1, vh);
            jump(p, fail);
            emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, vh);
            jump(p, ok);
        }
        load(p, arg_lo(a->index));
        emit(p, BPF_JMP | (a->op == SC_LT ? BPF_JGE : BPF_JGT) | BPF_K, 0, 1, vl);
        jump(p, fail);
        break;
    }
    place(p, ok);
}

static int lookup(const struct syscall_name *table, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(table[i].name, name)) return table[i].nr;
    return -1;
}

/* The rules against one architecture's numbers; wide: 64-bit arguments. Ends with the default action. */
static void rules(struct prog *p, const struct spec *s, const struct syscall_name *table, size_t n, bool wide) {
    size_t i = 0;
    while (i < s->nscrules) {
        const struct sc_rule *r = &s->scrules[i];
        if (r->nargs == 0) {
            /* a run of unconditional rules with the same action: one jeq each, one return */
            int nrs[200];
            size_t k = 0;
            while (i < s->nscrules && k < 200 && s->scrules[i].nargs == 0 && s->scrules[i].ret == r->ret) {
                int nr = lookup(table, n, s->scrules[i].name);
                if (nr >= 0) nrs[k++] = nr;
                i++;
            }
            if (k == 0) continue;
            size_t next = label(p);
            load(p, offsetof(struct seccomp_data, nr));
            for (size_t j = 0; j < k; j++) emit(p, BPF_JMP | BPF_JEQ | BPF_K, (unsigned char)(k - j), 0, (uint32_t)nrs[j]);
            jump(p, next);
            emit(p, BPF_RET | BPF_K, 0, 0, r->ret);
            place(p, next);
            continue;
        }
        i++;
        int nr = lookup(table, n, r->name);
        if (nr < 0) continue;
        size_t next = label(p);
        load(p, offsetof(struct seccomp_data, nr));
        word_must(p, BPF_JEQ, (uint32_t)nr, next);
        for (unsigned a = 0; a < r->nargs; a++) arg_check(p, &r->args[a], wide, next);
        emit(p, BPF_RET | BPF_K, 0, 0, r->ret);
        place(p, next);
    }
    emit(p, BPF_RET | BPF_K, 0, 0, s->seccomp_default);
}

int seccomp_install(const struct spec *s, char *err, size_t errlen) {
#ifndef NATIVE_ARCH
    (void)s;
    snprintf(err, errlen, "seccomp filters are not supported on this architecture: run with --security-opt seccomp=unconfined");
    return -1;
#else
    struct prog *p = calloc(1, sizeof *p);
    if (p == NULL) { snprintf(err, errlen, "seccomp: out of memory"); return -1; }
    size_t native = label(p);
    load(p, offsetof(struct seccomp_data, arch));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, NATIVE_ARCH);
    jump(p, native);
#ifdef BERTH_SECCOMP_I386
    size_t i386 = label(p);
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, AUDIT_ARCH_I386);
    jump(p, i386);
#endif
    emit(p, BPF_RET | BPF_K, 0, 0, RET_ENOSYS);
    place(p, native);
#ifdef X32_SYSCALL_BIT
    load(p, offsetof(struct seccomp_data, nr));
    emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, X32_SYSCALL_BIT);
    emit(p, BPF_RET | BPF_K, 0, 0, RET_ENOSYS);
#endif
    rules(p, s, SYSCALLS_NATIVE, sizeof SYSCALLS_NATIVE / sizeof SYSCALLS_NATIVE[0], true);
#ifdef BERTH_SECCOMP_I386
    place(p, i386);
    rules(p, s, SYSCALLS_I386, sizeof SYSCALLS_I386 / sizeof SYSCALLS_I386[0], false);
#endif
    if (p->overflow) {
        snprintf(err, errlen, "seccomp: the profile's rules make a filter longer than the kernel's %d instructions",
                 MAX_INSNS);
        free(p);
        return -1;
    }
    for (size_t f = 0; f < p->nfixups; f++) {
        size_t at = p->fixups[f].at;
        p->ins[at].k = (uint32_t)(p->label_at[p->fixups[f].label] - (long)at - 1);
    }
    struct sock_fprog fprog = {.len = (unsigned short)p->n, .filter = p->ins};
    int rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
    if (rc < 0) snprintf(err, errlen, "install the seccomp filter: %s", strerror(errno));
    free(p);
    return rc < 0 ? -1 : 0;
#endif
}
