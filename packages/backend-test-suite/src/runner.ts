/**
 * The parts of a test runner the suite calls: what Vitest's module and Jest's globals both have.
 * Typed here, so the package depends on no runner.
 */

/** The matchers the suite uses, in their Jest-compatible form. */
export interface Matchers<R> {
  toBe(expected: unknown): R;
  toEqual(expected: unknown): R;
  toStrictEqual(expected: unknown): R;
  toBeInstanceOf(expected: unknown): R;
  toBeDefined(): R;
  toBeUndefined(): R;
  toBeNull(): R;
  toBeTruthy(): R;
  toBeFalsy(): R;
  toContain(item: unknown): R;
  toMatch(expected: string | RegExp): R;
  toMatchObject(expected: object): R;
  toHaveLength(length: number): R;
  toHaveProperty(property: string, value?: unknown): R;
  toThrow(expected?: unknown): R;
  toBeGreaterThan(expected: number | bigint): R;
  toBeGreaterThanOrEqual(expected: number | bigint): R;
  toBeLessThan(expected: number | bigint): R;
  toBeLessThanOrEqual(expected: number | bigint): R;
}

/** `expect(actual)`. */
export interface Assertion extends Matchers<void> {
  readonly not: Assertion;
  readonly resolves: AsyncAssertion;
  readonly rejects: AsyncAssertion;
}

/** `expect(promise).rejects` / `.resolves`. */
export interface AsyncAssertion extends Matchers<Promise<void>> {
  readonly not: AsyncAssertion;
}

export type Expect = (actual: unknown, message?: string) => Assertion;

/** A test or hook body. */
export type TestBody = () => unknown;

/**
 * Vitest: `import * as vitest from "vitest"`. Jest: its globals,
 * `{ describe, it, expect, beforeAll, afterAll, beforeEach, afterEach }`.
 */
export interface TestRunner {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: TestBody, timeout?: number): unknown;
  expect: Expect;
  beforeAll(fn: TestBody, timeout?: number): unknown;
  afterAll(fn: TestBody, timeout?: number): unknown;
  beforeEach(fn: TestBody, timeout?: number): unknown;
  afterEach(fn: TestBody, timeout?: number): unknown;
}
