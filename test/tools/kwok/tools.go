//go:build tools

// Package tools pins the command built into bin/.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
