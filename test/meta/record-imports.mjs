// A module hook that records every module URL it resolves (for the import-cost test).
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  process.stderr.write(`[resolved] ${result.url}\n`);
  return result;
}
