#!/usr/bin/env bash
# Removes what deploy/gke/up.sh made: the GKE cluster (with every volume its
# workloads claimed), the Zot VM, its address and its firewall rule.
# usage: deploy/gke/down.sh [--dry-run] [--project ID] [--region R] [--zone Z]
#          [--cluster NAME] [--zot-vm NAME] [--keep-registry]
# The same environment variables as up.sh. --keep-registry keeps the VM (and
# the images in it). --dry-run prints every command and runs none.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DRY_RUN=0
KEEP_REGISTRY=0
PROJECT=${GCP_PROJECT:-}
REGION=${GKE_REGION:-us-central1}
ZONE=${GKE_ZONE:-}
CLUSTER=${GKE_CLUSTER:-weather-tweets}
ZOT_VM=${ZOT_VM:-zot-registry}
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --keep-registry) KEEP_REGISTRY=1 ;;
    --project) PROJECT=$2; shift ;;
    --region) REGION=$2; shift ;;
    --zone) ZONE=$2; shift ;;
    --cluster) CLUSTER=$2; shift ;;
    --zot-vm) ZOT_VM=$2; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "down.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
ZONE=${ZONE:-$REGION-a}
if [ -z "$PROJECT" ] && [ "$DRY_RUN" = 0 ]; then PROJECT=$(gcloud config get-value project 2>/dev/null || true); fi
if [ -z "$PROJECT" ]; then echo "down.sh: set the project: --project ID or GCP_PROJECT" >&2; exit 2; fi
G=(--project "$PROJECT")
run() { if [ "$DRY_RUN" = 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi; }
exists() { [ "$DRY_RUN" = 1 ] || "$@" >/dev/null 2>&1; }

# The namespaces first: their volume claims go, and with them the persistent disks (reclaim policy
# Delete), and the ingress's load balancer; a cluster deleted with claims left keeps those disks.
if exists gcloud container clusters describe "$CLUSTER" --zone "$ZONE" "${G[@]}"; then
  run gcloud container clusters get-credentials "$CLUSTER" --zone "$ZONE" "${G[@]}"
  run kubectl delete namespace tweets kafka rabbitmq valkey monitoring nginx-ingress --ignore-not-found --wait --timeout 15m
  run gcloud container clusters delete "$CLUSTER" --zone "$ZONE" --quiet "${G[@]}"
fi
if [ "$KEEP_REGISTRY" = 0 ]; then
  if exists gcloud compute instances describe "$ZOT_VM" --zone "$ZONE" "${G[@]}"; then
    run gcloud compute instances delete "$ZOT_VM" --zone "$ZONE" --quiet "${G[@]}"
  fi
  if exists gcloud compute firewall-rules describe "$ZOT_VM-allow" "${G[@]}"; then
    run gcloud compute firewall-rules delete "$ZOT_VM-allow" --quiet "${G[@]}"
  fi
  if exists gcloud compute addresses describe "$ZOT_VM-ip" --region "$REGION" "${G[@]}"; then
    run gcloud compute addresses delete "$ZOT_VM-ip" --region "$REGION" --quiet "${G[@]}"
  fi
  run rm -rf "$ROOT/.data/gke/$PROJECT-$CLUSTER"
fi
# Disks of volumes that outlived the cluster (a namespace that did not finish deleting):
echo "check for leftover disks: gcloud compute disks list --filter='name~^pvc-' --project $PROJECT"
