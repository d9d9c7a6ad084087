#!/bin/sh
# Shared by the okta-scim and okta-opp images (kept identical; a unit test checks it): validate and
# install a vendor RPM, trust extra CA files, validate and add JDBC driver jars.
# POSIX sh on purpose: the same functions run on the RHEL base and, in tests, on Debian with `rpm`.

agent_log() { echo "${AGENT_NAME:-agent}: $*"; }
agent_fail() { echo "${AGENT_NAME:-agent}: $*" >&2; exit 1; }

# trust_cas DIR: add every *.crt / *.pem certificate in DIR to the system trust store.
trust_cas() {
  dir=$1
  found=0
  for f in "$dir"/*.crt "$dir"/*.pem; do
    [ -f "$f" ] || continue
    grep -q 'BEGIN CERTIFICATE' "$f" || { agent_log "skipping $(basename "$f"): not a PEM certificate"; continue; }
    if [ -d /etc/pki/ca-trust/source/anchors ]; then
      cp "$f" "/etc/pki/ca-trust/source/anchors/$(basename "${f%.*}").crt"
    else
      mkdir -p /usr/local/share/ca-certificates/okta-lab
      cp "$f" "/usr/local/share/ca-certificates/okta-lab/$(basename "${f%.*}").crt"
    fi
    found=$((found + 1))
  done
  [ "$found" -gt 0 ] || return 0
  if command -v update-ca-trust >/dev/null 2>&1; then update-ca-trust extract
  else update-ca-certificates >/dev/null; fi
  agent_log "trusting $found extra CA certificate(s)"
}

# check_rpm FILE NAME: FILE must be an intact RPM whose package name is NAME.
check_rpm() {
  rpm_file=$1
  want=$2
  base=$(basename "$rpm_file")
  if ! rpm -K --nosignature "$rpm_file" >/dev/null 2>&1; then
    agent_fail "$base is not a valid RPM (corrupt or truncated download?); download it again from the Okta admin console"
  fi
  got=$(rpm -qp --qf '%{NAME}' "$rpm_file" 2>/dev/null || true)
  [ "$got" = "$want" ] || agent_fail "$base contains package '$got', expected '$want'"
}

# install_rpm DIR GLOB NAME: install the newest DIR/GLOB after check_rpm; nothing is changed on error.
install_rpm() {
  dir=$1
  pattern=$2
  want=$3
  rpm_file=$(find "$dir" -maxdepth 1 -name "$pattern" -type f | sort | tail -n 1)
  [ -n "$rpm_file" ] || agent_fail "no $pattern in packages/: download it from the Okta admin console (Settings > Downloads)"
  check_rpm "$rpm_file" "$want"
  # shellcheck disable=SC2086 # RPM_INSTALL_FLAGS is a list of flags
  rpm -Uvh --replacepkgs ${RPM_INSTALL_FLAGS:-} "$rpm_file" >/dev/null
  agent_log "installed $(basename "$rpm_file")"
}

# is_jar FILE: a zip archive (PK\3\4) holding a META-INF/ entry.
is_jar() {
  [ -s "$1" ] || return 1
  magic=$(od -An -tx1 -N4 "$1" | tr -d ' \n')
  [ "$magic" = "504b0304" ] || return 1
  grep -qa 'META-INF/' "$1"
}

# add_jars DIR DEST: copy every DIR/*.jar into DEST after is_jar; refuse the first bad one.
add_jars() {
  dir=$1
  dest=$2
  count=0
  for jar in "$dir"/*.jar; do
    [ -f "$jar" ] || continue
    is_jar "$jar" || agent_fail "$(basename "$jar") is not a Java archive (jar); download the JDBC driver again (e.g. mysql-connector-j-*.jar from Maven Central)"
    count=$((count + 1))
  done
  [ "$count" -gt 0 ] || return 0
  mkdir -p "$dest"
  for jar in "$dir"/*.jar; do
    [ -f "$jar" ] && cp "$jar" "$dest/"
  done
  agent_log "added $count JDBC driver jar(s) to $dest"
}
