# Sourced by ./spate and scripts/test.sh (which .ci/run runs): sets JAVA_HOME and JAVA to a JDK of version 21 or newer.
# Looks at JAVA_HOME, then every JDK under /usr/lib/jvm (newest first), then `java` on PATH.
# The common case (JAVA_HOME or the newest JDK qualifies) runs no subprocess: `./spate start`
# counts its start-up from the moment it is launched.
spate_java_major() {   # path/to/bin/java -> prints its major version
  local java="$1" home line
  home="${java%/bin/java}"
  # A JDK's release file names its version without starting a JVM; ask the JVM only if it is absent.
  if [[ -f "$home/release" ]]; then
    while IFS= read -r line; do
      if [[ "$line" =~ ^JAVA_VERSION=\"([0-9]+) ]]; then
        echo "${BASH_REMATCH[1]}"
        return
      fi
    done <"$home/release"
  else
    "$java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'
  fi
}

spate_accept_java() {   # candidate -> sets JAVA and JAVA_HOME if it is a JDK >= 21
  local c="$1" major home
  [[ -x "$c" ]] || return 1
  major="$(spate_java_major "$c")"
  major="${major%%.*}"
  [[ "$major" =~ ^[0-9]+$ ]] && (( major >= 21 )) || return 1
  home="${c%/bin/java}"
  [[ "$home" == /* ]] || home="$(cd "$home" && pwd)"
  JAVA="$c"
  JAVA_HOME="$home"
  SPATE_JAVA_MAJOR="$major"
  export JAVA JAVA_HOME
}

# After spate_find_java: Maven's JVM options, unless the caller chose some. The option quiets the
# JDK's warnings about Maven's use of sun.misc.Unsafe; it exists only from JDK 23, and a JDK 21 or
# 22 refuses to start with it.
spate_default_maven_opts() {
  [[ -n "${MAVEN_OPTS:-}" ]] && return 0
  if (( SPATE_JAVA_MAJOR >= 23 )); then
    export MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow"
  fi
}

spate_find_java() {
  local c
  if [[ -n "${JAVA_HOME:-}" ]] && spate_accept_java "$JAVA_HOME/bin/java"; then
    return 0
  fi
  if [[ -d /usr/lib/jvm ]]; then
    while IFS= read -r c; do
      spate_accept_java "$c" && return 0
    done < <(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV)
  fi
  if c="$(command -v java 2>/dev/null)"; then
    # A java on PATH is usually a symlink (/usr/bin/java -> /etc/alternatives/...): follow it to its JDK.
    c="$(readlink -f "$c")"
    spate_accept_java "$c" && return 0
  fi
  echo "spate: no JDK 21 or newer found (looked at JAVA_HOME, /usr/lib/jvm/*, and java on PATH); install one, e.g. 'apt-get install openjdk-21-jdk-headless', or set JAVA_HOME" >&2
  return 1
}
