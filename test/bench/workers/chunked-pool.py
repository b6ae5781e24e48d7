# Issue 17's peer: what a Python user writes by hand for `polytask run`'s job in eight lines.
# Reads JSON lines, runs Pool(2).imap_unordered with chunksize 1000, writes one JSON result per
# line to stdout; timed as a whole command, start-up included, as `polytask run` is.
# Usage: python3 chunked-pool.py <input.jsonl>
import json
import sys
from multiprocessing import Pool


def work(line):
    return json.dumps({'data': json.loads(line), 'exit': 0})


if __name__ == '__main__':
    with open(sys.argv[1]) as lines, Pool(2) as pool:
        out = sys.stdout
        for result in pool.imap_unordered(work, lines, chunksize=1000):
            out.write(result + '\n')
