# Dora on Kubernetes. `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
ROOT := $(CURDIR)
BIN := $(ROOT)/bin
TOOLS := $(ROOT)/test/tools
GO ?= go
# go-nvml's header marks some NVML calls deprecated; the agent does not use them.
export CGO_CFLAGS ?= -O2 -g -Wno-deprecated-declarations

CONTROLLER_GEN := $(BIN)/controller-gen
GOLANGCI_LINT := $(BIN)/golangci-lint
CONTROL_PLANE := $(BIN)/etcd $(BIN)/kube-apiserver $(BIN)/kube-controller-manager $(BIN)/kube-scheduler $(BIN)/kwok $(BIN)/kwok-stages.yaml
GO_TEST_FLAGS ?= -count=1
PLAYGROUND_DIR ?= $(ROOT)/.playground

.PHONY: all
all: build

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs, RBAC and webhook configuration from the Go types and markers.
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=manager-role paths=./internal/... output:rbac:artifacts:config=config/rbac
	$(CONTROLLER_GEN) webhook paths=./internal/... output:webhook:artifacts:config=config/webhook
	rm -f charts/dora-operator/files/crds/*.yaml && cp config/crd/bases/*.yaml charts/dora-operator/files/crds/
	cp config/rbac/role.yaml charts/dora-operator/files/rbac/role.yaml
	cp config/webhook/manifests.yaml charts/dora-operator/files/webhook/manifests.yaml

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object paths=./api/...

GENERATED = find api/v1alpha1/zz_generated.deepcopy.go config/crd/bases config/rbac/role.yaml config/webhook/manifests.yaml -type f | sort | xargs sha256sum

.PHONY: verify
verify: $(CONTROLLER_GEN) ## Fail when the generated files do not match the Go types and markers.
	@before=$$($(GENERATED)); \
	$(MAKE) -s generate manifests; \
	after=$$($(GENERATED)); \
	if [ "$$before" != "$$after" ]; then \
	  echo "Generated files were stale and have now been regenerated; review and commit them:"; \
	  diff <(echo "$$before") <(echo "$$after") || true; exit 1; fi

.PHONY: fmt
fmt: ## Run gofmt.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: lint
lint: vet $(GOLANGCI_LINT) ## Check formatting, vet, and run golangci-lint (.golangci.yml) with the Kubernetes API linter.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GOLANGCI_LINT) run ./...

.PHONY: build
build: ## Build the manager, the node agent, kubectl-dora and the playground into bin/.
	$(GO) build -o $(BIN)/ ./cmd/...

.PHONY: plugin
plugin: ## Build kubectl-dora and its completion shim kubectl_complete-dora into bin/ (put bin/ on PATH).
	$(GO) build -o $(BIN)/ ./cmd/kubectl-dora ./cmd/kubectl_complete-dora

##@ Tests

.PHONY: test
test: tools verify lint unit integration e2e ## Run every test: unit, envtest integration, simulated-cluster e2e.
test: helm-lint chart-test install-test plugin-test

.PHONY: unit
unit: ## Unit tests of the pure packages (no cluster), kstatus and the Argo CD health checks.
	$(GO) test $(GO_TEST_FLAGS) ./api/... ./internal/... ./test/gitops/...

.PHONY: integration
integration: tools ## Tests against a real kube-apiserver and etcd (envtest).
	$(GO) test $(GO_TEST_FLAGS) -timeout 15m ./test/integration/...

.PHONY: e2e
e2e: tools ## End-to-end tests on the simulated GPU cluster.
	$(GO) test $(GO_TEST_FLAGS) -timeout 20m ./test/e2e/...

.PHONY: helm-lint
helm-lint: $(BIN)/helm ## Lint the Helm chart (charts/dora-operator) strictly.
	$(BIN)/helm lint --strict charts/dora-operator --set zone=test

.PHONY: chart-test
chart-test: ## Render the Helm chart under value tables and check it against config/ (test/chart).
	cd test/chart && $(GO) test $(GO_TEST_FLAGS) ./...

.PHONY: plugin-test
plugin-test: tools ## Run the real kubectl with kubectl-dora against two simulated clusters as two zones (test/plugin).
	$(GO) test $(GO_TEST_FLAGS) -timeout 20m ./test/plugin/...

.PHONY: install-test
install-test: tools $(BIN)/helm ## Install the Helm chart into the simulated cluster and run the manager and agents as its service accounts (test/install).
	$(GO) test $(GO_TEST_FLAGS) -timeout 20m ./test/install/...

.PHONY: bench
bench: tools build ## Measure the manager on the simulated cluster (about 5 minutes); prints a table.
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 120m ./test/bench/ -args -manager=$(BIN)/manager $(BENCH_ARGS)

.PHONY: fuzz
fuzz: ## Fuzz the Dora document translator for a while (FUZZTIME, default 60s).
	$(GO) test ./internal/doradoc/ -run '^$$' -fuzz FuzzDecode -fuzztime $${FUZZTIME:-60s}

##@ Playground

.PHONY: run
run: tools ## Start the playground: a simulated GPU cluster with the manager in it (Ctrl-C stops it).
	$(GO) run ./cmd/playground --bin-dir=$(BIN) --work-dir=$(PLAYGROUND_DIR)

##@ Tools (built from the Go module proxy into bin/; nothing else is downloaded)

.PHONY: tools
tools: $(CONTROLLER_GEN) $(GOLANGCI_LINT) $(CONTROL_PLANE) ## Build controller-gen, golangci-lint and the control plane.
tools: $(BIN)/helm

$(BIN)/kube-apiserver $(BIN)/kube-controller-manager $(BIN)/kube-scheduler: $(TOOLS)/kube/go.mod
	cd $(TOOLS)/kube && $(GO) build -o $(BIN)/ k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler

$(BIN)/etcd: $(TOOLS)/etcd/go.mod
	cd $(TOOLS)/etcd && $(GO) build -o $(BIN)/etcd go.etcd.io/etcd/server/v3

$(BIN)/kwok: $(TOOLS)/kwok/go.mod
	cd $(TOOLS)/kwok && $(GO) build -o $(BIN)/ sigs.k8s.io/kwok/cmd/kwok

# kwok's own "fast" stages: nodes become Ready at once; pods run as soon as they are
# scheduled, Job pods complete, deleted pods go away. Then ours (internal/simcluster/stages):
# helper Jobs on the NFS server nfs.unreachable.invalid fail.
KWOK_STAGES := $(wildcard internal/simcluster/stages/*.yaml)
$(BIN)/kwok-stages.yaml: $(TOOLS)/kwok/go.mod $(KWOK_STAGES)
	@mkdir -p $(BIN)
	cd $(TOOLS)/kwok && dir=$$($(GO) list -m -f '{{.Dir}}' sigs.k8s.io/kwok) && \
	  for f in node/fast/node-initialize.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do \
	    echo '---'; cat "$$dir/kustomize/stage/$$f"; done > $@.tmp
	for f in $(KWOK_STAGES); do echo '---'; cat "$$f"; done >> $@.tmp && mv $@.tmp $@

$(CONTROLLER_GEN): $(TOOLS)/controller-gen/go.mod
	cd $(TOOLS)/controller-gen && $(GO) build -o $(BIN)/ sigs.k8s.io/controller-tools/cmd/controller-gen

# golangci-lint with kube-api-linter compiled in as a module plugin: a small main package in
# the tools module, since `golangci-lint custom` would git-clone golangci-lint.
$(GOLANGCI_LINT): $(TOOLS)/golangci-lint/go.mod $(wildcard $(TOOLS)/golangci-lint/*.go)
	cd $(TOOLS)/golangci-lint && $(GO) build -o $(GOLANGCI_LINT) .

$(BIN)/helm: $(TOOLS)/helm/go.mod
	cd $(TOOLS)/helm && $(GO) build -o $(BIN)/ helm.sh/helm/v3/cmd/helm

.PHONY: gpu-check
gpu-check: ## On a machine with an NVIDIA GPU: compare the agent's NVML reading with nvidia-smi.
	test/gpu/check.sh

.PHONY: clean
clean: ## Remove built binaries and playground state.
	rm -rf $(BIN) $(PLAYGROUND_DIR)
