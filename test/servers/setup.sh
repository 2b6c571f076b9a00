#!/usr/bin/env bash
# Real test servers on loopback: install (Debian packages + moto from PyPI), start, stop.
#
#   bash test/servers/setup.sh install            # as root; fast when everything is present
#   bash test/servers/setup.sh installed          # exit 0 when nothing needs installing
#   bash test/servers/setup.sh start [NAME...]    # NAME: ssh telnet postgresql mariadb moto ldap samba (default: all)
#   bash test/servers/setup.sh stop  [NAME...]
#   bash test/servers/setup.sh status
#
# Ports: 2222 ssh, 2323 telnet, 5433 postgresql, 3307 mariadb, 5055 moto, 3389/3636 ldap (slapd,
# plain+StartTLS / LDAPS); each can be moved with RPR_TEST_PORT_SSH, _TELNET, _POSTGRESQL, _MARIADB,
# _MOTO, _LDAP, _LDAPS (use the same values for start and stop). samba (an Active Directory domain
# controller) takes the fixed ports 53 88 135 389 445 464 636 3268 3269: its clients assume them.
#
# All state lives in <repo>/.test-servers/. Every server listens on 127.0.0.1 only and is
# stopped through its PID file. Secrets go through files and stdin, never argv.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STATE="$ROOT/.test-servers"
ALL_SERVERS=(ssh telnet postgresql mariadb moto ldap samba)

PACKAGES=(openssh-server sudo inetutils-telnetd inetutils-inetd postgresql mariadb-server openssl passwd procps util-linux
  slapd ldap-utils samba-ad-dc samba-ad-provision freetds-bin)
MOTO_VERSION=5.2.5
MOTO_VENV=/opt/rpr-test-moto
# python-oracledb's Thin mode: the Oracle simulator's second client (test/integration/oracle/simulator.test.ts).
ORACLEDB_PY_VERSION=26.1.0
ORACLEDB_VENV=/opt/rpr-test-oracledb
PG_BIN=/usr/lib/postgresql/15/bin

HOST=127.0.0.1
# Ports may be moved (e.g. to run a second clone's servers beside these); env.json tells the tests.
SSH_PORT=${RPR_TEST_PORT_SSH:-2222}
TELNET_PORT=${RPR_TEST_PORT_TELNET:-2323}
PG_PORT=${RPR_TEST_PORT_POSTGRESQL:-5433}
MARIADB_PORT=${RPR_TEST_PORT_MARIADB:-3307}
MOTO_PORT=${RPR_TEST_PORT_MOTO:-5055}
LDAP_PORT=${RPR_TEST_PORT_LDAP:-3389}
LDAPS_PORT=${RPR_TEST_PORT_LDAPS:-3636}
SAMBA_PORTS=(53 88 135 389 445 464 636 3268 3269)
SAMBA_LOCKOUT_THRESHOLD=5

SUDO_GROUP=rprsudo
SUDOERS_FILE=/etc/sudoers.d/rpr-test-servers

log() { printf '%s\n' "$*"; }
die() { printf 'setup.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- install

missing_packages() {
  local p status
  for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ "$status" == installed ]] || printf '%s\n' "$p"
  done
}

# VENV holds PACKAGE at VERSION (the distribution's name, as importlib.metadata knows it).
venv_has() { # VENV PACKAGE VERSION
  [[ -x "$1/bin/python" ]] &&
    "$1/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version(sys.argv[1]) != sys.argv[2])' "$2" "$3" 2>/dev/null
}

moto_installed() { [[ -x "$MOTO_VENV/bin/moto_server" ]] && venv_has "$MOTO_VENV" moto "$MOTO_VERSION"; }
oracledb_py_installed() { venv_has "$ORACLEDB_VENV" oracledb "$ORACLEDB_PY_VERSION"; }

cmd_installed() {
  [[ -z "$(missing_packages)" ]] && moto_installed && oracledb_py_installed
}

find_python() {
  # The project's Python need not be Debian's: any python3 >= 3.9 with venv will do.
  local py
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
      command -v "$py"; return 0
    fi
  done
  return 1
}

# A fresh virtual environment at VENV with REQUIREMENT from PyPI.
venv_install() { # VENV REQUIREMENT
  local py
  py=$(find_python) || {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends python3-venv >/dev/null
    py=/usr/bin/python3
  }
  log "install: $2 into $1 (python: $py)"
  rm -rf "$1"
  "$py" -m venv "$1"
  "$1/bin/pip" install -q --disable-pip-version-check "$2"
}

cmd_install() {
  [[ $EUID -eq 0 ]] || die "install must run as root"
  local missing
  missing=$(missing_packages)
  if [[ -n "$missing" ]]; then
    local created_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      # Keep package scripts from starting daemons on their default ports.
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      created_policy=1
    fi
    # slapd: no Debian database on install; start_ldap builds its own cn=config.
    echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
    log "install: apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    # shellcheck disable=SC2086
    log "install: apt-get install $(echo $missing)"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
      --no-install-recommends "${PACKAGES[@]}" >/dev/null
    if [[ $created_policy -eq 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi
  else
    log "install: Debian packages present"
  fi

  if ! moto_installed; then
    venv_install "$MOTO_VENV" "moto[server]==$MOTO_VERSION"
  else
    log "install: moto $MOTO_VERSION present"
  fi
  if ! oracledb_py_installed; then
    venv_install "$ORACLEDB_VENV" "oracledb==$ORACLEDB_PY_VERSION"
  else
    log "install: python-oracledb $ORACLEDB_PY_VERSION present"
  fi
  ln -sf "$MOTO_VENV/bin/moto_server" /usr/local/bin/moto_server
}

# ---------------------------------------------------------------- helpers

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# True when PIDFILE names a live process of the expected program (a machine handed back after a
# restart keeps stale PID files whose numbers may now belong to anything).
pid_alive() { # PIDFILE
  local pid comm
  [[ -s "$1" ]] || return 1
  pid=$(head -n1 "$1" 2>/dev/null | tr -dc 0-9)
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  case "$comm" in sshd | rpr-test-sshd | inetutils-inetd | postgres | mariadbd | moto_server | python* | slapd | samba) return 0 ;; *) return 1 ;; esac
}

# moto on MOTO_PORT started by someone else (a developer's own moto_server) serves the tests as well.
moto_answers() {
  local reply
  reply=$( (exec 3<>"/dev/tcp/$HOST/$MOTO_PORT" && printf 'GET /moto-api/ HTTP/1.0\r\nHost: %s\r\n\r\n' "$HOST" >&3 &&
    timeout 5 head -c 4000 <&3) 2>/dev/null) || return 1
  [[ "$reply" == "HTTP/1."?" 200"* && "$reply" == *"Moto"* ]]
}

server_up() { # NAME: our PID file names a live process, or moto answers as an adopted external server
  pid_alive "$(pidfile_of "$1")" && return 0
  [[ "$1" == moto && -e "$STATE/moto/external" ]] && moto_answers
}

wait_port() { # PORT SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    port_open "$1" && return 0
    sleep 0.1
  done
  return 1
}

# Stop the process named in PIDFILE with SIGNAL, wait for it to go, then SIGKILL.
stop_pidfile() { # PIDFILE SIGNAL
  local pid i
  [[ -s "$1" ]] || return 1
  pid_alive "$1" || { rm -f "$1"; return 1; }
  pid=$(head -n1 "$1" | tr -dc 0-9)
  kill "-$2" "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  rm -f "$1"
  return 0
}

pidfile_of() {
  case "$1" in
    ssh) echo "$STATE/ssh/sshd.pid" ;;
    telnet) echo "$STATE/telnet/inetd.pid" ;;
    postgresql) echo "$STATE/postgresql/data/postmaster.pid" ;;
    mariadb) echo "$STATE/mariadb/mariadbd.pid" ;;
    moto) echo "$STATE/moto/moto.pid" ;;
    ldap) echo "$STATE/ldap/slapd.pid" ;;
    samba) echo "$STATE/samba/run/samba.pid" ;;
  esac
}

port_of() {
  case "$1" in
    ssh) echo $SSH_PORT ;; telnet) echo $TELNET_PORT ;; postgresql) echo $PG_PORT ;;
    mariadb) echo $MARIADB_PORT ;; moto) echo $MOTO_PORT ;; ldap) echo $LDAP_PORT ;; samba) echo 389 ;;
  esac
}

ports_of() { # every port the server listens on
  case "$1" in
    ldap) echo "$LDAP_PORT $LDAPS_PORT" ;; samba) echo "${SAMBA_PORTS[*]}" ;; *) port_of "$1" ;;
  esac
}

taken_port() { # NAME: prints the first of its ports already open, fails when all are free
  local p
  for p in $(ports_of "$1"); do
    if port_open "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

# Daemons that run as their own user must be able to reach their folder under the repo.
ensure_traversable() { # USER DIR
  local d="$2"
  if runuser -u "$1" -- test -x "$d" 2>/dev/null; then return 0; fi
  while [[ "$d" != / ]]; do
    chmod o+x "$d"
    d=$(dirname "$d")
  done
  log "note: gave o+x to the folders above $2 so that $1 can reach it"
}

# ---------------------------------------------------------------- TLS

ensure_tls() {
  local t="$STATE/tls"
  [[ -s "$t/server.pem" && -s "$t/server-key.pem" && -s "$t/ca.pem" ]] && return 0
  mkdir -p "$t"
  chmod 755 "$t"
  (
    cd "$t"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=rpr test CA" \
      -keyout ca-key.pem -out ca.pem \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server-key.pem -out server.csr 2>/dev/null
    printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' 'subjectAltName=IP:127.0.0.1,DNS:localhost' > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
      -extfile server.ext -out server.pem 2>/dev/null
    rm -f server.csr server.ext ca.srl
    chmod 600 ca-key.pem server-key.pem
    chmod 644 ca.pem server.pem
  )
}

# Copy the server certificate and key into DIR for a daemon running as USER.
install_tls_for() { # USER DIR
  cp "$STATE/tls/ca.pem" "$STATE/tls/server.pem" "$STATE/tls/server-key.pem" "$2/"
  chown "$1:" "$2/ca.pem" "$2/server.pem" "$2/server-key.pem"
  chmod 600 "$2/server-key.pem"
}

new_secret() { # FILE OWNER: a random password written straight to a 0600 file
  umask 077
  openssl rand -hex 18 > "$1"
  umask 022
  chown "$2:" "$1"
}

# ---------------------------------------------------------------- unix accounts (for fixtures)

ensure_unix_prereqs() {
  getent group "$SUDO_GROUP" >/dev/null || groupadd "$SUDO_GROUP"
  if [[ ! -s "$SUDOERS_FILE" ]]; then
    printf '%%%s ALL=(ALL) ALL\n' "$SUDO_GROUP" > "$SUDOERS_FILE.tmp"
    chmod 440 "$SUDOERS_FILE.tmp"
    visudo -cqf "$SUDOERS_FILE.tmp" && mv "$SUDOERS_FILE.tmp" "$SUDOERS_FILE"
  fi
  # Without systemd nothing removes the boot-time nologin flag, and PAM then refuses every login.
  rm -f /run/nologin /var/run/nologin
}

# ---------------------------------------------------------------- each server
# start_NAME prints nothing on success and a reason on failure (exit non-zero).

start_ssh() {
  local d="$STATE/ssh"
  mkdir -p "$d" /run/sshd
  chmod 755 /run/sshd
  [[ -s "$d/ssh_host_ed25519_key" ]] || ssh-keygen -q -t ed25519 -N '' -f "$d/ssh_host_ed25519_key"
  cat > "$d/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress $HOST
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
UsePAM yes
PermitRootLogin prohibit-password
StrictModes yes
MaxStartups 100:30:200
MaxSessions 50
LoginGraceTime 30
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
CONF
  # sshd names its PAM service after the name it is run by: run as rpr-test-sshd, it gets Debian's
  # sshd stack but with pam_unix's nodelay, so each refused password (the suite makes hundreds)
  # is answered at once instead of after pam_unix's 2 s failure delay. The machine's own sshd is untouched.
  cat > /etc/pam.d/rpr-test-sshd <<'PAM'
# rpr's test sshd (test/servers/setup.sh): /etc/pam.d/sshd's stack, without the 2 s delay on a failed password.
auth [success=1 default=ignore] pam_unix.so nullok nodelay
auth requisite pam_deny.so
auth required pam_permit.so
account required pam_nologin.so
@include common-account
@include common-session
@include common-password
PAM
  ln -sfn /usr/sbin/sshd "$d/rpr-test-sshd"
  "$d/rpr-test-sshd" -t -f "$d/sshd_config" || { echo "sshd -t rejected the config"; return 1; }
  "$d/rpr-test-sshd" -f "$d/sshd_config" -E "$d/sshd.log" || { echo "sshd exited $? (see $d/sshd.log)"; return 1; }
  wait_port $SSH_PORT 10 || { echo "port $SSH_PORT not open after 10 s (see $d/sshd.log)"; return 1; }
}

start_telnet() {
  local d="$STATE/telnet"
  mkdir -p "$d"
  printf '%s\n' "$HOST:$TELNET_PORT stream tcp nowait root /usr/sbin/telnetd telnetd -h" > "$d/inetd.conf"
  /usr/sbin/inetutils-inetd --pidfile="$d/inetd.pid" "$d/inetd.conf" >"$d/inetd.log" 2>&1 ||
    { echo "inetutils-inetd exited $?: $(tail -n3 "$d/inetd.log")"; return 1; }
  wait_port $TELNET_PORT 10 || { echo "port $TELNET_PORT not open after 10 s"; return 1; }
}

start_postgresql() {
  local d="$STATE/postgresql"
  mkdir -p "$d"
  chown postgres: "$d"
  chmod 700 "$d"
  ensure_traversable postgres "$d"
  if [[ ! -s "$d/data/PG_VERSION" || ! -s "$d/superuser-password" ]]; then
    rm -rf "$d/data"
    new_secret "$d/superuser-password" postgres
    runuser -u postgres -- "$PG_BIN/initdb" -D "$d/data" -U postgres -A scram-sha-256 \
      --pwfile="$d/superuser-password" -E UTF8 --locale=C.UTF-8 >"$d/initdb.log" 2>&1 ||
      { echo "initdb failed: $(tail -n3 "$d/initdb.log")"; return 1; }
    install_tls_for postgres "$d"
    cat >> "$d/data/postgresql.conf" <<CONF

# rpr test server
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$d'
ssl = on
ssl_cert_file = '$d/server.pem'
ssl_key_file = '$d/server-key.pem'
ssl_ca_file = '$d/ca.pem'
password_encryption = 'scram-sha-256'
max_connections = 200
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    cat > "$d/data/pg_hba.conf" <<CONF
local   all  postgres                peer
local   all  all                     scram-sha-256
host    all  all       127.0.0.1/32  scram-sha-256
hostssl all  all       127.0.0.1/32  scram-sha-256
CONF
  fi
  rm -f "$d/data/postmaster.pid"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/postgresql.log" -w -t 30 start >/dev/null 2>&1 ||
    { echo "pg_ctl start failed: $(tail -n3 "$d/postgresql.log")"; return 1; }
  wait_port $PG_PORT 10 || { echo "port $PG_PORT not open"; return 1; }
}

start_mariadb() {
  local d="$STATE/mariadb"
  mkdir -p "$d"
  chown mysql: "$d"
  chmod 700 "$d"
  ensure_traversable mysql "$d"
  install_tls_for mysql "$d"
  cat > "$d/my.cnf" <<CONF
[client]
socket = $d/mariadb.sock

[mariadbd]
user = mysql
datadir = $d/data
socket = $d/mariadb.sock
pid-file = $d/mariadbd.pid
log-error = $d/mariadbd.log
bind-address = $HOST
port = $MARIADB_PORT
skip-name-resolve
ssl-ca = $d/ca.pem
ssl-cert = $d/server.pem
ssl-key = $d/server-key.pem
max_connections = 200
innodb_buffer_pool_size = 32M
innodb_log_file_size = 16M
innodb_flush_log_at_trx_commit = 2
innodb_doublewrite = 0
performance_schema = OFF
CONF
  local fresh=0
  if [[ ! -d "$d/data/mysql" || ! -s "$d/root-password" ]]; then
    rm -rf "$d/data"
    mariadb-install-db --defaults-file="$d/my.cnf" --auth-root-authentication-method=socket \
      --skip-test-db >"$d/install-db.log" 2>&1 || { echo "mariadb-install-db failed: $(tail -n3 "$d/install-db.log")"; return 1; }
    new_secret "$d/root-password" root
    fresh=1
  fi
  rm -f "$d/mariadbd.pid"
  setsid /usr/sbin/mariadbd --defaults-file="$d/my.cnf" </dev/null >>"$d/mariadbd.out" 2>&1 &
  local i
  for ((i = 0; i < 300; i++)); do
    mariadb-admin --defaults-file="$d/my.cnf" -u root status >/dev/null 2>&1 && break
    sleep 0.1
  done
  mariadb-admin --defaults-file="$d/my.cnf" -u root status >/dev/null 2>&1 ||
    { echo "not answering after 30 s: $(tail -n3 "$d/mariadbd.log" 2>/dev/null)"; return 1; }
  if [[ $fresh -eq 1 ]]; then
    # root@localhost keeps socket auth for this script; root@127.0.0.1 is the tests' TCP admin.
    # The password is hex, so it needs no quoting; it travels on stdin.
    local pw
    pw=$(<"$d/root-password")
    printf "CREATE USER 'root'@'%s' IDENTIFIED BY '%s';\nGRANT ALL PRIVILEGES ON *.* TO 'root'@'%s' WITH GRANT OPTION;\nFLUSH PRIVILEGES;\n" \
      "$HOST" "$pw" "$HOST" | mariadb --defaults-file="$d/my.cnf" -u root ||
      { echo "could not create the TCP root user"; return 1; }
  fi
  wait_port $MARIADB_PORT 10 || { echo "port $MARIADB_PORT not open"; return 1; }
}

start_moto() {
  local d="$STATE/moto" bin
  mkdir -p "$d"
  bin="$MOTO_VENV/bin/moto_server"
  [[ -x "$bin" ]] || bin=$(command -v moto_server) || { echo "moto_server not installed (run: setup.sh install)"; return 1; }
  setsid "$bin" -H "$HOST" -p "$MOTO_PORT" </dev/null >"$d/moto.log" 2>&1 &
  echo $! > "$d/moto.pid"
  wait_port $MOTO_PORT 30 || { echo "port $MOTO_PORT not open after 30 s: $(tail -n3 "$d/moto.log")"; return 1; }
}

# OpenLDAP: cn=config built offline with slapadd -n0, two mdb databases:
#   dc=rpr,dc=test    ppolicy with olcPPolicyHashCleartext (a plain userPassword replace is hashed),
#                     a permissive default policy, uid=pwadmin in cn=password-admins,ou=groups
#   dc=clear,dc=test  no ppolicy: a plain userPassword replace is stored as given (the adapters'
#                     clear-text guard is tested against it)
# userPassword: written by self and password-admins, read by password-admins, auth for anonymous.
LDAP_BASE=dc=rpr,dc=test
LDAP_CLEAR_BASE=dc=clear,dc=test
LDAP_ADMINS_DN="cn=password-admins,ou=groups,$LDAP_BASE"
LDAP_PWADMIN_DN="uid=pwadmin,ou=people,$LDAP_BASE"

ssha_of() { # FILE: an {SSHA} hash of the password in FILE (read by slappasswd itself, not argv)
  local pw
  pw=$(<"$1")
  umask 077
  printf '%s' "$pw" > "$1.raw" # the secret without new_secret's trailing newline, as env.json gives it
  slappasswd -h '{SSHA}' -T "$1.raw"
  rm -f "$1.raw"
}

ldap_acl() { # SUFFIX: olcAccess lines for one database
  cat <<LDIF
olcAccess: {0}to attrs=userPassword
  by self write
  by group.exact="$LDAP_ADMINS_DN" write
  by anonymous auth
  by * none
olcAccess: {1}to dn.subtree="ou=people,$1"
  by group.exact="$LDAP_ADMINS_DN" write
  by users read
  by anonymous auth
olcAccess: {2}to *
  by users read
  by anonymous auth
LDIF
}

write_ldap_config() { # DIR
  local d="$1"
  cat <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $d/slapd.pid
olcArgsFile: $d/slapd.args
olcLogLevel: none
olcTLSCACertificateFile: $d/ca.pem
olcTLSCertificateFile: $d/server.pem
olcTLSCertificateKeyFile: $d/server-key.pem

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: {0}back_mdb
olcModuleLoad: {1}ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcPasswordHash: {SSHA}

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $LDAP_BASE
olcRootDN: cn=root,$LDAP_BASE
olcRootPW: $(ssha_of "$d/root-password")
olcDbDirectory: $d/data-rpr
olcDbMaxSize: 104857600
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcDbIndex: member eq
$(ldap_acl "$LDAP_BASE")

dn: olcOverlay={0}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {0}ppolicy
olcPPolicyDefault: cn=default,ou=policies,$LDAP_BASE
olcPPolicyHashCleartext: TRUE
olcPPolicyUseLockout: FALSE

dn: olcDatabase={2}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {2}mdb
olcSuffix: $LDAP_CLEAR_BASE
olcRootDN: cn=root,$LDAP_CLEAR_BASE
olcRootPW: $(ssha_of "$d/clear-root-password")
olcDbDirectory: $d/data-clear
olcDbMaxSize: 104857600
olcDbIndex: objectClass eq
olcDbIndex: uid eq
$(ldap_acl "$LDAP_CLEAR_BASE")
LDIF
}

write_ldap_data() { # DIR
  cat <<LDIF
dn: $LDAP_BASE
objectClass: dcObject
objectClass: organization
dc: rpr
o: rpr test

dn: ou=people,$LDAP_BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$LDAP_BASE
objectClass: organizationalUnit
ou: groups

dn: ou=policies,$LDAP_BASE
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,$LDAP_BASE
objectClass: applicationProcess
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdMinLength: 0
pwdCheckQuality: 0
pwdInHistory: 0
pwdMaxAge: 0
pwdMinAge: 0
pwdLockout: FALSE
pwdMaxFailure: 0
pwdMustChange: FALSE
pwdAllowUserChange: TRUE
pwdSafeModify: FALSE

dn: $LDAP_PWADMIN_DN
objectClass: inetOrgPerson
uid: pwadmin
cn: pwadmin
sn: pwadmin
userPassword: $(ssha_of "$1/pwadmin-password")

dn: $LDAP_ADMINS_DN
objectClass: groupOfNames
cn: password-admins
member: $LDAP_PWADMIN_DN
LDIF
}

write_ldap_clear_data() {
  cat <<LDIF
dn: $LDAP_CLEAR_BASE
objectClass: dcObject
objectClass: organization
dc: clear
o: rpr clear-text test

dn: ou=people,$LDAP_CLEAR_BASE
objectClass: organizationalUnit
ou: people
LDIF
}

start_ldap() {
  local d="$STATE/ldap"
  mkdir -p "$d"
  chown openldap: "$d"
  chmod 700 "$d"
  ensure_traversable openldap "$d"
  if [[ ! -s "$d/slapd.d/cn=config.ldif" || ! -s "$d/root-password" || ! -s "$d/clear-root-password" ||
    ! -s "$d/pwadmin-password" || ! -s "$d/data-rpr/data.mdb" || ! -s "$d/data-clear/data.mdb" ]]; then
    rm -rf "$d/slapd.d" "$d/data-rpr" "$d/data-clear"
    new_secret "$d/root-password" root
    new_secret "$d/clear-root-password" root
    new_secret "$d/pwadmin-password" root
    mkdir -p "$d/slapd.d" "$d/data-rpr" "$d/data-clear"
    umask 077
    write_ldap_config "$d" > "$d/config.ldif"
    write_ldap_data "$d" > "$d/data-rpr.ldif"
    write_ldap_clear_data > "$d/data-clear.ldif"
    umask 022
    {
      slapadd -n0 -F "$d/slapd.d" -l "$d/config.ldif" &&
        slapadd -F "$d/slapd.d" -b "$LDAP_BASE" -l "$d/data-rpr.ldif" &&
        slapadd -F "$d/slapd.d" -b "$LDAP_CLEAR_BASE" -l "$d/data-clear.ldif"
    } >"$d/slapadd.log" 2>&1 || { echo "slapadd failed: $(tail -n5 "$d/slapadd.log")"; return 1; }
    rm -f "$d/config.ldif" "$d/data-rpr.ldif" "$d/data-clear.ldif"
    chown -R openldap: "$d/slapd.d" "$d/data-rpr" "$d/data-clear"
  fi
  install_tls_for openldap "$d" # each start: a regenerated test CA reaches the kept configuration
  rm -f "$d/slapd.pid"
  slapd -u openldap -g openldap -F "$d/slapd.d" -h "ldap://$HOST:$LDAP_PORT/ ldaps://$HOST:$LDAPS_PORT/" \
    >"$d/slapd.log" 2>&1 || { echo "slapd exited $?: $(tail -n5 "$d/slapd.log")"; return 1; }
  wait_port $LDAP_PORT 10 && wait_port $LDAPS_PORT 10 || { echo "ports $LDAP_PORT/$LDAPS_PORT not open after 10 s"; return 1; }
  local i
  for ((i = 0; i < 50; i++)); do [[ -s "$d/slapd.pid" ]] && break; sleep 0.1; done
}

# Samba as an Active Directory domain controller, provisioned once under $STATE/samba (kept across
# restarts). Complexity, minimum length and history keep Samba's defaults (the adapters must honour
# the real policy); minimum age 0 and a short lockout make tests possible.
SAMBA_REALM=RPR.TEST
SAMBA_DOMAIN=RPR

# samba-tool run inside this Python process, so the administrator password read from FILE is passed
# to the provision without ever appearing in a command line (samba-tool takes it only as an option).
samba_tool_with_secret() { # FILE OPTION_NAME ARGS...: samba-tool ARGS... OPTION_NAME=<contents of FILE>
  # Debian's interpreter (samba-tool's own): the Python modules of samba are installed for it only.
  /usr/bin/python3 - "$@" <<'PY'
import sys
from samba.netcmd.main import cmd_sambatool
secret_file, option, *args = sys.argv[1:]
with open(secret_file, encoding="utf-8") as f:
    secret = f.read().strip()
try:
    code = cmd_sambatool()._run("samba-tool", *args, f"{option}={secret}")
except SystemExit as e:
    code = e.code
sys.exit(code or 0)
PY
}

samba_secret() { # FILE: a random password meeting AD complexity (upper, lower, digit, symbol)
  umask 077
  printf 'Rpr-%s\n' "$(openssl rand -hex 16)" > "$1"
  umask 022
}

start_samba() {
  local d="$STATE/samba"
  mkdir -p "$d"
  chmod 700 "$d"
  if [[ ! -s "$d/etc/smb.conf" || ! -s "$d/private/sam.ldb" || ! -s "$d/admin-password" ]]; then
    # Anything left from a half-done provision (Samba keeps its lock-directory databases in $d itself).
    find "$d" -mindepth 1 -delete
    samba_secret "$d/admin-password"
    mkdir -p "$d/tls"
    : > "$d/empty.conf" # without it, the provision merges Debian's /etc/samba/smb.conf
    local started=$SECONDS
    samba_tool_with_secret "$d/admin-password" --adminpass domain provision \
      --configfile="$d/empty.conf" --targetdir="$d" \
      --realm=$SAMBA_REALM --domain=$SAMBA_DOMAIN --server-role=dc --dns-backend=SAMBA_INTERNAL \
      --host-ip=$HOST --host-name=rprdc --option="netbios name=RPRDC" \
      --option="interfaces=$HOST" --option="bind interfaces only=yes" --option="disable netbios=yes" \
      --option="smb ports=445" --option="pid directory=$d/run" \
      --option="tls enabled=yes" --option="tls keyfile=$d/tls/server-key.pem" \
      --option="tls certfile=$d/tls/server.pem" --option="tls cafile=$d/tls/ca.pem" \
      --option="old password allowed period=0" \
      --option="server services=-dnsupdate" \
      >"$d/provision.log" 2>&1 || { rm -f "$d/etc/smb.conf"; echo "provision failed: $(tail -n5 "$d/provision.log")"; return 1; }
    samba-tool domain passwordsettings set --configfile="$d/etc/smb.conf" -H "$d/private/sam.ldb" \
      --min-pwd-age=0 --account-lockout-threshold=$SAMBA_LOCKOUT_THRESHOLD \
      --account-lockout-duration=1 --reset-account-lockout-after=1 >>"$d/provision.log" 2>&1 ||
      { rm -f "$d/etc/smb.conf"; echo "passwordsettings failed: $(tail -n5 "$d/provision.log")"; return 1; }
    echo "provisioned in $((SECONDS - started)) s" >>"$d/provision.log"
  fi
  mkdir -p "$d/run" "$d/tls" "$d/log"
  install_tls_for root "$d/tls" # each start: a regenerated test CA reaches the kept provision
  # Logs beside the rest of the state, not in /var/log/samba (also for a provision made before this line).
  grep -q '^[[:space:]]*log file' "$d/etc/smb.conf" ||
    sed -i "/^\[global\]/a log file = $d/log/samba.log" "$d/etc/smb.conf"
  # The provision does not write this option to smb.conf; without it an old password keeps working for 60 minutes.
  grep -q '^[[:space:]]*old password allowed period' "$d/etc/smb.conf" ||
    sed -i "/^\[global\]/a old password allowed period = 0" "$d/etc/smb.conf"
  rm -f "$d/run/"*.pid # samba, smbd, winbindd: none of ours is running (checked by the caller)
  samba -s "$d/etc/smb.conf" -D >"$d/samba.out" 2>&1 || { echo "samba exited $?: $(tail -n5 "$d/samba.out")"; return 1; }
  local p
  for p in 636 389; do
    wait_port $p 30 || { echo "port $p not open after 30 s (see $d/samba.out and $d/log/samba.log)"; return 1; }
  done
  local i
  for ((i = 0; i < 50; i++)); do [[ -s "$d/run/samba.pid" ]] && break; sleep 0.1; done
}

# ---------------------------------------------------------------- env.json

write_env() {
  local name first=1 out="$STATE/env.json.tmp" pgpw mdbpw
  umask 077
  {
    printf '{\n'
    for name in "${ALL_SERVERS[@]}"; do
      server_up "$name" || continue
      [[ $first -eq 1 ]] || printf ',\n'
      first=0
      printf '  "%s": {' "$name"
      case "$name" in
        ssh | telnet) printf '"host": "%s", "port": %s' "$HOST" "$(port_of "$name")" ;;
        postgresql)
          pgpw=$(<"$STATE/postgresql/superuser-password")
          printf '"host": "%s", "port": %s, "superuser": "postgres", "superuserPassword": "%s", "caFile": "%s"' \
            "$HOST" $PG_PORT "$pgpw" "$STATE/tls/ca.pem" ;;
        mariadb)
          mdbpw=$(<"$STATE/mariadb/root-password")
          printf '"host": "%s", "port": %s, "rootUser": "root", "rootPassword": "%s", "caFile": "%s"' \
            "$HOST" $MARIADB_PORT "$mdbpw" "$STATE/tls/ca.pem" ;;
        moto) printf '"endpoint": "http://%s:%s"' "$HOST" $MOTO_PORT ;;
        ldap)
          printf '"host": "%s", "port": %s, "ldapsPort": %s, "caFile": "%s", "baseDn": "%s", "clearBaseDn": "%s", ' \
            "$HOST" $LDAP_PORT $LDAPS_PORT "$STATE/tls/ca.pem" "$LDAP_BASE" "$LDAP_CLEAR_BASE"
          printf '"adminDn": "%s", "adminPassword": "%s", "rootDn": "%s", "rootPassword": "%s", ' \
            "$LDAP_PWADMIN_DN" "$(<"$STATE/ldap/pwadmin-password")" "cn=root,$LDAP_BASE" "$(<"$STATE/ldap/root-password")"
          printf '"clearRootDn": "%s", "clearRootPassword": "%s"' \
            "cn=root,$LDAP_CLEAR_BASE" "$(<"$STATE/ldap/clear-root-password")" ;;
        samba)
          printf '"host": "%s", "port": 389, "ldapsPort": 636, "caFile": "%s", "realm": "%s", "domain": "%s", ' \
            "$HOST" "$STATE/tls/ca.pem" $SAMBA_REALM $SAMBA_DOMAIN
          printf '"baseDn": "DC=rpr,DC=test", "adminUser": "Administrator", "adminPassword": "%s", "lockoutThreshold": %s' \
            "$(<"$STATE/samba/admin-password")" $SAMBA_LOCKOUT_THRESHOLD ;;
      esac
      if pid_alive "$(pidfile_of "$name")"; then printf ', "pidFile": "%s"' "$(pidfile_of "$name")"; fi
      printf '}'
    done
    printf '\n}\n'
  } > "$out"
  umask 022
  mv "$out" "$STATE/env.json"
}

# ---------------------------------------------------------------- commands

select_servers() { # NAME... -> SELECTED
  SELECTED=()
  local n
  if [[ $# -eq 0 ]]; then SELECTED=("${ALL_SERVERS[@]}"); return; fi
  for n in "$@"; do
    case " ${ALL_SERVERS[*]} " in *" $n "*) SELECTED+=("$n") ;; *) die "unknown server: $n" ;; esac
  done
}

lock_state() {
  mkdir -p "$STATE"
  chmod 755 "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 120 9 || die "another setup.sh holds $STATE/.lock"
}

cmd_start() {
  [[ $EUID -eq 0 ]] || die "start must run as root (it runs sshd, useradd and daemons as their own users)"
  select_servers "$@"
  lock_state
  ensure_tls
  ensure_unix_prereqs
  local name failed=0 results="$STATE/.start-results"
  rm -rf "$results"
  mkdir -p "$results"
  for name in "${SELECTED[@]}"; do
    (
      set +e
      if pid_alive "$(pidfile_of "$name")"; then
        echo "already running" > "$results/$name"
      elif [[ "$name" == moto ]] && port_open $MOTO_PORT && moto_answers; then
        mkdir -p "$STATE/moto" && touch "$STATE/moto/external"
        echo "already running (a moto_server not started by this script; left alone)" > "$results/$name"
      elif taken=$(taken_port "$name"); then
        echo "FAILED: port $taken is taken by a process this script did not start" > "$results/$name"
      else
        [[ "$name" != moto ]] || rm -f "$STATE/moto/external"
        reason=$("start_$name" 2>&1 9>&-)
        rc=$?
        if [[ $rc -eq 0 ]] && pid_alive "$(pidfile_of "$name")"; then
          echo "started" > "$results/$name"
        else
          echo "FAILED: ${reason:-no PID file after start}" | tr '\n' ' ' > "$results/$name"
        fi
      fi
    ) &
  done
  wait
  write_env
  for name in "${SELECTED[@]}"; do
    local r
    r=$(cat "$results/$name" 2>/dev/null || echo "FAILED: no result")
    printf '%-10s %s (%s:%s)\n' "$name:" "$r" "$HOST" "$(port_of "$name")"
    [[ "$r" == FAILED* ]] && failed=1
  done
  rm -rf "$results"
  return $failed
}

cmd_stop() {
  select_servers "$@"
  [[ -d "$STATE" ]] || { log "nothing to stop"; return 0; }
  lock_state
  local name pf sig session
  for name in "${SELECTED[@]}"; do
    pf=$(pidfile_of "$name")
    case "$name" in postgresql) sig=INT ;; *) sig=TERM ;; esac # INT: PostgreSQL's fast shutdown
    session=""
    if [[ "$name" == samba ]] && pid_alive "$pf"; then session=$(head -n1 "$pf" | tr -dc 0-9); fi
    if stop_pidfile "$pf" "$sig"; then
      # samba -D leads its own session: no task (smbd, winbindd, ldap, kdc...) may outlive it on our ports.
      if [[ -n "$session" ]] && pgrep -s "$session" >/dev/null; then
        sleep 1
        pkill -KILL -s "$session" 2>/dev/null || true
      fi
      printf '%-10s stopped\n' "$name:"
    elif [[ "$name" == moto && -e "$STATE/moto/external" ]]; then
      rm -f "$STATE/moto/external"
      printf '%-10s not started by this script; left running\n' "$name:"
    else
      printf '%-10s not running\n' "$name:"
    fi
  done
  write_env
}

cmd_status() {
  local name
  for name in "${ALL_SERVERS[@]}"; do
    if server_up "$name"; then
      printf '%-10s running (%s:%s)\n' "$name:" "$HOST" "$(port_of "$name")"
    else
      printf '%-10s not running\n' "$name:"
    fi
  done
}

cmd="${1:-}"
shift || true
case "$cmd" in
  install) cmd_install ;;
  installed) cmd_installed ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  status) cmd_status ;;
  *) die "usage: setup.sh install|installed|start [NAME...]|stop [NAME...]|status" ;;
esac
