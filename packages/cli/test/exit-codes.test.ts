// Exit codes are the CLI's: core's errors carry a code, the CLI maps it (issue 19 point 1).
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConflictError,
  InvalidReferenceError,
  MultipleSecretsError,
  ReadOnlyError,
  SecretNotFoundError,
  SubkeyNotFoundError,
  TemplateError,
} from "@keyway/core";
import { describe, expect, it } from "vitest";
import { EXIT, exitCodeFor } from "../src/index.js";
import { exitCodeOf } from "../src/io.js";

describe("exit codes", () => {
  it("map each error code: 2 not found, 3 invalid, 4 denied, 5 unavailable", () => {
    expect(exitCodeFor(new SecretNotFoundError("K").code)).toBe(EXIT.notFound);
    expect(exitCodeFor(new SubkeyNotFoundError("K", "s").code)).toBe(EXIT.notFound);
    expect(exitCodeFor(new InvalidReferenceError("x").code)).toBe(EXIT.invalid);
    expect(exitCodeFor(new TemplateError("x").code)).toBe(EXIT.invalid);
    expect(exitCodeFor(new AccessDeniedError("x").code)).toBe(EXIT.denied);
    expect(exitCodeFor(new ReadOnlyError("x").code)).toBe(EXIT.denied);
    expect(exitCodeFor(new ConflictError("x").code)).toBe(EXIT.denied);
    expect(exitCodeFor(new BackendUnavailableError("x").code)).toBe(EXIT.unavailable);
  });

  it("of several failures is the highest, and of a MultipleSecretsError its worst part's", () => {
    const parts = [
      new SecretNotFoundError("A"),
      new BackendUnavailableError("b"),
      new AccessDeniedError("c"),
    ];
    expect(exitCodeOf(parts)).toBe(EXIT.unavailable);
    expect(exitCodeOf([])).toBe(EXIT.ok);
    expect(exitCodeFor(new MultipleSecretsError(parts).code)).toBe(EXIT.unavailable);
  });
});
