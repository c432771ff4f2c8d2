#!/usr/bin/env bash
# Removes what deploy/gke/up.sh made: the GKE cluster (with every volume its
# workloads claimed), the ingress's address, the Zot VM, its address and its
# firewall rule.
# usage: deploy/gke/down.sh [--dry-run] [--project ID] [--region R] [--zone Z]
#          [--cluster NAME] [--zot-vm NAME] [--keep-registry] [--context KUBE-CONTEXT]
# The same environment variables as up.sh. --keep-registry keeps the VM (and
# the images in it). --dry-run prints every command and runs none.
# It does not stop half-way: a namespace that does not finish deleting in time
# is reported and the cluster is deleted anyway; the disks of the volumes that
# were still there are then deleted by name, so nothing is left billing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=deploy/common/lib.sh
. "$ROOT/deploy/common/lib.sh"
DRY_RUN=0
KEEP_REGISTRY=0
PROJECT=${GCP_PROJECT:-}
REGION=${GKE_REGION:-us-central1}
ZONE=${GKE_ZONE:-}
CLUSTER=${GKE_CLUSTER:-weather-tweets}
ZOT_VM=${ZOT_VM:-zot-registry}
KUBE_CONTEXT=${KUBE_CONTEXT:-}
# How long to wait for what the cluster deletes itself (finalizers, volumes), in seconds each.
WAIT=${DOWN_WAIT_SECONDS:-600}
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --keep-registry) KEEP_REGISTRY=1 ;;
    --project) PROJECT=$2; shift ;;
    --region) REGION=$2; shift ;;
    --zone) ZONE=$2; shift ;;
    --cluster) CLUSTER=$2; shift ;;
    --zot-vm) ZOT_VM=$2; shift ;;
    --context) KUBE_CONTEXT=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
say() { printf '\n== %s\n' "$*"; }
# disks_of_volumes: the Compute Engine disks behind the cluster's persistent volumes, one "ZONE DISK" a line.
disks_of_volumes() {
  kc get pv -o 'jsonpath={range .items[*]}{.spec.csi.volumeHandle}{"\n"}{end}' 2>/dev/null |
    sed -n 's#^projects/[^/]*/zones/\([^/]*\)/disks/\([^/]*\)$#\1 \2#p'
}

DISKS=''
if exists gcloud container clusters describe "$CLUSTER" --zone "$ZONE" "${G[@]}"; then
  run gcloud container clusters get-credentials "$CLUSTER" --zone "$ZONE" "${G[@]}"
  KUBE_CONTEXT=${KUBE_CONTEXT:-gke_${PROJECT}_${ZONE}_${CLUSTER}}
  if [ "$DRY_RUN" = 1 ]; then
    echo "+ kubectl --context $KUBE_CONTEXT delete ${FINALIZED[*]} --all (finalizers removed after ${WAIT} s), then namespace ${NAMESPACES[*]}, then wait for every PersistentVolume to go (each wait at most ${WAIT} s)"
  else
    empty_cluster
    DISKS=$(disks_of_volumes)
  fi
  run gcloud container clusters delete "$CLUSTER" --zone "$ZONE" --quiet "${G[@]}"
fi
# Disks of volumes that outlived their claims (the cluster was deleted before the CSI driver got to them).
while read -r zone disk; do
  [ -n "$disk" ] || continue
  if exists gcloud compute disks describe "$disk" --zone "$zone" "${G[@]}"; then
    run gcloud compute disks delete "$disk" --zone "$zone" --quiet "${G[@]}"
  fi
done <<< "$DISKS"
if exists gcloud compute addresses describe "$CLUSTER-ingress" --region "$REGION" "${G[@]}"; then
  run gcloud compute addresses delete "$CLUSTER-ingress" --region "$REGION" --quiet "${G[@]}"
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
echo "check for anything left: gcloud compute disks list --filter='name~^pvc-' --project $PROJECT"
