# Shared by the benchmark scripts of spate-bench (source it after setting ROOT, JAVA, LIB, CP and
# LOG4J, and PIDS=() for the brokers to kill on exit). Functions:
#   fetch_kafka_lib            Apache Kafka 4.4.0, its tools and kafka-streams into $LIB (once)
#   tool CLASS ARGS...         a Java main on $CP (Kafka's jars + spate-bench's classes), quiet log4j
#   free_port                  a free TCP port on 127.0.0.1
#   free_base_port [GROUPS]    P with P..P+2, P+100..P+102 (and so on, GROUPS [2] groups) free on
#                              127.0.0.1, below the kernel's ephemeral range: a local cluster's ports
#   kafka_command DIR PORT     writes DIR/server.properties (single KRaft broker+controller; extra
#                              lines from $KAFKA_EXTRA_PROPS), formats the storage; sets CMD
#   spate_command DIR PORT     sets CMD to `spate start` on DIR/data
#   start_broker B DIR PORT    starts kafka|spate through FirstProduceProbe; sets BROKER_PID, STARTUP_MS
#   stop_broker                SIGTERM to $BROKER_PID, SIGKILL after 30 s

fetch_kafka_lib() {
  if ! ls "$LIB"/kafka_2.13-4.4.0.jar "$LIB"/kafka-streams-4.4.0.jar >/dev/null 2>&1; then
    echo "bench: fetching Apache Kafka 4.4.0 and its tools from Maven Central into $LIB"
    (cd "$ROOT" && ./mvnw -q -B -f spate-bench/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory="$LIB" -DincludeScope=runtime)
  fi
}

tool() { "$JAVA" -Xmx512m -Dlog4j2.configurationFile="$LOG4J" -cp "$CP" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

free_base_port() {   # [groups] -> P with P+100*g..P+100*g+2 free on 127.0.0.1 for every g < groups (2)
  python3 - "${1:-2}" <<'PY'
import random, socket, sys
groups = int(sys.argv[1])
# Below the kernel's ephemeral range: a node's outgoing connections (Raft, fetches) are given ports
# from that range, and one took a later node's controller port before it was bound.
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
for _ in range(200):
    base = random.randrange(10000, max(10001, low - 100 * (groups - 1) - 3))
    socks, ok = [], True
    for p in [base + 100 * g + d for g in range(groups) for d in (0, 1, 2)]:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p)); socks.append(s)
        except OSError:
            ok = False; s.close(); break
    for s in socks: s.close()
    if ok:
        print(base); break
PY
}

kafka_command() {   # dir port -> writes config, formats storage, prints nothing; sets CMD
  local dir="$1" port="$2" cport; cport="$(free_port)"
  mkdir -p "$dir/data" "$dir/logs"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
PROPS
  if [[ -n "${KAFKA_EXTRA_PROPS:-}" ]]; then printf '%s\n' $KAFKA_EXTRA_PROPS >>"$dir/server.properties"; fi
  tool kafka.tools.StorageTool format -t "$(tool kafka.tools.StorageTool random-uuid | tail -1)" -c "$dir/server.properties" --standalone >"$dir/format.log" 2>&1
  # JVM flags of kafka-server-start.sh / kafka-run-class.sh
  CMD=("$JAVA" -Xmx1g -Xms1g -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true -Dkafka.logs.dir="$dir/logs"
    -Dlog4j2.configurationFile="$LOG4J" -cp "$CP" kafka.Kafka "$dir/server.properties")
}

spate_command() {   # dir port -> sets CMD
  # shellcheck disable=SC2206 # $SPATE_START_ARGS: extra flags, split on spaces
  CMD=("$ROOT/spate" start --data-dir "$1/data" --port "$2" ${SPATE_START_ARGS:-})
}

start_broker() {   # broker dir port -> starts through the probe; sets BROKER_PID and STARTUP_MS
  local broker="$1" dir="$2" port="$3"
  if [[ "$broker" == kafka ]]; then kafka_command "$dir" "$port"; else spate_command "$dir" "$port"; fi
  tool io.spate.bench.FirstProduceProbe "127.0.0.1:$port" startup-probe "$dir/broker.log" -- "${CMD[@]}" >"$dir/startup.log" 2>&1
  BROKER_PID="$(awk '/BROKER_PID/ {print $2}' "$dir/startup.log")"; PIDS+=("$BROKER_PID")
  STARTUP_MS="$(awk '/FIRST_PRODUCE_MS/ {print $2}' "$dir/startup.log")"
}

stop_broker() {
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$BROKER_PID" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$BROKER_PID" 2>/dev/null || true
}
