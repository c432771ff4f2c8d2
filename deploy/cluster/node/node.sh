#!/bin/sh
# The node's agents, containerd and the kubelet, in the private mount namespace
# `npm run cluster` starts this in (unshare --mount): the host paths they insist
# on (/run/containerd, /var/lib/cni, /var/log/containers) are bound to private
# folders of the node's state, and so are the few kernel settings the kubelet
# and the bridge plugin would otherwise set for the whole machine; the
# containers' mounts stay in this namespace and go with it.
# usage: node.sh <state folder> <containerd's folder> <kubelet> <kubelet flags...>
set -eu
state=$1
bin=$2
kubelet=$3
shift 3
ns=$state/ns
mkdir -p "$ns/run-containerd" "$ns/var-lib-cni" "$ns/var-log-containers" "$ns/sysctl"
mount --bind "$ns/run-containerd" /run/containerd
mount --bind "$ns/var-lib-cni" /var/lib/cni
mount --bind "$ns/var-log-containers" /var/log/containers
# the kubelet sets vm.overcommit_memory, kernel.panic and kernel.panic_on_oops, the bridge plugin
# net.ipv4.ip_forward: here they read and write a file of this namespace, the host's stay as they are
fake() {
  file=$ns/sysctl/$(echo "$1" | tr / _)
  echo "$2" > "$file"
  mount --bind "$file" "/proc/sys/$1"
}
fake vm/overcommit_memory 1
fake kernel/panic 10
fake kernel/panic_on_oops 1
fake net/ipv4/ip_forward 1
"$bin/containerd" --config "$state/containerd.toml" &
containerd=$!
i=0
until "$bin/ctr" --address "$state/containerd/containerd.sock" version >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -lt 120 ] || { echo "containerd did not answer" >&2; kill "$containerd"; exit 1; }
  sleep 0.5
done
"$kubelet" "$@" &
kubelet=$!
# a stop stops both, the kubelet first; either one ending ends the node (the supervisor restarts it)
trap 'kill -TERM "$kubelet" 2>/dev/null; wait "$kubelet"; kill -TERM "$containerd" 2>/dev/null; wait "$containerd"; exit 0' TERM INT
while kill -0 "$kubelet" 2>/dev/null && kill -0 "$containerd" 2>/dev/null; do sleep 1; done
kill -TERM "$kubelet" "$containerd" 2>/dev/null || true
exit 1
