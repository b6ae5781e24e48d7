# Python's own pools on the same job as `polytask run`: JSON lines in, one JSON result out per item.
# Usage: python3 peers.py <pool|pool-auto|executor> <input.jsonl>
from __future__ import print_function
import json
import os
import sys
import time


def handle(line):
    # the same trivial work as the polytask handler: decode, return the item, encode a result
    return json.dumps({'data': json.loads(line), 'exit': 0})


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        lines = f.readlines()
    out = open(os.devnull, 'w')
    start = time.time()
    if kind.startswith('pool'):
        import multiprocessing
        pool = multiprocessing.Pool(2)
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
