/**
 * The one schema both engines use, written for each dialect from one description: only the byte
 * type, the id column and the version counter differ. Values live only as ciphertext.
 */

export type Dialect = "postgres" | "sqlite";

/** The schema's version in `keyway_meta.schema`. */
export const SCHEMA_VERSION = "1";

/** The statements that create the store's tables, in order. */
export function schemaStatements(dialect: Dialect): string[] {
  const bytes = dialect === "postgres" ? "bytea" : "BLOB";
  const serial = dialect === "postgres" ? "bigserial PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
  return [
    `CREATE TABLE keyway_meta (name text PRIMARY KEY, value text NOT NULL)`,
    // The version counter: every version of every secret takes the next number, so a secret
    // purged and written again never repeats a version (compare-and-set stays safe). A sequence
    // on PostgreSQL (no lock shared by writers); a row on SQLite (writers are serialized anyway).
    ...(dialect === "postgres"
      ? [`CREATE SEQUENCE keyway_version_seq`]
      : [
          `CREATE TABLE keyway_counter (id integer PRIMARY KEY, value bigint NOT NULL)`,
          `INSERT INTO keyway_counter (id, value) VALUES (1, 0)`,
        ]),
    `CREATE TABLE keyway_secrets (
      tenant text NOT NULL, namespace text NOT NULL, key text NOT NULL,
      current_version bigint NOT NULL, description text, tags text,
      updated_at bigint NOT NULL, deleted_at bigint,
      PRIMARY KEY (tenant, namespace, key))`,
    `CREATE TABLE keyway_versions (
      tenant text NOT NULL, namespace text NOT NULL, key text NOT NULL, version bigint NOT NULL,
      kek_id text NOT NULL, wrapped_key ${bytes} NOT NULL, ciphertext ${bytes} NOT NULL,
      is_binary integer NOT NULL, created_at bigint NOT NULL,
      PRIMARY KEY (tenant, namespace, key, version),
      FOREIGN KEY (tenant, namespace, key) REFERENCES keyway_secrets (tenant, namespace, key) ON DELETE CASCADE)`,
    `CREATE INDEX keyway_versions_kek ON keyway_versions (kek_id)`,
    // The change log the embedded engine's subscribers read (PostgreSQL pushes with NOTIFY).
    `CREATE TABLE keyway_changes (
      seq ${serial}, tenant text NOT NULL, namespace text NOT NULL, key text NOT NULL,
      version bigint, deleted integer NOT NULL)`,
  ];
}

/** How many change-log rows the embedded engine keeps (subscribers read only the recent ones). */
export const CHANGES_KEPT = 1000;
