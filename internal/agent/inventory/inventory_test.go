package inventory

import (
	"errors"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/google/go-cmp/cmp"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent/nvmlmock"
)

func TestReadGPUsOnMockServers(t *testing.T) {
	cases := []struct {
		name        string
		server      nvmlmock.Server
		wantProduct string
		wantMiB     int64
	}{
		{"DGX A100", nvmlmock.DGXA100(), "Mock NVIDIA A100-SXM4-40GB", 40960},
		{"DGX H100", nvmlmock.DGXH100(), "NVIDIA H100 80GB HBM3", 81920},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadGPUs(tc.server)
			if err != nil {
				t.Fatal(err)
			}
			if got.DriverVersion != "550.54.15" || got.CUDAVersion != "12.4" {
				t.Errorf("driver %q cuda %q, want 550.54.15 and 12.4", got.DriverVersion, got.CUDAVersion)
			}
			if len(got.Devices) != 8 {
				t.Fatalf("%d GPUs, want 8", len(got.Devices))
			}
			uuids := map[string]bool{}
			for i, gpu := range got.Devices {
				if gpu.Index != int32(i) || gpu.Minor != int32(i) || !gpu.Healthy || gpu.Health != "" {
					t.Errorf("GPU %d: %+v", i, gpu)
				}
				if gpu.Product != tc.wantProduct || gpu.MemoryTotalMiB != tc.wantMiB {
					t.Errorf("GPU %d: product %q memory %d, want %q %d", i, gpu.Product, gpu.MemoryTotalMiB, tc.wantProduct, tc.wantMiB)
				}
				if !strings.HasPrefix(gpu.UUID, "GPU-") || uuids[gpu.UUID] {
					t.Errorf("GPU %d: UUID %q missing or repeated", i, gpu.UUID)
				}
				uuids[gpu.UUID] = true
			}
		})
	}
}

// One GPU erroring is reported unhealthy with the error; the others are still read.
func TestReadGPUsWithOneGPUErroring(t *testing.T) {
	server := nvmlmock.DGXH100()
	server.FailGPU(3, nvml.ERROR_GPU_IS_LOST)
	got, err := ReadGPUs(server)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Devices) != 8 {
		t.Fatalf("%d GPUs, want all 8 reported", len(got.Devices))
	}
	for i, gpu := range got.Devices {
		if i == 3 {
			if gpu.Healthy || !strings.Contains(gpu.Health, "ERROR_GPU_IS_LOST") || gpu.UUID == "" {
				t.Errorf("failing GPU reported as %+v", gpu)
			}
			continue
		}
		if !gpu.Healthy || gpu.Product == "" {
			t.Errorf("GPU %d should be unaffected: %+v", i, gpu)
		}
	}
}

func TestReadGPUsReadings(t *testing.T) {
	server, err := nvmlmock.Fleet("Tesla V100-SXM2-16GB", 2, 16384, "node-a")
	if err != nil {
		t.Fatal(err)
	}
	server.SetReadings(1, 87, 71, 250, 12000)
	got, err := ReadGPUs(server)
	if err != nil {
		t.Fatal(err)
	}
	want := doradev1.GPUInfo{
		Index: 1, Minor: 1, UUID: got.Devices[1].UUID, Product: "Tesla V100-SXM2-16GB",
		MemoryTotalMiB: 16384, MemoryUsedMiB: 12000, Utilization: 87, Temperature: 71, PowerWatts: 250, Healthy: true,
	}
	if diff := cmp.Diff(want, got.Devices[1]); diff != "" {
		t.Errorf("GPU 1 (-want +got):\n%s", diff)
	}
	again, _ := nvmlmock.Fleet("Tesla V100-SXM2-16GB", 2, 16384, "node-a")
	if u, _ := again.Device(0).GetUUID(); u != got.Devices[0].UUID {
		t.Errorf("UUIDs are not deterministic for one seed: %q then %q", got.Devices[0].UUID, u)
	}
}

func TestReadGPUsWhenNVMLFails(t *testing.T) {
	server := nvmlmock.DGXA100()
	server.DeviceGetCountFunc = func() (int, nvml.Return) { return 0, nvml.ERROR_DRIVER_NOT_LOADED }
	_, err := ReadGPUs(server)
	if !errors.Is(err, ErrNVMLUnavailable) || !strings.Contains(err.Error(), "ERROR_DRIVER_NOT_LOADED") {
		t.Fatalf("error = %v", err)
	}
}

func TestParseCPUInfo(t *testing.T) {
	in := "processor\t: 0\nmodel name\t: AMD EPYC 7302 16-Core Processor\nprocessor\t: 1\nmodel name\t: AMD EPYC 7302 16-Core Processor\n"
	got := ParseCPUInfo(strings.NewReader(in))
	if got.Product != "AMD EPYC 7302 16-Core Processor" || got.Cores != 2 {
		t.Errorf("got %+v", got)
	}
}

func TestParseMemInfo(t *testing.T) {
	if got := ParseMemInfo(strings.NewReader("MemTotal:       263859772 kB\nMemFree: 1 kB\n")); got != 257675 {
		t.Errorf("got %d MiB", got)
	}
}
