#!/usr/bin/env bash
# Deploys the whole system to AWS: an EKS cluster (eksctl), a Zot registry on
# an EC2 instance (TLS and htpasswd login), the images built here and pushed
# there, the operators and charts, and deploy/k8s/overlays/eks (or
# --overlay blackfriday: overlays/eks-blackfriday, with Valkey in KubeVirt VMs
# on a group of nested-virtualization nodes) with the images rewritten to the
# registry. Idempotent: what exists is kept, what is missing is made.
# docs/deploy-aws.md walks through it.
#
# usage: deploy/aws/up.sh [--dry-run] [--region R] [--cluster NAME]
#          [--nodes N] [--instance-type T] [--kubevirt-instance-type T]
#          [--kubevirt-nodes N] [--zot-name NAME] [--zot-host DNS-NAME]
#          [--zot-source-ranges CIDRS] [--email ADDR] [--overlay eks|blackfriday]
#          [--components writers-2,valkey-hpa,...] [--ingress-host DNS-NAME]
#          [--tag TAG] [--skip-images] [--resume] [--context KUBE-CONTEXT]
# Every flag has an environment variable (AWS_REGION, EKS_CLUSTER, EKS_NODES,
# EKS_INSTANCE_TYPE, KUBEVIRT_INSTANCE_TYPE, KUBEVIRT_NODES, ZOT_NAME, ZOT_HOST,
# ZOT_SOURCE_RANGES, ACME_EMAIL, K8S_OVERLAY, K8S_COMPONENTS, INGRESS_HOST,
# IMAGE_TAG, KUBE_CONTEXT; CONTAINER_ENGINE picks podman or docker; AWS_PROFILE
# picks the AWS CLI's profile, for aws and eksctl alike).
# --dry-run prints every command it would run, in order, and runs none, not
# even a lookup (what a lookup would answer is shown as an example value);
# with --context naming a reachable cluster it also shows the server's dry run
# of the system's apply (what would be created, changed and pruned).
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
# shellcheck source=deploy/aws/lib.sh
. "$ROOT/deploy/aws/lib.sh"
ARGS=("$@")

DRY_RUN=0
REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
CLUSTER=${EKS_CLUSTER:-weather-tweets}
NODES=${EKS_NODES:-3}
INSTANCE_TYPE=${EKS_INSTANCE_TYPE:-m7i.xlarge}
KUBEVIRT_INSTANCE_TYPE=${KUBEVIRT_INSTANCE_TYPE:-m8i.large}
KUBEVIRT_NODES=${KUBEVIRT_NODES:-2}
ZOT_NAME=${ZOT_NAME:-zot-registry}
ZOT_HOST=${ZOT_HOST:-}
ZOT_SOURCE_RANGES=${ZOT_SOURCE_RANGES:-0.0.0.0/0}
EMAIL=${ACME_EMAIL:-}
OVERLAY=${K8S_OVERLAY:-eks}
COMPONENTS=${K8S_COMPONENTS:-}
TAG=${IMAGE_TAG:-}
INGRESS_HOST=${INGRESS_HOST:-}
KUBE_CONTEXT=${KUBE_CONTEXT:-}
ENGINE=${CONTAINER_ENGINE:-}
SKIP_IMAGES=0
RESUME=0
FIELD_MANAGER='deploy-aws'
KUBEVIRT_CR="$ROOT/deploy/aws/kubevirt-cr.yaml"
MIRROR_IMAGES=()
# a dry run prints the lookups too (test/integration/aws.test.ts checks every aws command against the CLI's models)
SHOW_LOOKUPS=1

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --region) REGION=$2; shift ;;
    --cluster) CLUSTER=$2; shift ;;
    --nodes) NODES=$2; shift ;;
    --instance-type) INSTANCE_TYPE=$2; shift ;;
    --kubevirt-instance-type) KUBEVIRT_INSTANCE_TYPE=$2; shift ;;
    --kubevirt-nodes) KUBEVIRT_NODES=$2; shift ;;
    --zot-name) ZOT_NAME=$2; shift ;;
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
CONTEXT_GIVEN=0; if [ -n "$KUBE_CONTEXT" ]; then CONTEXT_GIVEN=1; fi
# The overlays of EKS: the weather system (eks), or Black Friday (blackfriday, the folder eks-blackfriday).
case "$OVERLAY" in
  eks | eks-blackfriday) ;;
  blackfriday) OVERLAY=eks-blackfriday ;;
  *) echo "up.sh: no overlay $OVERLAY for EKS: eks (the weather system) or blackfriday" >&2; exit 2 ;;
esac
case ",$COMPONENTS," in
  *,valkey-kubevirt,*)
    # the VMs reach their nodes only through overlays/eks/kubevirt, which eks-blackfriday applies after them
    [ "$OVERLAY" = eks-blackfriday ] || { echo "up.sh: valkey-kubevirt is not offered on its own on EKS: --overlay blackfriday has Valkey in KubeVirt VMs" >&2; exit 2; } ;;
esac

# The prerequisites, all checked before anything runs; each missing one is named with where to get it.
need aws "the AWS CLI v2, $AWS_CLI_VERSION or newer (it knows nested virtualization), https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
need eksctl "eksctl $EKSCTL_VERSION or newer, https://eksctl.io/installation/"
need kubectl 'kubectl 1.34 or newer, https://kubernetes.io/docs/tasks/tools/'
need helm 'Helm 3.19 or newer, https://helm.sh/docs/intro/install/'
need openssl 'OpenSSL, to generate passwords'
need htpasswd 'the registry login is a bcrypt htpasswd line (Debian/Ubuntu: apache2-utils; Fedora: httpd-tools; macOS has it)'
need base64 'base64 (coreutils), to encode the nodes user data'
need curl 'curl, to wait for the registry'
need git 'git, to tag the images with the commit'
need npm 'Node.js 18 or newer with npm (the project installs its own pinned Node.js)'
need_engine
# the load test's input file is pushed with oras, found on PATH or built with Go
command -v oras >/dev/null 2>&1 || need go 'oras (https://oras.land/docs/installation) or Go 1.24+ to build it'
# the CLIs' versions: asked only in a real run (a dry run runs nothing)
if [ "$DRY_RUN" = 0 ]; then
  if command -v aws >/dev/null 2>&1; then
    have=$(aws --version 2>&1 | sed -n 's|^aws-cli/\([0-9][0-9.]*\).*|\1|p')
    version_at_least "${have:-0}" "$AWS_CLI_VERSION" || MISSING+=("aws $AWS_CLI_VERSION or newer (this is ${have:-not the AWS CLI v2}): https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html")
  fi
  if command -v eksctl >/dev/null 2>&1; then
    have=$(eksctl version 2>/dev/null | sed -n 's/^v\{0,1\}\([0-9][0-9.]*\).*/\1/p' | head -n1)
    version_at_least "${have:-0}" "$EKSCTL_VERSION" || MISSING+=("eksctl $EKSCTL_VERSION or newer (this is ${have:-unknown}): https://eksctl.io/installation/")
  fi
else
  echo "# a real run also checks: aws --version at least $AWS_CLI_VERSION, eksctl version at least $EKSCTL_VERSION"
fi
missing_stop
ENGINE=${ENGINE:-podman}

check_components
aws_names
# Where the registry's login, the generated files and a run's progress are kept (gitignored).
STATE="$ROOT/.data/aws/$REGION-$CLUSTER"
PLAN_DIR="$ROOT/.data/aws-plan/$REGION-$CLUSTER/kustomize"
start_progress
trap on_error ERR
A=(--region "$REGION")

# write_file FILE FUNCTION [ARGS...]: FILE made by FUNCTION's output; with --dry-run, what it would hold.
write_file() {
  local file=$1
  shift
  if [ "$DRY_RUN" = 1 ]; then echo "+ write $file:"; "$@" | sed 's/^/    /'; else "$@" > "$file"; fi
}

if step 1 "The account: who this runs as"; then
  run aws sts get-caller-identity --query Arn --output text
  done_step
fi

# The registry's network (the region's default VPC: its instance outlives a cluster, --keep-registry) and
# its Elastic IP; a name that resolves to it without a DNS zone of your own (sslip.io), unless --zot-host.
say "   the registry's network and address"
query DEFAULT_VPC vpc-0123456789abcdef0 aws ec2 describe-vpcs "${A[@]}" --filters Name=is-default,Values=true --query 'Vpcs[0].VpcId' --output text
[ -n "$DEFAULT_VPC" ] || { echo "up.sh: the region $REGION has no default VPC, where the registry's instance goes: aws ec2 create-default-vpc --region $REGION, then up.sh again" >&2; false; }
query ZOT_ALLOC '' aws ec2 describe-addresses "${A[@]}" --filters "Name=tag:Name,Values=$ZOT_IP_NAME" --query 'Addresses[0].AllocationId' --output text
if [ -z "$ZOT_ALLOC" ]; then
  query ZOT_ALLOC eipalloc-0123456789abcdef0 aws ec2 allocate-address "${A[@]}" --domain vpc \
    --tag-specifications "ResourceType=elastic-ip,Tags=[{Key=Name,Value=$ZOT_IP_NAME}]" --query AllocationId --output text
fi
query ZOT_IP 203.0.113.10 aws ec2 describe-addresses "${A[@]}" --allocation-ids "$ZOT_ALLOC" --query 'Addresses[0].PublicIp' --output text
ZOT_HOST=${ZOT_HOST:-${ZOT_IP//./-}.sslip.io}
REGISTRY="$ZOT_HOST:$ZOT_PORT"
echo "registry: $REGISTRY ($ZOT_IP)"
zot_login

# zot_instance: the registry's instance, made if missing (ZOT_SG, ZOT_INSTANCE set); with a new login for an
# instance that exists (another checkout made it), its user data replaced and the instance restarted.
zot_instance() {
  local ami root b64 state
  query ZOT_INSTANCE '' aws ec2 describe-instances "${A[@]}" --filters "Name=tag:Name,Values=$ZOT_NAME" \
    Name=instance-state-name,Values=pending,running,stopping,stopped --query 'Reservations[0].Instances[0].InstanceId' --output text
  if [ -z "$ZOT_INSTANCE" ]; then
    write_file "$STATE/zot-user-data" zot_user_data_summary
    # Debian 12, as on GCE: the startup script installs certbot with apt
    query ami ami-0123456789abcdef0 aws ssm get-parameter "${A[@]}" --name /aws/service/debian/release/12/latest/amd64 --query Parameter.Value --output text
    query root /dev/xvda aws ec2 describe-images "${A[@]}" --image-ids "$ami" --query 'Images[0].RootDeviceName' --output text
    query ZOT_INSTANCE i-0123456789abcdef0 aws ec2 run-instances "${A[@]}" --image-id "$ami" --instance-type t3.small \
      --security-group-ids "$ZOT_SG" --metadata-options HttpTokens=required,HttpEndpoint=enabled \
      --block-device-mappings "DeviceName=$root,Ebs={VolumeSize=50,VolumeType=gp3,Encrypted=true,DeleteOnTermination=true}" \
      --user-data "file://$STATE/zot-user-data" \
      --tag-specifications "ResourceType=instance,Tags=[{Key=Name,Value=$ZOT_NAME}]" "ResourceType=volume,Tags=[{Key=Name,Value=$ZOT_NAME}]" \
      --query 'Instances[0].InstanceId' --output text
    run aws ec2 wait instance-running "${A[@]}" --instance-ids "$ZOT_INSTANCE"
    run aws ec2 associate-address "${A[@]}" --allocation-id "$ZOT_ALLOC" --instance-id "$ZOT_INSTANCE"
  elif [ "$NEW_CREDS" = 1 ]; then
    # The instance exists but this checkout has no login for it: a new login in its user data, which
    # cloud-init runs at every boot. User data changes only while the instance is stopped; the address stays.
    echo "the instance $ZOT_NAME exists and $CREDS did not: giving the registry a new login"
    write_file "$STATE/zot-user-data" zot_user_data_summary
    run aws ec2 stop-instances "${A[@]}" --instance-ids "$ZOT_INSTANCE"
    run aws ec2 wait instance-stopped "${A[@]}" --instance-ids "$ZOT_INSTANCE"
    b64='<the user data, base64>'
    if [ "$DRY_RUN" = 0 ]; then b64=$(base64 < "$STATE/zot-user-data" | tr -d '\n'); fi
    run aws ec2 modify-instance-attribute "${A[@]}" --instance-id "$ZOT_INSTANCE" --attribute userData --value "$b64"
    run aws ec2 start-instances "${A[@]}" --instance-ids "$ZOT_INSTANCE"
    run aws ec2 wait instance-running "${A[@]}" --instance-ids "$ZOT_INSTANCE"
  else
    # stopped to save its hours (docs/deploy-aws.md): started again, its address and images kept
    query state '' aws ec2 describe-instances "${A[@]}" --instance-ids "$ZOT_INSTANCE" --query 'Reservations[0].Instances[0].State.Name' --output text
    if [ "$state" = stopped ] || [ "$state" = stopping ]; then
      run aws ec2 wait instance-stopped "${A[@]}" --instance-ids "$ZOT_INSTANCE"
      run aws ec2 start-instances "${A[@]}" --instance-ids "$ZOT_INSTANCE"
      run aws ec2 wait instance-running "${A[@]}" --instance-ids "$ZOT_INSTANCE"
    fi
  fi
}
# zot_user_data_summary: the user data, or with --dry-run what it holds (its login is a secret's hash).
zot_user_data_summary() {
  if [ "$DRY_RUN" = 1 ]; then
    echo "cloud-init: run the script at every boot; the script: ZOT_META_zot_version=$ZOT_VERSION ZOT_META_zot_host=$ZOT_HOST ZOT_META_zot_htpasswd=$HTPASSWD ZOT_META_acme_email=$EMAIL ZOT_META_zot_config=(deploy/zot/config.json), then deploy/zot/startup.sh"
  else
    zot_user_data
  fi
}

if step 2 "The Zot registry's instance: a security group, the instance, its address, its login"; then
  query ZOT_SG '' aws ec2 describe-security-groups "${A[@]}" --filters "Name=vpc-id,Values=$DEFAULT_VPC" "Name=group-name,Values=$ZOT_NAME" \
    --query 'SecurityGroups[0].GroupId' --output text
  if [ -z "$ZOT_SG" ]; then
    query ZOT_SG sg-0123456789abcdef0 aws ec2 create-security-group "${A[@]}" --vpc-id "$DEFAULT_VPC" --group-name "$ZOT_NAME" \
      --description "Zot registry: ACME HTTP-01 on 80, the registry on $ZOT_PORT" \
      --tag-specifications "ResourceType=security-group,Tags=[{Key=Name,Value=$ZOT_NAME}]" --query GroupId --output text
    # 80: the ACME HTTP-01 challenge that gets the TLS certificate (Let's Encrypt publishes no addresses);
    # 5000: the registry, TLS and login only, to --zot-source-ranges. Nothing else: no SSH.
    run aws ec2 authorize-security-group-ingress "${A[@]}" --group-id "$ZOT_SG" \
      --ip-permissions 'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=0.0.0.0/0,Description=acme-http-01}]'
    for cidr in ${ZOT_SOURCE_RANGES//,/ }; do
      run aws ec2 authorize-security-group-ingress "${A[@]}" --group-id "$ZOT_SG" \
        --ip-permissions "IpProtocol=tcp,FromPort=$ZOT_PORT,ToPort=$ZOT_PORT,IpRanges=[{CidrIp=$cidr,Description=zot-registry}]"
    done
  fi
  zot_instance
  wait_registry "aws ec2 get-console-output --region $REGION --instance-id $ZOT_INSTANCE --latest --output text (cloud-init's log: the startup script, certbot)"
  done_step
fi

if step 3 "The EKS cluster (eksctl): its VPC, $NODES x $INSTANCE_TYPE nodes, the add-ons (VPC CNI with NetworkPolicies, EBS CSI, Pod Identity)"; then
  if ! exists eksctl get cluster --name "$CLUSTER" --region "$REGION"; then
    write_file "$STATE/eksctl-cluster.yaml" cluster_config
    run eksctl create cluster -f "$STATE/eksctl-cluster.yaml" --write-kubeconfig=false
  fi
  done_step
fi
# Every kubectl and helm call names the cluster's context, whatever the current one is.
KUBE_CONTEXT=${KUBE_CONTEXT:-eks_${REGION}_${CLUSTER}}
run aws eks update-kubeconfig "${A[@]}" --name "$CLUSTER" --alias "$KUBE_CONTEXT"
H=(--kube-context "$KUBE_CONTEXT")
K=(--context "$KUBE_CONTEXT")
query CLUSTER_VPC vpc-0fedcba9876543210 aws eks describe-cluster "${A[@]}" --name "$CLUSTER" --query cluster.resourcesVpcConfig.vpcId --output text

# node_role: the IAM role and instance profile of Valkey's VM nodes, and its access entry to the cluster.
node_role() {
  local p
  if ! exists aws iam get-role --role-name "$NODE_ROLE"; then
    run aws iam create-role --role-name "$NODE_ROLE" --tags "Key=weather-tweets/cluster,Value=$CLUSTER" \
      --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    for p in "${NODE_POLICIES[@]}"; do run aws iam attach-role-policy --role-name "$NODE_ROLE" --policy-arn "arn:aws:iam::aws:policy/$p"; done
  fi
  if ! exists aws iam get-instance-profile --instance-profile-name "$NODE_ROLE"; then
    run aws iam create-instance-profile --instance-profile-name "$NODE_ROLE"
    run aws iam add-role-to-instance-profile --instance-profile-name "$NODE_ROLE" --role-name "$NODE_ROLE"
    run aws iam wait instance-profile-exists --instance-profile-name "$NODE_ROLE"
  fi
  query NODE_ROLE_ARN "arn:aws:iam::123456789012:role/$NODE_ROLE" aws iam get-role --role-name "$NODE_ROLE" --query Role.Arn --output text
  if ! exists aws eks describe-access-entry "${A[@]}" --cluster-name "$CLUSTER" --principal-arn "$NODE_ROLE_ARN"; then
    run aws eks create-access-entry "${A[@]}" --cluster-name "$CLUSTER" --principal-arn "$NODE_ROLE_ARN" --type EC2_LINUX
  fi
}

# kubevirt_nodes: the launch template (nested virtualization on) and the Auto Scaling group of Valkey's VM
# nodes, self-managed: EKS managed node groups drop a launch template's CpuOptions.NestedVirtualization
# (aws/containers-roadmap#2784, open on 2026-12-04), and eksctl 0.230.0 has no field for it.
kubevirt_nodes() {
  local facts asg subnets features
  # the type has it in this region (C8i, M8i, R8i and their flex variants, as of 2026-12-04)
  query features nested-virtualization aws ec2 describe-instance-types "${A[@]}" --instance-types "$KUBEVIRT_INSTANCE_TYPE" \
    --query 'InstanceTypes[0].ProcessorInfo.SupportedFeatures' --output text
  case " $features " in
    *[[:space:]]nested-virtualization[[:space:]]*) ;;
    *) echo "up.sh: $KUBEVIRT_INSTANCE_TYPE has no nested virtualization in $REGION (its features: ${features:-none}): --kubevirt-instance-type m8i.large, c8i.large or r8i.large" >&2; false ;;
  esac
  if ! exists aws ec2 describe-launch-templates "${A[@]}" --launch-template-names "$KUBEVIRT_GROUP"; then
    query facts "https://0123456789ABCDEF0123456789ABCDEF.gr7.$REGION.eks.amazonaws.com LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t 172.20.0.0/16 sg-0fedcba9876543210" \
      aws eks describe-cluster "${A[@]}" --name "$CLUSTER" --output text \
      --query 'cluster.[endpoint,certificateAuthority.data,kubernetesNetworkConfig.serviceIpv4Cidr,resourcesVpcConfig.clusterSecurityGroupId]'
    read -r CLUSTER_ENDPOINT CLUSTER_CA SERVICE_CIDR CLUSTER_SG <<< "$facts"
    run aws ec2 create-launch-template "${A[@]}" --launch-template-name "$KUBEVIRT_GROUP" \
      --tag-specifications "ResourceType=launch-template,Tags=[{Key=weather-tweets/cluster,Value=$CLUSTER}]" \
      --launch-template-data "$(kubevirt_launch_template)"
  fi
  query asg '' aws autoscaling describe-auto-scaling-groups "${A[@]}" --auto-scaling-group-names "$KUBEVIRT_GROUP" \
    --query 'AutoScalingGroups[0].AutoScalingGroupName' --output text
  if [ -z "$asg" ]; then
    # the cluster's public subnets (eksctl tags them for internet-facing load balancers), one per zone
    query subnets 'subnet-0123456789abcdef0 subnet-0123456789abcdef1 subnet-0123456789abcdef2' aws ec2 describe-subnets "${A[@]}" \
      --filters "Name=vpc-id,Values=$CLUSTER_VPC" Name=tag:kubernetes.io/role/elb,Values=1 --query 'Subnets[].SubnetId' --output text
    run aws autoscaling create-auto-scaling-group "${A[@]}" --auto-scaling-group-name "$KUBEVIRT_GROUP" \
      --launch-template "LaunchTemplateName=$KUBEVIRT_GROUP,Version=\$Latest" \
      --min-size "$KUBEVIRT_NODES" --max-size "$KUBEVIRT_NODES" --desired-capacity "$KUBEVIRT_NODES" \
      --vpc-zone-identifier "$(printf '%s' "$subnets" | tr -s '[:space:]' ',')" \
      --tags "Key=kubernetes.io/cluster/$CLUSTER,Value=owned,PropagateAtLaunch=true" "Key=weather-tweets/cluster,Value=$CLUSTER,PropagateAtLaunch=true"
  fi
  wait_kubevirt_nodes
}

# wait_kubevirt_nodes: until KUBEVIRT_NODES nodes with the VM nodes' label have joined and are Ready.
wait_kubevirt_nodes() {
  local n=0
  if [ "$DRY_RUN" = 1 ]; then
    echo "+ until $KUBEVIRT_NODES nodes labelled ${KUBEVIRT_NODE_LABEL%=*} have joined: kubectl --context $KUBE_CONTEXT get nodes -l $KUBEVIRT_NODE_LABEL -o name"
  else
    for _ in $(seq 1 90); do
      n=$(kc get nodes -l "$KUBEVIRT_NODE_LABEL" -o name | wc -l)
      [ "$n" -ge "$KUBEVIRT_NODES" ] && break
      sleep 10
    done
    [ "$n" -ge "$KUBEVIRT_NODES" ] || { echo "up.sh: $n of $KUBEVIRT_NODES VM nodes joined in 15 minutes: aws autoscaling describe-scaling-activities --region $REGION --auto-scaling-group-name $KUBEVIRT_GROUP (capacity, the instance profile), then aws ec2 get-console-output --latest of an instance (nodeadm)" >&2; false; }
  fi
  run kubectl "${K[@]}" wait node -l "$KUBEVIRT_NODE_LABEL" --for=condition=Ready --timeout=10m
}

if [ "$KUBEVIRT" = 1 ]; then
  if step 3b "Valkey's VM nodes: $KUBEVIRT_NODES x $KUBEVIRT_INSTANCE_TYPE with nested virtualization, labelled and tainted for the VMs alone"; then
    node_role
    kubevirt_nodes
    done_step
  fi
else
  query KUBEVIRT_LEFT '' aws autoscaling describe-auto-scaling-groups "${A[@]}" --auto-scaling-group-names "$KUBEVIRT_GROUP" \
    --query 'AutoScalingGroups[0].AutoScalingGroupName' --output text
  [ -z "$KUBEVIRT_LEFT" ] || echo "note: the group $KUBEVIRT_GROUP is still there, nothing of this overlay uses it and it bills until deploy/aws/down.sh (or: aws autoscaling delete-auto-scaling-group --force-delete --region $REGION --auto-scaling-group-name $KUBEVIRT_GROUP)"
fi

# Step 5's additions on EKS: the gp3 class before anything claims a volume (the charts' volumes use the default
# class), and the AWS Load Balancer Controller before the ingress controller, whose Service it gives an NLB.
cloud_operators() {
  run kubectl "${K[@]}" apply --server-side -f "$ROOT/deploy/k8s/overlays/eks/storageclass.yaml"
  run helm repo add eks https://aws.github.io/eks-charts --force-update
  # its IAM role: eksctl's pod identity association for this service account (deploy/aws/lib.sh cluster_config)
  run helm "${H[@]}" upgrade --install aws-load-balancer-controller eks/aws-load-balancer-controller --version "$AWS_LBC_CHART_VERSION" \
    --namespace kube-system --set "clusterName=$CLUSTER" --set "region=$REGION" --set "vpcId=$CLUSTER_VPC" \
    --set serviceAccount.create=false --set serviceAccount.name=aws-load-balancer-controller --wait --timeout 10m
}
NIC_ARGS=(--values "$ROOT/deploy/k8s/overlays/eks/nginx-ingress-values.yaml")

# Once KubeVirt runs: /dev/kvm on every VM node, which KubeVirt's device plugin advertises only where the CPU
# passes virtualization through (nested virtualization off: no devices.kubevirt.io/kvm, and no VM starts).
cloud_kubevirt_ready() {
  local jsonpath='{range .items[*]}{.metadata.name}={.status.allocatable.devices\.kubevirt\.io/kvm}{"\n"}{end}' line bad=''
  if [ "$DRY_RUN" = 1 ]; then
    run kubectl "${K[@]}" get nodes -l "$KUBEVIRT_NODE_LABEL" -o "jsonpath=$jsonpath"
    return 0
  fi
  for _ in $(seq 1 30); do
    bad=''
    while read -r line; do case "$line" in *= | *=0) bad="$bad ${line%=*}" ;; esac; done < <(kc get nodes -l "$KUBEVIRT_NODE_LABEL" -o "jsonpath=$jsonpath")
    [ -z "$bad" ] && return 0
    sleep 10
  done
  echo "up.sh: no /dev/kvm on$bad: is nested virtualization on? aws ec2 describe-instances --region $REGION --filters Name=tag:aws:autoscaling:groupName,Values=$KUBEVIRT_GROUP --query 'Reservations[].Instances[].[InstanceId,InstanceType,CpuOptions]' (C8i, M8i or R8i, NestedVirtualization enabled)" >&2
  false
}

# The VMs' boot disk from Zot too, with the registry's login (the Secret registry-pull in valkey).
if [ "$KUBEVIRT" = 1 ]; then
  VM_DISK="$REGISTRY/tweets/valkey-vm-disk:${VALKEY_VM_DISK_IMAGE##*:}"
  MIRROR_IMAGES=("$VALKEY_VM_DISK_IMAGE $VM_DISK")
  PATCHES_NOTE=", the VMs' boot disk -> $VM_DISK"
fi
cloud_patches() {
  [ "$KUBEVIRT" = 1 ] || return 0
  echo '  - target: { kind: VirtualMachine }'
  echo '    patch: |'
  echo '      - { op: test, path: /spec/template/spec/volumes/0/name, value: root }'
  printf '      - { op: replace, path: /spec/template/spec/volumes/0/containerDisk, value: { image: "%s", imagePullSecret: registry-pull } }\n' "$VM_DISK"
}

images_step
artifact_step
operators_step

# The ingress's address: the NLB the AWS Load Balancer Controller made for the ingress controller's Service.
say "   the ingress's address: the NLB of the Service nginx-ingress/nginx-ingress-controller"
if [ "$DRY_RUN" = 1 ]; then
  run kubectl "${K[@]}" -n nginx-ingress get service nginx-ingress-controller -o 'jsonpath={.status.loadBalancer.ingress[0].hostname}'
  INGRESS_LB="k8s-nginxing-nginxing-0123456789.elb.$REGION.amazonaws.com"
  echo "# (an example name: the NLB's own is known once it exists)"
else
  INGRESS_LB=''
  for _ in $(seq 1 60); do
    INGRESS_LB=$(kc -n nginx-ingress get service nginx-ingress-controller -o 'jsonpath={.status.loadBalancer.ingress[0].hostname}' 2>/dev/null || true)
    [ -n "$INGRESS_LB" ] && break
    sleep 10
  done
  [ -n "$INGRESS_LB" ] || { echo "up.sh: the ingress controller's Service has no load balancer after 10 minutes: kubectl ${K[*]} -n nginx-ingress describe service nginx-ingress-controller; kubectl ${K[*]} -n kube-system logs deployment/aws-load-balancer-controller" >&2; false; }
fi
INGRESS_HOST=${INGRESS_HOST:-$INGRESS_LB}
INGRESS_WHERE="the NLB $INGRESS_LB"
echo "ingress: http://$INGRESS_HOST"

secrets_step
charts_step
system_step
waits_step
ingress_step
