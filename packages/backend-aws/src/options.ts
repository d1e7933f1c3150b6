/**
 * The options of the AWS backend and their eager check (no zod here: importing the package stays
 * cheap; `definition.ts` has the schema for `keyway.yaml`). Messages never echo a credential.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ConfigurationError } from "@keyway/core/backend";
import { isValidPrefix, MAX_PREFIX_LENGTH, TAG_PREFIX } from "./names.js";

/** The SDK's default provider chain (env, shared config/SSO, web identity, ECS, EC2 IMDS). */
export interface DefaultCredentials {
  type: "default";
  /** A profile of the shared config files. @default AWS_PROFILE, else "default" */
  profile?: string | undefined;
}

/** Fixed keys, e.g. from a vault or for local emulators. */
export interface StaticCredentials {
  type: "static";
  accessKeyId: string;
  secretAccessKey: string;
  /** For temporary keys. @default undefined */
  sessionToken?: string | undefined;
}

/** A role assumed through STS (`fromTemporaryCredentials`), refreshed before it expires. */
export interface AssumeRoleCredentials {
  type: "assumeRole";
  roleArn: string;
  /** @default "keyway" */
  roleSessionName?: string | undefined;
  /** The external id the role's trust policy asks for. @default undefined */
  externalId?: string | undefined;
  /** Session length, 900–43200 s. @default 3600 (STS's default) */
  durationSeconds?: number | undefined;
  /** Who assumes the role. @default { type: "default" } */
  source?: DefaultCredentials | StaticCredentials | undefined;
  /** STS region. @default the backend's `region` */
  stsRegion?: string | undefined;
  /** STS endpoint (VPC endpoint, emulator). @default the SDK's regional STS endpoint */
  stsEndpoint?: string | undefined;
}

/** How the backend authenticates. */
export type AwsCredentialsOption = DefaultCredentials | StaticCredentials | AssumeRoleCredentials;

/**
 * Read-only mode: the store is the source of truth, Keyway never writes (`put` and `delete` are
 * absent, `capabilities.write` is false).
 * - `names`: secrets named by Keyway's mapping under `prefix` (written by Terraform, say).
 * - `tags`: secrets of any name tagged `keyway:key`, `keyway:namespace` (and `keyway:tenant`),
 *   optionally also carrying every tag in `tags`. Each get lists by tag first (two calls).
 * - `prefix`: flat, like Kestra's `filterOnPrefix`: the secret `<namePrefix><KEY>` serves `KEY`
 *   in every namespace and tenant.
 */
export type AwsReadOnlyOption =
  | { match: "names" }
  | { match: "tags"; tags?: Readonly<Record<string, string>> | undefined }
  | { match: "prefix"; namePrefix: string };

/** Options of `createAwsBackend`. */
export interface AwsBackendOptions {
  /** The backend's name in errors and stats. @default "aws" */
  name?: string | undefined;
  /** AWS region. @default the SDK's (AWS_REGION, shared config) */
  region?: string | undefined;
  /** Endpoint URL (VPC endpoint, LocalStack, moto). @default the regional endpoint */
  endpoint?: string | undefined;
  /** How to authenticate. @default { type: "default" } (the SDK's provider chain) */
  credentials?: AwsCredentialsOption | undefined;
  /** First part of every secret name, so several deployments share an account. @default "keyway" */
  prefix?: string | undefined;
  /** Per-request timeout (connection and whole request), in ms. @default 10000 */
  requestTimeoutMs?: number | undefined;
  /** Read-only mode. @default undefined (managed: Keyway creates, updates and deletes secrets) */
  readOnly?: AwsReadOnlyOption | undefined;
  /** Tags added to every secret this backend writes (not `keyway:`, which are Keyway's). @default {} */
  tags?: Readonly<Record<string, string>> | undefined;
  /** Delete without a recovery window (`ForceDeleteWithoutRecovery`). @default false */
  forceDelete?: boolean | undefined;
  /** Recovery window of a delete, 7–30 days. @default 7 */
  recoveryWindowDays?: number | undefined;
  /**
   * A configured client to use instead of creating one; then `region`, `endpoint`, `credentials`
   * and `requestTimeoutMs` must be absent, and its own retry setting applies (set `maxAttempts: 1`:
   * Keyway retries). It is not destroyed by `close()`. @default undefined
   */
  client?: SecretsManagerClient | undefined;
}

/** Options after the check, with defaults applied. */
export interface ResolvedOptions {
  readonly name: string;
  readonly prefix: string;
  readonly requestTimeoutMs: number;
  readonly readOnly: AwsReadOnlyOption | undefined;
  readonly tags: Readonly<Record<string, string>>;
  readonly forceDelete: boolean;
  readonly recoveryWindowDays: number;
}

function fail(message: string): never {
  throw new ConfigurationError(`AWS backend: ${message}`);
}
const isString = (v: unknown, min = 1) => typeof v === "string" && v.length >= min;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function checkUrl(value: unknown, option: string): void {
  if (value === undefined) return;
  let ok = false;
  try {
    ok = typeof value === "string" && /^https?:$/.test(new URL(value).protocol);
  } catch {
    // ok stays false
  }
  if (!ok) fail(`'${option}' must be an http(s) URL.`);
}

function checkCredentials(c: unknown, path = "credentials"): void {
  if (c === undefined) return;
  if (!isObject(c)) fail(`'${path}' must be an object with a 'type'.`);
  if (c.type === "default") {
    if (c.profile !== undefined && !isString(c.profile))
      fail(`'${path}.profile' must be a non-empty string.`);
  } else if (c.type === "static") {
    if (!isString(c.accessKeyId) || !isString(c.secretAccessKey)) {
      fail(`'${path}' of type static needs non-empty 'accessKeyId' and 'secretAccessKey'.`);
    }
    if (c.sessionToken !== undefined && !isString(c.sessionToken))
      fail(`'${path}.sessionToken' must be a non-empty string.`);
  } else if (c.type === "assumeRole" && path === "credentials") {
    if (!isString(c.roleArn) || !String(c.roleArn).startsWith("arn:"))
      fail(`'${path}.roleArn' must be a role ARN.`);
    const d = c.durationSeconds;
    if (d !== undefined && !(Number.isInteger(d) && (d as number) >= 900 && (d as number) <= 43_200)) {
      fail(`'${path}.durationSeconds' must be an integer from 900 to 43200.`);
    }
    for (const k of ["roleSessionName", "externalId", "stsRegion"] as const) {
      if (c[k] !== undefined && !isString(c[k])) fail(`'${path}.${k}' must be a non-empty string.`);
    }
    checkUrl(c.stsEndpoint, `${path}.stsEndpoint`);
    checkCredentials(c.source, `${path}.source`);
  } else {
    fail(
      `'${path}.type' must be ${path === "credentials" ? '"default", "static" or "assumeRole"' : '"default" or "static"'}.`,
    );
  }
}

function checkTags(tags: unknown, option: string, allowKeyway: boolean): void {
  if (tags === undefined) return;
  if (!isObject(tags)) fail(`'${option}' must be an object of strings.`);
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== "string") fail(`'${option}' values must be strings.`);
    if (!allowKeyway && k.startsWith(TAG_PREFIX))
      fail(`'${option}' cannot set '${TAG_PREFIX}' tags: Keyway sets them.`);
  }
}

function checkReadOnly(r: unknown): void {
  if (r === undefined) return;
  if (!isObject(r)) fail(`'readOnly' must be { match: "names" | "tags" | "prefix" }.`);
  if (r.match === "tags") checkTags(r.tags, "readOnly.tags", true);
  else if (r.match === "prefix") {
    if (!isString(r.namePrefix) || !/^[A-Za-z0-9/_+=.@-]+$/.test(r.namePrefix as string)) {
      fail(`'readOnly.namePrefix' must be a non-empty string of A-Z a-z 0-9 / _ + = . @ -.`);
    }
  } else if (r.match !== "names") fail(`'readOnly.match' must be "names", "tags" or "prefix".`);
}

/** Checks option shapes and applies defaults. @throws ConfigurationError naming the option. */
export function resolveOptions(options: AwsBackendOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) fail("options must be an object.");
  const o: AwsBackendOptions = options;
  if (o.name !== undefined && !isString(o.name)) fail(`'name' must be a non-empty string.`);
  if (o.region !== undefined && !/^[a-z0-9-]{1,32}$/.test(String(o.region)))
    fail(`'region' must look like "eu-west-1".`);
  checkUrl(o.endpoint, "endpoint");
  checkCredentials(o.credentials);
  const prefix = o.prefix ?? "keyway";
  if (!isValidPrefix(prefix)) {
    fail(
      `'prefix' must be 1-${MAX_PREFIX_LENGTH} characters of A-Z a-z 0-9 _ + = . @ - in parts separated by single '/'.`,
    );
  }
  const timeout = o.requestTimeoutMs ?? 10_000;
  if (!Number.isInteger(timeout) || timeout <= 0) fail(`'requestTimeoutMs' must be a positive integer.`);
  checkReadOnly(o.readOnly);
  checkTags(o.tags, "tags", false);
  if (o.forceDelete !== undefined && typeof o.forceDelete !== "boolean")
    fail(`'forceDelete' must be a boolean.`);
  const window = o.recoveryWindowDays ?? 7;
  if (!Number.isInteger(window) || window < 7 || window > 30)
    fail(`'recoveryWindowDays' must be an integer from 7 to 30.`);
  if (o.client !== undefined) {
    if (!isObject(o.client) || typeof (o.client as { send?: unknown }).send !== "function") {
      fail(`'client' must be a SecretsManagerClient.`);
    }
    const clash = (["region", "endpoint", "credentials", "requestTimeoutMs"] as const).filter(
      (k) => o[k] !== undefined,
    );
    if (clash.length > 0)
      fail(
        `'client' is given, so ${clash.map((k) => `'${k}'`).join(", ")} would be ignored: configure the client instead.`,
      );
  }
  return {
    name: o.name ?? "aws",
    prefix,
    requestTimeoutMs: timeout,
    readOnly: o.readOnly,
    tags: { ...o.tags },
    forceDelete: o.forceDelete ?? false,
    recoveryWindowDays: window,
  };
}
