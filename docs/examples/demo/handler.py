# Demo handler: called once per item as main(event, context)
import math
import sys

greeting = None


def setup():
    # runs once in each child, before any item
    global greeting
    greeting = 'hello from Python %d.%d' % sys.version_info[:2]


def main(event, context):
    print('%s, %s (child %d)' % (greeting, event['name'], context.worker_id))
    # a negative n raises: that item gets exit 1 and the traceback, the others go on
    return {'name': event['name'], 'sqrt': math.sqrt(event['n'])}
