/** What the store's reads and writes share: the settings and the open store (with the caller's signal). */
import { type BackendKit, untilAborted } from "@keyway/core/backend";
import type { Connection } from "./connection.js";
import type { StoreSettings } from "./options.js";

export interface StoreContext {
  readonly name: string;
  readonly settings: StoreSettings;
  /** The open store (opened on first use), or BackendUnavailableError when `signal` aborts first. */
  open(signal: AbortSignal | undefined): Promise<Connection>;
  /** `work`, or BackendUnavailableError when `signal` aborts first (`what`: "Reading 'KEY'"). */
  until<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T>;
}

export function storeContext({
  name,
  settings,
  client,
}: BackendKit<StoreSettings, Connection>): StoreContext {
  const until = <T>(work: Promise<T>, signal: AbortSignal | undefined, what: string) =>
    signal ? untilAborted(work, signal, what, name) : work;
  return {
    name,
    settings,
    open: (signal) => until(client(), signal, `Opening store '${name}'`),
    until,
  };
}
