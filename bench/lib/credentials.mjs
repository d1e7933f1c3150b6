// Realistic secrets, seeded: the mix a redactor holds in production. Passwords are most of the
// count, but PEM keys and JSON credentials (a service-account JSON carries a PEM key) are most of
// the bytes, and each of their lines is masked on its own.
import { int, pick, text } from "./seed.mjs";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const PASSWORD_CHARS = `${ALNUM}-_.~+/=!@#%^&*<>`;
const HEX = "0123456789abcdef";

/** `length` seeded bytes. */
function bytes(random, length) {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

const base64url = (data) => Buffer.from(data).toString("base64url");

/** A generated password, as a password manager makes them: 16–32 characters with punctuation. */
export function password(random) {
  return text(random, int(random, 16, 32), PASSWORD_CHARS);
}

/** An RS256 JWT: a JSON header and payload, and a 256-byte signature (about 600 characters). */
export function jwt(random) {
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: text(random, 40, HEX) }));
  const now = 1_760_000_000 + int(random, 0, 1e7);
  const payload = base64url(
    JSON.stringify({
      iss: "https://auth.example.com/",
      sub: `auth0|${text(random, 24, HEX)}`,
      aud: ["https://api.example.com", "https://example.eu.auth0.com/userinfo"],
      iat: now,
      exp: now + 86_400,
      scope: "openid profile email read:orders",
    }),
  );
  return `${header}.${payload}.${base64url(bytes(random, 256))}`;
}

/** A PKCS#8 RSA-2048 private key in PEM: 64-column base64 lines between the armor lines. */
export function pem(random) {
  const body = bytes(random, 1216 + int(random, 0, 8)).toString("base64");
  const lines = body.match(/.{1,64}/g).join("\n");
  return `-----BEGIN PRIVATE KEY-----\n${lines}\n-----END PRIVATE KEY-----\n`;
}

/** A Google service-account key file as downloaded: pretty-printed JSON holding a PEM key. */
export function serviceAccount(random) {
  const project = `proj-${text(random, 8, "abcdefghijklmnopqrstuvwxyz0123456789")}`;
  const account = `svc-${text(random, 6, "abcdefghijklmnopqrstuvwxyz")}`;
  const email = `${account}@${project}.iam.gserviceaccount.com`;
  return JSON.stringify(
    {
      type: "service_account",
      project_id: project,
      private_key_id: text(random, 40, HEX),
      private_key: pem(random),
      client_email: email,
      client_id: text(random, 21, "0123456789"),
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: "https://oauth2.googleapis.com/token",
      auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
      universe_domain: "googleapis.com",
    },
    null,
    2,
  );
}

/** A database credential as AWS Secrets Manager stores it. */
export function databaseJson(random) {
  return JSON.stringify({
    username: `app_${text(random, 6, "abcdefghijklmnopqrstuvwxyz")}`,
    password: password(random),
    engine: "postgres",
    host: `db-${int(random, 1, 9)}.cluster-${text(random, 12, "abcdefghijklmnopqrstuvwxyz0123456789")}.eu-west-1.rds.amazonaws.com`,
    port: 5432,
    dbname: pick(random, ["orders", "billing", "users", "events"]),
  });
}

/** The kinds and their share of the count. */
export const MIX = [
  [password, 0.5],
  [jwt, 0.2],
  [pem, 0.1],
  [serviceAccount, 0.1],
  [databaseJson, 0.1],
];

/** `count` secrets of the mix, in seeded random order. */
export function credentialMix(random, count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    let r = random();
    let kind = MIX[0][0];
    for (const [make, share] of MIX) {
      kind = make;
      r -= share;
      if (r < 0) break;
    }
    out.push(kind(random));
  }
  return out;
}
