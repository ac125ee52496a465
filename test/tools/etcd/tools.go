//go:build tools

// Package tools pins the command built into bin/.
package tools

import _ "go.etcd.io/etcd/server/v3"
