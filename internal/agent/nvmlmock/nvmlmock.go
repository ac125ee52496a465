// Package nvmlmock builds NVML stand-ins from go-nvml's mock servers, for tests and for the
// playground, where there is no GPU. go-nvml's mocks answer inventory calls (names, UUIDs,
// memory, MIG mode); this package adds the live readings the agent also asks for
// (utilisation, temperature, power) and says "not supported" for XID events, so an agent on a
// mock behaves like one on a quiet real node.
package nvmlmock

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// Server is an NVML mock whose devices can be reached to change their behaviour in tests.
type Server struct {
	*server.Server
}

// Device returns GPU i of the mock.
func (s Server) Device(i int) *server.Device { return s.Devices[i].(*server.Device) }

// FailGPU makes every call on GPU i fail with ret, as a GPU that fell off the bus does.
func (s Server) FailGPU(i int, ret nvml.Return) {
	d := s.Device(i)
	d.GetNameFunc = func() (string, nvml.Return) { return "", ret }
	d.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, ret }
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) { return nvml.Utilization{}, ret }
	d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 0, ret }
	d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 0, ret }
	d.GetMigModeFunc = func() (int, int, nvml.Return) { return 0, 0, ret }
	d.GetMinorNumberFunc = func() (int, nvml.Return) { return 0, ret }
}

// SetReadings sets GPU i's utilisation (percent), temperature (Celsius), power (watts) and
// memory in use (MiB).
func (s Server) SetReadings(i int, util, tempC, powerW uint32, usedMiB uint64) {
	d := s.Device(i)
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) { return nvml.Utilization{Gpu: util}, nvml.SUCCESS }
	d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return tempC, nvml.SUCCESS }
	d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return powerW * 1000, nvml.SUCCESS }
	d.Lock()
	d.MemoryInfo.Used = usedMiB << 20
	d.MemoryInfo.Free = d.MemoryInfo.Total - d.MemoryInfo.Used
	d.Unlock()
}

// DGXA100 is go-nvml's DGX A100: eight A100-SXM4-40GB.
func DGXA100() Server { return complete(dgxa100.New(), "dgxa100") }

// DGXH100 is go-nvml's DGX H100: eight H100-SXM5-80GB.
func DGXH100() Server { return complete(dgxh100.New(), "dgxh100") }

// Fleet is a node with count GPUs of one product, named as NVML names it. seed makes the
// UUIDs deterministic (use the node name), so a restarted agent reports the same GPUs.
func Fleet(product string, count int, memoryMiB uint64, seed string) (Server, error) {
	cfg := gpus.Config{
		Name:         product,
		Architecture: nvml.DEVICE_ARCH_VOLTA,
		Brand:        nvml.BRAND_NVIDIA,
		MemoryMB:     memoryMiB,
		CudaMajor:    7,
		CudaMinor:    0,
	}
	s, err := server.New(
		server.WithGPUs(gpus.Multiple(count, cfg)...),
		server.WithDriverVersion("550.54.15"),
		server.WithNVMLVersion("12.550.54.15"),
		server.WithCUDADriverVersion(12040),
	)
	if err != nil {
		return Server{}, err
	}
	return complete(s, seed), nil
}

// Parse reads the agent's --nvml value for a mock: "mock:dgxa100", "mock:dgxh100" or
// "mock:<count>x<product>[@<memory MiB>]", such as "mock:8xTesla V100-SXM2-16GB@16384".
func Parse(spec, seed string) (Server, error) {
	name, ok := strings.CutPrefix(spec, "mock:")
	if !ok {
		return Server{}, fmt.Errorf("%q is not a mock NVML (mock:dgxa100, mock:dgxh100 or mock:<count>x<product>[@<MiB>])", spec)
	}
	switch name {
	case "dgxa100":
		return DGXA100(), nil
	case "dgxh100":
		return DGXH100(), nil
	}
	countText, product, ok := strings.Cut(name, "x")
	count, err := strconv.Atoi(countText)
	if !ok || err != nil || count < 0 || product == "" {
		return Server{}, fmt.Errorf("mock NVML %q: want mock:<count>x<product>[@<MiB>], such as mock:8xTesla V100-SXM2-16GB@16384", spec)
	}
	memory := uint64(16384)
	if p, m, ok := strings.Cut(product, "@"); ok {
		if memory, err = strconv.ParseUint(m, 10, 64); err != nil {
			return Server{}, fmt.Errorf("mock NVML %q: memory %q is not a number of MiB", spec, m)
		}
		product = p
	}
	return Fleet(product, count, memory, seed)
}

// complete fills in what go-nvml's mock leaves out and makes the UUIDs deterministic.
func complete(s *server.Server, seed string) Server {
	s.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) { return nil, nvml.ERROR_NOT_SUPPORTED }
	m := Server{s}
	for i, dev := range s.Devices {
		d := dev.(*server.Device)
		d.UUID = deterministicUUID(seed, i)
		m.SetReadings(i, 0, 35, 60, 0)
	}
	return m
}

func deterministicUUID(seed string, i int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", seed, i)))
	h := fmt.Sprintf("%x", sum[:16])
	return fmt.Sprintf("GPU-%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}
