/**
 * The embedded engine: one SQLite file in a folder (`<path>/store.db`, WAL mode) through
 * `better-sqlite3`. Several processes may share it: writes take SQLite's write lock
 * (`BEGIN IMMEDIATE`, waiting up to the busy timeout), readers see the last commit. Change events
 * cross processes through a change log table and a notify file: each writer, after its commit,
 * writes one byte to `<path>/store.notify`; subscribers watch that file (inotify / FSEvents via
 * `fs.watch`) and read the log from where they were.
 */
import { existsSync, type FSWatcher, mkdirSync, watch, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import {
  BackendUnavailableError,
  ConfigurationError,
  ConflictError,
  isSecretsError,
  type SecretsError,
} from "@keyway/core/backend";
import type BetterSqlite3 from "better-sqlite3";
import {
  type Engine,
  type EngineChange,
  matchesIfVersion,
  type RemoveOperation,
  type SecretRow,
  type VersionRow,
  type WriteRequest,
} from "./engine.js";
import { CHANGES_KEPT, SCHEMA_VERSION, schemaStatements } from "./schema.js";

type Database = BetterSqlite3.Database;
type Row = Record<string, unknown>;

export interface SqliteEngineOptions {
  /** The store's folder. */
  readonly path: string;
  readonly backend: string;
  /** How long a write waits for another process's write lock. */
  readonly timeoutMs: number;
}

/** The database file and notify file inside a store folder. */
export function storeFiles(folder: string): { database: string; notify: string } {
  return { database: path.join(folder, "store.db"), notify: path.join(folder, "store.notify") };
}

const require = createRequire(import.meta.url);

function openDatabase(file: string, timeoutMs: number, mustExist: boolean): Database {
  const Sqlite = require("better-sqlite3") as typeof BetterSqlite3;
  const db = new Sqlite(file, { fileMustExist: mustExist, timeout: timeoutMs });
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  // WAL with synchronous=FULL: a commit is on disk when it returns (a killed writer loses nothing committed).
  db.pragma("synchronous = FULL");
  return db;
}

/** SQLite's errors as Keyway's: a busy or broken file is unavailable, never not-found. */
export function sqliteError(error: unknown, backend: string): SecretsError {
  if (isSecretsError(error)) return error;
  const code = String((error as { code?: unknown } | null)?.code ?? "");
  if (code === "SQLITE_CANTOPEN")
    return new ConfigurationError(
      "The store's folder holds no store: create one with `keyway store init --path …`.",
      {
        backend,
        cause: error,
      },
    );
  if (code === "SQLITE_ERROR" && /no such table/.test(String((error as Error).message)))
    return new ConfigurationError(
      "The store's database holds no Keyway store: run `keyway store init --path …`.",
      {
        backend,
        cause: error,
      },
    );
  return new BackendUnavailableError(`The embedded store could not answer (${code || "error"}).`, {
    backend,
    cause: error,
  });
}

const secretRow = (r: Row): SecretRow => ({
  currentVersion: Number(r.current_version),
  description: (r.description as string | null) ?? undefined,
  tags: r.tags ? (JSON.parse(r.tags as string) as Record<string, string>) : undefined,
  updatedAt: Number(r.updated_at),
});

const versionRow = (r: Row): VersionRow => ({
  version: Number(r.version),
  kekId: r.kek_id as string,
  wrappedKey: r.wrapped_key as Buffer,
  ciphertext: r.ciphertext as Buffer,
  binary: r.is_binary === 1,
  createdAt: Number(r.created_at),
});

export function createSqliteEngine(options: SqliteEngineOptions): Engine {
  const { backend } = options;
  const files = storeFiles(options.path);
  let opened: Database | undefined;
  const db = (): Database => {
    if (opened) return opened;
    if (!existsSync(files.database))
      throw new ConfigurationError(
        `No store in '${options.path}': create one with \`keyway store init --path ${options.path}\`.`,
        { backend },
      );
    opened = openDatabase(files.database, options.timeoutMs, true);
    return opened;
  };
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db().prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const run = <T>(body: () => T): T => {
    try {
      return body();
    } catch (error) {
      throw sqliteError(error, backend);
    }
  };
  const notify = () => {
    try {
      writeFileSync(files.notify, "1");
    } catch {
      // Subscribers miss this one event; the change is committed either way.
    }
  };
  const logChange = (
    name: { tenant: string; namespace: string; key: string },
    version: number | null,
    deleted: boolean,
  ) => {
    const seq = prepared(
      `INSERT INTO keyway_changes (tenant, namespace, key, version, deleted) VALUES (?, ?, ?, ?, ?)`,
    ).run(name.tenant, name.namespace, name.key, version, deleted ? 1 : 0).lastInsertRowid;
    prepared(`DELETE FROM keyway_changes WHERE seq <= ?`).run(Number(seq) - CHANGES_KEPT);
  };
  const currentSql = `SELECT current_version, deleted_at FROM keyway_secrets WHERE tenant = ? AND namespace = ? AND key = ?`;
  const live = (tenant: string, namespace: string, key: string): number | undefined => {
    const r = prepared(currentSql).get(tenant, namespace, key) as Row | undefined;
    return r && r.deleted_at === null ? Number(r.current_version) : undefined;
  };

  return {
    kind: "sqlite",

    async meta() {
      return run(() => {
        const rows = prepared("SELECT name, value FROM keyway_meta").all() as Row[];
        return Object.fromEntries(rows.map((r) => [r.name as string, r.value as string]));
      });
    },

    async read(name, version) {
      return run(() => {
        const r = prepared(
          `SELECT s.current_version, s.description, s.tags, s.updated_at, v.version, v.kek_id, v.wrapped_key,
                  v.ciphertext, v.is_binary, v.created_at
           FROM keyway_secrets s JOIN keyway_versions v USING (tenant, namespace, key)
           WHERE s.tenant = ? AND s.namespace = ? AND s.key = ? AND s.deleted_at IS NULL
             AND v.version = COALESCE(?, s.current_version)`,
        ).get(name.tenant, name.namespace, name.key, version ?? null) as Row | undefined;
        return r ? { secret: secretRow(r), row: versionRow(r) } : undefined;
      });
    },

    async current(name) {
      return run(() => live(name.tenant, name.namespace, name.key));
    },

    async list(tenant, namespace, prefix) {
      return run(() =>
        (
          prepared(
            `SELECT key, current_version, description, tags, updated_at FROM keyway_secrets
             WHERE tenant = ? AND namespace = ? AND deleted_at IS NULL AND substr(key, 1, length(?)) = ?
             ORDER BY key`,
          ).all(tenant, namespace, prefix, prefix) as Row[]
        ).map((r) => ({ key: r.key as string, secret: secretRow(r) })),
      );
    },

    async write(request: WriteRequest) {
      const { tenant, namespace, key } = request.name;
      const version = run(() =>
        db()
          .transaction(() => {
            const current = live(tenant, namespace, key);
            if (request.ifVersion !== undefined && !matchesIfVersion(request.ifVersion, current))
              throw new ConflictError(
                `Secret '${key}' is not at the version the write expected; nothing was written.`,
                { backend },
              );
            const next = Number(
              (
                prepared(
                  `UPDATE keyway_counter SET value = value + 1 WHERE id = 1 RETURNING value`,
                ).get() as Row
              ).value,
            );
            const sealed = request.seal(next);
            const now = Date.now();
            prepared(
              `INSERT INTO keyway_secrets (tenant, namespace, key, current_version, description, tags, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (tenant, namespace, key) DO UPDATE SET current_version = excluded.current_version,
                 description = COALESCE(excluded.description, description), tags = COALESCE(excluded.tags, tags),
                 updated_at = excluded.updated_at, deleted_at = NULL`,
            ).run(
              tenant,
              namespace,
              key,
              next,
              request.description ?? null,
              request.tags ? JSON.stringify(request.tags) : null,
              now,
            );
            prepared(
              `INSERT INTO keyway_versions (tenant, namespace, key, version, kek_id, wrapped_key, ciphertext, is_binary, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            ).run(
              tenant,
              namespace,
              key,
              next,
              sealed.kekId,
              sealed.wrappedKey,
              sealed.ciphertext,
              sealed.binary ? 1 : 0,
              now,
            );
            prepared(
              `DELETE FROM keyway_versions WHERE tenant = ? AND namespace = ? AND key = ? AND version NOT IN
                 (SELECT version FROM keyway_versions WHERE tenant = ? AND namespace = ? AND key = ? ORDER BY version DESC LIMIT ?)`,
            ).run(tenant, namespace, key, tenant, namespace, key, request.keep);
            logChange(request.name, next, false);
            return next;
          })
          .immediate(),
      );
      notify();
      return version;
    },

    async remove(name, operation: RemoveOperation, ifVersion) {
      const { tenant, namespace, key } = name;
      const outcome = run(() =>
        db()
          .transaction(() => {
            const r = prepared(currentSql).get(tenant, namespace, key) as Row | undefined;
            const isLive = r !== undefined && r.deleted_at === null;
            if (operation === "delete") {
              if (!isLive) return "missing" as const;
              if (ifVersion !== undefined && ifVersion !== String(r.current_version))
                return "conflict" as const;
              prepared(
                `UPDATE keyway_secrets SET deleted_at = ? WHERE tenant = ? AND namespace = ? AND key = ?`,
              ).run(Date.now(), tenant, namespace, key);
              logChange(name, null, true);
            } else if (operation === "restore") {
              if (r === undefined || isLive) return "missing" as const;
              prepared(
                `UPDATE keyway_secrets SET deleted_at = NULL, updated_at = ? WHERE tenant = ? AND namespace = ? AND key = ?`,
              ).run(Date.now(), tenant, namespace, key);
              logChange(name, Number(r.current_version), false);
            } else {
              if (r === undefined) return "missing" as const;
              prepared(`DELETE FROM keyway_secrets WHERE tenant = ? AND namespace = ? AND key = ?`).run(
                tenant,
                namespace,
                key,
              );
              logChange(name, null, true);
            }
            return "done" as const;
          })
          .immediate(),
      );
      if (outcome === "done") notify();
      return outcome;
    },

    async unwrapped(kekId, limit) {
      return run(() =>
        (
          prepared(
            `SELECT tenant, namespace, key, version, kek_id, wrapped_key FROM keyway_versions
             WHERE kek_id <> ? ORDER BY tenant, namespace, key, version LIMIT ?`,
          ).all(kekId, limit) as Row[]
        ).map((r) => ({
          tenant: r.tenant as string,
          namespace: r.namespace as string,
          key: r.key as string,
          version: Number(r.version),
          kekId: r.kek_id as string,
          wrappedKey: r.wrapped_key as Buffer,
        })),
      );
    },

    async rewrapped(rows) {
      run(() =>
        db()
          .transaction(() => {
            const update = prepared(
              `UPDATE keyway_versions SET kek_id = ?, wrapped_key = ?
               WHERE tenant = ? AND namespace = ? AND key = ? AND version = ? AND kek_id = ?`,
            );
            for (const r of rows)
              update.run(r.newKekId, r.newWrappedKey, r.tenant, r.namespace, r.key, r.version, r.kekId);
          })
          .immediate(),
      );
    },

    async setMeta(name, value) {
      run(() =>
        prepared(
          `INSERT INTO keyway_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
        ).run(name, value),
      );
    },

    async subscribe(change, lost) {
      const since = prepared(
        `SELECT seq, tenant, namespace, key, version, deleted FROM keyway_changes WHERE seq > ? ORDER BY seq`,
      );
      let last = run(() =>
        Number((prepared(`SELECT COALESCE(MAX(seq), 0) AS m FROM keyway_changes`).get() as Row).m),
      );
      let closed = false;
      let watcher: FSWatcher;
      const fail = (error: unknown) => {
        if (closed) return;
        closed = true;
        watcher?.close();
        lost(sqliteError(error, backend));
      };
      const drain = () => {
        if (closed) return;
        try {
          for (const r of since.all(last) as Row[]) {
            last = Number(r.seq);
            change({
              tenant: r.tenant as string,
              namespace: r.namespace as string,
              key: r.key as string,
              version: r.version === null ? undefined : Number(r.version),
              deleted: r.deleted === 1,
            } satisfies EngineChange);
          }
        } catch (error) {
          fail(error);
        }
      };
      try {
        if (!existsSync(files.notify)) writeFileSync(files.notify, "1");
        watcher = watch(files.notify, { persistent: false }, drain);
      } catch (error) {
        throw sqliteError(error, backend);
      }
      watcher.on("error", fail);
      // A change committed between reading `last` and the watch starting is read now.
      drain();
      return async () => {
        closed = true;
        watcher.close();
      };
    },

    async close() {
      statements.clear();
      opened?.close();
      opened = undefined;
    },
  };
}

/** Creates the folder and an empty store in it; ConfigurationError if a store is there already. */
export function initializeSqlite(options: SqliteEngineOptions, meta: Readonly<Record<string, string>>): void {
  const files = storeFiles(options.path);
  if (existsSync(files.database))
    throw new ConfigurationError(
      `'${options.path}' already holds a Keyway store; init never replaces a store or its key.`,
      { backend: options.backend },
    );
  mkdirSync(options.path, { recursive: true, mode: 0o700 });
  const db = openDatabase(files.database, options.timeoutMs, false);
  try {
    db.transaction(() => {
      for (const statement of schemaStatements("sqlite")) db.exec(statement);
      const insert = db.prepare("INSERT INTO keyway_meta (name, value) VALUES (?, ?)");
      for (const [name, value] of Object.entries({ ...meta, schema: SCHEMA_VERSION }))
        insert.run(name, value);
    }).immediate();
  } finally {
    db.close();
  }
  writeFileSync(files.notify, "1", { mode: 0o600 });
}
