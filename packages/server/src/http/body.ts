/** Request bodies: bounded, and JSON parsed into a typed 4xx when it is not JSON. */
import type { IncomingMessage } from "node:http";
import { HttpError } from "./errors.js";

/** Reads the body, refusing it (413) as soon as it passes `limit` bytes; nothing is kept. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, "BODY_TOO_LARGE", `The request body is larger than ${limit} bytes.`, {
    Connection: "close",
  });
}

/** The body as JSON; 415 without a JSON content type, 400 when it does not parse. */
export async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  const type = request.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type))
    throw new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.");
  const body = await readBody(request, limit);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new HttpError(400, "BAD_JSON", "The request body is not valid UTF-8 JSON.");
  }
}

/** The body as an HTML form (`application/x-www-form-urlencoded`). */
export async function readForm(request: IncomingMessage, limit: number): Promise<URLSearchParams> {
  const type = request.headers["content-type"] ?? "";
  if (!/^application\/x-www-form-urlencoded\b/i.test(type))
    throw new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the form as application/x-www-form-urlencoded.");
  const body = await readBody(request, limit);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    throw new HttpError(400, "BAD_FORM", "The form is not valid UTF-8.");
  }
  return new URLSearchParams(text);
}
