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
# shellcheck source=deploy/gke/lib.sh
. "$ROOT/deploy/gke/lib.sh"
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
ZOT_PORT=5000
SERVICES=(ingest-api dispatcher writer kafka-consumer rabbitmq-consumer)

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

say() { printf '\n== %s\n' "$*"; }
# run CMD...: runs it, or with --dry-run prints it (quoted as a shell would need it).
run() {
  if [ "$DRY_RUN" = 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}
# exists CMD...: whether a describe/get succeeds; with --dry-run nothing exists yet.
exists() {
  if [ "$DRY_RUN" = 1 ]; then return 1; fi
  "$@" >/dev/null 2>&1
}
# The prerequisites, all checked before anything runs; each missing one is named with where to get it.
MISSING=()
need() { command -v "$1" >/dev/null 2>&1 || MISSING+=("$1: $2"); }
need gcloud 'the Google Cloud CLI, https://cloud.google.com/sdk/docs/install'
need gke-gcloud-auth-plugin 'gcloud components install gke-gcloud-auth-plugin (Debian/Ubuntu: apt-get install google-cloud-cli-gke-gcloud-auth-plugin)'
need kubectl 'kubectl 1.34 or newer: gcloud components install kubectl'
need helm 'Helm 3.19 or newer, https://helm.sh/docs/intro/install/'
need openssl 'OpenSSL, to generate passwords'
need htpasswd 'the registry login is a bcrypt htpasswd line (Debian/Ubuntu: apache2-utils; Fedora: httpd-tools; macOS has it)'
need curl 'curl, to wait for the registry'
need git 'git, to tag the images with the commit'
need npm 'Node.js 18 or newer with npm (the project installs its own pinned Node.js)'
if [ "$SKIP_IMAGES" = 0 ]; then
  if [ -z "$ENGINE" ]; then
    if command -v podman >/dev/null 2>&1; then ENGINE=podman; elif command -v docker >/dev/null 2>&1; then ENGINE=docker; fi
  fi
  [ -n "$ENGINE" ] || MISSING+=('podman or docker: builds and pushes the images (https://podman.io/docs/installation); or --skip-images')
fi
# the load test's input file is pushed with oras, found on PATH or built with Go
command -v oras >/dev/null 2>&1 || need go 'oras (https://oras.land/docs/installation) or Go 1.24+ to build it'
if [ "${#MISSING[@]}" -gt 0 ]; then
  if [ "$DRY_RUN" = 0 ]; then
    printf 'up.sh: missing: %s\n' "${MISSING[@]}" >&2
    exit 1
  fi
  printf '# a real run would stop here, missing: %s\n' "${MISSING[@]}"
fi
ENGINE=${ENGINE:-podman}

if [ -z "$PROJECT" ] && [ "$DRY_RUN" = 0 ]; then PROJECT=$(gcloud config get-value project 2>/dev/null || true); fi
if [ -z "$PROJECT" ]; then echo "up.sh: set the project: --project ID or GCP_PROJECT" >&2; exit 2; fi
[ -f "$ROOT/deploy/k8s/overlays/$OVERLAY/kustomization.yaml" ] || { echo "up.sh: no overlay $OVERLAY in deploy/k8s/overlays" >&2; exit 2; }
for c in ${COMPONENTS//,/ }; do
  [ -f "$ROOT/deploy/k8s/components/$c/kustomization.yaml" ] || { echo "up.sh: no component $c in deploy/k8s/components" >&2; exit 2; }
done
# kafka-only last: it deletes what the other components may add or patch (deploy/k8s validates that order)
case ",$COMPONENTS," in
  *,kafka-only,*)
    ordered=''
    for c in ${COMPONENTS//,/ }; do [ "$c" = kafka-only ] || ordered="$ordered$c,"; done
    COMPONENTS="${ordered}kafka-only"
    ;;
esac
# includes DIR COMPONENT: whether the kustomization in DIR lists the component, or one of its components does
includes() {
  local path
  while read -r path; do
    if [ "${path##*/}" = "$2" ] || includes "$1/$path" "$2"; then return 0; fi
  done < <(sed -n '/^components:/,/^[a-z]/s/^  - //p' "$1/kustomization.yaml")
  return 1
}
# uses COMPONENT: whether the chosen components, or the overlay itself, include it
uses() { case ",$COMPONENTS," in *,"$1",*) return 0 ;; esac; includes "$ROOT/deploy/k8s/overlays/$OVERLAY" "$1"; }
KAFKA_ONLY=0; if uses kafka-only; then KAFKA_ONLY=1; fi
KUBEVIRT=0; if uses valkey-kubevirt; then KUBEVIRT=1; fi
# Where the registry's login, the generated kustomization and a run's progress are kept (gitignored).
STATE="$ROOT/.data/gke/$PROJECT-$CLUSTER"
PROGRESS="$STATE/progress"
if [ "$DRY_RUN" = 0 ]; then
  mkdir -p "$STATE" && chmod 700 "$STATE"
  if [ "$RESUME" = 0 ]; then rm -f "$PROGRESS"; fi
  touch "$PROGRESS"
fi
# The image tag: --tag, or the tag the run being resumed used, or the commit; a work tree with changes gets a
# tag of its own each run (-dirty-<UTC time>), so re-deploying changed code always rolls the pods.
if [ -z "$TAG" ] && [ "$RESUME" = 1 ] && [ -f "$PROGRESS" ]; then TAG=$(sed -n 's/^tag=//p' "$PROGRESS" | tail -n1); fi
if [ -z "$TAG" ]; then
  TAG=$(git -C "$ROOT" rev-parse --short HEAD)
  if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then TAG="$TAG-dirty-$(date -u +%Y%m%d%H%M%S)"; fi
fi
if [ "$DRY_RUN" = 0 ]; then echo "tag=$TAG" >> "$PROGRESS"; fi
# step N TITLE: prints the step's title; false when --resume skips it (the run resumed finished it).
STEP=0
step() {
  STEP=$1
  if [ "$RESUME" = 1 ] && grep -qx "done=$1" "$PROGRESS" 2>/dev/null; then say "$1. $2: done by the run resumed, skipped"; return 1; fi
  say "$1. $2"
}
done_step() { if [ "$DRY_RUN" = 0 ]; then echo "done=$STEP" >> "$PROGRESS"; fi; }
on_error() {
  echo "up.sh: step $STEP failed (above). Fix the cause, then run it again with --resume: the steps done are skipped, and every step is idempotent." >&2
  printf 'up.sh: %q' "$0" >&2; printf ' %q' "${ARGS[@]}" --resume >&2; printf '\n' >&2
}
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

CREDS="$STATE/zot-credentials"
NEW_CREDS=0
if [ ! -f "$CREDS" ] && [ "$DRY_RUN" = 0 ]; then
  printf 'tweets\n%s\n' "$(openssl rand -hex 24)" > "$CREDS"
  chmod 600 "$CREDS"
  NEW_CREDS=1
fi
if [ "$DRY_RUN" = 1 ]; then ZOT_USER=tweets; ZOT_PASSWORD='<generated>'; HTPASSWD='<bcrypt line>'; else
  ZOT_USER=$(sed -n 1p "$CREDS"); ZOT_PASSWORD=$(sed -n 2p "$CREDS")
  # the password on stdin, not on a command line
  HTPASSWD=$(printf '%s\n' "$ZOT_PASSWORD" | htpasswd -niB "$ZOT_USER" | head -n1)
fi

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
      --metadata-from-file "startup-script=$ROOT/deploy/gke/zot-startup.sh,zot-config=$ROOT/deploy/zot/config.json" \
      --metadata "zot-version=$ZOT_VERSION,zot-host=$ZOT_HOST,zot-htpasswd=$HTPASSWD,acme-email=$EMAIL" "${G[@]}"
  elif [ "$NEW_CREDS" = 1 ]; then
    # The VM exists but this checkout has no login for it (another clone or machine made it): a new login,
    # written to the VM's metadata; a restart runs the startup script, which installs it.
    echo "the VM $ZOT_VM exists and $CREDS did not: giving the registry a new login"
    run gcloud compute instances add-metadata "$ZOT_VM" --zone "$ZONE" --metadata "zot-htpasswd=$HTPASSWD" "${G[@]}"
    run gcloud compute instances reset "$ZOT_VM" --zone "$ZONE" "${G[@]}"
  fi
  say "   waiting for the registry to answer on https://$REGISTRY/v2/ (401: it asks for the login)"
  if [ "$DRY_RUN" = 1 ]; then
    run curl -s -o /dev/null -w '%{http_code}' "https://$REGISTRY/v2/"
  else
    code=''
    for _ in $(seq 1 180); do
      code=$(curl -s -o /dev/null -w '%{http_code}' "https://$REGISTRY/v2/" || true)
      [ "$code" = 401 ] && break
      sleep 10
    done
    if [ "$code" != 401 ]; then
      echo "up.sh: the registry did not come up in 30 minutes. The VM retries its certificate for about 2 hours (a shared name such as sslip.io can be rate-limited: --zot-host NAME in a zone of yours avoids that). See: gcloud compute ssh $ZOT_VM --zone $ZONE -- sudo journalctl -u google-startup-scripts -u zot" >&2
      false
    fi
  fi
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

if [ "$SKIP_IMAGES" = 1 ]; then say "4. The images: skipped (--skip-images; tag $TAG must be in the registry)"
elif step 4 "The images, built here for linux/amd64 with $ENGINE and pushed to Zot (tag $TAG)"; then
  run env "CONTAINER_ENGINE=$ENGINE" npm --prefix "$ROOT" run images -- --tag "$TAG" --platform linux/amd64
  if [ "$DRY_RUN" = 1 ]; then
    run "$ENGINE" login --username "$ZOT_USER" --password-stdin "$REGISTRY"
  else
    printf '%s' "$ZOT_PASSWORD" | "$ENGINE" login --username "$ZOT_USER" --password-stdin "$REGISTRY"
  fi
  for s in "${SERVICES[@]}"; do
    run "$ENGINE" tag "localhost/tweets/$s:$TAG" "$REGISTRY/tweets/$s:$TAG"
    run "$ENGINE" push "$REGISTRY/tweets/$s:$TAG"
  done
  done_step
fi

LOADTEST_ARTIFACT="$REGISTRY/tweets/loadtest:10000-seed1"
if step 4b "The load test's input file, pushed to Zot as an OCI artifact (docs/loadtest.md)"; then
  if [ "$DRY_RUN" = 1 ]; then
    echo "+ LOADTEST_REGISTRY_USER=$ZOT_USER LOADTEST_REGISTRY_PASSWORD=<generated> npm --prefix $ROOT run artifact -- push --count 10000 --seed 1 --to $REGISTRY"
  else
    LOADTEST_REGISTRY_USER=$ZOT_USER LOADTEST_REGISTRY_PASSWORD=$ZOT_PASSWORD npm --prefix "$ROOT" run artifact -- push --count 10000 --seed 1 --to "$REGISTRY"
  fi
  done_step
fi

if step 5 "Namespaces, then the operators and charts (versions: deploy/k8s/base/versions.env)"; then
  run kubectl "${K[@]}" apply --server-side -f "$ROOT/deploy/k8s/base/namespaces.yaml"
  # the ApplySet's parent type, then its parent: the system's objects are applied as one set (step 8)
  run kubectl "${K[@]}" apply --server-side -f "$ROOT/deploy/gke/applyset.yaml"
  run kubectl "${K[@]}" wait --for condition=established --timeout 60s crd/applysets.deploy.weather-tweets.io
  if [ "$DRY_RUN" = 1 ]; then echo "+ kubectl --context $KUBE_CONTEXT apply --server-side -f - (ApplySet ${APPLYSET_PARENT##*/})"; else applyset_parent; fi
  if [ "$KAFKA_ONLY" = 0 ]; then
    # the RabbitMQ operator and what it needs (cert-manager, for its webhooks); nothing of them with Kafka only
    run helm "${H[@]}" upgrade --install cert-manager oci://quay.io/jetstack/charts/cert-manager --version "v$CERT_MANAGER_VERSION" \
      --namespace cert-manager --create-namespace --set crds.enabled=true --wait --timeout 10m
    run kubectl "${K[@]}" apply --server-side -f "https://github.com/rabbitmq/cluster-operator/releases/download/v$RABBITMQ_OPERATOR_VERSION/cluster-operator.yml"
    run kubectl "${K[@]}" -n rabbitmq-system rollout status deployment/rabbitmq-cluster-operator --timeout 10m
  fi
  # The kafka namespace enforces Pod Security "restricted": Strimzi must give its pods (Kafka, the entity
  # operator) the restricted security context, not its default baseline one.
  run helm "${H[@]}" upgrade --install strimzi oci://quay.io/strimzi-helm/strimzi-kafka-operator --version "$STRIMZI_VERSION" \
    --namespace kafka --set 'extraEnvs[0].name=STRIMZI_POD_SECURITY_PROVIDER_CLASS' --set 'extraEnvs[0].value=restricted' \
    --wait --timeout 10m
  # The load balancer on the ingress's static address; the Ingresses name its host (deploy/k8s/base/ingress.yaml).
  run helm "${H[@]}" upgrade --install nginx-ingress oci://ghcr.io/nginx/charts/nginx-ingress --version "$NGINX_INGRESS_CHART_VERSION" \
    --namespace nginx-ingress --set controller.ingressClass.name=nginx --set controller.ingressClass.create=true \
    --set controller.service.type=LoadBalancer --set "controller.service.loadBalancerIP=$INGRESS_IP" --wait --timeout 10m
  if [ "$KUBEVIRT" = 1 ]; then
    # server-side: the operator's CRDs are large; the CR only once its CRD is established
    run kubectl "${K[@]}" apply --server-side -f "https://github.com/kubevirt/kubevirt/releases/download/v$KUBEVIRT_VERSION/kubevirt-operator.yaml"
    run kubectl "${K[@]}" wait --for condition=established --timeout 120s crd/kubevirts.kubevirt.io
    run kubectl "${K[@]}" apply --server-side -f "$ROOT/deploy/gke/kubevirt-cr.yaml"
    run kubectl "${K[@]}" -n kubevirt wait kv/kubevirt --for=condition=Available --timeout=15m
  fi
  run helm repo add grafana-community https://grafana-community.github.io/helm-charts --force-update
  run helm repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update
  done_step
fi

STEP=6
say "6. Secrets, generated here once and kept in the cluster (never in the repository)"
# secret NS NAME KEY: the value the cluster holds, or a new random one when it holds none. A cluster that
# cannot be asked stops the run (secret_value fails): a new password would not match the running stores'.
secret() {
  local v=''
  if [ "$DRY_RUN" = 0 ]; then v=$(secret_value "$1" "$2" "$3"); fi
  if [ -z "$v" ]; then v=$(openssl rand -hex 24 2>/dev/null || echo '<generated>'); fi
  printf '%s' "$v"
}
# apply_secret NS NAME ARGS...: kubectl create secret ... as an apply, so a second run updates instead of failing.
apply_secret() {
  local ns=$1 name=$2; shift 2
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ kubectl -n %q create secret %q %q' "$ns" "$1" "$name"; shift
    for a in "$@"; do printf ' %q' "${a%=*}=<value>"; done
    printf ' --dry-run=client -o yaml | kubectl apply -f -\n'
  else
    kc -n "$ns" create secret "$1" "$name" "${@:2}" --dry-run=client -o yaml | kc apply -f -
  fi
}
# apply_configmap NS NAME ARGS...: the same for a ConfigMap (not secret: printed as it is).
apply_configmap() {
  local ns=$1 name=$2; shift 2
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ kubectl -n %q create configmap %q' "$ns" "$name"; printf ' %q' "$@"; printf ' --dry-run=client -o yaml | kubectl apply -f -\n'
  else
    kc -n "$ns" create configmap "$name" "$@" --dry-run=client -o yaml | kc apply -f -
  fi
}
ADMIN_PW=$(secret valkey valkey-users admin-password)
WRITER_PW=$(secret valkey valkey-users writer-password)
READER_PW=$(secret valkey valkey-users reader-password)
RABBIT_PW=$(secret rabbitmq rabbitmq-app-user password)
GRAFANA_PW=$(secret monitoring grafana-admin admin-password)
apply_secret valkey valkey-users generic --from-literal=admin-password="$ADMIN_PW" \
  --from-literal=writer-password="$WRITER_PW" --from-literal=reader-password="$READER_PW"
apply_secret tweets valkey-users generic --from-literal=writer-password="$WRITER_PW" --from-literal=reader-password="$READER_PW"
apply_secret rabbitmq rabbitmq-app-user generic --from-literal=password="$RABBIT_PW"
apply_secret tweets rabbitmq-app generic --from-literal=url="amqp://tweets:$RABBIT_PW@rabbitmq.rabbitmq.svc.cluster.local:5672/"
apply_secret tweets registry-pull docker-registry --docker-server="$REGISTRY" --docker-username="$ZOT_USER" --docker-password="$ZOT_PASSWORD"
case ",$COMPONENTS," in
  *,locust,*)
    # the Locust Job's inputs: its namespace, the pull login for oras, the artifact's reference and the
    # ingress's host (the Ingresses route by host), the locustfile
    if [ "$DRY_RUN" = 1 ]; then echo "+ kubectl create namespace loadtest --dry-run=client -o yaml | kubectl apply -f -"
    else kc create namespace loadtest --dry-run=client -o yaml | kc apply -f -; fi
    apply_secret loadtest registry-pull docker-registry --docker-server="$REGISTRY" --docker-username="$ZOT_USER" --docker-password="$ZOT_PASSWORD"
    apply_configmap loadtest loadtest --from-literal=artifact="$LOADTEST_ARTIFACT" --from-literal=host="$INGRESS_HOST"
    apply_configmap loadtest locustfile --from-file="$ROOT/loadtest/locustfile.py" --from-file="$ROOT/loadtest/artifact.py"
    ;;
esac
apply_secret monitoring grafana-admin generic --from-literal=admin-user=admin --from-literal=admin-password="$GRAFANA_PW"

if step 7 "Prometheus and Grafana (Helm); Grafana's admin login from the Secret grafana-admin"; then
  run helm "${H[@]}" upgrade --install prometheus prometheus-community/prometheus --version "$PROMETHEUS_CHART_VERSION" \
    --namespace monitoring --values "$ROOT/deploy/gke/prometheus-values.yaml" --set "server.image.tag=v$PROMETHEUS_VERSION" \
    --wait --timeout 10m
  run helm "${H[@]}" upgrade --install grafana grafana-community/grafana --version "$GRAFANA_CHART_VERSION" \
    --namespace monitoring --values "$ROOT/deploy/gke/grafana-values.yaml" --set "grafana\\.ini.server.domain=$INGRESS_HOST" \
    --set "plugins[0]=yesoreyeram-infinity-datasource $INFINITY_PLUGIN_VERSION" --wait --timeout 10m
  done_step
fi

STEP=8
say "8. The system: deploy/k8s/overlays/$OVERLAY${COMPONENTS:+ with $COMPONENTS}, images from $REGISTRY, host $INGRESS_HOST"
DEPLOY="$STATE/kustomize"
# write_kustomization DIR: the overlay, the components, the images rewritten to Zot, the Ingresses' host.
write_kustomization() {
  # kustomize takes relative paths only: DIR is four folders below the repository's root
  local up=../../../..
  mkdir -p "$1"
  {
    echo 'apiVersion: kustomize.config.k8s.io/v1beta1'
    echo 'kind: Kustomization'
    echo 'resources:'
    echo "  - $up/deploy/k8s/overlays/$OVERLAY"
    if [ -n "$COMPONENTS" ]; then
      echo 'components:'
      for c in ${COMPONENTS//,/ }; do echo "  - $up/deploy/k8s/components/$c"; done
    fi
    echo 'images:'
    for s in "${SERVICES[@]}"; do
      printf '  - name: tweets/%s\n    newName: %s/tweets/%s\n    newTag: "%s"\n' "$s" "$REGISTRY" "$s" "$TAG"
    done
    echo 'patches:'
    echo '  - target: { kind: Ingress }'
    printf '    patch: |\n      - { op: replace, path: /spec/rules/0/host, value: "%s" }\n' "$INGRESS_HOST"
  } > "$1/kustomization.yaml"
}
if [ "$DRY_RUN" = 0 ]; then
  write_kustomization "$DEPLOY"
  apply_system "$DEPLOY"
else
  echo "+ write $DEPLOY/kustomization.yaml: overlays/$OVERLAY${COMPONENTS:+, components $COMPONENTS}, images tweets/* -> $REGISTRY/tweets/*:$TAG, Ingress host $INGRESS_HOST"
  echo "+ KUBECTL_APPLYSET=true kubectl --context $KUBE_CONTEXT apply --server-side --force-conflicts --field-manager=deploy-gke --prune --applyset=$APPLYSET_PARENT -k $DEPLOY"
  # With a reachable cluster in --context: the server's dry run of that apply (what it would create and prune).
  if [ "$CONTEXT_GIVEN" = 1 ] && kc get --raw /readyz >/dev/null 2>&1; then
    PLAN_DIR="$ROOT/.data/gke-plan/$PROJECT-$CLUSTER/kustomize"
    write_kustomization "$PLAN_DIR"
    { apply_system "$PLAN_DIR" --dry-run=server 2>&1 || echo "the server's dry run failed (above)"; } | sed '/client-side throttling/d; s/^/  server: /'
  fi
fi
done_step

STEP=9
say "9. Waiting until every part is ready"
run kubectl "${K[@]}" -n kafka wait kafka/tweets --for=condition=Ready --timeout=20m
if [ "$KAFKA_ONLY" = 0 ]; then
  run kubectl "${K[@]}" -n rabbitmq wait rabbitmqcluster/rabbitmq --for=condition=AllReplicasReady --timeout=15m
  run kubectl "${K[@]}" -n rabbitmq wait job/rabbitmq-app-user --for=condition=Complete --timeout=15m
fi
if [ "$KUBEVIRT" = 1 ]; then
  # the first boot installs Valkey in each VM: minutes
  run kubectl "${K[@]}" -n valkey wait vm/valkey-0 vm/valkey-1 --for=condition=Ready --timeout=30m
else
  run kubectl "${K[@]}" -n valkey rollout status statefulset/valkey --timeout=15m
fi
for d in ingest-api dispatcher writer-kafka writer-rabbitmq kafka-consumer rabbitmq-consumer; do
  if [ "$KAFKA_ONLY" = 1 ]; then case $d in *rabbitmq*) continue ;; esac; fi
  run kubectl "${K[@]}" -n tweets rollout status "deployment/$d" --timeout=10m
done

case ",$COMPONENTS," in
  *,locust,*) echo "the load test runs as the Job loadtest/locust: kubectl -n loadtest logs -f job/locust" ;;
esac

STEP=10
say "10. The ingress: http://$INGRESS_HOST (the load balancer on $INGRESS_IP)"
PATH_TRY=/tweets; BODY='{"municipality":"mixco","temperature":22,"humidity":60,"weather":"sunny"}'
if [ "$OVERLAY" = blackfriday ]; then PATH_TRY=/sales; BODY='{"categoria":"Electronica","producto_id":"SKU-1","precio":19.99,"cantidad_vendida":2}'; fi
if [ "$DRY_RUN" = 1 ]; then
  run curl -s -o /dev/null -w '%{http_code}' "http://$INGRESS_HOST/stats"
  echo "done (dry run): nothing was created"
else
  # the ingress answers once the load balancer and the controller have the Ingresses (a 404 is the controller's
  # default server: the Ingress was not taken)
  code=''
  for _ in $(seq 1 60); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$INGRESS_HOST/stats" || true)
    [ "$code" = 200 ] && break
    sleep 10
  done
  [ "$code" = 200 ] || { echo "up.sh: http://$INGRESS_HOST/stats answers ${code:-nothing}, not 200: kubectl ${K[*]} -n tweets describe ingress; kubectl ${K[*]} -n nginx-ingress logs deployment/nginx-ingress-controller" >&2; false; }
  echo "ingress: http://$INGRESS_HOST"
  echo "try it:  curl -s -X POST http://$INGRESS_HOST$PATH_TRY -H 'content-type: application/json' -d '$BODY'"
  echo "         curl -s http://$INGRESS_HOST/stats"
  echo "grafana: http://$INGRESS_HOST/grafana/ (user admin, password: kubectl ${K[*]} -n monitoring get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d)"
fi
