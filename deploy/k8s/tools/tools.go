//go:build tools

// Package tools pins the commands built from this module: the API server the
// validation dry-runs against (stack/src/k8s.ts), and the whole control plane,
// node agents and kubectl of the Kubernetes node of `npm run cluster`.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
