// Who pays for a child's death. The calls the pool killed the child for (timeouts, cancels) get
// those results. Of the others, the one to blame for a death the pool did not cause is the one
// that said it exits, or the only one that can have been running; when that cannot be known (a
// child that runs items concurrently or batches its results died without a word) nobody is
// blamed and every call in flight becomes a suspect that runs again alone, so that only the
// culprit fails. Every other call runs again (it may have started: the next attempt number).
import type { Call, ItemResult } from './call.js';
import type { ChildExit } from './worker.js';

export interface Death {
  // calls with the result the pool killed the child for
  killed: [Call, ItemResult][];
  // the call that failed the child, if it is known
  blamed: Call | undefined;
  // calls to run again, oldest first
  requeued: Call[];
  // the pool did not cause the death (no timeout, no cancel)
  crash: boolean;
}

export function sortDeath(calls: Call[], killedFor: ReadonlyMap<Call, ItemResult>, exitingId: number | undefined, oneAtATime: boolean): Death {
  const killed: [Call, ItemResult][] = [];
  const remaining: Call[] = [];
  for (const call of calls) {
    const result = killedFor.get(call);
    if (result === undefined) remaining.push(call);
    else killed.push([call, result]);
  }
  const crash = killedFor.size === 0;
  let blamed: Call | undefined;
  if (crash) {
    const certain = remaining.length === 1 || oneAtATime;
    blamed = exitingId !== undefined ? remaining.find((call) => call.id === exitingId) : certain ? remaining[0] : undefined;
  }
  const requeued = remaining.filter((call) => call !== blamed);
  for (const call of requeued) {
    call.attempt++;
    if (blamed === undefined && crash) call.suspect = true;
  }
  return { killed, blamed, requeued, crash };
}

// The failure of the blamed call; a child that exits with status 0 in the middle of an item
// has still failed it
export function exitMessage(exit: ChildExit): string {
  const how = exit.signal === null ? `exited with status ${exit.code}` : `was killed by ${exit.signal}`;
  return `the child running this item ${how}`;
}
