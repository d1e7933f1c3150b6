/**
 * Where a YAML syntax error really is. The parser notices an unclosed `{` or `[` only on the next
 * line it cannot fit into it, so a missing `}` on line 12 reads as a bad indent on line 13. This
 * finds the bracket that was never closed, for the message to point at the line that opened it.
 */

/** The offset of the innermost `{` or `[` still open at `end`, outside quotes and comments. */
export function unclosedFlowBracket(
  text: string,
  end: number,
): { offset: number; char: "{" | "[" } | undefined {
  const open: Array<{ offset: number; char: "{" | "[" }> = [];
  for (let i = 0; i < end && i < text.length; i++) {
    const c = text[i];
    if (c === "#" && (i === 0 || /\s/.test(text[i - 1] as string))) {
      while (i < end && text[i] !== "\n") i++; // a comment runs to the end of its line
    } else if (c === '"') {
      for (i++; i < end && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "'" && open.length > 0) {
      // Outside a flow collection an apostrophe is usually inside a plain scalar (it's): skip it.
      for (i++; i < end && !(text[i] === "'" && text[i + 1] !== "'"); i++) if (text[i] === "'") i++;
    } else if (c === "{" || c === "[") {
      open.push({ offset: i, char: c });
    } else if (c === "}" || c === "]") {
      open.pop();
    }
  }
  return open.at(-1);
}
