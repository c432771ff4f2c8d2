#!/usr/bin/env bash
# Functions every deploy/<cloud>/up.sh and down.sh share, sourced by them (and by
# test/integration/gke.test.ts, which runs them against a validation API server).
# They use kubectl as it is on PATH, with $KUBE_CONTEXT when it is set.

# kc ARGS...: kubectl, in the deployment's context when one is set.
kc() { kubectl ${KUBE_CONTEXT:+--context "$KUBE_CONTEXT"} "$@"; }

# secret_value NS NAME KEY: the value a Secret holds under KEY; empty when the Secret or the key is absent.
# Fails (non-zero, the error on stderr) when the cluster cannot be asked: a transient error must not be
# taken for "absent", or the caller would generate a new password the running stores do not know.
secret_value() {
  local out
  out=$(kc -n "$1" get secret "$2" --ignore-not-found -o "jsonpath={.data.$3}") || {
    echo "cannot read the Secret $1/$2 (kubectl failed above); not generating a new value" >&2
    return 1
  }
  if [ -n "$out" ]; then printf '%s' "$out" | base64 -d; fi
}

# The ApplySet every object of the system belongs to: a cluster-scoped parent (deploy/common/applyset.yaml), so
# one set spans every namespace. An apply prunes what the set had and the manifests no longer have (a
# component removed, another overlay).
APPLYSET_PARENT=${APPLYSET_PARENT:-applysets.deploy.weather-tweets.io/weather-tweets}

# applyset_parent: the set's parent object (its type: deploy/common/applyset.yaml, established first). kubectl
# creates no custom-resource parent itself, and takes an existing one only with its tooling annotation and
# its id label: base64url(sha256("<name>.<namespace>.<kind>.<group>")), as kubectl's applyset.go computes it.
applyset_parent() {
  local name=${APPLYSET_PARENT##*/} id
  id=$(printf '%s..ApplySet.deploy.weather-tweets.io' "$name" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '=')
  # made once: kubectl keeps the set's kinds and namespaces in its annotations, which a re-apply would reset
  if kc get "$APPLYSET_PARENT" >/dev/null 2>&1; then return 0; fi
  printf 'apiVersion: deploy.weather-tweets.io/v1\nkind: ApplySet\nmetadata:\n  name: %s\n  labels: { applyset.kubernetes.io/id: applyset-%s-v1 }\n  annotations:\n    applyset.kubernetes.io/tooling: kubectl/v1\n    applyset.kubernetes.io/contains-group-kinds: ""\n' "$name" "$id" |
    kc create -f -
}

# apply_system DIR [KUBECTL-FLAGS...]: server-side apply of the kustomization DIR as the ApplySet, with prune.
# A Job whose template changed is immutable: it is deleted and the apply run again (its work is idempotent).
apply_system() {
  local dir=$1 out jobs job ns
  shift
  if out=$(apply_once "$dir" "$@" 2>&1); then printf '%s\n' "$out"; return 0; fi
  jobs=$(printf '%s\n' "$out" | sed -n 's/.*Job\.batch "\([^"]*\)" is invalid: spec\.template.*field is immutable.*/\1/p' | sort -u)
  if [ -z "$jobs" ]; then printf '%s\n' "$out" >&2; return 1; fi
  for job in $jobs; do
    for ns in $(kc get jobs --all-namespaces --field-selector "metadata.name=$job" -o 'jsonpath={.items[*].metadata.namespace}'); do
      echo "the Job $ns/$job changed (a Job's template is immutable): deleting it, to be created again"
      if [[ " $* " == *" --dry-run=server "* ]]; then continue; fi
      kc -n "$ns" delete job "$job" --wait --timeout 2m
    done
  done
  if [[ " $* " == *" --dry-run=server "* ]]; then printf '%s\n' "$out" | grep -v 'field is immutable' || true; return 0; fi
  apply_once "$dir" "$@"
}

apply_once() {
  local dir=$1
  shift
  KUBECTL_APPLYSET=true kc apply --server-side --force-conflicts --field-manager="${FIELD_MANAGER:-deploy-gke}" \
    --prune --applyset="$APPLYSET_PARENT" -k "$dir" "$@"
}

# ---------------------------------------------------------------------------
# Teardown (deploy/<cloud>/down.sh), with WAIT: how long to wait for what the cluster deletes itself

# The namespaces up.sh's manifests make (loadtest: the locust component).
NAMESPACES=(tweets kafka rabbitmq valkey monitoring nginx-ingress loadtest)
# Custom resources whose operator removes a finalizer when it deletes them: deleted while the operators run.
FINALIZED=(kafkatopics.kafka.strimzi.io kafkausers.kafka.strimzi.io)

# empty_cluster: deletes the workloads so the volumes' disks and the load balancer go with them. Bounded:
# what is still there after $WAIT s is reported, never a reason to stop.
empty_cluster() {
  local kind left o
  say "the operators' custom resources first, while their operators still run"
  for kind in "${FINALIZED[@]}"; do
    if ! kc get crd "$kind" >/dev/null 2>&1; then continue; fi
    kc delete "$kind" --all-namespaces --all --wait=false || true
    kc wait "$kind" --all-namespaces --all --for=delete --timeout "${WAIT}s" >/dev/null 2>&1 || true
    left=$(kc get "$kind" --all-namespaces -o 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {end}' 2>/dev/null || true)
    if [ -n "$left" ]; then
      # the operator did not release them (gone already, or failing): their finalizers would hold the namespace
      echo "down.sh: $kind still there after ${WAIT} s ($left): removing their finalizers"
      for o in $left; do kc -n "${o%%/*}" patch "$kind" "${o#*/}" --type merge -p '{"metadata":{"finalizers":null}}' || true; done
    fi
  done
  say "the namespaces (their volume claims, and so their disks; the ingress's load balancer)"
  kc delete namespace "${NAMESPACES[@]}" --ignore-not-found --wait=false || true
  kc wait namespace "${NAMESPACES[@]}" --for=delete --timeout "${WAIT}s" >/dev/null 2>&1 ||
    echo "down.sh: not every namespace finished deleting in ${WAIT} s: $(kc get namespace "${NAMESPACES[@]}" --ignore-not-found -o name 2>/dev/null | tr '\n' ' ')- going on"
  say "waiting for the volumes' disks to be deleted (the CSI driver deletes them after their claims)"
  kc wait pv --all --for=delete --timeout "${WAIT}s" >/dev/null 2>&1 ||
    echo "down.sh: volumes still there after ${WAIT} s: their disks are deleted by name after the cluster"
}
