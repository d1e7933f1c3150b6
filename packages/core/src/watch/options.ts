/** What a caller of `router.watch` passes and gets: options, changes, watches. */
import { ConfigurationError, type SecretsError } from "../errors.js";
import type { SecretRef } from "../ref.js";

/** Options of `router.watch`. */
export interface WatchOptions {
  /**
   * How often the version is probed, in milliseconds, when the backend pushes no change events
   * (or its push channel is down). Watches of one target share one poll, at the shortest interval
   * any of them asks for.
   * @default 30000
   */
  intervalMs?: number | undefined;
  /** Climb the namespace tree, as a resolve does (see `ResolveOptions.inherit`). @default true */
  inherit?: boolean | undefined;
  /**
   * Called with each failed probe (unavailable, denied, disabled, …), with an error that holds no
   * value. A failure is never a change; watching goes on.
   * @default undefined (failures are dropped; they still reach `keyway:backend`)
   */
  onError?: ((error: SecretsError) => void) | undefined;
  /** Ends the watch when it aborts. */
  signal?: AbortSignal | undefined;
  /** Keep the process alive while the watch runs, as `fs.watch` does. @default true */
  persistent?: boolean | undefined;
}

/** A change of the version a resolve of the watched ref returns. Never holds a value. */
export interface VersionChange {
  /** The watched ref (validated copy). */
  readonly ref: SecretRef;
  /** The version now; `undefined` when the ref is not found any more. */
  readonly version: string | undefined;
  /** The version before; `undefined` when the ref was not found before. */
  readonly previousVersion: string | undefined;
  /** The namespace the value comes from now (inheritance), if found. */
  readonly foundIn: string | undefined;
  /** The namespace it came from before, if it was found. */
  readonly previousFoundIn: string | undefined;
  /** The backend that serves it now, if found. */
  readonly backend: string | undefined;
}

/** Receives changes; may be async. A listener that throws is reported once as a warning. */
export type WatchListener = (change: VersionChange) => void | Promise<void>;

/** A running watch. */
export interface Watch {
  /** Stops this watch (the shared poll stops with its last watch). Idempotent. */
  close(): void;
  readonly closed: boolean;
}

/**
 * The async-iterator form: yields each change; ends when closed (`close()`, `return()`, `break`,
 * the signal, or the router's `close()`). Changes not yet read are folded into one (from the
 * oldest previous version to the newest version), so a slow reader holds at most one.
 */
export interface WatchIterator extends AsyncIterableIterator<VersionChange>, Watch {}

/** Each wait between two probes is shortened by up to this fraction at random. */
export const JITTER = 0.2;
export const DEFAULT_INTERVAL_MS = 30_000;
/** setTimeout's largest delay. */
export const MAX_INTERVAL_MS = 2_147_483_647;

/** Checks `router.watch`'s options, with a typed error naming the one that is wrong. */
export function checkOptions(options: WatchOptions | undefined): WatchOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null)
    throw new ConfigurationError("router.watch: options must be an object.");
  const { intervalMs, inherit, onError, signal, persistent } = options;
  if (
    intervalMs !== undefined &&
    (typeof intervalMs !== "number" ||
      !Number.isInteger(intervalMs) ||
      intervalMs < 1 ||
      intervalMs > MAX_INTERVAL_MS)
  )
    throw new ConfigurationError(
      `router.watch: 'intervalMs' must be a whole number of milliseconds from 1 to ${MAX_INTERVAL_MS}.`,
    );
  if (onError !== undefined && typeof onError !== "function")
    throw new ConfigurationError("router.watch: 'onError' must be a function.");
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new ConfigurationError("router.watch: 'signal' must be an AbortSignal.");
  for (const [name, flag] of [
    ["inherit", inherit],
    ["persistent", persistent],
  ] as const)
    if (flag !== undefined && typeof flag !== "boolean")
      throw new ConfigurationError(`router.watch: '${name}' must be a boolean.`);
  return options;
}
