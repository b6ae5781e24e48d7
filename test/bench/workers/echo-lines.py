# The stream suite's handler for GNU parallel --pipe: one long-lived interpreter reading JSON
# lines on stdin and writing one JSON result line per item, the same work as peers.py's handle().
import json
import sys

out = sys.stdout
for line in sys.stdin:
    out.write(json.dumps({'data': json.loads(line), 'exit': 0}) + '\n')
