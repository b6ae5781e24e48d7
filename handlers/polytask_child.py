# -*- coding: utf-8 -*-
"""The Python side of polytask's Instance (Python 2.7 and 3.6+, standard library only).

    from polytask_child import parent
    obj = parent.recv()      # the next JSON value the parent sent (blocks)
    parent.send(obj)         # one JSON value to the parent

Values travel as frames on file descriptors the parent opened: fd 3 from the parent, fd 4 to
it.  A frame is a 4-byte big-endian byte count followed by that many bytes of UTF-8 JSON.
recv() raises EndpointClosedError (an EOFError) when the parent has closed the channel; if
nothing catches it at a frame boundary, the program ends quietly with status 0, as a program
whose parent is done with it should.  A channel that ends in the middle of a frame raises
EndpointClosedError too, and is reported as an error.
"""
import errno
import json
import os
import struct
import sys

__all__ = ['parent', 'Parent', 'EndpointClosedError']

FROM_PARENT_FD, TO_PARENT_FD = 3, 4


class EndpointClosedError(EOFError):
    """The other end closed the channel.  `mid_frame` is True when it did so inside a frame."""
    def __init__(self, message, mid_frame=False):
        EOFError.__init__(self, message)
        self.mid_frame = mid_frame


def _retry(call, *args):
    while True:
        try:
            return call(*args)
        except OSError as e:
            if e.errno != errno.EINTR:
                raise


class Parent(object):
    def __init__(self, in_fd=FROM_PARENT_FD, out_fd=TO_PARENT_FD):
        self.in_fd = in_fd
        self.out_fd = out_fd
        self._buffer = b''

    def send(self, obj):
        """Send one JSON value.  A value JSON cannot carry (NaN, Infinity, a set, an object)
        raises ValueError or TypeError here, and nothing is sent."""
        try:
            data = json.dumps(obj, separators=(',', ':'), allow_nan=False)
        except ValueError as e:
            raise ValueError('parent.send(): the value cannot be sent as JSON: %s' % (e,))
        if not isinstance(data, bytes):
            data = data.encode('utf-8')
        data = struct.pack('>I', len(data)) + data
        try:
            while data:
                data = data[_retry(os.write, self.out_fd, data):]
        except OSError as e:
            if e.errno in (errno.EPIPE, errno.EBADF, errno.ECONNRESET):
                raise EndpointClosedError('cannot send: the parent closed the channel')
            raise

    def _fill(self, want):
        """Read until the buffer holds `want` bytes; False at the end of the input."""
        while len(self._buffer) < want:
            try:
                chunk = _retry(os.read, self.in_fd, 65536)
            except OSError as e:
                if e.errno in (errno.EBADF, errno.ECONNRESET):
                    chunk = b''
                else:
                    raise
            if not chunk:
                return False
            self._buffer += chunk
        return True

    def recv(self):
        if not self._fill(4):
            if self._buffer:
                raise EndpointClosedError('the parent closed the channel mid-frame (got %d of the 4 bytes of a frame header)'
                                          % len(self._buffer), mid_frame=True)
            raise EndpointClosedError('the parent closed the channel')
        length = struct.unpack('>I', self._buffer[:4])[0]
        if not self._fill(4 + length):
            raise EndpointClosedError('the parent closed the channel mid-frame (got %d of the %d bytes of a frame)'
                                      % (len(self._buffer) - 4, length), mid_frame=True)
        data, self._buffer = self._buffer[4:4 + length], self._buffer[4 + length:]
        return json.loads(data.decode('utf-8'))


parent = Parent()

_previous_hook = sys.excepthook


def _quiet_end(kind, value, tb):
    """A recv() that finds the channel closed between frames ends the program quietly."""
    if isinstance(value, EndpointClosedError) and not value.mid_frame:
        try:
            sys.stdout.flush()
        finally:
            os._exit(0)
    _previous_hook(kind, value, tb)


sys.excepthook = _quiet_end
