# Images of Dora on Kubernetes, each non-root. Build one with --target:
#   docker build --target manager      -t dora-manager .
#   docker build --target agent        -t dora-node-agent .
#   docker build --target kubectl-dora -t kubectl-dora .

FROM golang:1.26 AS builder
ARG TARGETOS=linux
ARG TARGETARCH=amd64
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
# The manager is static; the agent needs cgo, because go-nvml loads libnvidia-ml at run time.
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o manager ./cmd/manager
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o kubectl-dora ./cmd/kubectl-dora
RUN CGO_ENABLED=1 CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations" GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o dora-node-agent ./cmd/dora-node-agent

# The node agent: glibc (for dlopen of the driver's libnvidia-ml, which the NVIDIA container
# runtime mounts in), non-root.
FROM gcr.io/distroless/base-debian12:nonroot AS agent
WORKDIR /
COPY --from=builder /workspace/dora-node-agent .
USER 65532:65532
ENTRYPOINT ["/dora-node-agent"]

# The kubectl plugin, for a CI job or a toolbox pod: static, non-root; it reads the
# kubeconfig given with --kubeconfig or $KUBECONFIG (or the pod's service account).
FROM gcr.io/distroless/static:nonroot AS kubectl-dora
WORKDIR /
COPY --from=builder /workspace/kubectl-dora .
USER 65532:65532
ENTRYPOINT ["/kubectl-dora"]

# The manager (the default target): a static binary on distroless, non-root.
FROM gcr.io/distroless/static:nonroot AS manager
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532
ENTRYPOINT ["/manager"]
