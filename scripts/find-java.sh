# Sourced by ./spate and .ci/run: sets JAVA_HOME and JAVA to a JDK of version 21 or newer.
# Looks at JAVA_HOME, then every JDK under /usr/lib/jvm (newest first), then `java` on PATH.
spate_java_major() {
  # A JDK's release file names its version without starting a JVM; ask the JVM only if it is absent.
  local release; release="$(dirname "$1")/../release"
  if [[ -f "$release" ]]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release"
  else
    "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'
  fi
}

spate_find_java() {
  local candidates=() c major
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
  if [[ -d /usr/lib/jvm ]]; then
    while IFS= read -r c; do candidates+=("$c"); done < <(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV)
  fi
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  for c in "${candidates[@]}"; do
    [[ -x "$c" ]] || continue
    major="$(spate_java_major "$c")"
    major="${major%%.*}"
    if [[ "$major" =~ ^[0-9]+$ ]] && (( major >= 21 )); then
      JAVA="$c"
      JAVA_HOME="$(cd "$(dirname "$c")/.." && pwd)"
      export JAVA JAVA_HOME
      return 0
    fi
  done
  echo "spate: no JDK 21 or newer found (looked at JAVA_HOME, /usr/lib/jvm/*, and java on PATH); install one, e.g. 'apt-get install openjdk-21-jdk-headless', or set JAVA_HOME" >&2
  return 1
}
