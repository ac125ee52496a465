package zone

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

func TestCountWorkloads(t *testing.T) {
	wl := func(ns string, phase doradev1.WorkloadPhase) doradev1.Workload {
		return doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: ns}, Status: doradev1.WorkloadStatus{Phase: phase}}
	}
	got := countWorkloads([]doradev1.Workload{
		wl("amedeo-setti", doradev1.WorkloadPhaseRunning), wl("amedeo-setti", doradev1.WorkloadPhaseRunning),
		wl("amedeo-setti", ""), wl("kube-public", doradev1.WorkloadPhaseQueued),
	}, map[string]string{"amedeo-setti": "amedeo.setti"})
	want := map[workloadKey]int{
		{"amedeo.setti", "Running"}: 2,
		{"amedeo.setti", "Pending"}: 1,
		{"", "Queued"}:              1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// The GPUs of a zone by model: what there is, what pods hold, what workloads that may run
// ask for (by the models they ask), and what pods not yet on a node wait for.
func TestCountGPUs(t *testing.T) {
	nodes := []doradev1.Node{{Status: doradev1.NodeStatus{GPUs: []doradev1.GPUInfo{
		{Product: "A100", Pod: "ws/train-0"}, {Product: "A100", Pod: "ws/train-0"}, {Product: "A100"}, {Product: "V100"},
	}}}}
	gpuWorkload := func(name string, replicas int32, gpus int32, models ...string) doradev1.Workload {
		return doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: "ws", Name: name}, Spec: doradev1.WorkloadSpec{
			Replica:   &doradev1.ReplicaSpec{Count: ptr.To(replicas)},
			Selectors: doradev1.Selectors{GPU: &doradev1.GPUSelector{Count: ptr.To(intstr.FromInt32(gpus)), ProductName: doradev1.NewList(models...)}},
		}}
	}
	train := gpuWorkload("train", 2, 2, "A100")
	either := gpuWorkload("either", 1, 1, "V100", "A100")
	paused := gpuWorkload("paused", 1, 4, doradev1.All)
	paused.Spec.Paused = true
	held := gpuWorkload("held", 1, 8, "A100")
	held.Status.Conditions = []metav1.Condition{{Type: doradev1.CreditsExhausted, Status: metav1.ConditionTrue}}
	pod := func(name, workload, node string, gpus int64) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ws", Name: name, Annotations: map[string]string{podspec.AnnotationWorkload: workload}},
			Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI)}}}}}}
	}
	got := countGPUs(nodes, []doradev1.Workload{train, either, paused, held},
		[]corev1.Pod{pod("train-0", "train", "n1", 2), pod("train-1", "train", "", 2), pod("either-0", "either", "", 1)})
	want := map[gpuKey]int64{
		{"A100", "total"}:          3,
		{"V100", "total"}:          1,
		{"A100", "running"}:        2,
		{"A100", "requested"}:      4,
		{"A100|V100", "requested"}: 1,
		{"A100", "queued"}:         2,
		{"A100|V100", "queued"}:    1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
