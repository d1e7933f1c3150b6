/** Types of list-exports.mjs, for packages/core/test/exports.test.ts. */
export function coreEntries(): Record<string, string>;
export function listExports(entries?: Record<string, string>): Record<string, string[]>;
