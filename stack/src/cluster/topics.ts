/**
 * What the operators would do with their custom resources, done when `npm run cluster` applies a build to
 * the local node, where no operator runs: the custom resources themselves are left out (their definitions
 * are not installed), and the KafkaTopics become the topics Job's list (overlays/local/kafka.yaml), as
 * Strimzi's Topic Operator would make them: name, partitions, replicas and settings, the replicas (and the
 * in-sync minimum) bounded by the brokers there are.
 */

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: any;
}

/** The API groups of the operators the local node does not run. */
export const OPERATOR_GROUPS = ['kafka.strimzi.io', 'rabbitmq.com', 'kubevirt.io'];

const ofOperator = (o: Obj) => OPERATOR_GROUPS.includes(o.apiVersion.split('/')[0]!);

/** The Job's TOPICS: one `name:partitions:replicas:key=value,...` per KafkaTopic, for `brokers` brokers. */
export function topicsOf(objs: Obj[], brokers: number): string {
  return objs
    .filter((o) => o.kind === 'KafkaTopic')
    .map((t) => {
      const rf = Math.min(t.spec.replicas, brokers);
      const config = { ...t.spec.config, 'min.insync.replicas': Math.min(t.spec.config?.['min.insync.replicas'] ?? 1, rf) };
      return [
        t.spec.topicName ?? t.metadata.name,
        t.spec.partitions,
        rf,
        Object.entries(config)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      ].join(':');
    })
    .join(' ');
}

const env = (o: Obj, name: string) =>
  o.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === name) as { value: string } | undefined;

/** The objects as the local node takes them: no custom resource of an operator, the topics Job listing the KafkaTopics. */
export function forLocalNode<T extends Obj>(objs: T[]): T[] {
  const brokers = Number(
    env(
      objs.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'tweets-dual')!,
      'KAFKA_REPLICAS',
    )?.value ?? 1,
  );
  const topics = topicsOf(objs, brokers);
  return objs
    .filter((o) => !ofOperator(o))
    .map((o) => {
      if (o.kind !== 'Job' || o.metadata.name !== 'kafka-topics') return o;
      const copy = structuredClone(o);
      env(copy, 'TOPICS')!.value = topics;
      return copy;
    });
}
