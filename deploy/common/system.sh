#!/usr/bin/env bash
# shellcheck disable=SC2034 # the variables these functions set (NEW_CREDS, HTPASSWD, ZOT_PORT, ...) are read by up.sh
# The steps every deploy/<cloud>/up.sh shares once it has a registry and a
# cluster: the registry's login (zot_login, wait_registry), then 4 the images,
# 4b the load test's input, 5 the operators and charts, 6 the Secrets,
# 7 Prometheus and Grafana, 8 the system, 9 the waits, 10 the ingress.
# Sourced after deploy/common/plan.sh and deploy/common/lib.sh; functions only.
#
# What each up.sh sets for them: ROOT, DRY_RUN, STATE, TAG, ENGINE, SKIP_IMAGES,
# OVERLAY, COMPONENTS, KAFKA_ONLY, KUBEVIRT, REGISTRY, KUBE_CONTEXT, CONTEXT_GIVEN,
# K and H (kubectl's and helm's context flags), INGRESS_HOST, INGRESS_WHERE (what
# step 10 names the load balancer by), NIC_ARGS (the ingress controller's
# Service settings on that cloud), KUBEVIRT_CR (the KubeVirt resource it
# applies), PLAN_DIR (where a dry run's server-side plan is written),
# MIRROR_IMAGES ("SOURCE DESTINATION" images copied into Zot), and, where that
# cloud adds to a step, the functions cloud_operators (step 5, before the
# operators), cloud_kubevirt_ready (step 5, once KubeVirt is Available) and
# cloud_patches (step 8: more patches for the generated kustomization).

SERVICES=(ingest-api dispatcher writer kafka-consumer rabbitmq-consumer)
ZOT_PORT=5000

# zot_login: the registry's login, generated once into STATE/zot-credentials: ZOT_USER, ZOT_PASSWORD and
# HTPASSWD (its bcrypt line, for the registry); NEW_CREDS=1 when this run made it.
zot_login() {
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
}

# wait_registry HINT: until https://REGISTRY/v2/ answers 401 (it asks for the login), at most 30 minutes;
# HINT says where to look when it does not.
wait_registry() {
  local code=''
  say "   waiting for the registry to answer on https://$REGISTRY/v2/ (401: it asks for the login)"
  if [ "$DRY_RUN" = 1 ]; then
    run curl -s -o /dev/null -w '%{http_code}' "https://$REGISTRY/v2/"
    return 0
  fi
  for _ in $(seq 1 180); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "https://$REGISTRY/v2/" || true)
    [ "$code" = 401 ] && return 0
    sleep 10
  done
  echo "up.sh: the registry did not come up in 30 minutes. The VM retries its certificate for about 2 hours (a shared name such as sslip.io can be rate-limited: --zot-host NAME in a zone of yours avoids that). See: $1" >&2
  false
}

images_step() {
  local s pair
  if [ "$SKIP_IMAGES" = 1 ]; then say "4. The images: skipped (--skip-images; tag $TAG must be in the registry)"; return 0; fi
  step 4 "The images, built here for linux/amd64 with $ENGINE and pushed to Zot (tag $TAG)" || return 0
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
  for pair in ${MIRROR_IMAGES[@]+"${MIRROR_IMAGES[@]}"}; do
    # a public image the system needs, copied into Zot so the cluster pulls it from there too
    run "$ENGINE" pull --platform linux/amd64 "${pair% *}"
    run "$ENGINE" tag "${pair% *}" "${pair#* }"
    run "$ENGINE" push "${pair#* }"
  done
  done_step
}

artifact_step() {
  LOADTEST_ARTIFACT="$REGISTRY/tweets/loadtest:10000-seed1"
  step 4b "The load test's input file, pushed to Zot as an OCI artifact (docs/loadtest.md)" || return 0
  if [ "$DRY_RUN" = 1 ]; then
    echo "+ LOADTEST_REGISTRY_USER=$ZOT_USER LOADTEST_REGISTRY_PASSWORD=<generated> npm --prefix $ROOT run artifact -- push --count 10000 --seed 1 --to $REGISTRY"
  else
    LOADTEST_REGISTRY_USER=$ZOT_USER LOADTEST_REGISTRY_PASSWORD=$ZOT_PASSWORD npm --prefix "$ROOT" run artifact -- push --count 10000 --seed 1 --to "$REGISTRY"
  fi
  done_step
}

operators_step() {
  step 5 "Namespaces, then the operators and charts (versions: deploy/k8s/base/versions.env)" || return 0
  run kubectl "${K[@]}" apply --server-side -f "$ROOT/deploy/k8s/base/namespaces.yaml"
  # the ApplySet's parent type, then its parent: the system's objects are applied as one set (step 8)
  run kubectl "${K[@]}" apply --server-side -f "$ROOT/deploy/common/applyset.yaml"
  run kubectl "${K[@]}" wait --for condition=established --timeout 60s crd/applysets.deploy.weather-tweets.io
  if [ "$DRY_RUN" = 1 ]; then echo "+ kubectl --context $KUBE_CONTEXT apply --server-side -f - (ApplySet ${APPLYSET_PARENT##*/})"; else applyset_parent; fi
  hook cloud_operators
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
  # The load balancer in front of the controller (NIC_ARGS: how this cloud makes it); the Ingresses name its
  # host (deploy/k8s/base/ingress.yaml).
  run helm "${H[@]}" upgrade --install nginx-ingress oci://ghcr.io/nginx/charts/nginx-ingress --version "$NGINX_INGRESS_CHART_VERSION" \
    --namespace nginx-ingress --set controller.ingressClass.name=nginx --set controller.ingressClass.create=true \
    --set controller.service.type=LoadBalancer "${NIC_ARGS[@]}" --wait --timeout 10m
  if [ "$KUBEVIRT" = 1 ]; then
    # server-side: the operator's CRDs are large; the CR only once its CRD is established
    run kubectl "${K[@]}" apply --server-side -f "https://github.com/kubevirt/kubevirt/releases/download/v$KUBEVIRT_VERSION/kubevirt-operator.yaml"
    run kubectl "${K[@]}" wait --for condition=established --timeout 120s crd/kubevirts.kubevirt.io
    run kubectl "${K[@]}" apply --server-side -f "$KUBEVIRT_CR"
    run kubectl "${K[@]}" -n kubevirt wait kv/kubevirt --for=condition=Available --timeout=15m
    hook cloud_kubevirt_ready
  fi
  run helm repo add grafana-community https://grafana-community.github.io/helm-charts --force-update
  run helm repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update
  done_step
}

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
  local ns=$1 name=$2 a
  shift 2
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
  local ns=$1 name=$2
  shift 2
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ kubectl -n %q create configmap %q' "$ns" "$name"; printf ' %q' "$@"; printf ' --dry-run=client -o yaml | kubectl apply -f -\n'
  else
    kc -n "$ns" create configmap "$name" "$@" --dry-run=client -o yaml | kc apply -f -
  fi
}

secrets_step() {
  local admin_pw writer_pw reader_pw rabbit_pw grafana_pw
  STEP=6
  say "6. Secrets, generated here once and kept in the cluster (never in the repository)"
  admin_pw=$(secret valkey valkey-users admin-password)
  writer_pw=$(secret valkey valkey-users writer-password)
  reader_pw=$(secret valkey valkey-users reader-password)
  rabbit_pw=$(secret rabbitmq rabbitmq-app-user password)
  grafana_pw=$(secret monitoring grafana-admin admin-password)
  apply_secret valkey valkey-users generic --from-literal=admin-password="$admin_pw" \
    --from-literal=writer-password="$writer_pw" --from-literal=reader-password="$reader_pw"
  apply_secret tweets valkey-users generic --from-literal=writer-password="$writer_pw" --from-literal=reader-password="$reader_pw"
  apply_secret rabbitmq rabbitmq-app-user generic --from-literal=password="$rabbit_pw"
  apply_secret tweets rabbitmq-app generic --from-literal=url="amqp://tweets:$rabbit_pw@rabbitmq.rabbitmq.svc.cluster.local:5672/"
  apply_secret tweets registry-pull docker-registry --docker-server="$REGISTRY" --docker-username="$ZOT_USER" --docker-password="$ZOT_PASSWORD"
  if [ "$KUBEVIRT" = 1 ] && [ "${#MIRROR_IMAGES[@]}" -gt 0 ]; then
    # the VMs' boot disk comes from Zot too (MIRROR_IMAGES): its launcher pods pull it with this login
    apply_secret valkey registry-pull docker-registry --docker-server="$REGISTRY" --docker-username="$ZOT_USER" --docker-password="$ZOT_PASSWORD"
  fi
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
  apply_secret monitoring grafana-admin generic --from-literal=admin-user=admin --from-literal=admin-password="$grafana_pw"
}

charts_step() {
  step 7 "Prometheus and Grafana (Helm); Grafana's admin login from the Secret grafana-admin" || return 0
  run helm "${H[@]}" upgrade --install prometheus prometheus-community/prometheus --version "$PROMETHEUS_CHART_VERSION" \
    --namespace monitoring --values "$ROOT/deploy/common/prometheus-values.yaml" --set "server.image.tag=v$PROMETHEUS_VERSION" \
    --wait --timeout 10m
  run helm "${H[@]}" upgrade --install grafana grafana-community/grafana --version "$GRAFANA_CHART_VERSION" \
    --namespace monitoring --values "$ROOT/deploy/common/grafana-values.yaml" --set "grafana\\.ini.server.domain=$INGRESS_HOST" \
    --set "plugins[0]=yesoreyeram-infinity-datasource $INFINITY_PLUGIN_VERSION" --wait --timeout 10m
  done_step
}

# write_kustomization DIR: the overlay, the components, the images rewritten to Zot, the Ingresses' host, and
# what this cloud patches besides (cloud_patches).
write_kustomization() {
  # kustomize takes relative paths only: DIR is four folders below the repository's root
  local up=../../../.. c s
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
    hook cloud_patches
  } > "$1/kustomization.yaml"
}

system_step() {
  local deploy="$STATE/kustomize"
  STEP=8
  say "8. The system: deploy/k8s/overlays/$OVERLAY${COMPONENTS:+ with $COMPONENTS}, images from $REGISTRY, host $INGRESS_HOST"
  if [ "$DRY_RUN" = 0 ]; then
    write_kustomization "$deploy"
    apply_system "$deploy"
  else
    echo "+ write $deploy/kustomization.yaml: overlays/$OVERLAY${COMPONENTS:+, components $COMPONENTS}, images tweets/* -> $REGISTRY/tweets/*:$TAG, Ingress host $INGRESS_HOST${PATCHES_NOTE:-}"
    echo "+ KUBECTL_APPLYSET=true kubectl --context $KUBE_CONTEXT apply --server-side --force-conflicts --field-manager=$FIELD_MANAGER --prune --applyset=$APPLYSET_PARENT -k $deploy"
    # With a reachable cluster in --context: the server's dry run of that apply (what it would create and prune).
    if [ "$CONTEXT_GIVEN" = 1 ] && kc get --raw /readyz >/dev/null 2>&1; then
      write_kustomization "$PLAN_DIR"
      { apply_system "$PLAN_DIR" --dry-run=server 2>&1 || echo "the server's dry run failed (above)"; } | sed '/client-side throttling/d; s/^/  server: /'
    fi
  fi
  done_step
}

waits_step() {
  local d
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
}

ingress_step() {
  local path_try=/tweets body='{"municipality":"mixco","temperature":22,"humidity":60,"weather":"sunny"}' code=''
  STEP=10
  say "10. The ingress: http://$INGRESS_HOST ($INGRESS_WHERE)"
  if uses blackfriday; then path_try=/sales; body='{"categoria":"Electronica","producto_id":"SKU-1","precio":19.99,"cantidad_vendida":2}'; fi
  if [ "$DRY_RUN" = 1 ]; then
    run curl -s -o /dev/null -w '%{http_code}' "http://$INGRESS_HOST/stats"
    echo "done (dry run): nothing was created"
    return 0
  fi
  # the ingress answers once the load balancer and the controller have the Ingresses (a 404 is the controller's
  # default server: the Ingress was not taken)
  for _ in $(seq 1 60); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$INGRESS_HOST/stats" || true)
    [ "$code" = 200 ] && break
    sleep 10
  done
  [ "$code" = 200 ] || { echo "up.sh: http://$INGRESS_HOST/stats answers ${code:-nothing}, not 200: kubectl ${K[*]} -n tweets describe ingress; kubectl ${K[*]} -n nginx-ingress logs deployment/nginx-ingress-controller" >&2; false; }
  echo "ingress: http://$INGRESS_HOST"
  echo "try it:  curl -s -X POST http://$INGRESS_HOST$path_try -H 'content-type: application/json' -d '$body'"
  echo "         curl -s http://$INGRESS_HOST/stats"
  echo "grafana: http://$INGRESS_HOST/grafana/ (user admin, password: kubectl ${K[*]} -n monitoring get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d)"
}
