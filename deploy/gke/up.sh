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
#          [--tag TAG] [--skip-images]
# Every flag has an environment variable (GCP_PROJECT, GKE_REGION, GKE_ZONE,
# GKE_CLUSTER, GKE_NODES, GKE_MACHINE_TYPE, ZOT_VM, ZOT_HOST, ZOT_SOURCE_RANGES,
# ACME_EMAIL, K8S_OVERLAY, K8S_COMPONENTS, IMAGE_TAG). Valkey in KubeVirt VMs
# (the blackfriday overlay, or the valkey-kubevirt component) adds a node pool
# with nested virtualization (KUBEVIRT_MACHINE_TYPE, an Intel type) and KubeVirt.
# --dry-run prints every command it would run, in order, and runs none.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=deploy/k8s/base/versions.env
. "$ROOT/deploy/k8s/base/versions.env"

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
SKIP_IMAGES=0
ZOT_PORT=5000
SERVICES=(ingest-api dispatcher writer kafka-consumer rabbitmq-consumer)

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
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
    --skip-images) SKIP_IMAGES=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "up.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
ZONE=${ZONE:-$REGION-a}

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
need() { command -v "$1" >/dev/null 2>&1 || { echo "up.sh: $1 is required ($2)" >&2; exit 1; }; }

if [ -z "$PROJECT" ] && [ "$DRY_RUN" = 0 ]; then PROJECT=$(gcloud config get-value project 2>/dev/null || true); fi
if [ -z "$PROJECT" ]; then echo "up.sh: set the project: --project ID or GCP_PROJECT" >&2; exit 2; fi
if [ -z "$TAG" ]; then
  TAG=$(git -C "$ROOT" rev-parse --short HEAD)
  if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then TAG="$TAG-dirty"; fi
fi
[ -f "$ROOT/deploy/k8s/overlays/$OVERLAY/kustomization.yaml" ] || { echo "up.sh: no overlay $OVERLAY in deploy/k8s/overlays" >&2; exit 2; }
for c in ${COMPONENTS//,/ }; do
  [ -f "$ROOT/deploy/k8s/components/$c/kustomization.yaml" ] || { echo "up.sh: no component $c in deploy/k8s/components" >&2; exit 2; }
done
# uses COMPONENT: whether the chosen components, or the overlay itself, include it
uses() { case ",$COMPONENTS," in *,"$1",*) return 0 ;; esac; grep -q "components/$1\$" "$ROOT/deploy/k8s/overlays/$OVERLAY/kustomization.yaml"; }
KAFKA_ONLY=0; if uses kafka-only; then KAFKA_ONLY=1; fi
KUBEVIRT=0; if uses valkey-kubevirt; then KUBEVIRT=1; fi
if [ "$DRY_RUN" = 0 ]; then
  need gcloud 'the Google Cloud CLI'
  need kubectl 'kubectl 1.34 or newer'
  need helm 'Helm 3.19 or newer'
  need openssl 'to generate passwords'
  need htpasswd 'apache2-utils: the registry login is a bcrypt htpasswd line'
  [ "$SKIP_IMAGES" = 1 ] || need podman 'Podman builds and pushes the images (npm run images)'
fi
# Where the registry's login and the generated kustomization are kept (gitignored).
STATE="$ROOT/.data/gke/$PROJECT-$CLUSTER"
if [ "$DRY_RUN" = 0 ]; then mkdir -p "$STATE" && chmod 700 "$STATE"; fi
G=(--project "$PROJECT")

say "1. APIs: Kubernetes Engine and Compute Engine"
run gcloud services enable container.googleapis.com compute.googleapis.com "${G[@]}"

say "2. The Zot registry's VM: a static address, a DNS name for it, a firewall rule, the VM"
if ! exists gcloud compute addresses describe "$ZOT_VM-ip" --region "$REGION" "${G[@]}"; then
  run gcloud compute addresses create "$ZOT_VM-ip" --region "$REGION" "${G[@]}"
fi
if [ "$DRY_RUN" = 1 ]; then ZOT_IP=203.0.113.10; else
  ZOT_IP=$(gcloud compute addresses describe "$ZOT_VM-ip" --region "$REGION" --format='value(address)' "${G[@]}")
fi
# A name that resolves to the address without a DNS zone of your own (sslip.io), unless --zot-host names one.
ZOT_HOST=${ZOT_HOST:-${ZOT_IP//./-}.sslip.io}
REGISTRY="$ZOT_HOST:$ZOT_PORT"
echo "registry: $REGISTRY ($ZOT_IP)"
if ! exists gcloud compute firewall-rules describe "$ZOT_VM-allow" "${G[@]}"; then
  # 80: the ACME HTTP-01 challenge that gets the TLS certificate; 5000: the registry, TLS and login only
  run gcloud compute firewall-rules create "$ZOT_VM-allow" --network default --direction INGRESS \
    --allow "tcp:80,tcp:$ZOT_PORT" --target-tags "$ZOT_VM" --source-ranges "$ZOT_SOURCE_RANGES" "${G[@]}"
fi
CREDS="$STATE/zot-credentials"
if [ ! -f "$CREDS" ] && [ "$DRY_RUN" = 0 ]; then
  printf 'tweets\n%s\n' "$(openssl rand -hex 24)" > "$CREDS"
  chmod 600 "$CREDS"
fi
if [ "$DRY_RUN" = 1 ]; then ZOT_USER=tweets; ZOT_PASSWORD='<generated>'; HTPASSWD='<bcrypt line>'; else
  ZOT_USER=$(sed -n 1p "$CREDS"); ZOT_PASSWORD=$(sed -n 2p "$CREDS")
  HTPASSWD=$(htpasswd -nbB "$ZOT_USER" "$ZOT_PASSWORD" | head -n1)
fi
if ! exists gcloud compute instances describe "$ZOT_VM" --zone "$ZONE" "${G[@]}"; then
  run gcloud compute instances create "$ZOT_VM" --zone "$ZONE" --machine-type e2-small \
    --image-family debian-12 --image-project debian-cloud --boot-disk-size 50GB --boot-disk-type pd-balanced \
    --address "$ZOT_IP" --tags "$ZOT_VM" \
    --metadata-from-file "startup-script=$ROOT/deploy/gke/zot-startup.sh,zot-config=$ROOT/deploy/zot/config.json" \
    --metadata "zot-version=$ZOT_VERSION,zot-host=$ZOT_HOST,zot-htpasswd=$HTPASSWD,acme-email=$EMAIL" "${G[@]}"
fi
say "   waiting for the registry to answer on https://$REGISTRY/v2/ (401: it asks for the login)"
if [ "$DRY_RUN" = 1 ]; then
  run curl -s -o /dev/null -w '%{http_code}' "https://$REGISTRY/v2/"
else
  for _ in $(seq 1 90); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "https://$REGISTRY/v2/" || true)
    [ "$code" = 401 ] && break
    sleep 10
  done
  [ "$code" = 401 ] || { echo "up.sh: the registry did not come up in 15 minutes; see: gcloud compute ssh $ZOT_VM --zone $ZONE -- sudo journalctl -u google-startup-scripts -u zot" >&2; exit 1; }
fi

say "3. The GKE Standard cluster (Dataplane V2 enforces the NetworkPolicies)"
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
run gcloud container clusters get-credentials "$CLUSTER" --zone "$ZONE" "${G[@]}"

say "4. The images, built here and pushed to Zot (tag $TAG)"
if [ "$SKIP_IMAGES" = 0 ]; then
  run npm --prefix "$ROOT" run images
  if [ "$DRY_RUN" = 1 ]; then
    run podman login --username "$ZOT_USER" --password-stdin "$REGISTRY"
  else
    printf '%s' "$ZOT_PASSWORD" | podman login --username "$ZOT_USER" --password-stdin "$REGISTRY"
  fi
  for s in "${SERVICES[@]}"; do
    run podman push "localhost/tweets/$s:$TAG" "docker://$REGISTRY/tweets/$s:$TAG"
  done
fi

say "4b. The load test's input file, pushed to Zot as an OCI artifact (docs/loadtest.md)"
LOADTEST_ARTIFACT="$REGISTRY/tweets/loadtest:10000-seed1"
if [ "$DRY_RUN" = 1 ]; then
  echo "+ LOADTEST_REGISTRY_USER=$ZOT_USER LOADTEST_REGISTRY_PASSWORD=<generated> npm --prefix $ROOT run artifact -- push --count 10000 --seed 1 --to $REGISTRY"
else
  LOADTEST_REGISTRY_USER=$ZOT_USER LOADTEST_REGISTRY_PASSWORD=$ZOT_PASSWORD npm --prefix "$ROOT" run artifact -- push --count 10000 --seed 1 --to "$REGISTRY"
fi

say "5. Namespaces, then the operators and charts (versions: deploy/k8s/base/versions.env)"
run kubectl apply --server-side -f "$ROOT/deploy/k8s/base/namespaces.yaml"
run helm upgrade --install cert-manager oci://quay.io/jetstack/charts/cert-manager --version "v$CERT_MANAGER_VERSION" \
  --namespace cert-manager --create-namespace --set crds.enabled=true --wait --timeout 10m
run kubectl apply -f "https://github.com/rabbitmq/cluster-operator/releases/download/v$RABBITMQ_OPERATOR_VERSION/cluster-operator.yml"
run kubectl -n rabbitmq-system rollout status deployment/rabbitmq-cluster-operator --timeout 10m
run helm upgrade --install strimzi oci://quay.io/strimzi-helm/strimzi-kafka-operator --version "$STRIMZI_VERSION" \
  --namespace kafka --wait --timeout 10m
run helm upgrade --install nginx-ingress oci://ghcr.io/nginx/charts/nginx-ingress --version "$NGINX_INGRESS_CHART_VERSION" \
  --namespace nginx-ingress --set controller.ingressClass.name=nginx --set controller.ingressClass.create=true \
  --set controller.service.type=LoadBalancer --wait --timeout 10m
if [ "$KUBEVIRT" = 1 ]; then
  run kubectl apply -f "https://github.com/kubevirt/kubevirt/releases/download/v$KUBEVIRT_VERSION/kubevirt-operator.yaml"
  run kubectl apply -f "https://github.com/kubevirt/kubevirt/releases/download/v$KUBEVIRT_VERSION/kubevirt-cr.yaml"
  run kubectl -n kubevirt wait kv/kubevirt --for=condition=Available --timeout=15m
fi
run helm repo add grafana-community https://grafana-community.github.io/helm-charts --force-update
run helm repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update

say "6. Secrets, generated here once and kept in the cluster (never in the repository)"
# secret NS NAME KEY: the value the cluster holds, or a new random one.
secret() {
  local v=''
  if [ "$DRY_RUN" = 0 ]; then v=$(kubectl -n "$1" get secret "$2" -o "jsonpath={.data.$3}" 2>/dev/null | base64 -d || true); fi
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
    kubectl -n "$ns" create secret "$1" "$name" "${@:2}" --dry-run=client -o yaml | kubectl apply -f -
  fi
}
# apply_configmap NS NAME ARGS...: the same for a ConfigMap (not secret: printed as it is).
apply_configmap() {
  local ns=$1 name=$2; shift 2
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ kubectl -n %q create configmap %q' "$ns" "$name"; printf ' %q' "$@"; printf ' --dry-run=client -o yaml | kubectl apply -f -\n'
  else
    kubectl -n "$ns" create configmap "$name" "$@" --dry-run=client -o yaml | kubectl apply -f -
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
    # the Locust Job's inputs: its namespace, the pull login for oras, the artifact's reference, the locustfile
    if [ "$DRY_RUN" = 1 ]; then echo "+ kubectl create namespace loadtest --dry-run=client -o yaml | kubectl apply -f -"
    else kubectl create namespace loadtest --dry-run=client -o yaml | kubectl apply -f -; fi
    apply_secret loadtest registry-pull docker-registry --docker-server="$REGISTRY" --docker-username="$ZOT_USER" --docker-password="$ZOT_PASSWORD"
    apply_configmap loadtest loadtest --from-literal=artifact="$LOADTEST_ARTIFACT"
    apply_configmap loadtest locustfile --from-file="$ROOT/loadtest/locustfile.py" --from-file="$ROOT/loadtest/artifact.py"
    ;;
esac
apply_secret monitoring grafana-admin generic --from-literal=admin-user=admin --from-literal=admin-password="$GRAFANA_PW"

say "7. Prometheus and Grafana (Helm); Grafana's admin login from the Secret grafana-admin"
run helm upgrade --install prometheus prometheus-community/prometheus --version "$PROMETHEUS_CHART_VERSION" \
  --namespace monitoring --values "$ROOT/deploy/gke/prometheus-values.yaml" --set "server.image.tag=v$PROMETHEUS_VERSION" --wait --timeout 10m
run helm upgrade --install grafana grafana-community/grafana --version "$GRAFANA_CHART_VERSION" \
  --namespace monitoring --values "$ROOT/deploy/gke/grafana-values.yaml" \
  --set "plugins[0]=yesoreyeram-infinity-datasource $INFINITY_PLUGIN_VERSION" --wait --timeout 10m

say "8. The system: deploy/k8s/overlays/$OVERLAY${COMPONENTS:+ with $COMPONENTS}, images from $REGISTRY"
DEPLOY="$STATE/kustomize"
if [ "$DRY_RUN" = 0 ]; then
  mkdir -p "$DEPLOY"
  {
    echo 'apiVersion: kustomize.config.k8s.io/v1beta1'
    echo 'kind: Kustomization'
    echo 'resources:'
    # kustomize takes relative paths only: $DEPLOY is four folders below the repository's root
    echo "  - ../../../../deploy/k8s/overlays/$OVERLAY"
    if [ -n "$COMPONENTS" ]; then
      echo 'components:'
      for c in ${COMPONENTS//,/ }; do echo "  - ../../../../deploy/k8s/components/$c"; done
    fi
    echo 'images:'
    for s in "${SERVICES[@]}"; do
      printf '  - name: tweets/%s\n    newName: %s/tweets/%s\n    newTag: "%s"\n' "$s" "$REGISTRY" "$s" "$TAG"
    done
  } > "$DEPLOY/kustomization.yaml"
else
  echo "+ write $DEPLOY/kustomization.yaml: overlays/$OVERLAY${COMPONENTS:+, components $COMPONENTS}, images tweets/* -> $REGISTRY/tweets/*:$TAG"
fi
run kubectl apply --server-side --force-conflicts -k "$DEPLOY"

say "9. Waiting until every part is ready"
run kubectl -n kafka wait kafka/tweets --for=condition=Ready --timeout=20m
if [ "$KAFKA_ONLY" = 0 ]; then
  run kubectl -n rabbitmq wait rabbitmqcluster/rabbitmq --for=condition=AllReplicasReady --timeout=15m
  run kubectl -n rabbitmq wait job/rabbitmq-app-user --for=condition=Complete --timeout=15m
fi
if [ "$KUBEVIRT" = 1 ]; then
  # the first boot installs Valkey in each VM: minutes
  run kubectl -n valkey wait vm/valkey-0 vm/valkey-1 --for=condition=Ready --timeout=30m
else
  run kubectl -n valkey rollout status statefulset/valkey --timeout=15m
fi
for d in ingest-api dispatcher writer-kafka writer-rabbitmq kafka-consumer rabbitmq-consumer; do
  if [ "$KAFKA_ONLY" = 1 ]; then case $d in *rabbitmq*) continue ;; esac; fi
  run kubectl -n tweets rollout status "deployment/$d" --timeout=10m
done

case ",$COMPONENTS," in
  *,locust,*) echo "the load test runs as the Job loadtest/locust: kubectl -n loadtest logs -f job/locust" ;;
esac

say "10. The ingress address"
if [ "$DRY_RUN" = 1 ]; then
  run kubectl -n nginx-ingress get service nginx-ingress-controller -o 'jsonpath={.status.loadBalancer.ingress[0].ip}'
  echo "done (dry run): nothing was created"
else
  ip=''
  for _ in $(seq 1 60); do
    ip=$(kubectl -n nginx-ingress get service nginx-ingress-controller -o 'jsonpath={.status.loadBalancer.ingress[0].ip}' 2>/dev/null || true)
    [ -n "$ip" ] && break
    sleep 5
  done
  echo "ingress: http://$ip"
  if [ "$OVERLAY" = blackfriday ]; then
    echo "try it:  curl -s -X POST http://$ip/sales -H 'content-type: application/json' -d '{\"categoria\":\"Electronica\",\"producto_id\":\"SKU-1\",\"precio\":19.99,\"cantidad_vendida\":2}'"
  else
    echo "try it:  curl -s -X POST http://$ip/tweets -H 'content-type: application/json' -d '{\"municipality\":\"mixco\",\"temperature\":22,\"humidity\":60,\"weather\":\"sunny\"}'"
  fi
  echo "         curl -s http://$ip/stats"
  echo "grafana: kubectl -n monitoring port-forward service/grafana 3000:80 (user admin, password: kubectl -n monitoring get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d)"
fi
