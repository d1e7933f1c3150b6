// `node scripts/check-packages.mjs` (run by `npm test`, after the build): what a user gets from
// npm, checked on the real tarballs rather than on the workspace, where every package sees every
// other through node_modules links (trust issue #20 point 2). It
//   1. packs every published package (`npm pack --workspace …`, private ones left out) and checks each tarball holds its LICENSE,
//      README.md, CHANGELOG.md, every `exports` target and `bin`, and every file its source maps
//      name, and no test file;
//   2. runs publint (strict: warnings fail) and @arethetypeswrong/cli on each tarball;
//   3. installs all the tarballs into a fresh project in the temp dir, outside the repository,
//      third-party dependencies from the npm registry through the npm cache;
//   4. imports every `exports` subpath of every package from ESM there;
//   5. type-checks a file importing every subpath under `moduleResolution` node16 and bundler,
//      with the declaration files checked too (`skipLibCheck: false` for @keyway/*);
//   6. runs the installed `keyway --version` and `keyway get`, and examples/executor.mjs.
// `--keep` leaves the temp dir for a look. Exits 1 with every problem listed.
import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

const run = promisify(execFile);
const root = path.resolve(fileURLToPath(import.meta.url), "../..");
const rootManifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const started = performance.now();
const problems = [];
const fail = (what) => problems.push(what);
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const step = (what) => console.log(`check-packages: ${what} (${elapsed()})`);

// npm run passes its own settings down as npm_config_*; the fresh project must not inherit them
// (a workspace setting would point npm back at this repository).
const npmEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !/^npm_/i.test(name) || /^npm_config_(cache|registry|userconfig)$/i.test(name),
  ),
);
const npm = (args, cwd) => run("npm", args, { cwd, env: npmEnv, maxBuffer: 64 << 20 });

if (!existsSync(path.join(root, "packages/cli/dist/main.js"))) {
  console.error("check-packages: nothing is built; run `npm run build` first (npm test does).");
  process.exit(1);
}
// The project is ~140 MB of small files: on tmpfs npm writes it and we remove it in seconds, where
// on this machine's disk each took most of a minute. KEYWAY_CHECK_TMP chooses another place.
const scratch = process.env.KEYWAY_CHECK_TMP ?? (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());
const work = mkdtempSync(path.join(scratch, "keyway-packages-"));
try {
  await main();
} finally {
  if (process.argv.includes("--keep")) step(`left ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
if (problems.length > 0) {
  console.error(`check-packages: ${problems.length} problem(s):\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
step("every package packs, installs, imports, type-checks and runs");

async function main() {
  // 1. Pack.
  const tarballs = path.join(work, "tarballs");
  mkdirSync(tarballs);
  // Published packages only: a private workspace (@keyway/test-servers) never reaches a user.
  const published = readdirSync(path.join(root, "packages")).filter((dir) => {
    const file = path.join(root, "packages", dir, "package.json");
    return existsSync(file) && JSON.parse(readFileSync(file, "utf8")).private !== true;
  });
  const workspaces = published.flatMap((dir) => ["--workspace", `packages/${dir}`]);
  const { stdout } = await npm(["pack", ...workspaces, "--json", "--pack-destination", tarballs], root);
  const packed = JSON.parse(stdout);
  const packages = packed.map((entry) => {
    const dir = path.join(root, "packages", entry.name.replace(/^@keyway\//, ""));
    const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
    return {
      dir,
      manifest,
      tarball: path.join(tarballs, entry.filename),
      files: entry.files.map((f) => f.path),
    };
  });
  step(`packed ${packages.map((p) => p.manifest.name).join(", ")}`);
  for (const pkg of packages) checkContents(pkg);

  // 2 and 3 at once: the linters read the tarballs while npm installs them.
  const project = path.join(work, "project");
  await Promise.all([
    Promise.all(packages.map(lint)).then(() => step("publint and attw found nothing")),
    install(project, packages),
  ]);
  if (problems.length > 0) return;

  // 4–6.
  const subpaths = packages.flatMap(({ manifest }) =>
    Object.keys(manifest.exports)
      .filter((subpath) => subpath !== "./package.json")
      .map((subpath) => manifest.name + subpath.slice(1)),
  );
  await Promise.all([
    importAll(project, subpaths),
    typeCheck(project, subpaths),
    runInstalled(project, packages),
  ]);
}

/** What npm put in the tarball: the files a user needs, nothing of the tests. */
function checkContents({ dir, manifest, files }) {
  const where = manifest.name;
  const has = new Set(files);
  for (const file of ["package.json", "LICENSE", "README.md", "CHANGELOG.md"])
    if (!has.has(file)) fail(`${where}: the tarball has no ${file}`);
  const targets = Object.values(manifest.exports).flatMap((t) =>
    typeof t === "string" ? [t] : Object.values(t),
  );
  for (const target of [...targets, ...Object.values(manifest.bin ?? {})])
    if (!has.has(path.posix.normalize(target)))
      fail(`${where}: ${target} is named in package.json but not packed`);
  for (const file of files) {
    if (/(^|\/)test\/|\.test\.|\.tsbuildinfo$/.test(file))
      fail(`${where}: a test or build file is packed: ${file}`);
    if (!file.endsWith(".map")) continue;
    // A map naming a file that is not shipped sends "go to definition" nowhere.
    const map = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
    for (const source of map.sources ?? []) {
      const shipped = path.posix.normalize(
        path.posix.join(path.posix.dirname(file), map.sourceRoot ?? "", source),
      );
      if (!has.has(shipped)) fail(`${where}: ${file} names ${source}, which is not packed`);
    }
  }
}

/** publint (strict: its warnings fail too) and Are the Types Wrong, on the tarball. */
async function lint({ manifest, tarball }) {
  const bytes = readFileSync(tarball);
  const { messages, pkg } = await publint({
    pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
    level: "warning",
    strict: true,
  });
  for (const message of messages)
    fail(`${manifest.name}: publint: ${formatMessage(message, pkg, { color: false })}`);
  // The packages are ESM only, by design (`"type": "module"`, `exports` with `import`-able files
  // and no `require` condition): `--profile esm-only` leaves out attw's node10 and node16-from-CJS
  // resolutions, which can only ever say "this is ESM". Everything ESM users meet is still checked.
  const attw = path.join(root, "node_modules/.bin/attw");
  try {
    await run(attw, [tarball, "--profile", "esm-only", "--format", "ascii", "--no-color", "--no-emoji"], {
      env: { ...process.env, NO_COLOR: "1" },
    });
  } catch (error) {
    fail(`${manifest.name}: attw:\n${error.stdout || error.message}`);
  }
}

/** A fresh project that depends on every tarball, as a user's would, plus what the checks use. */
async function install(project, packages) {
  mkdirSync(project);
  const devPin = (name) => rootManifest.devDependencies[name];
  const dependencies = Object.fromEntries([
    ...packages.map(({ manifest, tarball }) => [manifest.name, `file:${tarball}`]),
    // The example's imports; Node's types; the optional peer that @keyway/core/otel's types name.
    ...["pino", "yaml", "@types/node", "@opentelemetry/api"].map((name) => [name, devPin(name)]),
  ]);
  writeFileSync(
    path.join(project, "package.json"),
    JSON.stringify({ name: "keyway-user", private: true, type: "module", dependencies }, null, 2),
  );
  try {
    await npm(
      ["install", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts", "--loglevel=error"],
      project,
    );
    step("installed every tarball into a fresh project");
  } catch (error) {
    fail(`npm install of the tarballs failed:\n${error.stderr || error.message}`);
  }
}

/** Every subpath imported from ESM, in a process of its own: each must load and export something. */
async function importAll(project, subpaths) {
  const script = `for (const s of ${JSON.stringify(subpaths)}) {
    const m = await import(s);
    if (Object.keys(m).length === 0) throw new Error(s + " exports nothing");
  }`;
  try {
    await run(process.execPath, ["--input-type=module", "-e", script], { cwd: project });
    step(`imported ${subpaths.length} entries from ESM`);
  } catch (error) {
    fail(`importing the installed entries failed:\n${error.stderr || error.message}`);
  }
}

/**
 * `tsc` over a file using every entry, once per module resolution a user may have. Under node16
 * the declarations are checked too (`skipLibCheck: false`), so a type imported from a package
 * that is not a dependency fails here; errors inside third-party declarations are theirs
 * (google-auth-library's fail under node16) and are left out. Under bundler, `skipLibCheck` is
 * on, as in most bundler set-ups: checking every SDK's declarations twice would double the time.
 */
async function typeCheck(project, subpaths) {
  const core = subpaths.indexOf("@keyway/core");
  const lines = subpaths.map((s, i) => `import * as m${i} from "${s}";`);
  lines.push(`export const entries = [${subpaths.map((_, i) => `m${i}`).join(", ")}];`);
  // A value typed through the main entry: the declarations must describe real exports.
  lines.push(
    `const router: m${core}.Router = m${core}.createRouter({ backends: { m: m${core}.createMemoryBackend() }, rules: [{ match: "", backend: "m" }] });`,
    `export const value: Promise<m${core}.SecretValue> = router.resolve({ namespace: "", key: "K" });`,
  );
  writeFileSync(path.join(project, "check.ts"), `${lines.join("\n")}\n`);
  const base = { strict: true, noEmit: true, target: "ES2022", lib: ["ES2023"], types: ["node"] };
  const configs = {
    node16: { ...base, module: "node16", moduleResolution: "node16", skipLibCheck: false },
    bundler: { ...base, module: "preserve", moduleResolution: "bundler", skipLibCheck: true },
  };
  const tsc = path.join(root, "node_modules/typescript/bin/tsc");
  await Promise.all(
    Object.entries(configs).map(async ([name, compilerOptions]) => {
      const file = `tsconfig.${name}.json`;
      writeFileSync(path.join(project, file), JSON.stringify({ compilerOptions, files: ["check.ts"] }));
      const output = await run(process.execPath, [tsc, "-p", file, "--pretty", "false"], {
        cwd: project,
      }).then(
        () => "",
        (error) => String(error.stdout || error.message),
      );
      const ours = output
        .split("\n")
        .filter((line) => line.trim() !== "" && !/^node_modules\/(?!@keyway\/)/.test(line));
      if (ours.length > 0) fail(`tsc (moduleResolution ${name}):\n${ours.join("\n")}`);
      else step(`type-checked every entry under moduleResolution ${name}`);
    }),
  );
}

/** The installed bin and the executor example, from the fresh project. */
async function runInstalled(project, packages) {
  const cli = packages.find((p) => p.manifest.bin?.keyway);
  const bin = path.join(project, "node_modules/.bin/keyway");
  const env = { PATH: process.env.PATH, SECRET_CHECK_KEY: Buffer.from("installed-value").toString("base64") };
  const checks = [
    ["keyway --version", [bin, "--version"], `${cli?.manifest.version}\n`],
    ["keyway get CHECK_KEY", [bin, "get", "CHECK_KEY"], "installed-value"],
  ];
  for (const [what, [command, ...args], expected] of checks) {
    try {
      const { stdout } = await run(command, args, { cwd: project, env });
      if (stdout !== expected)
        fail(`${what} printed ${JSON.stringify(stdout)}, not ${JSON.stringify(expected)}`);
    } catch (error) {
      fail(`${what} failed: ${error.stderr || error.message}`);
    }
  }
  step(`installed keyway --version: ${cli?.manifest.version}`);
  // The example imports only published entries, pino and yaml: it must run from the tarballs alone.
  const example = path.join(project, "executor.mjs");
  cpSync(path.join(root, "examples/executor.mjs"), example);
  try {
    const { stdout } = await run(process.execPath, [example], {
      cwd: project,
      env: { PATH: process.env.PATH },
    });
    if (!stdout.includes('"msg":"done"')) fail(`examples/executor.mjs did not finish:\n${stdout}`);
    else step("examples/executor.mjs runs against the installed packages");
  } catch (error) {
    fail(`examples/executor.mjs failed against the installed packages:\n${error.stderr || error.message}`);
  }
}
