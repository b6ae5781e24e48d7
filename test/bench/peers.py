# Python's own pools on the same job as `polytask run`: JSON lines in, one JSON result out per item.
# Usage: python3 peers.py <pool|pool-auto|executor> <input.jsonl>
#        python3 peers.py burn <processes> <items> <iterations>   (the scaling suite)
from __future__ import print_function
import json
import os
import sys
import time


def handle(line):
    # the same trivial work as the polytask handler: decode, return the item, encode a result
    return json.dumps({'data': json.loads(line), 'exit': 0})


def burn(iterations):
    # the scaling suite's CPU-bound item: the same loop as its polytask python3 handler
    x = 0
    for i in range(iterations):
        x = (x * 31 + i) & 0xffffff
    return x


def burn_pool(processes, items, iterations):
    import multiprocessing
    start = time.time()
    pool = multiprocessing.Pool(processes)
    for _ in pool.imap_unordered(burn, [iterations] * items, chunksize=1):
        pass
    pool.close()
    pool.join()
    print(json.dumps({'seconds': time.time() - start, 'items': items}))


def main():
    if sys.argv[1] == 'burn':
        return burn_pool(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    kind, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        lines = f.readlines()
    out = open(os.devnull, 'w')
    start = time.time()
    if kind.startswith('pool'):
        import multiprocessing
        pool = multiprocessing.Pool(2)
        # auto: len / 32, 16 chunks per process (Pool.map's own default is len / (4 * processes))
        chunksize = 1 if kind == 'pool' else max(1, len(lines) // (2 * 4 * 4))
        for r in pool.imap_unordered(handle, lines, chunksize=chunksize):
            out.write(r + '\n')
        pool.close()
        pool.join()
    else:
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(2) as executor:
            for r in executor.map(handle, lines):
                out.write(r + '\n')
    print(json.dumps({'seconds': time.time() - start, 'items': len(lines)}))


if __name__ == '__main__':
    main()
