#!/bin/sh
# The topics of the base's KafkaTopic resources, as Strimzi's Topic Operator would make them: each
# created if it is missing, with its partitions, replicas and settings (TOPICS: name:partitions:replicas
# [:config=value,...], one per word); one that exists is left as it is.
set -eu
tool() {
  java -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties -cp '/opt/kafka/libs/*' org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP" "$@"
}
for t in $TOPICS; do
  name=$(echo "$t" | cut -d: -f1)
  partitions=$(echo "$t" | cut -d: -f2)
  replicas=$(echo "$t" | cut -d: -f3)
  configs=$(echo "$t" | cut -d: -f4 | tr , ' ')
  set --
  for c in $configs; do set -- "$@" --config "$c"; done
  tool --create --if-not-exists --topic "$name" --partitions "$partitions" --replication-factor "$replicas" "$@"
done
tool --describe
