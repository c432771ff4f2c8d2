#!/usr/bin/env bash
# Deploys the whole system to Google Cloud: a GKE Standard cluster, a VM running
# the Zot registry (TLS and htpasswd login), the images built here and pushed
# there, the operators and charts, and deploy/k8s/overlays/gke (or another
# overlay: blackfriday) with the images rewritten to the registry. Idempotent: what exists is kept, what is missing is
# made. docs/deploy-gke.md walks through it.
#
# usage: deploy/gke/up.sh [--dry-run] [--project ID] [--region R] [--zone Z]
#          [--cluster NAME] [--nodes N] [--machine-type T] [--zot-vm NAME]
#          [--zot-host DNS-NAME] [--zot-source-ranges CIDRS] [--email ADDR]
#          [--overlay gke|blackfriday] [--components writers-2,valkey-hpa,...]
#          [--ingress-host DNS-NAME] [--tag TAG] [--skip-images] [--resume]
#          [--context KUBE-CONTEXT]
# Every flag has an environment variable (GCP_PROJECT, GKE_REGION, GKE_ZONE,
# GKE_CLUSTER, GKE_NODES, GKE_MACHINE_TYPE, ZOT_VM, ZOT_HOST, ZOT_SOURCE_RANGES,
# ACME_EMAIL, K8S_OVERLAY, K8S_COMPONENTS, INGRESS_HOST, IMAGE_TAG, KUBE_CONTEXT;
# CONTAINER_ENGINE picks podman or docker). Valkey in KubeVirt VMs (the
# blackfriday overlay, or the valkey-kubevirt component) adds a node pool with
# nested virtualization (KUBEVIRT_MACHINE_TYPE, an Intel type) and KubeVirt.
# --dry-run prints every command it would run, in order, and runs none; with
# --context naming a reachable cluster it also shows the server's dry run of
# the system's apply (what would be created, changed and pruned).
# --resume, after a failed run: skips the steps that run finished (same tag).
set -Eeuo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=deploy/k8s/base/versions.env
. "$ROOT/deploy/k8s/base/versions.env"
# shellcheck source=deploy/common/lib.sh
. "$ROOT/deploy/common/lib.sh"
# shellcheck source=deploy/common/plan.sh
. "$ROOT/deploy/common/plan.sh"
# shellcheck source=deploy/common/system.sh
. "$ROOT/deploy/common/system.sh"
ARGS=("$@")

DRY_RUN=0
PROJECT=${GCP_PROJECT:-}
REGION=${GKE_REGION:-us-central1}
ZONE=${GKE_ZONE:-}
CLUSTER=${GKE_CLUSTER:-weather-tweets}
NODES=${GKE_NODES:-3}
MACHINE_TYPE=${GKE_MACHINE_TYPE:-e2-standard-4}
ZOT_VM=${ZOT_VM:-zot-registry}
ZOT_HOST=${ZOT_HOST:-}
ZOT_SOURCE_RANGES=${ZOT_SOURCE_RANGES:-0.0.0.0/0}
EMAIL=${ACME_EMAIL:-}
OVERLAY=${K8S_OVERLAY:-gke}
COMPONENTS=${K8S_COMPONENTS:-}
KUBEVIRT_MACHINE_TYPE=${KUBEVIRT_MACHINE_TYPE:-n2-standard-4}
TAG=${IMAGE_TAG:-}
INGRESS_HOST=${INGRESS_HOST:-}
KUBE_CONTEXT=${KUBE_CONTEXT:-}
ENGINE=${CONTAINER_ENGINE:-}
SKIP_IMAGES=0
RESUME=0
FIELD_MANAGER='deploy-gke'
KUBEVIRT_CR="$ROOT/deploy/gke/kubevirt-cr.yaml"
MIRROR_IMAGES=()

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --project) PROJECT=$2; shift ;;
    --region) REGION=$2; shift ;;
    --zone) ZONE=$2; shift ;;
    --cluster) CLUSTER=$2; shift ;;
    --nodes) NODES=$2; shift ;;
    --machine-type) MACHINE_TYPE=$2; shift ;;
    --zot-vm) ZOT_VM=$2; shift ;;
    --zot-host) ZOT_HOST=$2; shift ;;
    --zot-source-ranges) ZOT_SOURCE_RANGES=$2; shift ;;
    --email) EMAIL=$2; shift ;;
    --overlay) OVERLAY=$2; shift ;;
    --components) COMPONENTS=$2; shift ;;
    --tag) TAG=$2; shift ;;
    --ingress-host) INGRESS_HOST=$2; shift ;;
    --context) KUBE_CONTEXT=$2; shift ;;
    --skip-images) SKIP_IMAGES=1 ;;
    --resume) RESUME=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "up.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
ZONE=${ZONE:-$REGION-a}
CONTEXT_GIVEN=0; if [ -n "$KUBE_CONTEXT" ]; then CONTEXT_GIVEN=1; fi

# The prerequisites, all checked before anything runs; each missing one is named with where to get it.
need gcloud 'the Google Cloud CLI, https://cloud.google.com/sdk/docs/install'
need gke-gcloud-auth-plugin 'gcloud components install gke-gcloud-auth-plugin (Debian/Ubuntu: apt-get install google-cloud-cli-gke-gcloud-auth-plugin)'
need kubectl 'kubectl 1.34 or newer: gcloud components install kubectl'
need helm 'Helm 3.19 or newer, https://helm.sh/docs/intro/install/'
need openssl 'OpenSSL, to generate passwords'
need htpasswd 'the registry login is a bcrypt htpasswd line (Debian/Ubuntu: apache2-utils; Fedora: httpd-tools; macOS has it)'
need curl 'curl, to wait for the registry'
need git 'git, to tag the images with the commit'
need npm 'Node.js 18 or newer with npm (the project installs its own pinned Node.js)'
need_engine
# the load test's input file is pushed with oras, found on PATH or built with Go
command -v oras >/dev/null 2>&1 || need go 'oras (https://oras.land/docs/installation) or Go 1.24+ to build it'
missing_stop
ENGINE=${ENGINE:-podman}

if [ -z "$PROJECT" ] && [ "$DRY_RUN" = 0 ]; then PROJECT=$(gcloud config get-value project 2>/dev/null || true); fi
if [ -z "$PROJECT" ]; then echo "up.sh: set the project: --project ID or GCP_PROJECT" >&2; exit 2; fi
check_components
# Where the registry's login, the generated kustomization and a run's progress are kept (gitignored).
STATE="$ROOT/.data/gke/$PROJECT-$CLUSTER"
PLAN_DIR="$ROOT/.data/gke-plan/$PROJECT-$CLUSTER/kustomize"
start_progress
trap on_error ERR
G=(--project "$PROJECT")

if step 1 "APIs: Kubernetes Engine and Compute Engine"; then
  run gcloud services enable container.googleapis.com compute.googleapis.com "${G[@]}"
  done_step
fi

# address NAME PLACEHOLDER: a regional static address, made if missing; its IP (the placeholder in a dry run).
address() {
  if ! exists gcloud compute addresses describe "$1" --region "$REGION" "${G[@]}"; then
    run gcloud compute addresses create "$1" --region "$REGION" "${G[@]}"
  fi
  if [ "$DRY_RUN" = 1 ]; then echo "$2"; else gcloud compute addresses describe "$1" --region "$REGION" --format='value(address)' "${G[@]}"; fi
}
# Two static addresses: the registry's VM, and the ingress controller's load balancer. A name that resolves to
# each without a DNS zone of your own (sslip.io), unless --zot-host / --ingress-host names one.
say "   addresses: the registry's and the ingress's"
ZOT_IP=$(address "$ZOT_VM-ip" 203.0.113.10 | tail -n1)
INGRESS_IP=$(address "$CLUSTER-ingress" 203.0.113.20 | tail -n1)
if [ "$DRY_RUN" = 1 ]; then
  run gcloud compute addresses create "$ZOT_VM-ip" --region "$REGION" "${G[@]}"
  run gcloud compute addresses create "$CLUSTER-ingress" --region "$REGION" "${G[@]}"
fi
ZOT_HOST=${ZOT_HOST:-${ZOT_IP//./-}.sslip.io}
INGRESS_HOST=${INGRESS_HOST:-${INGRESS_IP//./-}.sslip.io}
REGISTRY="$ZOT_HOST:$ZOT_PORT"
echo "registry: $REGISTRY ($ZOT_IP); ingress: http://$INGRESS_HOST ($INGRESS_IP)"

zot_login

if step 2 "The Zot registry's VM: a firewall rule, the VM, its login"; then
  if ! exists gcloud compute firewall-rules describe "$ZOT_VM-allow" "${G[@]}"; then
    # 80: the ACME HTTP-01 challenge that gets the TLS certificate; 5000: the registry, TLS and login only
    run gcloud compute firewall-rules create "$ZOT_VM-allow" --network default --direction INGRESS \
      --allow "tcp:80,tcp:$ZOT_PORT" --target-tags "$ZOT_VM" --source-ranges "$ZOT_SOURCE_RANGES" "${G[@]}"
  fi
  if ! exists gcloud compute instances describe "$ZOT_VM" --zone "$ZONE" "${G[@]}"; then
    run gcloud compute instances create "$ZOT_VM" --zone "$ZONE" --machine-type e2-small \
      --image-family debian-12 --image-project debian-cloud --boot-disk-size 50GB --boot-disk-type pd-balanced \
      --address "$ZOT_IP" --tags "$ZOT_VM" \
      --metadata-from-file "startup-script=$ROOT/deploy/zot/startup.sh,zot-config=$ROOT/deploy/zot/config.json" \
      --metadata "zot-version=$ZOT_VERSION,zot-host=$ZOT_HOST,zot-htpasswd=$HTPASSWD,acme-email=$EMAIL" "${G[@]}"
  elif [ "$NEW_CREDS" = 1 ]; then
    # The VM exists but this checkout has no login for it (another clone or machine made it): a new login,
    # written to the VM's metadata; a restart runs the startup script, which installs it.
    echo "the VM $ZOT_VM exists and $CREDS did not: giving the registry a new login"
    run gcloud compute instances add-metadata "$ZOT_VM" --zone "$ZONE" --metadata "zot-htpasswd=$HTPASSWD" "${G[@]}"
    run gcloud compute instances reset "$ZOT_VM" --zone "$ZONE" "${G[@]}"
  fi
  wait_registry "gcloud compute ssh $ZOT_VM --zone $ZONE -- sudo journalctl -u google-startup-scripts -u zot"
  done_step
fi

if step 3 "The GKE Standard cluster (Dataplane V2 enforces the NetworkPolicies)"; then
  if ! exists gcloud container clusters describe "$CLUSTER" --zone "$ZONE" "${G[@]}"; then
    run gcloud container clusters create "$CLUSTER" --zone "$ZONE" --release-channel regular \
      --num-nodes "$NODES" --machine-type "$MACHINE_TYPE" --disk-size 50 \
      --enable-dataplane-v2 --workload-pool "$PROJECT.svc.id.goog" "${G[@]}"
  fi
  if [ "$KUBEVIRT" = 1 ] && ! exists gcloud container node-pools describe kubevirt --cluster "$CLUSTER" --zone "$ZONE" "${G[@]}"; then
    # Valkey's VMs need /dev/kvm: nested virtualization, which needs an Intel-based machine type
    run gcloud container node-pools create kubevirt --cluster "$CLUSTER" --zone "$ZONE" \
      --machine-type "$KUBEVIRT_MACHINE_TYPE" --num-nodes 2 --enable-nested-virtualization --disk-size 50 "${G[@]}"
  fi
  if [ "$KUBEVIRT" = 0 ] && exists gcloud container node-pools describe kubevirt --cluster "$CLUSTER" --zone "$ZONE" "${G[@]}"; then
    echo "note: the node pool kubevirt is still there and nothing of this overlay uses it; it bills until: gcloud container node-pools delete kubevirt --cluster $CLUSTER --zone $ZONE --project $PROJECT"
  fi
  done_step
fi
# Every kubectl and helm call names the cluster's context, whatever the current one is.
run gcloud container clusters get-credentials "$CLUSTER" --zone "$ZONE" "${G[@]}"
KUBE_CONTEXT=${KUBE_CONTEXT:-gke_${PROJECT}_${ZONE}_${CLUSTER}}
H=(--kube-context "$KUBE_CONTEXT")
K=(--context "$KUBE_CONTEXT")

# 4-10: what every cloud does alike once it has a registry and a cluster (deploy/common/system.sh); GKE gives
# the ingress controller's load balancer its static address.
NIC_ARGS=(--set "controller.service.loadBalancerIP=$INGRESS_IP")
INGRESS_WHERE="the load balancer on $INGRESS_IP"
images_step
artifact_step
operators_step
secrets_step
charts_step
system_step
waits_step
ingress_step
