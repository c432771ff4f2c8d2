#!/usr/bin/env bash
# shellcheck disable=SC2034 # the names aws_names sets are read by up.sh and down.sh
# What deploy/aws/up.sh and down.sh share, and what test/integration/aws.test.ts runs
# on its own: the names of what they make in AWS (aws_names), and the
# documents they hand to AWS: eksctl's ClusterConfig (cluster_config), the
# Zot instance's user data (zot_user_data) and the launch template of
# Valkey's VM nodes (kubevirt_launch_template, node_user_data). Functions
# only; each reads the variables its comment names.

# The label and taint of Valkey's VM nodes: deploy/k8s/overlays/eks/kubevirt and deploy/aws/kubevirt-cr.yaml
# select and tolerate these (test/integration/aws.test.ts checks that they agree).
KUBEVIRT_NODE_LABEL=weather-tweets.io/kubevirt=true
KUBEVIRT_NODE_TAINT=weather-tweets.io/kubevirt=true:NoSchedule

# aws_names: the names of what the scripts make, from CLUSTER, REGION and ZOT_NAME. IAM names are global, so
# they carry the region; every other name lives in the region.
aws_names() {
  KUBEVIRT_GROUP="$CLUSTER-kubevirt"
  NODE_ROLE="$CLUSTER-$REGION-kubevirt-node"
  ZOT_IP_NAME="$ZOT_NAME-ip"
  NODE_POLICIES=(AmazonEKSWorkerNodePolicy AmazonEC2ContainerRegistryPullOnly AmazonEKS_CNI_Policy AmazonSSMManagedInstanceCore)
}

# cluster_config: eksctl's ClusterConfig (CLUSTER, REGION, EKS_VERSION, NODES, INSTANCE_TYPE,
# EBS_CSI_DRIVER_VERSION). Its own VPC, public and private subnets in 3 zones, no NAT gateway (the nodes
# are in the public subnets: no NAT to pay for); the VPC CNI enforcing NetworkPolicies; the EBS CSI
# driver and the AWS Load Balancer Controller's IAM role through EKS Pod Identity; metrics-server for the
# HPAs; one managed node group for everything but Valkey's VMs.
cluster_config() {
  cat <<YAML
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: $CLUSTER
  region: $REGION
  version: "$EKS_VERSION"
  tags:
    weather-tweets/cluster: $CLUSTER
vpc:
  nat:
    gateway: Disable
accessConfig:
  authenticationMode: API_AND_CONFIG_MAP
iam:
  podIdentityAssociations:
    - namespace: kube-system
      serviceAccountName: aws-load-balancer-controller
      createServiceAccount: true
      wellKnownPolicies:
        awsLoadBalancerController: true
addons:
  - name: vpc-cni
    configurationValues: '{"enableNetworkPolicy": "true"}'
  - name: coredns
  - name: kube-proxy
  - name: eks-pod-identity-agent
  - name: aws-ebs-csi-driver
    version: v$EBS_CSI_DRIVER_VERSION
    useDefaultPodIdentityAssociations: true
  - name: metrics-server
managedNodeGroups:
  - name: system
    amiFamily: AmazonLinux2023
    instanceType: $INSTANCE_TYPE
    desiredCapacity: $NODES
    minSize: $NODES
    maxSize: $NODES
    volumeSize: 50
    volumeType: gp3
    privateNetworking: false
    labels:
      weather-tweets.io/pool: system
YAML
}

# zot_user_data: the Zot instance's user data (ZOT_VERSION, ZOT_HOST, HTPASSWD, EMAIL, ROOT): MIME
# parts that tell cloud-init to run the script at every boot (as GCE runs its startup script), then the
# script: the metadata deploy/zot/startup.sh reads, as ZOT_META_* variables, and that script.
zot_user_data() {
  {
    printf 'Content-Type: multipart/mixed; boundary="==zot=="\nMIME-Version: 1.0\n\n'
    printf -- '--==zot==\nContent-Type: text/cloud-config; charset="us-ascii"\n\n'
    printf '#cloud-config\ncloud_final_modules:\n  - [scripts-user, always]\n\n'
    printf -- '--==zot==\nContent-Type: text/x-shellscript; charset="us-ascii"\n\n'
    printf '#!/usr/bin/env bash\n'
    printf 'export ZOT_META_zot_version=%q\n' "$ZOT_VERSION"
    printf 'export ZOT_META_zot_host=%q\n' "$ZOT_HOST"
    printf 'export ZOT_META_zot_htpasswd=%q\n' "$HTPASSWD"
    printf 'export ZOT_META_acme_email=%q\n' "$EMAIL"
    printf 'export ZOT_META_zot_config=%q\n' "$(cat "$ROOT/deploy/zot/config.json")"
    sed 1d "$ROOT/deploy/zot/startup.sh"
    printf -- '--==zot==--\n'
  }
}

# node_user_data: the user data of Valkey's VM nodes (CLUSTER, CLUSTER_ENDPOINT, CLUSTER_CA,
# SERVICE_CIDR): KVM's module loaded, and nodeadm's NodeConfig, which joins the node to the cluster with its
# label and taint.
node_user_data() {
  cat <<MIME
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="==node=="

--==node==
Content-Type: text/x-shellscript; charset="us-ascii"

#!/bin/bash
# KVM for KubeVirt: nested virtualization exposes VT-x, kvm_intel makes /dev/kvm of it
modprobe kvm_intel || true

--==node==
Content-Type: application/node.eks.aws

apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster:
    name: $CLUSTER
    apiServerEndpoint: $CLUSTER_ENDPOINT
    certificateAuthority: $CLUSTER_CA
    cidr: $SERVICE_CIDR
  kubelet:
    flags:
      - --node-labels=$KUBEVIRT_NODE_LABEL
      - --register-with-taints=$KUBEVIRT_NODE_TAINT

--==node==--
MIME
}

# kubevirt_launch_template: the launch template's data, JSON on one line (KUBEVIRT_INSTANCE_TYPE, EKS_VERSION,
# NODE_ROLE, CLUSTER_SG, CLUSTER and node_user_data's). Nested virtualization on (CpuOptions: C8i, M8i and
# R8i only), the EKS-optimized Amazon Linux 2023 image of the cluster's version (resolved at each launch),
# the cluster's security group (nodes and control plane reach each other), a public address (the public
# subnets have no NAT), IMDSv2 with 2 hops (the node's pods that ask it).
kubevirt_launch_template() {
  local user_data
  user_data=$(node_user_data | base64 | tr -d '\n')
  printf '%s' "{\"ImageId\": \"resolve:ssm:/aws/service/eks/optimized-ami/$EKS_VERSION/amazon-linux-2023/x86_64/standard/recommended/image_id\"," \
    " \"InstanceType\": \"$KUBEVIRT_INSTANCE_TYPE\", \"CpuOptions\": {\"NestedVirtualization\": \"enabled\"}," \
    " \"IamInstanceProfile\": {\"Name\": \"$NODE_ROLE\"}," \
    " \"NetworkInterfaces\": [{\"DeviceIndex\": 0, \"AssociatePublicIpAddress\": true, \"Groups\": [\"$CLUSTER_SG\"], \"DeleteOnTermination\": true}]," \
    " \"BlockDeviceMappings\": [{\"DeviceName\": \"/dev/xvda\", \"Ebs\": {\"VolumeSize\": 50, \"VolumeType\": \"gp3\", \"Encrypted\": true, \"DeleteOnTermination\": true}}]," \
    " \"MetadataOptions\": {\"HttpTokens\": \"required\", \"HttpPutResponseHopLimit\": 2, \"HttpEndpoint\": \"enabled\"}," \
    " \"TagSpecifications\": [{\"ResourceType\": \"instance\", \"Tags\": [{\"Key\": \"Name\", \"Value\": \"$KUBEVIRT_GROUP\"}, {\"Key\": \"kubernetes.io/cluster/$CLUSTER\", \"Value\": \"owned\"}]}]," \
    " \"UserData\": \"$user_data\"}"
}
