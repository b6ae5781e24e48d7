# -*- coding: utf-8 -*-
"""The Python side of a polytask worker (protocol versions 1 to 4, docs/protocol.md).

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
2. Each ``call`` (or item of a ``calls`` or ``lines`` block) runs ``handler(event, context)``.
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


def write_all(data, fd=OUT_FD):
    """Write bytes to fd 4 (or init's output_fd), however many writes it takes; exit quietly if
    the parent is gone."""
    try:
        while data:
            data = data[retry(os.write, fd, data):]
    except OSError as e:
        if fd != OUT_FD:
            # the results cannot be written: the parent runs this child's unanswered lines
            # again, and finds the same when it writes them
            os.write(2, ('polytask: child cannot write the results: %s\n' % e).encode('utf-8'))
            orphaned()
        if e.errno in (errno.EPIPE, errno.EBADF, errno.ECONNRESET):
            orphaned()
        raise


def encoded(text):
    """The bytes of lines to write: the output lines of `lines` blocks carry the input's UTF-8
    text (bytes already on Python 2); everything else is ASCII."""
    return text if PY2 and isinstance(text, str) else text.encode('utf-8')


class Chunk(object):
    """The answer to the lines of a `lines` block gathered since the last one was written: its
    output lines, failures, returned exits and bad places; its lines are those from `first` to
    the place of the next line (they are answered in order)."""
    __slots__ = ('block_id', 'first', 'out', 'failed', 'returned', 'bad', 'running', 'token')
    lines_fd = None  # init's output_fd (version 4): the output lines go there, not on fd 4

    def __init__(self):
        self.block_id, self.first, self.out, self.failed, self.returned, self.bad = -1, 0, [], 0, 0, []
        # the place of the item running (the lines before it are answered), and a token in the
        # list while it runs: see Output.flush_held
        self.running, self.token = 0, []

    def add(self, line, code, returned):
        self.out.append(line)
        if code:
            self.failed += 1
        if returned:
            self.returned += 1

    def close(self, block_id, place, pending):
        """Moves the answer, under its head, to the messages to write."""
        count = place - self.first
        if not count:
            return
        out = self.out
        if out and self.lines_fd is not None:
            # to the results first; the head that counts them follows on fd 4
            write_all(encoded('\n'.join(out) + '\n'), self.lines_fd)
            head = '{"type":"lines","id":%d,"count":%d,"out":0,"written":%d' % (block_id, count, len(out))
            del out[:]
        else:
            head = '{"type":"lines","id":%d,"count":%d,"out":%d' % (block_id, count, len(out))
        if self.failed:
            head += ',"failed":%d' % self.failed
        if self.returned:
            head += ',"returned":%d' % self.returned
        if self.bad:
            head += ',"bad":[%s]' % ','.join(str(p) for p in self.bad)
        pending.append(head + '}')
        if out:
            pending.extend(out)
            del out[:]
        self.first, self.failed, self.returned = place, 0, 0
        if self.bad:
            self.bad = []


class Output(object):
    """Encoded messages waiting for fd 4.  Both threads flush, under a lock."""
    def __init__(self):
        self.pending = []
        self.lock = threading.Lock()
        self.last = clock()
        self.chunk = Chunk()  # the answer of a `lines` block being gathered (serve's)

    def flush(self, wait=True):
        if not self.lock.acquire(wait):
            return  # the other thread is writing right now
        try:
            self.write()
        finally:
            self.lock.release()

    def flush_held(self, chunk):
        """From the watchdog: the answers held in `chunk` (a `lines` block's) while one item
        runs long go out.  The chunk is the main thread's: it is closed here only while the
        main thread is inside that item, which the token says (taken from the list, it makes
        the main thread wait for this lock before it touches the chunk again)."""
        if not self.lock.acquire(False):
            return
        try:
            try:
                chunk.token.pop()
            except IndexError:
                return  # the item is done: the main thread writes the answers itself
            chunk.close(chunk.block_id, chunk.running, self.pending)
            self.write()
        finally:
            self.lock.release()

    def write(self):
        """Writes what is pending; the caller holds the lock."""
        n = len(self.pending)  # the main thread may append meanwhile: take only n
        if n:
            data = encoded('\n'.join(self.pending[:n]) + '\n')
            del self.pending[:n]
            write_all(data)
        self.last = clock()


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
    seen = None  # the item of a `lines` block seen running at the last look
    while True:
        sleep(0.1)
        try:
            if getppid() != parent:
                orphaned()
            if out.pending:
                out.flush(False)
            # the same item still running 100 ms later: the lines answered before it go out
            chunk = out.chunk
            running = chunk.block_id, chunk.running
            if running == seen and chunk.running > chunk.first:
                out.flush_held(chunk)
            seen = running
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
    # the highest version both speak: 2 adds `calls` blocks, 3 `lines` blocks, 4 `output_fd`
    protocol = max(1, min(4, int(init.get('protocol') or 1)))
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


def serve(handler, worker_id, batches, capture=True, exit_from_return=True):
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
    # a `lines` block: its lines still to come, the place of the next one, its first line's
    # number and id (the answer being gathered is `chunk`)
    lleft = place = lfirst = lid = 0
    row = None  # the line number of the item running, in a `lines` block
    chunk = out.chunk
    out_line, attempt_text = chunk.out.append, '1'
    # while an item of a `lines` block runs, the watchdog may send the lines answered before it
    hold, give_back, lock = chunk.token.append, chunk.token.pop, out.lock
    try:
        for lines in batches:
            out.last = clock_()
            for line in lines:
                if lleft:  # a line of a `lines` block: as read, maybe blank or not JSON
                    lleft -= 1
                    row = lfirst + place
                    cid = lid + place
                    place += 1
                    try:
                        data, end = scan(line, 0)
                        if end != len(line):
                            raise ValueError('text after the value')
                    except Exception:
                        if line[-1:] == '\r':  # a CRLF line end (the line's text goes out)
                            line = line[:-1]
                        data = NOTHING
                        if line.strip(' \t\r'):  # not blank
                            try:
                                data = loads(line)  # JSON whitespace around it, or not JSON
                            except ValueError:
                                chunk.bad.append(place - 1)  # the parent words its ParseError
                            except RuntimeError as e:  # JSON nested too deeply: this item's failure
                                chunk.add(as_line(bad_item(cid, e), row, line, attempt), 65, False)
                        if data is NOTHING:  # no item
                            if not lleft:
                                chunk.close(lid, place, pending)
                            continue
                elif not line:
                    continue
                elif left:  # a line of a `calls` block: the item's JSON text
                    left -= 1
                    row = None
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
                    if kind == 'lines':
                        chunk.close(lid, place, pending)
                        lid, lleft, lfirst = msg['id'], msg['count'], msg['line']
                        attempt, place = msg.get('attempt', 1), 0
                        attempt_text, chunk.first, chunk.block_id = str(attempt), 0, lid
                        continue
                    row = None
                    if kind != 'call':
                        continue  # nothing else is expected after init
                    cid, data, attempt = msg['id'], msg.get('data'), msg.get('attempt', 1)
                # the capture stays from item to item of a read (our own code between them
                # prints nothing), put back only when an item's code replaced it
                if sys_.stdout is not cap_out or sys_.stderr is not cap_err:
                    sys_.stdout, sys_.stderr = cap_out, cap_err
                if row is not None:
                    chunk.running = place - 1
                    hold(1)
                try:
                    context = Context_(worker_id, cid, attempt)
                    value = handler(data, context)
                    if type(value) not in plain and hasattr(value, '__await__'):
                        value = run_awaitable(value)
                    raised = None
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    raised = sys_.exc_info()
                if row is not None:
                    try:
                        give_back()
                    except IndexError:  # the watchdog has it: wait until it is done
                        lock.acquire()
                        lock.release()
                if raised is not None:
                    sys_.stdout, sys_.stderr = saved
                    error = describe(raised)
                    se = cap_err.take() + error['stack']  # the traceback goes to stderr too
                    message = failed(cid, 1, error, cap_out.take(), se)
                    if row is None:
                        append(message)
                    else:
                        chunk.add(as_line(message, row, line, attempt), 1, False)
                else:
                    t = type(value)
                    code = value if t is int else 0 if t in plain else exit_code_of(value)
                    try:
                        value_json = join(chunks(value, 0))
                    except Exception as e:
                        e = not_encodable(value, e, checked, markers)
                        message = serialization_error(cid, value, e, cap_out.take(), cap_err.take())
                        if row is None:
                            append(message)
                        else:
                            chunk.add(as_line(message, row, line, attempt), 1, False)
                    else:
                        if code and row is not None and not exit_from_return:
                            code = 0
                        if code == 0 and not out_parts and not err_parts:  # most items: joined
                            if row is None:
                                cid_json = str(cid) if cid.__class__ is int else join(chunks(cid, 0))
                                append(QUIET_HEAD + cid_json + QUIET_VALUE + value_json + QUIET_TAIL)
                            else:
                                out_line(join((LINE_HEAD, str(row), LINE_DATA, line, LINE_EXIT_0,
                                               attempt_text, LINE_VALUE, value_json, QUIET_TAIL)))
                        else:
                            cid_json = str(cid) if cid.__class__ is int else join(chunks(cid, 0))
                            message = RESULT_ % (cid_json, code, value_json,
                                                 join(chunks(cap_out.take(), 0)) if out_parts else '""',
                                                 join(chunks(cap_err.take(), 0)) if err_parts else '""')
                            if row is None:
                                append(message)
                            else:
                                chunk.add(as_line(message, row, line, attempt), code, code != 0)
                if row is not None and not lleft:
                    chunk.close(lid, place, pending)  # the block's last line
                if clock_() - out.last > 0.005:
                    chunk.close(lid, place, pending)
                    flush()
            sys_.stdout, sys_.stderr = saved
            chunk.close(lid, place, pending)
            if pending:
                flush()
    finally:
        sys.stdout, sys.stderr = saved
        if pending:
            flush(False)


NOTHING = object()
# The start of `polytask run`'s output line for an item of a `lines` block, in pieces to join
LINE_HEAD, LINE_DATA, LINE_EXIT_0, LINE_VALUE = '{"line":', ',"data":', ',"exit":0,"attempts":', ',"value":'
RESULT_EXIT = re.compile(r'\{"type":"result","id":\d+,"exit":(-?\d+),')


def as_line(message, row, text, attempt):
    """The output line of an item of a `lines` block from its result message (failures,
    printed output, non-zero exits: not the common case)."""
    found = RESULT_EXIT.match(message)
    return '{"line":%d,"data":%s,"exit":%s,"attempts":%d,%s' % (
        row, text, found.group(1), attempt, message[found.end():])


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
    output_fd = init.get('output_fd')
    if isinstance(output_fd, int) and output_fd > 4:
        Chunk.lines_fd = output_fd
    handler = initialise(init)
    serve(handler, worker_id, itertools.chain([lines[1:]], stream), capture,
          init.get('exit_from_return', True) is not False)
    end_group()
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        out.flush(False)  # results already finished still reach the parent
        os._exit(130)
