package podresources

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"

	"github.com/dora-hpc/dora-operator/internal/gpu"
)

func TestHoldersFromResponse(t *testing.T) {
	cases := map[string]struct {
		resp *podresourcesv1.ListPodResourcesResponse
		want map[string]Holder
	}{
		"no pods": {
			resp: &podresourcesv1.ListPodResourcesResponse{},
			want: map[string]Holder{},
		},
		"nil response": {
			want: map[string]Holder{},
		},
		"one pod, two containers with GPUs": {
			resp: response(
				pod("team-a", "train-0",
					container("main", devices(gpu.ResourceName, "GPU-aaa", "GPU-bbb")),
					container("sidecar", devices(gpu.ResourceName, "GPU-ccc")),
				),
			),
			want: map[string]Holder{
				"GPU-aaa": {Namespace: "team-a", Pod: "train-0", Container: "main"},
				"GPU-bbb": {Namespace: "team-a", Pod: "train-0", Container: "main"},
				"GPU-ccc": {Namespace: "team-a", Pod: "train-0", Container: "sidecar"},
			},
		},
		"other resource names ignored": {
			resp: response(
				pod("team-a", "train-0",
					container("main",
						devices("example.com/fpga", "fpga-0"),
						devices(gpu.ResourceName, "GPU-aaa"),
					),
				),
				pod("team-b", "infer-0", container("main", devices("rdma/hca", "mlx5_0"))),
				pod("team-c", "cpu-only", container("main")),
			),
			want: map[string]Holder{
				"GPU-aaa": {Namespace: "team-a", Pod: "train-0", Container: "main"},
			},
		},
		"device listed twice keeps the first holder": {
			resp: response(
				pod("team-a", "first", container("main", devices(gpu.ResourceName, "GPU-aaa"))),
				pod("team-b", "second", container("main", devices(gpu.ResourceName, "GPU-aaa", "GPU-bbb"))),
			),
			want: map[string]Holder{
				"GPU-aaa": {Namespace: "team-a", Pod: "first", Container: "main"},
				"GPU-bbb": {Namespace: "team-b", Pod: "second", Container: "main"},
			},
		},
		"empty device ID skipped": {
			resp: response(pod("team-a", "train-0", container("main", devices(gpu.ResourceName, "")))),
			want: map[string]Holder{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := holdersFromResponse(tc.resp, gpu.ResourceName)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("holdersFromResponse() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHolderString(t *testing.T) {
	h := Holder{Namespace: "team-a", Pod: "train-0", Container: "main"}
	if got, want := h.String(), "team-a/train-0"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestGPUHolders(t *testing.T) {
	socket := serve(t, &fakeKubelet{resp: response(
		pod("team-a", "train-0", container("main", devices(gpu.ResourceName, "GPU-aaa"))),
		pod("team-b", "infer-0", container("server", devices(gpu.ResourceName, "GPU-bbb"))),
		pod("team-c", "fpga-0", container("main", devices("example.com/fpga", "fpga-0"))),
	)})

	got, err := GPUHolders(t.Context(), socket, gpu.ResourceName)
	if err != nil {
		t.Fatalf("GPUHolders() error = %v", err)
	}
	want := map[string]Holder{
		"GPU-aaa": {Namespace: "team-a", Pod: "train-0", Container: "main"},
		"GPU-bbb": {Namespace: "team-b", Pod: "infer-0", Container: "server"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GPUHolders() mismatch (-want +got):\n%s", diff)
	}
}

func TestGPUHoldersMissingSocket(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "kubelet.sock")

	_, err := GPUHolders(t.Context(), socket, gpu.ResourceName)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("GPUHolders() error = %v, want one wrapping fs.ErrNotExist", err)
	}
	for _, part := range []string{socket, "PodResources API enabled", "mounted into the agent"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("GPUHolders() error = %q, want it to mention %q", err, part)
		}
	}
}

func TestGPUHoldersListError(t *testing.T) {
	socket := serve(t, &fakeKubelet{err: status.Error(codes.Internal, "checkpoint unreadable")})

	_, err := GPUHolders(t.Context(), socket, gpu.ResourceName)
	if got := status.Code(err); got != codes.Internal {
		t.Errorf("GPUHolders() error code = %v, want %v (error %v)", got, codes.Internal, err)
	}
	if err == nil || !strings.Contains(err.Error(), "checkpoint unreadable") {
		t.Errorf("GPUHolders() error = %v, want the kubelet's message", err)
	}
}

func TestGPUHoldersHonoursDeadline(t *testing.T) {
	socket := serve(t, &fakeKubelet{hang: true})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()

	_, err := GPUHolders(ctx, socket, gpu.ResourceName)
	if got := status.Code(err); got != codes.DeadlineExceeded {
		t.Errorf("GPUHolders() error code = %v, want %v (error %v)", got, codes.DeadlineExceeded, err)
	}
}

// fakeKubelet answers List the way a kubelet would, from a fixed response.
type fakeKubelet struct {
	podresourcesv1.UnimplementedPodResourcesListerServer
	resp *podresourcesv1.ListPodResourcesResponse
	err  error
	// hang makes List wait for the caller to give up, like a stuck kubelet.
	hang bool
}

func (k *fakeKubelet) List(ctx context.Context, _ *podresourcesv1.ListPodResourcesRequest) (*podresourcesv1.ListPodResourcesResponse, error) {
	if k.hang {
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return k.resp, k.err
}

// serve runs a real gRPC server for srv on a unix socket, as the kubelet does, and returns
// the socket's path.
func serve(t *testing.T, srv podresourcesv1.PodResourcesListerServer) string {
	t.Helper()
	socket := filepath.Join(t.TempDir(), "kubelet.sock")
	lis, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatalf("listening on %s: %v", socket, err)
	}
	server := grpc.NewServer()
	podresourcesv1.RegisterPodResourcesListerServer(server, srv)
	go func() { _ = server.Serve(lis) }()
	t.Cleanup(server.Stop)
	return socket
}

func response(pods ...*podresourcesv1.PodResources) *podresourcesv1.ListPodResourcesResponse {
	return &podresourcesv1.ListPodResourcesResponse{PodResources: pods}
}

func pod(namespace, name string, containers ...*podresourcesv1.ContainerResources) *podresourcesv1.PodResources {
	return &podresourcesv1.PodResources{Namespace: namespace, Name: name, Containers: containers}
}

func container(name string, devs ...*podresourcesv1.ContainerDevices) *podresourcesv1.ContainerResources {
	return &podresourcesv1.ContainerResources{Name: name, Devices: devs}
}

func devices(resourceName string, ids ...string) *podresourcesv1.ContainerDevices {
	return &podresourcesv1.ContainerDevices{ResourceName: resourceName, DeviceIds: ids}
}
