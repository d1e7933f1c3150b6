/** Request paths split into decoded segments, refusing the tricks that would cross a namespace. */
import { HttpError } from "./errors.js";

const badPath = (why: string) => new HttpError(400, "BAD_PATH", `Bad request path: ${why}.`);

/**
 * The path of a request target as decoded segments. Splits on `/` before decoding, then refuses a
 * segment that decodes to a `/`, `\`, `.`, `..`, a control character or bad percent-encoding: an
 * encoded slash must not become a namespace separator, and a dot segment must not climb.
 */
export function pathSegments(pathname: string): string[] {
  if (!pathname.startsWith("/")) throw badPath("it must start with /");
  const raw = pathname.slice(1).split("/");
  if (raw.length > 1 && raw.at(-1) === "") raw.pop(); // one trailing slash is allowed
  return raw.map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw badPath("a segment is not valid percent-encoding");
    }
    if (decoded === "" || decoded === "." || decoded === "..") throw badPath("an empty or dot segment");
    if (/[/\\]/.test(decoded)) throw badPath("an encoded slash or backslash in a segment");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (/[\u0000-\u001f\u007f]/.test(decoded)) throw badPath("a control character in a segment");
    return decoded;
  });
}
