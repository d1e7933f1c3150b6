// PostgreSQL 15 from Debian's `postgresql` package (scripts/emulators/install.sh postgres) as a
// throwaway cluster: initdb into a fresh temp dir, `postgres` on a free 127.0.0.1 port, trust
// auth for one superuser `keyway`, stopped by its pid (SIGINT: fast shutdown) and the dir removed.
// PostgreSQL refuses to run as root: as root, the cluster is owned and run by `nobody`.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** The directory of the newest installed PostgreSQL's programs (Debian: /usr/lib/postgresql/N/bin). */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (process.env.KEYWAY_POSTGRES_BIN) return process.env.KEYWAY_POSTGRES_BIN;
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(root, versions[0], "bin");
}

/** The `postgres` program, or a path that does not exist when PostgreSQL is not installed. */
export function postgresBinary(): string {
  return path.join(postgresBinDir() ?? "/nonexistent", "postgres");
}

/** Who runs the cluster: ourselves, or `nobody` when we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "nobody"], { encoding: "utf8" }).trim());
  return { uid, gid };
}

export interface PostgresCluster {
  readonly dataDir: string;
  readonly socketDir: string;
  readonly command: string;
  readonly args: string[];
  readonly user: { uid: number; gid: number } | undefined;
  /** postgres://keyway@127.0.0.1:PORT/postgres */
  readonly url: string;
  ready(): Promise<boolean>;
  cleanup(): void;
}

/** initdb a fresh cluster for `port`; the caller spawns `command args` as `user`. */
export function prepareCluster(port: number): PostgresCluster {
  const bin = postgresBinDir();
  if (!bin) throw new Error("postgres is not installed: run scripts/emulators/install.sh postgres");
  const base = mkdtempSync(path.join(tmpdir(), "keyway-pg-"));
  const dataDir = path.join(base, "data");
  const socketDir = base;
  const user = runAs();
  if (user) chownSync(base, user.uid, user.gid);
  execFileSync(
    path.join(bin, "initdb"),
    ["-D", dataDir, "-U", "keyway", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
    { stdio: ["ignore", "ignore", "pipe"], ...(user ?? {}), cwd: base },
  );
  return {
    dataDir,
    socketDir,
    command: path.join(bin, "postgres"),
    args: [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${socketDir}`,
      "-c",
      "fsync=off",
      "-c",
      "max_connections=200",
    ],
    user,
    url: `postgres://keyway@127.0.0.1:${port}/postgres`,
    ready: async () => {
      try {
        execFileSync(path.join(bin, "pg_isready"), ["-q", "-h", "127.0.0.1", "-p", String(port)], {
          stdio: "ignore",
        });
        return true;
      } catch {
        return false;
      }
    },
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}
