#!/usr/bin/env bash
# Removes what deploy/aws/up.sh made, leaving nothing that bills: the workloads
# (so the NLB and the EBS volumes go with them), the VM nodes' Auto Scaling
# group, launch template and IAM role, the EKS cluster with its VPC and node
# group (eksctl), the volumes that outlived their claims, the Zot instance, its
# Elastic IP and security group. Each is waited for before the next.
# usage: deploy/aws/down.sh [--dry-run] [--region R] [--cluster NAME]
#          [--zot-name NAME] [--keep-registry] [--context KUBE-CONTEXT]
# The same environment variables as up.sh. --keep-registry keeps the instance
# (and the images in it) and its address. --dry-run prints every command and
# runs none. It does not stop half-way: what does not finish in time is
# reported, and what it held is deleted by name afterwards.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=deploy/common/lib.sh
. "$ROOT/deploy/common/lib.sh"
# shellcheck source=deploy/common/plan.sh
. "$ROOT/deploy/common/plan.sh"
# shellcheck source=deploy/aws/lib.sh
. "$ROOT/deploy/aws/lib.sh"
DRY_RUN=0
KEEP_REGISTRY=0
REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
CLUSTER=${EKS_CLUSTER:-weather-tweets}
ZOT_NAME=${ZOT_NAME:-zot-registry}
KUBE_CONTEXT=${KUBE_CONTEXT:-}
# How long to wait for what the cluster deletes itself (finalizers, volumes, the NLB), in seconds each.
WAIT=${DOWN_WAIT_SECONDS:-600}
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --keep-registry) KEEP_REGISTRY=1 ;;
    --region) REGION=$2; shift ;;
    --cluster) CLUSTER=$2; shift ;;
    --zot-name) ZOT_NAME=$2; shift ;;
    --context) KUBE_CONTEXT=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "down.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
aws_names
A=(--region "$REGION")
# present CMD...: whether a describe/get succeeds; with --dry-run it is printed and everything is there, so
# every deletion shows.
present() {
  if [ "$DRY_RUN" = 1 ]; then run "$@"; return 0; fi
  "$@" >/dev/null 2>&1
}
# lookup VAR EXAMPLE CMD...: query's answer (plan.sh); a lookup that fails is taken for "nothing there", since
# down.sh does not stop half-way. A dry run shows what EXAMPLE stands for, so every deletion shows.
lookup() { query "$@" || printf -v "$1" '%s' ''; }

# volumes_of_pvs: the EBS volumes behind the cluster's persistent volumes, one a line.
volumes_of_pvs() {
  kc get pv -o 'jsonpath={range .items[*]}{.spec.csi.volumeHandle}{"\n"}{end}' 2>/dev/null | grep -E '^vol-[0-9a-f]+$' || true
}

# nlb_gone HOST: the NLB answering for HOST deleted (by the AWS Load Balancer Controller with its Service, or
# here if it outlived it), and waited for.
nlb_gone() {
  local arn
  lookup arn arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/k8s-nginxing-nginxing-0123456789/0123456789abcdef \
    aws elbv2 describe-load-balancers "${A[@]}" --query "LoadBalancers[?DNSName=='$1'].LoadBalancerArn" --output text
  [ -n "$arn" ] || return 0
  say "the ingress's NLB ($1)"
  if ! run aws elbv2 wait load-balancers-deleted "${A[@]}" --load-balancer-arns "$arn"; then
    echo "down.sh: the NLB outlived its Service: deleting it"
    run aws elbv2 delete-load-balancer "${A[@]}" --load-balancer-arn "$arn" || true
    run aws elbv2 wait load-balancers-deleted "${A[@]}" --load-balancer-arns "$arn" || echo "down.sh: the NLB $arn is still there - going on"
  fi
}

# kubevirt_nodes_gone: the VM nodes' group (its instances terminated and waited for) and launch template.
kubevirt_nodes_gone() {
  local asg ids
  lookup asg "$KUBEVIRT_GROUP" aws autoscaling describe-auto-scaling-groups "${A[@]}" --auto-scaling-group-names "$KUBEVIRT_GROUP" \
    --query 'AutoScalingGroups[0].AutoScalingGroupName' --output text
  if [ -n "$asg" ]; then
    say "Valkey's VM nodes: their group and launch template"
    lookup ids 'i-0123456789abcdef1 i-0123456789abcdef2' aws autoscaling describe-auto-scaling-groups "${A[@]}" --auto-scaling-group-names "$KUBEVIRT_GROUP" \
      --query 'AutoScalingGroups[0].Instances[].InstanceId' --output text
    run aws autoscaling delete-auto-scaling-group "${A[@]}" --auto-scaling-group-name "$KUBEVIRT_GROUP" --force-delete || true
    # shellcheck disable=SC2086 # one argument an instance
    if [ -n "$ids" ]; then run aws ec2 wait instance-terminated "${A[@]}" --instance-ids $ids || echo "down.sh: the VM nodes are still terminating - going on"; fi
  fi
  if present aws ec2 describe-launch-templates "${A[@]}" --launch-template-names "$KUBEVIRT_GROUP"; then
    run aws ec2 delete-launch-template "${A[@]}" --launch-template-name "$KUBEVIRT_GROUP"
  fi
}

# node_role_gone: the VM nodes' instance profile and IAM role (IAM: global, named for the region).
node_role_gone() {
  local p
  if present aws iam get-instance-profile --instance-profile-name "$NODE_ROLE"; then
    run aws iam remove-role-from-instance-profile --instance-profile-name "$NODE_ROLE" --role-name "$NODE_ROLE" || true
    run aws iam delete-instance-profile --instance-profile-name "$NODE_ROLE"
  fi
  if present aws iam get-role --role-name "$NODE_ROLE"; then
    for p in "${NODE_POLICIES[@]}"; do run aws iam detach-role-policy --role-name "$NODE_ROLE" --policy-arn "arn:aws:iam::aws:policy/$p" || true; done
    run aws iam delete-role --role-name "$NODE_ROLE"
  fi
}

# registry_gone: the Zot instance (terminated and waited for), then its Elastic IP and security group.
registry_gone() {
  local id alloc sg
  say "the registry: its instance, address and security group"
  lookup id i-0123456789abcdef0 aws ec2 describe-instances "${A[@]}" --filters "Name=tag:Name,Values=$ZOT_NAME" \
    Name=instance-state-name,Values=pending,running,stopping,stopped --query 'Reservations[].Instances[].InstanceId' --output text
  if [ -n "$id" ]; then
    # shellcheck disable=SC2086 # one argument an instance
    run aws ec2 terminate-instances "${A[@]}" --instance-ids $id
    # shellcheck disable=SC2086
    run aws ec2 wait instance-terminated "${A[@]}" --instance-ids $id || echo "down.sh: the registry's instance is still terminating - going on"
  fi
  lookup alloc eipalloc-0123456789abcdef0 aws ec2 describe-addresses "${A[@]}" --filters "Name=tag:Name,Values=$ZOT_IP_NAME" --query 'Addresses[0].AllocationId' --output text
  if [ -n "$alloc" ]; then run aws ec2 release-address "${A[@]}" --allocation-id "$alloc"; fi
  lookup sg sg-0123456789abcdef0 aws ec2 describe-security-groups "${A[@]}" --filters "Name=group-name,Values=$ZOT_NAME" --query 'SecurityGroups[0].GroupId' --output text
  if [ -n "$sg" ]; then run aws ec2 delete-security-group "${A[@]}" --group-id "$sg"; fi
}

VOLUMES=''
LB_HOST=''
if present eksctl get cluster --name "$CLUSTER" --region "$REGION"; then
  KUBE_CONTEXT=${KUBE_CONTEXT:-eks_${REGION}_${CLUSTER}}
  run aws eks update-kubeconfig "${A[@]}" --name "$CLUSTER" --alias "$KUBE_CONTEXT"
  if [ "$DRY_RUN" = 1 ]; then
    echo "+ kubectl --context $KUBE_CONTEXT delete ${FINALIZED[*]} --all (finalizers removed after ${WAIT} s), then namespace ${NAMESPACES[*]}, then wait for every PersistentVolume to go (each wait at most ${WAIT} s)"
    LB_HOST="k8s-nginxing-nginxing-0123456789.elb.$REGION.amazonaws.com"
  else
    LB_HOST=$(kc -n nginx-ingress get service nginx-ingress-controller -o 'jsonpath={.status.loadBalancer.ingress[0].hostname}' 2>/dev/null || true)
    empty_cluster
    VOLUMES=$(volumes_of_pvs)
  fi
  if [ -n "$LB_HOST" ]; then nlb_gone "$LB_HOST"; fi
  # before the cluster: eksctl deletes the VPC, which these nodes' network interfaces would hold
  kubevirt_nodes_gone
  say "the cluster: its node group, add-ons, pod identities, VPC (eksctl's stacks)"
  run eksctl delete cluster --name "$CLUSTER" --region "$REGION" --wait --disable-nodegroup-eviction
else
  kubevirt_nodes_gone
fi
node_role_gone
# Volumes that outlived their claims (the cluster was deleted before the CSI driver got to them).
if [ "$DRY_RUN" = 1 ]; then echo "+ for each EBS volume of a PersistentVolume that was still there: aws ec2 delete-volume --region $REGION --volume-id VOLUME, then aws ec2 wait volume-deleted"; fi
for v in $VOLUMES; do
  if present aws ec2 describe-volumes "${A[@]}" --volume-ids "$v"; then
    run aws ec2 delete-volume "${A[@]}" --volume-id "$v"
    run aws ec2 wait volume-deleted "${A[@]}" --volume-ids "$v" || echo "down.sh: the volume $v is still there - going on"
  fi
done
if [ "$KEEP_REGISTRY" = 0 ]; then
  registry_gone
  run rm -rf "$ROOT/.data/aws/$REGION-$CLUSTER"
fi
echo "check for anything left: aws ec2 describe-volumes --region $REGION --filters Name=tag-key,Values=kubernetes.io/created-for/pvc/name --query 'Volumes[].VolumeId'; aws elbv2 describe-load-balancers --region $REGION --query 'LoadBalancers[].LoadBalancerName'; aws ec2 describe-addresses --region $REGION --query 'Addresses[].PublicIp'"
