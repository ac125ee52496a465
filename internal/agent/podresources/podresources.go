// Package podresources asks the kubelet which pod holds which GPU. The node agent needs this
// because a pod that requests nvidia.com/gpu may land on any GPU of its node, and credits must
// price each pod by the model it really holds, not by the model its Workload asked for. The
// kubelet's PodResources API (gRPC v1 on a unix socket) is the one place that knows the device
// plugin's assignment of device IDs, which for NVIDIA GPUs are the GPU UUIDs NVML reports.
package podresources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"
)

// DefaultSocket is where the kubelet serves the PodResources API; the agent's DaemonSet mounts
// it from the host.
const DefaultSocket = "/var/lib/kubelet/pod-resources/kubelet.sock"

// defaultTimeout bounds a call whose context has no deadline, so that a hung kubelet cannot
// stall the agent's reporting loop.
const defaultTimeout = 5 * time.Second

// maxResponseSize matches the kubelet's own pod-resources client: a busy node's List answer can
// outgrow gRPC's 4 MiB default.
const maxResponseSize = 16 * 1024 * 1024

// Holder is the container a device is assigned to.
type Holder struct {
	Namespace string
	Pod       string
	Container string
}

// String gives "namespace/pod", the form credits and logs name a pod by.
func (h Holder) String() string {
	return h.Namespace + "/" + h.Pod
}

// GPUHolders asks the kubelet listening on socket which containers hold devices of
// resourceName (for example nvidia.com/gpu) and returns device ID -> holder. Devices assigned
// to no container are absent from the map.
func GPUHolders(ctx context.Context, socket, resourceName string) (map[string]Holder, error) {
	// gRPC's unix:// target takes only absolute paths; a relative one would be read as a host.
	socket, err := filepath.Abs(socket)
	if err != nil {
		return nil, fmt.Errorf("resolving kubelet pod-resources socket path: %w", err)
	}
	// grpc.NewClient connects lazily, so a missing socket would otherwise surface as an opaque
	// Unavailable from List; checking first tells the operator what to fix.
	if _, err := os.Stat(socket); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("kubelet pod-resources socket %s not found: is the kubelet's PodResources API enabled and the socket mounted into the agent?: %w", socket, err)
		}
		return nil, fmt.Errorf("checking kubelet pod-resources socket %s: %w", socket, err)
	}

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}

	conn, err := grpc.NewClient("unix://"+socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxResponseSize)),
	)
	if err != nil {
		return nil, fmt.Errorf("creating pod-resources client for %s: %w", socket, err)
	}
	defer func() { _ = conn.Close() }()

	resp, err := podresourcesv1.NewPodResourcesListerClient(conn).List(ctx, &podresourcesv1.ListPodResourcesRequest{})
	if err != nil {
		return nil, fmt.Errorf("listing pod resources from %s: %w", socket, err)
	}
	return holdersFromResponse(resp, resourceName), nil
}

// holdersFromResponse maps every device ID of resourceName in resp to the container holding it.
// The kubelet never assigns a device to two containers, but should an answer list one twice the
// first holder in the answer's order wins, so the same answer always gives the same map.
func holdersFromResponse(resp *podresourcesv1.ListPodResourcesResponse, resourceName string) map[string]Holder {
	holders := map[string]Holder{}
	for _, pod := range resp.GetPodResources() {
		for _, container := range pod.GetContainers() {
			for _, devices := range container.GetDevices() {
				if devices.GetResourceName() != resourceName {
					continue
				}
				for _, id := range devices.GetDeviceIds() {
					if _, taken := holders[id]; id == "" || taken {
						continue
					}
					holders[id] = Holder{Namespace: pod.GetNamespace(), Pod: pod.GetName(), Container: container.GetName()}
				}
			}
		}
	}
	return holders
}
