package report

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent/inventory"
)

func twoGPUs() Input {
	return Input{
		GPUs: inventory.GPUs{DriverVersion: "550.54.15", CUDAVersion: "12.4", Devices: []doradev1.GPUInfo{
			{Index: 0, UUID: "GPU-a", Product: "Tesla V100-SXM2-16GB", MemoryTotalMiB: 16384, Utilization: 50, Temperature: 60, PowerWatts: 200, Healthy: true},
			{Index: 1, UUID: "GPU-b", Product: "Quadro RTX 6000", MemoryTotalMiB: 24576, Utilization: 0, Temperature: 35, PowerWatts: 60, Healthy: true},
		}},
		CPU:       doradev1.CPUInfo{Product: "AMD EPYC", Cores: 64},
		MemoryMiB: 257675,
		Holders:   map[string]string{"GPU-a": "team/train-0"},
	}
}

func TestStatus(t *testing.T) {
	st := Status(twoGPUs())
	if st.GPUCount != 2 || st.GPUMemoryMiB != 40960 || st.GPUModels != "Quadro RTX 6000,Tesla V100-SXM2-16GB" {
		t.Errorf("summary = %d GPUs, %d MiB, models %q", st.GPUCount, st.GPUMemoryMiB, st.GPUModels)
	}
	if st.GPUs[0].Pod != "team/train-0" || st.GPUs[1].Pod != "" {
		t.Errorf("pods = %q, %q", st.GPUs[0].Pod, st.GPUs[1].Pod)
	}
	if st.CPU == nil || st.CPU.Cores != 64 || st.DriverVersion != "550.54.15" {
		t.Errorf("host = %+v driver %q", st.CPU, st.DriverVersion)
	}
	if c := st.Conditions[0]; c.Type != doradev1.NodeNVMLAvailable || c.Status != metav1.ConditionTrue {
		t.Errorf("condition = %+v", c)
	}

	noNVML := Status(Input{NVMLError: "ERROR_LIBRARY_NOT_FOUND"})
	if c := noNVML.Conditions[0]; c.Status != metav1.ConditionFalse || c.Reason != doradev1.ReasonNVMLUnavailable {
		t.Errorf("without NVML: %+v", c)
	}
	if c := Status(Input{}).Conditions[0]; c.Reason != doradev1.ReasonNoGPUs {
		t.Errorf("without GPUs: %+v", c)
	}
}

func TestNeedsWrite(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	base := Status(twoGPUs())
	change := func(f func(*Input)) doradev1.NodeStatus {
		in := twoGPUs()
		f(&in)
		return Status(in)
	}
	cases := []struct {
		name  string
		last  *doradev1.NodeStatus
		next  doradev1.NodeStatus
		after time.Duration
		want  bool
	}{
		{"first report", nil, base, 0, true},
		{"nothing changed", &base, base, time.Hour, false},
		{"small jitter, long after", &base, change(func(in *Input) { in.GPUs.Devices[0].Utilization = 55; in.GPUs.Devices[0].Temperature = 62 }), time.Hour, false},
		{"big utilisation change, soon after", &base, change(func(in *Input) { in.GPUs.Devices[0].Utilization = 100 }), time.Minute, false},
		{"big utilisation change, after the period", &base, change(func(in *Input) { in.GPUs.Devices[0].Utilization = 100 }), 5 * time.Minute, true},
		{"memory filled, after the period", &base, change(func(in *Input) { in.GPUs.Devices[1].MemoryUsedMiB = 20000 }), 6 * time.Minute, true},
		{"GPU failed, at once", &base, change(func(in *Input) { in.GPUs.Devices[1].Healthy = false; in.GPUs.Devices[1].Health = "xid 79" }), time.Second, true},
		{"GPU changed hands, at once", &base, change(func(in *Input) { in.Holders = map[string]string{"GPU-b": "team/eval-0"} }), time.Second, true},
		{"GPU gone, at once", &base, change(func(in *Input) { in.GPUs.Devices = in.GPUs.Devices[:1] }), time.Second, true},
		{"MIG enabled, at once", &base, change(func(in *Input) { in.GPUs.Devices[0].MIGEnabled = true }), time.Second, true},
		{"NVML lost, at once", &base, Status(Input{NVMLError: "ERROR_DRIVER_NOT_LOADED"}), time.Second, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := NeedsWrite(tc.last, t0, tc.next, t0.Add(tc.after), DefaultThresholds); got != tc.want {
				t.Errorf("NeedsWrite = %v, want %v", got, tc.want)
			}
		})
	}
}
