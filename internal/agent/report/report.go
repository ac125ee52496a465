// Package report decides what the node agent writes: the Dora Node status built from an
// inventory, and whether a new reading is worth a write. Structural changes (a GPU appears,
// fails, changes hands) are written at once; live readings (utilisation, temperature, power,
// memory in use) only after a quiet period and only when they moved by more than a
// threshold, so that a busy GPU does not mean a write every poll. The Prometheus endpoint
// carries the live readings at every scrape.
package report

import (
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent/inventory"
)

// Input is everything the agent read in one poll.
type Input struct {
	// GPUs is NVML's answer; NVMLError is set instead when NVML did not answer at all.
	GPUs      inventory.GPUs
	NVMLError string
	CPU       doradev1.CPUInfo
	MemoryMiB int64
	// Holders maps GPU UUIDs to the pods holding them ("namespace/name").
	Holders map[string]string
}

// Status builds the part of the Dora Node status the agent owns.
func Status(in Input) doradev1.NodeStatus {
	st := doradev1.NodeStatus{
		MemoryMiB:     in.MemoryMiB,
		DriverVersion: in.GPUs.DriverVersion,
		CUDAVersion:   in.GPUs.CUDAVersion,
	}
	if in.CPU != (doradev1.CPUInfo{}) {
		cpu := in.CPU
		st.CPU = &cpu
	}
	var models []string
	for _, gpu := range in.GPUs.Devices {
		gpu.Pod = in.Holders[gpu.UUID]
		st.GPUs = append(st.GPUs, gpu)
		st.GPUMemoryMiB += gpu.MemoryTotalMiB
		if gpu.Product != "" && !slices.Contains(models, gpu.Product) {
			models = append(models, gpu.Product)
		}
	}
	st.GPUCount = int32(len(st.GPUs))
	slices.Sort(models)
	st.GPUModels = strings.Join(models, ",")
	st.Conditions = []metav1.Condition{nvmlCondition(in)}
	return st
}

func nvmlCondition(in Input) metav1.Condition {
	switch {
	case in.NVMLError != "":
		return metav1.Condition{Type: doradev1.NodeNVMLAvailable, Status: metav1.ConditionFalse, Reason: doradev1.ReasonNVMLUnavailable,
			Message: "NVML did not answer: " + in.NVMLError + "; the node is reported without GPUs (is the NVIDIA driver installed and the agent given the GPU runtime?)"}
	case len(in.GPUs.Devices) == 0:
		return metav1.Condition{Type: doradev1.NodeNVMLAvailable, Status: metav1.ConditionTrue, Reason: doradev1.ReasonNoGPUs,
			Message: "NVML answers and this node has no GPU"}
	default:
		return metav1.Condition{Type: doradev1.NodeNVMLAvailable, Status: metav1.ConditionTrue, Reason: "NVMLReady",
			Message: "NVML answers; driver " + in.GPUs.DriverVersion}
	}
}

// Thresholds say when live readings are worth a write.
type Thresholds struct {
	// Period is the least time between two writes caused by live readings alone.
	Period time.Duration
	// Utilization (percentage points), Temperature (degrees), PowerWatts and MemoryUsedMiB
	// are the changes that count.
	Utilization, Temperature, PowerWatts int32
	MemoryUsedMiB                        int64
}

// DefaultThresholds write live readings at most every five minutes, and only when they moved
// noticeably.
var DefaultThresholds = Thresholds{Period: 5 * time.Minute, Utilization: 10, Temperature: 5, PowerWatts: 25, MemoryUsedMiB: 1024}

// NeedsWrite says whether next must be written, given what was last written (nil: nothing
// yet) and when. Condition timestamps do not count.
func NeedsWrite(last *doradev1.NodeStatus, lastAt time.Time, next doradev1.NodeStatus, now time.Time, th Thresholds) bool {
	if last == nil {
		return true
	}
	if !equalStructure(*last, next) {
		return true
	}
	if now.Sub(lastAt) < th.Period {
		return false
	}
	for i := range next.GPUs {
		a, b := last.GPUs[i], next.GPUs[i]
		if abs32(a.Utilization-b.Utilization) >= th.Utilization ||
			abs32(a.Temperature-b.Temperature) >= th.Temperature ||
			abs32(a.PowerWatts-b.PowerWatts) >= th.PowerWatts ||
			abs64(a.MemoryUsedMiB-b.MemoryUsedMiB) >= th.MemoryUsedMiB {
			return true
		}
	}
	return false
}

// equalStructure compares two statuses leaving out live readings and condition times.
func equalStructure(a, b doradev1.NodeStatus) bool {
	strip := func(s doradev1.NodeStatus) doradev1.NodeStatus {
		s = *s.DeepCopy()
		for i := range s.GPUs {
			s.GPUs[i].Utilization, s.GPUs[i].Temperature, s.GPUs[i].PowerWatts, s.GPUs[i].MemoryUsedMiB = 0, 0, 0, 0
		}
		for i := range s.Conditions {
			s.Conditions[i].LastTransitionTime = metav1.Time{}
			s.Conditions[i].ObservedGeneration = 0
		}
		return s
	}
	return equality.Semantic.DeepEqual(strip(a), strip(b))
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
