package node

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestGPUHealth(t *testing.T) {
	gpu := func(index int32, uuid string, healthy bool, health string) doradev1.GPUInfo {
		return doradev1.GPUInfo{Index: index, UUID: uuid, Product: "Tesla V100-SXM2-16GB", Healthy: healthy, Health: health}
	}
	cases := map[string]struct {
		gpus []doradev1.GPUInfo
		want metav1.Condition
	}{
		"no GPUs": {
			want: metav1.Condition{
				Type: doradev1.NodeGPUsHealthy, Status: metav1.ConditionTrue, Reason: doradev1.ReasonNoGPUs,
				Message: "the node agent reports no GPU on this node",
			},
		},
		"all healthy": {
			gpus: []doradev1.GPUInfo{gpu(0, "GPU-a", true, ""), gpu(1, "GPU-b", true, "")},
			want: metav1.Condition{
				Type: doradev1.NodeGPUsHealthy, Status: metav1.ConditionTrue, Reason: doradev1.ReasonAllGPUsHealthy,
				Message: "all 2 GPUs are healthy",
			},
		},
		"one unhealthy, named with its index, uuid and health": {
			gpus: []doradev1.GPUInfo{gpu(0, "GPU-a", true, ""), gpu(1, "GPU-b", false, "XID 79: fallen off the bus")},
			want: metav1.Condition{
				Type: doradev1.NodeGPUsHealthy, Status: metav1.ConditionFalse, Reason: doradev1.ReasonGPUUnhealthy,
				Message: "1 of 2 GPUs unhealthy: GPU 1 (GPU-b): XID 79: fallen off the bus",
			},
		},
		"unhealthy without a reason": {
			gpus: []doradev1.GPUInfo{gpu(0, "GPU-a", false, "")},
			want: metav1.Condition{
				Type: doradev1.NodeGPUsHealthy, Status: metav1.ConditionFalse, Reason: doradev1.ReasonGPUUnhealthy,
				Message: "1 of 1 GPUs unhealthy: GPU 0 (GPU-a): no reason given",
			},
		},
		"several unhealthy, listed by index whatever the agent's order": {
			gpus: []doradev1.GPUInfo{gpu(3, "GPU-d", false, "NVML error"), gpu(0, "GPU-a", true, ""), gpu(2, "GPU-c", false, "XID 48")},
			want: metav1.Condition{
				Type: doradev1.NodeGPUsHealthy, Status: metav1.ConditionFalse, Reason: doradev1.ReasonGPUUnhealthy,
				Message: "2 of 3 GPUs unhealthy: GPU 2 (GPU-c): XID 48; GPU 3 (GPU-d): NVML error",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, gpuHealth(tc.gpus)); diff != "" {
				t.Errorf("condition (-want +got):\n%s", diff)
			}
		})
	}
}
