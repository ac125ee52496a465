// Package inventory reads what a node has: every GPU through NVML, one by one (a GPU that
// errors is reported unhealthy with the error, the others are still read), and the CPU and
// memory from /proc.
package inventory

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// GPUs is what NVML says about the node's GPUs.
type GPUs struct {
	// DriverVersion and CUDAVersion are the NVIDIA driver's (CUDA as major.minor).
	DriverVersion, CUDAVersion string
	// Devices lists every GPU, by index.
	Devices []doradev1.GPUInfo
}

// ErrNVMLUnavailable wraps a failure of NVML as a whole (library missing, driver not
// loaded), as opposed to one GPU failing.
var ErrNVMLUnavailable = errors.New("nvml unavailable")

// ReadGPUs reads every GPU. lib must be initialised. An error means NVML as a whole did not
// answer; a GPU that fails is in the result, unhealthy, with the NVML error in Health.
func ReadGPUs(lib nvml.Interface) (GPUs, error) {
	var out GPUs
	count, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return out, fmt.Errorf("%w: counting devices: %s", ErrNVMLUnavailable, ret.Error())
	}
	if v, ret := lib.SystemGetDriverVersion(); ret == nvml.SUCCESS {
		out.DriverVersion = v
	}
	if v, ret := lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS {
		out.CUDAVersion = fmt.Sprintf("%d.%d", v/1000, (v%1000)/10)
	}
	for i := 0; i < count; i++ {
		out.Devices = append(out.Devices, readGPU(lib, i))
	}
	return out, nil
}

// readGPU reads one GPU. Readings a GPU does not support are left out; any other failure
// makes the GPU unhealthy with the first error seen.
func readGPU(lib nvml.Interface, index int) doradev1.GPUInfo {
	gpu := doradev1.GPUInfo{Index: int32(index), Healthy: true}
	fail := func(what string, ret nvml.Return) {
		if ret == nvml.ERROR_NOT_SUPPORTED || !gpu.Healthy {
			return
		}
		gpu.Healthy = false
		gpu.Health = fmt.Sprintf("nvml %s: %s", what, ret.Error())
	}
	dev, ret := lib.DeviceGetHandleByIndex(index)
	if ret != nvml.SUCCESS {
		fail("device handle", ret)
		gpu.UUID = unknownUUID(index)
		return gpu
	}
	if uuid, ret := dev.GetUUID(); ret == nvml.SUCCESS {
		gpu.UUID = uuid
	} else {
		fail("uuid", ret)
		gpu.UUID = unknownUUID(index)
	}
	if name, ret := dev.GetName(); ret == nvml.SUCCESS {
		gpu.Product = name
	} else {
		fail("name", ret)
	}
	if minor, ret := dev.GetMinorNumber(); ret == nvml.SUCCESS {
		gpu.Minor = int32(clamp(int64(minor), 255))
	} else {
		fail("minor number", ret)
	}
	if mem, ret := dev.GetMemoryInfo(); ret == nvml.SUCCESS {
		gpu.MemoryTotalMiB = clamp(int64(mem.Total>>20), maxMemoryMiB)
		gpu.MemoryUsedMiB = clamp(int64(mem.Used>>20), maxMemoryMiB)
	} else {
		fail("memory", ret)
	}
	if util, ret := dev.GetUtilizationRates(); ret == nvml.SUCCESS {
		gpu.Utilization = int32(clamp(int64(util.Gpu), 100))
	} else {
		fail("utilization", ret)
	}
	if temp, ret := dev.GetTemperature(nvml.TEMPERATURE_GPU); ret == nvml.SUCCESS {
		gpu.Temperature = int32(clamp(int64(temp), 1000))
	} else {
		fail("temperature", ret)
	}
	if mw, ret := dev.GetPowerUsage(); ret == nvml.SUCCESS {
		gpu.PowerWatts = int32(clamp(int64(mw/1000), 100000))
	} else {
		fail("power", ret)
	}
	if current, _, ret := dev.GetMigMode(); ret == nvml.SUCCESS {
		gpu.MIGEnabled = current == nvml.DEVICE_MIG_ENABLE
	} else {
		fail("MIG mode", ret)
	}
	return gpu
}

// unknownUUID stands in for the UUID of a GPU NVML cannot name, keeping the list keyed.
func unknownUUID(index int) string { return "unknown-gpu-index-" + strconv.Itoa(index) }

// maxMemoryMiB is the most GPU memory a Node's status takes (1 TiB).
const maxMemoryMiB = 1 << 20

// clamp keeps a reading within [0, max], the bounds of the Node status schema: one odd NVML
// reading must not get the whole report refused by the API server.
func clamp(v, maxValue int64) int64 {
	return min(max(v, 0), maxValue)
}
