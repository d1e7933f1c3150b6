/**
 * Rendering `{{ secret(...) }}` templates: every reference is resolved at once (so a backend with
 * batch reads gets one request), every failure is reported together, and the output is either
 * the final text or text for the executor's own engine with values as escaped literals.
 */

import { engineLiteral } from "./engine-literal.js";
import {
  InvalidSecretValueError,
  isSecretsError,
  MultipleSecretsError,
  SecretNotFoundError,
  type SecretsError,
  TemplateError,
} from "./errors.js";
import type { Redactor } from "./redact/types.js";
import { assertNamespace, assertTenant, refId, type SecretRef, validateRef } from "./ref.js";
import { readSubkey } from "./subkey.js";
import { type SecretCall, scanTemplate, type Tag } from "./template.js";
import type { SecretValue } from "./value.js";

export interface RenderOptions {
  /** The namespace of the flow being rendered. */
  namespace: string;
  tenant?: string | undefined;
  /**
   * `final` (default): an expression that is exactly `secret(...)` or `envs.name` becomes the
   * value; all else is left byte for byte. `pebble` / `jinja`: every literal `secret(...)` call
   * inside a tag becomes a string literal for that engine, which renders the rest afterwards.
   */
  mode?: "final" | "pebble" | "jinja" | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Mode `final` only: write a value holding `{{`, `{%` or `{#` as it is. Off by default, since an
   * engine that renders the output afterwards (Kestra renders every property holding `{`) would
   * evaluate it: a secret holding `{{ secret('OTHER') }}` would read another secret. Turn it on
   * only when no template engine reads the output; modes pebble and jinja need no such switch.
   * @default false
   */
  allowTemplateSyntax?: boolean | undefined;
  /** Carried into audit events. */
  executionId?: string | undefined;
}

/** A `secret()` call as `references()` reports it. */
export interface TemplateReference {
  readonly key?: string | undefined;
  /** The namespace argument, if the call names one. */
  readonly namespace?: string | undefined;
  readonly subkey?: string | undefined;
  readonly errorOnMissing: boolean;
  readonly full: boolean;
  /** True when an argument is not a literal; such calls are left for the engine. */
  readonly dynamic: boolean;
  /**
   * True when mode `final` replaces this call: the tag's whole expression is exactly this call.
   * False for a call inside a larger expression (`{{ secret('X') | upper }}`) or a `{% %}`
   * statement, which `final` leaves for the executor's engine.
   */
  readonly replacedInFinal: boolean;
  readonly line: number;
  readonly column: number;
  readonly source: string;
}

export interface RenderDependencies {
  resolve(ref: SecretRef, caller: string, signal?: AbortSignal, executionId?: string): Promise<SecretValue>;
  redactor: Redactor;
  envs: Readonly<Record<string, string>>;
}

/** Lists the `secret()` calls of a template, statically. */
export function templateReferences(text: string): TemplateReference[] {
  return scanTemplate(text).flatMap((tag) =>
    tag.calls.map((call) => ({
      key: call.key,
      namespace: call.namespace,
      subkey: call.subkey,
      errorOnMissing: call.errorOnMissing,
      full: call.full,
      dynamic: call.kind === "dynamic",
      replacedInFinal: tag.sole === call,
      line: call.line,
      column: call.column,
      source: call.source,
    })),
  );
}

export async function renderTemplate(
  text: string,
  options: RenderOptions,
  deps: RenderDependencies,
): Promise<string> {
  const [out] = await renderTemplates([text], options, deps);
  return out as string;
}

/**
 * Renders many templates as one: every reference of every text is resolved at once (each distinct
 * secret once), and every failure of all of them is reported in one error. What a structured
 * document's string properties are rendered with.
 */
export async function renderTemplates(
  texts: readonly string[],
  options: RenderOptions,
  deps: RenderDependencies,
): Promise<string[]> {
  const mode = options.mode ?? "final";
  if (!["final", "pebble", "jinja"].includes(mode)) throw new TemplateError(`Unknown render mode '${mode}'.`);
  // The flow's namespace and tenant are part of every reference (and the caller of each): checked
  // here, once, whether or not the text has a secret() call (trust issue #18 point 2).
  assertNamespace(options.namespace);
  assertTenant(options.tenant);
  const scanned = texts.map((text) => scanTemplate(text));
  const calls = scanned.flatMap((tags) =>
    mode === "final" ? tags.flatMap((t) => (t.sole ? [t.sole] : [])) : staticCalls(tags),
  );

  const values = await resolveAll(calls, options, deps);
  const errors: SecretsError[] = [];
  const seenErrors = new Set<string>();
  const fail = (error: SecretsError, id: string) => {
    if (!seenErrors.has(id)) errors.push(error);
    seenErrors.add(id);
  };
  const replacement = (call: SecretCall): string => {
    const id = targetId(call, options);
    const result = values.get(id);
    if (result === undefined || isSecretsError(result)) {
      const error = result ?? new SecretNotFoundError(call.key ?? "");
      if (error instanceof SecretNotFoundError && !call.errorOnMissing) return mode === "final" ? "" : "''";
      fail(error, id);
      return "";
    }
    try {
      const text = format(call, result, mode, deps.redactor);
      if (mode === "final" && !options.allowTemplateSyntax && TEMPLATE_SYNTAX.test(text))
        throw templateSyntaxError(
          `secret '${call.key}'${call.subkey === undefined ? "" : ` (sub-key '${call.subkey}')`}`,
        );
      return text;
    } catch (error) {
      fail(error as SecretsError, `${id}#${call.subkey}`);
      return "";
    }
  };

  const rendered = texts.map((text, index) => {
    let out = "";
    let last = 0;
    for (const tag of scanned[index] as Tag[]) {
      if (mode === "final") {
        if (tag.sole) out += text.slice(last, tag.start) + replacement(tag.sole);
        else if (tag.envs !== undefined)
          out +=
            text.slice(last, tag.start) + envValue(tag.envs, deps.envs, fail, options.allowTemplateSyntax);
        else continue;
        last = tag.end;
      } else {
        for (const call of tag.calls) {
          if (call.kind !== "static") continue;
          out += text.slice(last, call.start) + replacement(call);
          last = call.end;
        }
      }
    }
    return out + text.slice(last);
  });
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw deps.redactor.redactError(new MultipleSecretsError(errors));
  return rendered;
}

/** What an engine reading the output would evaluate (Pebble and Jinja alike). */
const TEMPLATE_SYNTAX = /\{[{%#]/;

function templateSyntaxError(what: string): TemplateError {
  return new TemplateError(
    `The value of ${what} holds template syntax ({{, {% or {#) that the executor's engine would evaluate after mode final wrote it: render with mode pebble or jinja, which write it as a string literal, or allow it (allowTemplateSyntax, keyway render --allow-template-values) only when no template engine reads the output.`,
  );
}

function staticCalls(tags: readonly Tag[]): SecretCall[] {
  return tags.flatMap((tag) => tag.calls.filter((c) => c.kind === "static"));
}

/** The secret a call reads; the tenant is the render's. Injective, as refId is (the fields may be invalid). */
function targetId(call: SecretCall, options: RenderOptions): string {
  return refId({ namespace: call.namespace ?? options.namespace, key: call.key ?? "" });
}

/** Resolves each distinct target once, all at the same time. */
async function resolveAll(
  calls: readonly SecretCall[],
  options: RenderOptions,
  deps: RenderDependencies,
): Promise<Map<string, SecretValue | SecretsError>> {
  const targets = new Map<string, SecretCall>();
  for (const call of calls) targets.set(targetId(call, options), call);
  const entries = [...targets].map(async ([id, call]): Promise<[string, SecretValue | SecretsError]> => {
    try {
      const ref = validateRef({
        tenant: options.tenant,
        namespace: call.namespace ?? options.namespace,
        key: call.key,
      });
      return [id, await deps.resolve(ref, options.namespace, options.signal, options.executionId)];
    } catch (error) {
      if (isSecretsError(error)) return [id, error];
      throw error;
    }
  });
  return new Map(await Promise.all(entries));
}

function format(
  call: SecretCall,
  value: SecretValue,
  mode: "final" | "pebble" | "jinja",
  redactor: Redactor,
): string {
  const text =
    call.subkey === undefined
      ? wholeText(call, value)
      : readSubkey(value, call.key ?? "", call.subkey, redactor);
  if (call.full) {
    const metadata = {
      ...(value.metadata.description === undefined ? {} : { description: value.metadata.description }),
      ...(value.metadata.tags === undefined ? {} : { tags: value.metadata.tags }),
      ...(value.metadata.version === undefined ? {} : { version: value.metadata.version }),
      ...(value.metadata.updatedAt === undefined
        ? {}
        : { updatedAt: value.metadata.updatedAt.toISOString() }),
    };
    const full = { value: text, metadata };
    // Parenthesized: Pebble reads no `.value` or `[…]` straight after a map literal (trust issue #18 point 11).
    return mode === "final" ? JSON.stringify(full) : `(${mapLiteral(full, mode)})`;
  }
  return mode === "final" ? text : engineLiteral(text, mode);
}

/** A value's text, to put in a template. */
function wholeText(call: SecretCall, value: SecretValue): string {
  try {
    return value.reveal();
  } catch {
    // Bytes that are not UTF-8 (reveal() throws a TypeError): there is no text to put in a template.
    throw new InvalidSecretValueError(
      `Secret '${call.key}' is binary (not UTF-8 text), so it cannot be rendered into a template.`,
    );
  }
}

/** A Pebble / Jinja map literal, e.g. `{'value': '…', 'metadata': {}}`. */
function mapLiteral(value: unknown, mode: "pebble" | "jinja"): string {
  if (typeof value === "string") return engineLiteral(value, mode);
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${engineLiteral(k, mode)}: ${mapLiteral(v, mode)}`,
  );
  // Spaced braces: `}}` inside a tag would close it for the engine's lexer.
  return `{ ${entries.join(", ")} }`;
}

function envValue(
  name: string,
  envs: Readonly<Record<string, string>>,
  fail: (e: SecretsError, id: string) => void,
  allowTemplateSyntax: boolean | undefined,
): string {
  // Own names only: `envs.constructor` must not print Object's constructor (trust issue #18 point 2).
  const value = Object.hasOwn(envs, name) ? envs[name] : undefined;
  if (typeof value === "string" && !allowTemplateSyntax && TEMPLATE_SYNTAX.test(value)) {
    fail(templateSyntaxError(`envs.${name}`), `envs.${name}`);
    return "";
  }
  if (typeof value === "string") return value;
  fail(
    new TemplateError(`envs.${name} is not set: define the environment variable ENV_${name.toUpperCase()}.`),
    `envs.${name}`,
  );
  return "";
}
