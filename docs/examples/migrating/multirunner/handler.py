# A multirunner handler, unchanged: print() goes to the item's "stdout", and the return
# value, an integer, is the item's exit status (multirunner's rule, still the default)
from __future__ import print_function


def main(event, context):
    print('hello', event['name'])
    return len(event['name'])
