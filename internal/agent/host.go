package agent

import (
	"os"
	"path/filepath"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent/inventory"
)

// ProcHost reads the CPU and memory from a /proc directory (the host's, mounted into the
// agent's pod). A file that cannot be read leaves its part empty.
func ProcHost(proc string) Host {
	return func() (doradev1.CPUInfo, int64) {
		var cpu doradev1.CPUInfo
		var mem int64
		if f, err := os.Open(filepath.Join(proc, "cpuinfo")); err == nil {
			cpu = inventory.ParseCPUInfo(f)
			_ = f.Close()
		}
		if f, err := os.Open(filepath.Join(proc, "meminfo")); err == nil {
			mem = inventory.ParseMemInfo(f)
			_ = f.Close()
		}
		return cpu, mem
	}
}

// FixedHost reports a fixed CPU and memory, for simulated nodes.
func FixedHost(cpu doradev1.CPUInfo, memoryMiB int64) Host {
	return func() (doradev1.CPUInfo, int64) { return cpu, memoryMiB }
}
