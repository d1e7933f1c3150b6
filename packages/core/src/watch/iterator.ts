/** `router.watch(ref, options)`: a watch as an async iterator that holds at most one change. */
import type { VersionChange, Watch, WatchIterator, WatchListener } from "./options.js";

/**
 * Builds the iterator over a watch `start` opens with a listener and a callback for its end.
 * Changes not yet read are folded into one, so a slow reader holds at most one.
 */
export function iterateWatch(start: (listener: WatchListener, ended: () => void) => Watch): WatchIterator {
  let pending: VersionChange | undefined;
  let waiting: ((result: IteratorResult<VersionChange>) => void) | undefined;
  let ended = false;
  const end = () => {
    ended = true;
    pending = undefined;
    waiting?.({ value: undefined, done: true });
    waiting = undefined;
  };
  const watch = start((change) => {
    if (waiting) {
      const wake = waiting;
      waiting = undefined;
      wake({ value: change, done: false });
    } else pending = pending ? folded(pending, change) : change;
  }, end);
  const iterator: WatchIterator = {
    next() {
      if (pending) {
        const value = pending;
        pending = undefined;
        return Promise.resolve({ value, done: false });
      }
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      watch.close();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
    close: () => watch.close(),
    get closed() {
      return watch.closed;
    },
  };
  return iterator;
}

/** Two changes not yet read, as one: from the first's previous state to the second's state. */
function folded(first: VersionChange, second: VersionChange): VersionChange | undefined {
  const merged = {
    ...second,
    previousVersion: first.previousVersion,
    previousFoundIn: first.previousFoundIn,
  };
  const back = merged.version === merged.previousVersion && merged.foundIn === merged.previousFoundIn;
  return back ? undefined : Object.freeze(merged);
}
