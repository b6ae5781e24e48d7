// What an exit status means, the same for an item's result and for `polytask`'s own exit: the
// shell's and sysexits.h's conventions, so that scripts read both the same way.
export const exitCodes = {
  ok: 0,
  // polytask: some item failed (or a fatal error)
  itemFailed: 1,
  // polytask: bad flags or a bad spec
  usage: 2,
  // an input line or item that is not valid data (EX_DATAERR)
  dataError: 65,
  // an item that timed out, as timeout(1) reports it
  timeout: 124,
  // a Ctrl-C; an item cancelled, or cut short by close()
  interrupted: 130,
  // a reader of stdout that went away (SIGPIPE)
  brokenPipe: 141,
  // SIGTERM
  terminated: 143,
} as const;
