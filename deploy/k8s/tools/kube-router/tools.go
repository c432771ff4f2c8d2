//go:build tools

// Package tools pins the commands built from this module.
package tools

import (
	_ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
)
