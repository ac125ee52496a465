package main

// Module plugins: each registers its linters with golangci-lint in an init function
// (github.com/golangci/plugin-module-register), and .golangci.yml enables them as
// custom linters of type "module".
import (
	// kubeapilinter: the Kubernetes API conventions, run over api/.
	_ "sigs.k8s.io/kube-api-linter"
)
