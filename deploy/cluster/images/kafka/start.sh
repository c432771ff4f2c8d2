#!/bin/sh
# One Kafka node of the StatefulSet tweets-dual: KRaft controller and broker, its id its pod's ordinal, the
# quorum every node of the StatefulSet (KAFKA_REPLICAS), each advertised by its name under the headless
# Service. Replication as the base's Kafka resource asks, bounded by the nodes there are: three copies
# and two in sync for a write where there are three nodes.
set -eu
pod=$(cat /proc/sys/kernel/hostname)
id=${pod##*-}
domain=tweets-kafka-brokers.kafka.svc.cluster.local
replicas=${KAFKA_REPLICAS:-1}
rf=$((replicas < 3 ? replicas : 3))
isr=$((rf > 1 ? 2 : 1))
voters=""
i=0
while [ "$i" -lt "$replicas" ]; do
  voters="${voters:+$voters,}$i@tweets-dual-$i.$domain:9090"
  i=$((i + 1))
done
cat > /tmp/server.properties <<PROPS
node.id=$id
process.roles=broker,controller
listeners=PLAIN://:9092,REPLICATION://:9091,CONTROLLER://:9090
advertised.listeners=PLAIN://$pod.$domain:9092,REPLICATION://$pod.$domain:9091
listener.security.protocol.map=PLAIN:PLAINTEXT,REPLICATION:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=REPLICATION
controller.listener.names=CONTROLLER
controller.quorum.voters=$voters
log.dirs=/var/lib/kafka/data
num.partitions=6
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
log.cleaner.dedupe.buffer.size=16777216
PROPS
if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  java -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format \
    -t "$KAFKA_CLUSTER_ID" -c /tmp/server.properties
fi
# shellcheck disable=SC2086 # the heap flags are words
exec java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
  -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties -cp '/opt/kafka/libs/*' kafka.Kafka /tmp/server.properties
