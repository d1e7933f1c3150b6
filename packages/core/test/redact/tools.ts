/**
 * The real programs users encode secrets with, run on this machine: GNU `base64`, `openssl
 * base64`, Python's `json` and `urllib.parse`, Go's `encoding/json` and `net/url`, PHP's
 * `json_encode` and `urlencode`. Each takes values on stdin and gives exactly what the tool prints;
 * a tool that is not installed is `undefined`, so its tests say they are skipped and why.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { tempDirSync } from "../../../../test/setup/temp-dirs.js";

/** Encodes each value; returns what the tool printed for each, in order. */
export type Encoder = (values: readonly string[]) => string[];

function run(command: string, args: readonly string[], input: string | Buffer): string {
  const result = spawnSync(command, args, {
    input,
    maxBuffer: 64 << 20,
    env: { ...process.env, GOTOOLCHAIN: "local" },
  });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(" ")} exited with ${result.status}: ${result.stderr.toString()}`);
  return result.stdout.toString("utf8");
}

function installed(command: string, args: readonly string[]): boolean {
  const result = spawnSync(command, args, { stdio: "ignore" });
  return result.error === undefined && result.status === 0;
}

/** One process per value: the tool encodes all of its stdin. */
function perValue(command: string, args: readonly string[]): Encoder {
  return (values) => values.map((value) => run(command, args, Buffer.from(value, "utf8")));
}

/**
 * One process for many values: each value's UTF-8 as one base64 line on stdin, one output line per
 * value (every encoder here escapes line breaks, so an output is one line).
 */
function batch(command: string, args: readonly string[]): Encoder {
  return (values) => {
    if (values.length === 0) return [];
    const input = values.map((v) => `${Buffer.from(v, "utf8").toString("base64")}\n`).join("");
    const lines = run(command, args, input).split("\n");
    if (lines.pop() !== "" || lines.length !== values.length)
      throw new Error(`${command}: expected ${values.length} output lines`);
    return lines;
  };
}

const PYTHON = `
import base64, json, sys, urllib.parse
mode = sys.argv[1]
encode = {
    "json": lambda v: json.dumps(v),
    "json-utf8": lambda v: json.dumps(v, ensure_ascii=False),
    "quote": lambda v: urllib.parse.quote(v),
    "quote-all": lambda v: urllib.parse.quote(v, safe=""),
    "quote-plus": lambda v: urllib.parse.quote_plus(v),
}[mode]
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    out.write(encode(base64.b64decode(line).decode("utf-8")).encode("utf-8") + b"\\n")
`;

const GO = `package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		raw, err := base64.StdEncoding.DecodeString(in.Text())
		if err != nil {
			panic(err)
		}
		value := string(raw)
		var encoded []byte
		switch os.Args[1] {
		case "json":
			encoded, _ = json.Marshal(value)
		case "query":
			encoded = []byte(url.QueryEscape(value))
		}
		out.Write(encoded)
		out.WriteString("\\n")
	}
}
`;

const PHP = `<?php
$mode = $argv[1];
while (($line = fgets(STDIN)) !== false) {
  $value = base64_decode(trim($line));
  if ($mode === "json") echo json_encode($value), "\\n";
  elseif ($mode === "json-unicode") echo json_encode($value, JSON_UNESCAPED_UNICODE), "\\n";
  elseif ($mode === "urlencode") echo urlencode($value), "\\n";
  else echo rawurlencode($value), "\\n";
}
`;

/** `base64` (coreutils: 76 columns) and `openssl base64` (64 columns), each output line by line. */
export const base64Tools: Record<string, Encoder | undefined> = {
  "GNU base64": installed("base64", ["--version"]) ? perValue("base64", []) : undefined,
  "openssl base64": installed("openssl", ["version"]) ? perValue("openssl", ["base64"]) : undefined,
};

let goBinary: string | undefined;
/** Builds the Go helper once (standard library only: no network). */
function go(mode: string): Encoder {
  return (values) => {
    if (goBinary === undefined) {
      const dir = tempDirSync("keyway-go-");
      writeFileSync(path.join(dir, "main.go"), GO);
      const binary = path.join(dir, "encode");
      run("go", ["build", "-o", binary, path.join(dir, "main.go")], "");
      goBinary = binary;
    }
    return batch(goBinary, [mode])(values);
  };
}

/** The interpreter itself: a version manager's `python3` shim can cost half a second per start. */
function pythonExecutable(): string | undefined {
  const result = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" });
  return result.error === undefined && result.status === 0 ? result.stdout.trim() : undefined;
}

const python = pythonExecutable();
const hasPython = python !== undefined;
const hasGo = installed("go", ["version"]);
const hasPhp = installed("php", ["-v"]);

/** The Python, PHP and Go scripts above in one mode each; undefined where the tool is absent. */
const py = (mode: string) => (hasPython ? batch(python as string, ["-c", PYTHON, mode]) : undefined);
const php = (mode: string) => (hasPhp ? batch("php", ["-r", PHP.slice(6), "--", mode]) : undefined);
const goTool = (mode: string) => (hasGo ? go(mode) : undefined);

/** JSON encoders, each printing a JSON string literal (with its quotes). */
export const jsonTools: Record<string, Encoder | undefined> = {
  "python3 json.dumps (ensure_ascii)": py("json"),
  "python3 json.dumps(ensure_ascii=False)": py("json-utf8"),
  "go json.Marshal": goTool("json"),
  "php json_encode": php("json"),
  "php json_encode JSON_UNESCAPED_UNICODE": php("json-unicode"),
};

/** Percent-encoders. */
export const urlTools: Record<string, Encoder | undefined> = {
  "python3 urllib.parse.quote": py("quote"),
  "python3 urllib.parse.quote(safe='')": py("quote-all"),
  "python3 urllib.parse.quote_plus": py("quote-plus"),
  "go url.QueryEscape": goTool("query"),
  "php urlencode": php("urlencode"),
  "php rawurlencode": php("rawurlencode"),
};
