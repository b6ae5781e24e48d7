# -*- coding: utf-8 -*-
"""The Python side of a polytask worker (protocol versions 1 and 2, docs/protocol.md).

polytask starts this file once per pool slot, under Python 2.7 or any Python
3.6+, using nothing but the standard library.  Requests arrive on file
descriptor 3 and responses leave on file descriptor 4, one JSON object per
line.  File descriptors 1 and 2 belong to the user's code: we never write our
own messages there.

What happens, in order:

1. The first message, ``init``, names the user's code (a file path or a source
   string), the handler function and an optional setup hook.  We load the code
   into a fresh module, call the setup hook and answer ``ready``, or answer
   ``init_error`` and exit with status 1 when anything goes wrong.
2. Each ``call`` (or item of a ``calls`` block) runs ``handler(event, context)``.
   While the items of one read run, sys.stdout and sys.stderr are small capture
   objects, emptied for each item, so what an item prints travels back inside its
   ``result``.  An ``async def`` handler is run
   to completion on one event loop that lives as long as the process.
3. At end of file on fd 3 we write the results we still owe and exit 0.

Speed matters (a trivial handler should do well over 100,000 items a second),
so results are not written one at a time: all the lines of one read are
processed and their results go out in one write, with an extra flush when 5 ms
have passed.  A background thread flushes results that wait behind a slow item,
and ends the process when the parent dies (its parent pid changes).  polytask
starts this process as the leader of a process group: what the handler starts
gets SIGTERM at the end of the input, and SIGKILL (with us) when the parent dies.
Ctrl-C ends the process quietly with status 130.
"""
import codecs
import errno
import itertools
import json
import linecache
import os
import re
import select
import signal
import sys
import threading
import time
import traceback
import types

PY2 = sys.version_info[0] == 2
if PY2:
    text_type, int_types = unicode, (int, long)  # noqa: F821 (Python 2 names)
    PLAIN = frozenset([type(None), bool, int, float, str, unicode, list, dict, tuple])  # noqa
else:
    text_type, int_types = str, (int,)
    PLAIN = frozenset([type(None), bool, int, float, str, bytes, list, dict, tuple])

IN_FD, OUT_FD = 3, 4
OWN_FILE = (lambda: 0).__code__.co_filename  # to hide our own frames in tracebacks
STRING_CODE_NAME = '<polytask code>'
ASYNCIO_DIR = os.sep + 'asyncio' + os.sep
clock = getattr(time, 'monotonic', time.time)


class Stream(object):
    """What the capture objects share: a file-like object over the real fd 1 or 2 (fileno()
    names it, so writes made there are simply not captured), never closed, never a terminal,
    with nothing to flush."""
    closed = False

    def __init__(self, fd):
        self.fd = fd

    def writelines(self, lines):
        for s in lines:
            self.write(s)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        return self.fd


class Capture(Stream):
    """Stands in for sys.stdout or sys.stderr during an item and keeps the text."""
    encoding = 'utf-8'
    softspace = 0  # the Python 2 print statement sets and reads this

    def __init__(self, fd):
        Stream.__init__(self, fd)
        self.parts = []
        self._buffer = None

    def write(self, s):
        if s.__class__ is not text_type:
            if PY2 and isinstance(s, str):
                s = s.decode('utf-8', 'replace')
            elif not isinstance(s, text_type):
                raise TypeError('write() argument must be str, not %s' % type(s).__name__)
        if self._buffer is not None:
            self._buffer.finish()  # bytes cut short before this text come first
        self.parts.append(s)
        return len(s)

    @property
    def buffer(self):
        """sys.stdout.buffer on Python 3: bytes written there are kept too, decoded as UTF-8
        (what is not UTF-8 becomes U+FFFD, as the result must be JSON text)."""
        if self._buffer is None:
            self._buffer = BytesCapture(self)
        return self._buffer

    def take(self):
        if self._buffer is not None:
            self._buffer.finish()
        text = u''.join(self.parts)
        del self.parts[:]
        return text


class BytesCapture(Stream):
    """The binary side of a Capture; a UTF-8 character split across writes is kept whole."""

    def __init__(self, text):
        Stream.__init__(self, text.fd)
        self.text = text
        self.decoder = codecs.getincrementaldecoder('utf-8')('replace')

    def write(self, b):
        if not isinstance(b, (bytes, bytearray, memoryview)):
            raise TypeError("a bytes-like object is required, not '%s'" % type(b).__name__)
        s = self.decoder.decode(bytes(b))
        # bytes held back (a character cut in two) still make the item's text non-empty, so
        # that take() flushes them with this item
        if s or self.decoder.getstate()[0]:
            self.text.parts.append(s)
        return len(b)

    def finish(self):
        s = self.decoder.decode(b'', True)
        if s:
            self.text.parts.append(s)


class Passthrough(Capture):
    """Used instead of Capture when init says capture: false (a debugging session attached
    to the terminal): writes go straight through, so pdb's prompt is seen."""
    def __init__(self, stream):
        Capture.__init__(self, stream.fileno() if hasattr(stream, 'fileno') else 1)
        self.stream = stream

    def write(self, s):
        self.stream.write(s)
        self.stream.flush()
        return len(s)

    @property
    def buffer(self):
        return self.stream.buffer

    def take(self):
        return u''


class Context(object):
    """The handler's second argument; context.attempt and context['attempt'] both work.
    context.args: init's `args`, the same tuple for every call (set once by main())."""
    __slots__ = ('worker_id', 'item_id', 'attempt')
    args = ()

    def __init__(self, worker_id, item_id, attempt):
        self.worker_id = worker_id
        self.item_id = item_id
        self.attempt = attempt

    def __getitem__(self, key):
        if key in Context.__slots__ or key == 'args':
            return getattr(self, key)
        raise KeyError(key)

    def __repr__(self):
        return 'Context(worker_id=%r, item_id=%r, attempt=%r, args=%r)' % (
            self.worker_id, self.item_id, self.attempt, self.args)


def retry(call, fd, arg):
    """os.read or os.write, retried on EINTR (Python 2 does not) and EAGAIN (in case
    the parent handed us a non-blocking pipe)."""
    while True:
        try:
            return call(fd, arg)
        except OSError as e:
            if e.errno == errno.EAGAIN:
                reading = call is os.read
                select.select([fd] if reading else [], [] if reading else [fd], [])
            elif e.errno != errno.EINTR:
                raise


def write_all(data):
    """Write bytes to fd 4, however many writes it takes; exit quietly if the parent is gone."""
    try:
        while data:
            data = data[retry(os.write, OUT_FD, data):]
    except OSError as e:
        if e.errno in (errno.EPIPE, errno.EBADF, errno.ECONNRESET):
            orphaned()
        raise


class Output(object):
    """Encoded messages waiting for fd 4.  Both threads flush, under a lock."""
    def __init__(self):
        self.pending = []
        self.lock = threading.Lock()
        self.last = clock()

    def flush(self, wait=True):
        if not self.lock.acquire(wait):
            return  # the other thread is writing right now
        try:
            n = len(self.pending)  # the main thread may append meanwhile: take only n
            if n:
                data = ('\n'.join(self.pending[:n]) + '\n').encode('ascii')
                del self.pending[:n]
                write_all(data)
            self.last = clock()
        finally:
            self.lock.release()


out = Output()
encode = json.JSONEncoder(separators=(',', ':'), allow_nan=False).encode  # whole messages
# Results are written from these templates, their keys in the protocol's order (a dict has none
# on Python 2), the same order as the Node handler's: `polytask run` copies them as they come.
RESULT = '{"type":"result","id":%s,"exit":%d,"value":%s,"stdout":%s,"stderr":%s}'
# the same for exit 0 and no output, in pieces to join: half the cost of the % above
QUIET_HEAD, QUIET_VALUE, QUIET_TAIL = '{"type":"result","id":', ',"exit":0,"value":', ',"stdout":"","stderr":""}'
FAILED = '{"type":"result","id":%s,"exit":%d,"error":%s,"stdout":%s,"stderr":%s}'
ERROR = '{"name":%s,"message":%s,"stack":%s}'


def failed(cid, code, error, so, se):
    """The result of a failed call: `error` is describe()'s dict."""
    return FAILED % (cid if cid.__class__ is int else encode(cid), code,
                     ERROR % (encode(error['name']), encode(error['message']), encode(error['stack'])),
                     encode(so), encode(se))


def make_chunks():
    """The C encoders behind `encode`, built once: JSONEncoder.encode builds a new one
    on every call, which is half the cost for a small value.  chunks(o, 0) returns pieces
    of JSON text without looking for cycles (a tenth of the per-item cost): a value that
    holds itself ends in RecursionError (RuntimeError on Python 2) like one nested too
    deeply.  checked(o, 0) looks, to tell the two apart once a value has failed; after a
    failure of it, markers (its record of the containers being encoded) must be cleared."""
    make = getattr(json.encoder, 'c_make_encoder', None)
    if make is None:  # no C accelerator (e.g. PyPy)
        slow = lambda o, level: [encode(o)]  # noqa: E731
        return slow, slow, {}
    markers = {}
    default = json.JSONEncoder().default

    def encoder(seen):
        return make(seen, default, json.encoder.encode_basestring_ascii, None,
                    ':', ',', False, False, False)
    return encoder(None), encoder(markers), markers


def not_encodable(value, exc, checked, markers):
    """Why `value` cannot be encoded: exc, or for a RecursionError, what the encoder that
    looks for cycles says (a circular reference, or the same RecursionError)."""
    if isinstance(exc, RuntimeError):
        try:
            checked(value, 0)
        except Exception as e:
            exc = e
        markers.clear()
    return exc


def leads_group():
    """Whether this process leads a process group of its own, as polytask starts it: what
    the handler starts (a subprocess) is then in that group, and ends with it."""
    return os.getpgrp() == os.getpid()


def end_group():
    """At the end of the input: SIGTERM to the rest of our group (we ignore it ourselves).
    Main thread only (signal.signal)."""
    if leads_group():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            os.killpg(os.getpid(), signal.SIGTERM)
        except OSError:
            pass


def orphaned():
    """The parent is gone: end our group, this process included (SIGKILL: from a thread we
    cannot keep SIGTERM off ourselves, and no one waits for our results)."""
    if leads_group():
        os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(1)


def watchdog(parent, getppid=os.getppid, sleep=time.sleep):
    """Daemon thread: end when the parent dies; flush results stuck behind a slow item."""
    while True:
        sleep(0.1)
        try:
            if getppid() != parent:
                orphaned()
            if out.pending:
                out.flush(False)
        except:  # noqa: E722 - Python 2 at exit: the module's globals are None by now
            return


def batches():
    """Yield the complete lines of each read from fd 3 until end of file (as text on
    Python 3; on Python 2 the json module is quicker with the raw UTF-8 bytes)."""
    def lines(block):
        return (block if PY2 else block.decode('utf-8')).split('\n')
    partial = []  # the pieces of a line not yet complete (a big message spans many reads)
    while True:
        chunk = retry(os.read, IN_FD, 65536)
        if not chunk:
            if partial:
                yield lines(b''.join(partial))  # be lenient with a last line without '\n'
            return
        end = chunk.rfind(b'\n')
        if end < 0:
            partial.append(chunk)
            continue
        partial.append(chunk[:end])
        yield lines(b''.join(partial))
        partial = [chunk[end + 1:]] if end + 1 < len(chunk) else []


def message_of(e):
    """str(e), also for unicode or undecodable messages on Python 2."""
    try:
        return text_type(e)
    except Exception:
        try:
            return str(e).decode('utf-8', 'replace')
        except Exception:
            return u'<unprintable %s object>' % type(e).__name__


def describe(exc_info):
    """The protocol's {name, message, stack} for an exception.  The stack starts at the
    user's code: our own frames and asyncio's run_until_complete are left out."""
    etype, value, tb = exc_info
    while tb is not None and (tb.tb_frame.f_code.co_filename == OWN_FILE
                              or ASYNCIO_DIR in tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    stack = ''.join(traceback.format_exception(etype, value, tb))
    if PY2 and isinstance(stack, str):
        stack = stack.decode('utf-8', 'replace')
    return {'name': etype.__name__, 'message': message_of(value), 'stack': stack}


def load_module(code):
    """Run the user's code in a fresh module called __polytask_code__."""
    kind, data = code.get('type'), code.get('data')
    module = types.ModuleType('__polytask_code__')
    if kind == 'path':
        if PY2 and isinstance(data, unicode):  # noqa: F821
            data = data.encode('utf-8')  # a native str, as __file__ always is on Python 2
        with open(data, 'rb') as f:
            source = f.read()
        filename = module.__file__ = data
        sys.path.insert(0, os.path.dirname(os.path.abspath(data)))  # sibling imports
    elif kind == 'string':
        filename = STRING_CODE_NAME
        source = data.encode('utf-8') if PY2 else data
        lines = source.splitlines(True)
        if lines and not lines[-1].endswith(b'\n' if PY2 else '\n'):
            lines[-1] += b'\n' if PY2 else '\n'
        linecache.cache[filename] = (len(source), None, lines, filename)  # for tracebacks
        sys.path.insert(0, os.getcwd())  # like python -c
    else:
        raise ValueError('unknown code type %r (expected "path" or "string")' % (kind,))
    sys.modules['__polytask_code__'] = module
    # dont_inherit: this file's compiler flags must not leak into the user's code
    exec(compile(source, filename, 'exec', 0, True), module.__dict__)
    return module


def lookup(module, name, what, where):
    fn = getattr(module, str(name), None)
    if fn is None:
        raise AttributeError("%s function '%s' not found in %s" % (what, name, where))
    if not callable(fn):
        raise TypeError("%s '%s' in %s is not a function (it is a %s)"
                        % (what, name, where, type(fn).__name__))
    return fn


def send(message):
    write_all((encode(message) + '\n').encode('ascii'))


def initialise(init):
    """Load the code and run the setup hook; answer ready, or init_error and exit 1."""
    code = init.get('code') or {}
    where = code.get('data') if code.get('type') == 'path' else STRING_CODE_NAME
    cap_out, cap_err = Capture(1), Capture(2)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = cap_out, cap_err
    try:
        module = load_module(code)
        handler = lookup(module, init.get('handler') or 'main', 'handler', where)
        if init.get('setup_hook'):
            lookup(module, init['setup_hook'], 'setup hook', where)()
    except KeyboardInterrupt:
        raise
    except BaseException:
        error = describe(sys.exc_info())
        sys.stdout, sys.stderr = saved
        send({'type': 'init_error', 'error': error,
              'stdout': cap_out.take(), 'stderr': cap_err.take()})
        sys.exit(1)
    finally:
        sys.stdout, sys.stderr = saved
    version = '%d.%d.%d' % tuple(sys.version_info[:3])
    # version 2 (`calls` blocks) when the parent speaks it
    protocol = 2 if (init.get('protocol') or 1) >= 2 else 1
    send({'type': 'ready', 'pid': os.getpid(), 'language': 'python', 'version': version,
          'protocol': protocol, 'stdout': cap_out.take(), 'stderr': cap_err.take()})
    return handler


event_loop = []


def run_awaitable(awaitable):
    """Run a coroutine (async def handler) on the one event loop of this process."""
    if not event_loop:
        import asyncio
        event_loop.append(asyncio.new_event_loop())
        asyncio.set_event_loop(event_loop[0])
    return event_loop[0].run_until_complete(awaitable)


def serve(handler, worker_id, batches, capture=True):
    """Answer every call.  This is the hot loop, hence the local names."""
    # strict as JSON.parse, as the parent checks items: no NaN or Infinity, nothing after the value
    decoder = json.JSONDecoder(parse_constant=refuse_constant)
    scan, loads = decoder.scan_once, decoder.decode
    chunks, checked, markers = make_chunks()
    if capture:
        cap_out, cap_err = Capture(1), Capture(2)
    else:
        cap_out, cap_err = Passthrough(sys.stdout), Passthrough(sys.stderr)
    out_parts, err_parts = cap_out.parts, cap_err.parts
    pending, flush, append = out.pending, out.flush, out.pending.append
    saved = sys.stdout, sys.stderr
    plain, sys_, clock_, Context_, join, RESULT_ = PLAIN, sys, clock, Context, ''.join, RESULT
    left = next_id = attempt = 0  # the items of a `calls` block still to come, and their id
    try:
        for lines in batches:
            out.last = clock_()
            for line in lines:
                if not line:
                    continue
                if left:  # a line of a `calls` block: the item's JSON text
                    left -= 1
                    cid = next_id
                    next_id += 1
                    try:
                        data, end = scan(line, 0)
                        if end != len(line):
                            raise ValueError('text after the value')
                    except Exception:
                        try:
                            data = loads(line)  # JSON whitespace around it, or what is wrong
                        except (ValueError, RuntimeError) as e:  # RuntimeError: nested too deeply
                            append(bad_item(cid, e))
                            continue
                else:
                    try:
                        msg = scan(line, 0)[0]  # the parent writes plain lines: skip the checks
                    except Exception:
                        try:
                            msg = loads(line)  # and let this one report what is wrong
                        except RuntimeError as e:  # RecursionError: an item nested too deeply
                            append(too_deep(line, e))
                            continue
                    kind = msg.get('type')
                    if kind == 'calls':
                        next_id, left, attempt = msg['id'], msg['count'], msg.get('attempt', 1)
                        continue
                    if kind != 'call':
                        continue  # nothing else is expected after init
                    cid, data, attempt = msg['id'], msg.get('data'), msg.get('attempt', 1)
                # the capture stays from item to item of a read (our own code between them
                # prints nothing), put back only when an item's code replaced it
                if sys_.stdout is not cap_out or sys_.stderr is not cap_err:
                    sys_.stdout, sys_.stderr = cap_out, cap_err
                try:
                    context = Context_(worker_id, cid, attempt)
                    value = handler(data, context)
                    if type(value) not in plain and hasattr(value, '__await__'):
                        value = run_awaitable(value)
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    sys_.stdout, sys_.stderr = saved
                    error = describe(sys_.exc_info())
                    se = cap_err.take() + error['stack']  # the traceback goes to stderr too
                    append(failed(cid, 1, error, cap_out.take(), se))
                else:
                    t = type(value)
                    code = value if t is int else 0 if t in plain else exit_code_of(value)
                    try:
                        value_json = join(chunks(value, 0))
                    except Exception as e:
                        e = not_encodable(value, e, checked, markers)
                        append(serialization_error(cid, value, e, cap_out.take(), cap_err.take()))
                    else:
                        cid_json = str(cid) if cid.__class__ is int else join(chunks(cid, 0))
                        if code == 0 and not out_parts and not err_parts:  # most items: joined
                            append(QUIET_HEAD + cid_json + QUIET_VALUE + value_json + QUIET_TAIL)
                        else:
                            append(RESULT_ % (cid_json, code, value_json,
                                              join(chunks(cap_out.take(), 0)) if out_parts else '""',
                                              join(chunks(cap_err.take(), 0)) if err_parts else '""'))
                if clock_() - out.last > 0.005:
                    flush()
            sys_.stdout, sys_.stderr = saved
            if pending:
                flush()
    finally:
        sys.stdout, sys.stderr = saved
        if pending:
            flush(False)


def exit_code_of(value):
    """The item's exit status for a return value that is not a plain JSON type."""
    if isinstance(value, int_types) and not isinstance(value, bool):
        return int(value)
    return 0


CALL_ID = re.compile(r'\{"type":"call","id":(\d+),')


def refuse_constant(name):
    raise ValueError('%s is not valid JSON' % name)


def bad_item(cid, exc):
    """The ParseError result of the item `cid` of a `calls` block whose line the strict
    decoder refused: not JSON (ValueError), or nested too deeply (RecursionError)."""
    what = 'not valid JSON' if isinstance(exc, ValueError) else 'nested too deeply to decode'
    message = u'the item is %s: %s' % (what, message_of(exc))
    error = {'name': 'ParseError', 'message': message, 'stack': u'ParseError: %s\n' % message}
    return failed(cid, 65, error, u'', error['stack'])


def too_deep(line, exc):
    """The ParseError result of a call whose item nests deeper than the json module can
    decode (its recursion limit): that item fails, the child goes on."""
    found = CALL_ID.match(line)
    if found is None:
        raise exc  # not a call as the parent writes them: nothing to answer
    return bad_item(int(found.group(1)), exc)


def serialization_error(cid, value, exc, so, se):
    message = u'return value of type %s is not JSON-serialisable: %s' % (
        type(value).__name__, message_of(exc))
    error = {'name': 'SerializationError', 'message': message,
             'stack': u'SerializationError: %s\n' % message}
    return failed(cid, 1, error, so, se + error['stack'])


def main():
    try:
        os.fstat(IN_FD)
        os.fstat(OUT_FD)
    except OSError:
        sys.stderr.write('python_handler.py is started by polytask, with requests on fd 3 '
                         'and responses on fd 4 (see docs/protocol.md)\n')
        return 2
    thread = threading.Thread(target=watchdog, args=(os.getppid(),))
    thread.daemon = True
    thread.start()
    stream = batches()
    for lines in stream:  # the first non-empty line is init; the rest are calls
        lines = [line for line in lines if line]
        if lines:
            break
    else:
        return 0  # end of file before init
    init = json.loads(lines[0])
    capture = init.get('capture', True) is not False
    if capture:
        # Ctrl-C at a terminal reaches the whole process group; the parent ends its children
        # itself, after it has stopped (only a debugging session attached to the terminal keeps it)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker_id = init.get('worker_id', int(os.environ.get('POLYTASK_WORKER_ID', 0)))
    Context.args = tuple(init.get('args') or ())
    handler = initialise(init)
    serve(handler, worker_id, itertools.chain([lines[1:]], stream), capture)
    end_group()
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        out.flush(False)  # results already finished still reach the parent
        os._exit(130)
