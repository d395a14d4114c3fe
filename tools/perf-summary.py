#!/usr/bin/env python3
"""Summarises a bridge's `perf record` of the benchmark (./mvnw -Pbench -Dbench.perf=true).

Usage: perf script -i target/benchmark/runs/bench-N-0.perf.data | python3 tools/perf-summary.py [TOP]

Prints the share of the samples by where they were taken (the kernel, the JVM itself, compiled or interpreted Java
code, the C library), by thread (the thread's name as the kernel keeps it: its first 15 characters, digits as N), what
the kernel was doing for each of the busiest threads (the system call or the interrupt the samples came in by: a
futex is a thread going to sleep or waking another one), and the TOP (30) symbols the samples fell in.
"""
import collections
import re
import sys


def where(dso):
    if 'kernel' in dso:
        return 'kernel'
    if 'libjvm' in dso:
        return 'JVM'
    if 'perf-' in dso:
        return 'Java'
    if 'libc' in dso or 'libpthread' in dso:
        return 'libc'
    return 'other'


def kernel_entry(frames):
    """The first frame outside the kernel, under the kernel's: how the thread got there."""
    for symbol, dso in frames:
        if 'kernel' not in dso:
            return re.sub(r'\+0x[0-9a-f]+$', '', symbol.split('(')[0].split(' ')[-1])
    return '(kernel thread)'


def main():
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    total = 0
    by_where = collections.Counter()
    by_thread = collections.Counter()
    thread_where = collections.defaultdict(collections.Counter)
    thread_kernel = collections.defaultdict(collections.Counter)
    by_symbol = collections.Counter()

    def sample(thread, frames):
        nonlocal total
        if not frames:
            return
        total += 1
        name = re.sub(r'\d+', 'N', thread)
        symbol, dso = frames[0]
        w = where(dso)
        by_where[w] += 1
        by_thread[name] += 1
        thread_where[name][w] += 1
        if w == 'kernel':
            thread_kernel[name][kernel_entry(frames)] += 1
        by_symbol[(w, re.sub(r'\+0x[0-9a-f]+$', '', symbol)[:120])] += 1

    thread, frames = None, []
    for line in sys.stdin:
        if not line.strip():
            sample(thread, frames)
            thread, frames = None, []
        elif not line[0].isspace():
            # a sample's first line: the thread's name, its pid/tid, the time, the event
            m = re.match(r'^(.*?)\s+\d+(/\d+)?\s', line)
            thread, frames = (m.group(1) if m else line.split()[0]), []
        else:
            m = re.match(r'\s*[0-9a-f]+\s+(.*) \((.*)\)$', line.rstrip('\n'))
            if m:
                frames.append((m.group(1), m.group(2)))
    sample(thread, frames)

    def pct(n, of):
        return '%.1f %%' % (100.0 * n / of)

    print('samples: %d' % total)
    print('where: ' + ', '.join('%s %s' % (w, pct(n, total)) for w, n in by_where.most_common()))
    print('by thread (its samples: where; the kernel by how it was entered):')
    for name, n in by_thread.most_common(12):
        print('  %7s  %-16s %s' % (pct(n, total), name,
                                   ', '.join('%s %s' % (w, pct(x, n)) for w, x in thread_where[name].most_common(4))))
        for entry, x in thread_kernel[name].most_common(4):
            if x * 50 >= total:  # 2 % of all samples or more
                print('           %7s of all in the kernel from %s' % (pct(x, total), entry))
    print('top symbols:')
    for (w, symbol), n in by_symbol.most_common(top):
        print('  %7s  %-6s %s' % (pct(n, total), w, symbol))


if __name__ == '__main__':
    main()
