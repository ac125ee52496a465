package credits

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/credits"
)

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC) // a Monday

func gpuPod(name string, gpus int64) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ws", UID: types.UID("uid-" + name),
			Annotations: map[string]string{doradev1.AnnotationOwner: "amedeo"}, Finalizers: []string{doradev1.FinalizerCredits},
			Labels: map[string]string{doradev1.LabelWorkload: "w"}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "workload",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI)}}}}},
	}
}

func running(p *corev1.Pod, at time.Time) *corev1.Pod {
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "workload", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(at)}}}}
	return p
}

func terminated(p *corev1.Pod, from, to time.Time) *corev1.Pod {
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "workload", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{StartedAt: metav1.NewTime(from), FinishedAt: metav1.NewTime(to)}}}}
	return p
}

func deleted(p *corev1.Pod, at time.Time) *corev1.Pod {
	p.DeletionTimestamp = &metav1.Time{Time: at}
	return p
}

func TestPodUsage(t *testing.T) {
	cases := map[string]struct {
		pod  *corev1.Pod
		want credits.PodUsage
	}{
		"a pod not yet running is not charged yet": {
			pod:  gpuPod("a", 2),
			want: credits.PodUsage{UID: "uid-a", User: "amedeo", GPUs: 2},
		},
		"a running pod from its container's start": {
			pod:  running(gpuPod("a", 2), t0),
			want: credits.PodUsage{UID: "uid-a", User: "amedeo", GPUs: 2, Start: t0},
		},
		"a finished pod until its container finished": {
			pod:  terminated(gpuPod("a", 1), t0, t0.Add(time.Hour)),
			want: credits.PodUsage{UID: "uid-a", User: "amedeo", GPUs: 1, Start: t0, End: t0.Add(time.Hour)},
		},
		"a pod going while running until its deletion": {
			pod:  deleted(running(gpuPod("a", 4), t0), t0.Add(time.Minute)),
			want: credits.PodUsage{UID: "uid-a", User: "amedeo", GPUs: 4, Start: t0, End: t0.Add(time.Minute)},
		},
		"a pod that finished then went, until it finished": {
			pod:  deleted(terminated(gpuPod("a", 1), t0, t0.Add(time.Minute)), t0.Add(time.Hour)),
			want: credits.PodUsage{UID: "uid-a", User: "amedeo", GPUs: 1, Start: t0, End: t0.Add(time.Minute)},
		},
		"a pod whose grace period runs still runs": {
			pod:  deleted(running(gpuPod("a", 4), t0), t0.Add(3*time.Hour)),
			want: credits.PodUsage{UID: "uid-a", User: "amedeo", GPUs: 4, Start: t0},
		},
		"a pod that never ran and went ends without a start": {
			pod:  deleted(gpuPod("a", 1), t0),
			want: credits.PodUsage{UID: "uid-a", User: "amedeo", GPUs: 1, End: t0},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, podUsage(tc.pod, "", t0.Add(2*time.Hour))); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProductOf(t *testing.T) {
	pod := gpuPod("a", 2)
	mixed := &doradev1.Node{Status: doradev1.NodeStatus{GPUs: []doradev1.GPUInfo{
		{Product: "V100", Pod: "ws/b"}, {Product: "A100", Pod: "ws/a"}, {Product: "A100", Pod: "ws/a"}, {Product: "V100"},
	}}}
	unmapped := &doradev1.Node{Status: doradev1.NodeStatus{GPUs: []doradev1.GPUInfo{{Product: "T4"}}}}
	twoModels := &doradev1.Node{Status: doradev1.NodeStatus{GPUs: []doradev1.GPUInfo{{Product: "T4"}, {Product: "V100"}}}}
	labelled := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"nvidia.com/gpu.product": "H100"}}}
	gfd := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}}}
	prices := credits.Prices{"NVIDIA H100 80GB HBM3": nil, "T4": nil}
	cases := map[string]struct {
		gpus   int64
		dn     *doradev1.Node
		node   *corev1.Node
		want   string
		source productSource
	}{
		"the GPUs the agent maps to the pod, on a mixed node": {gpus: 2, dn: mixed, node: labelled, want: "A100", source: fromAgent},
		"else the node's GPU product":                         {gpus: 2, dn: unmapped, node: labelled, want: "T4", source: fromNode},
		"a guess on a node of two models":                     {gpus: 2, dn: twoModels, node: labelled, want: "T4", source: ambiguous},
		"else the node's product label":                       {gpus: 2, node: labelled, want: "H100", source: fromNode},
		"a label-safe label is the priced model it names":     {gpus: 2, node: gfd, want: "NVIDIA H100 80GB HBM3", source: fromNode},
		"nothing known":                     {gpus: 2, source: unknown},
		"a pod without GPUs has no product": {gpus: 0, dn: mixed, node: labelled, source: fromAgent},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, source := productOf(pod, tc.gpus, tc.dn, tc.node, prices)
			if got != tc.want || source != tc.source {
				t.Errorf("product = %q from %d, want %q from %d", got, source, tc.want, tc.source)
			}
		})
	}
}

// A pod without GPUs is free, unless a ResourceCredit prices its node's CPU model: then it
// is charged per core of its limits (else requests), rounded up to whole cores.
func TestCPUUsage(t *testing.T) {
	xeon := &doradev1.Node{Status: doradev1.NodeStatus{CPU: &doradev1.CPUInfo{Product: "Intel Xeon Gold 6148"}}}
	epyc := &doradev1.Node{Status: doradev1.NodeStatus{CPU: &doradev1.CPUInfo{Product: "AMD EPYC 7742"}}}
	prices := credits.Prices{"Intel Xeon Gold 6148": nil}
	cpuPod := func(limit, request string) *corev1.Pod {
		p := gpuPod("c", 0)
		res := corev1.ResourceRequirements{Limits: corev1.ResourceList{}, Requests: corev1.ResourceList{}}
		if limit != "" {
			res.Limits[corev1.ResourceCPU] = resource.MustParse(limit)
		}
		if request != "" {
			res.Requests[corev1.ResourceCPU] = resource.MustParse(request)
		}
		p.Spec.Containers = []corev1.Container{{Name: "c", Resources: res}}
		return p
	}
	cases := map[string]struct {
		pod     *corev1.Pod
		dn      *doradev1.Node
		product string
		units   int64
	}{
		"4 cores on a priced CPU":             {pod: cpuPod("4", "2"), dn: xeon, product: "Intel Xeon Gold 6148", units: 4},
		"requests when there is no limit":     {pod: cpuPod("", "2"), dn: xeon, product: "Intel Xeon Gold 6148", units: 2},
		"half a core is a core":               {pod: cpuPod("500m", ""), dn: xeon, product: "Intel Xeon Gold 6148", units: 1},
		"an unpriced CPU is free":             {pod: cpuPod("4", ""), dn: epyc},
		"no CPU asked: free":                  {pod: cpuPod("", ""), dn: xeon},
		"no agent report: the CPU is unknown": {pod: cpuPod("4", "")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u := cpuUsage(credits.PodUsage{UID: "c"}, tc.pod, tc.dn, prices)
			if u.Product != tc.product || u.GPUs != tc.units {
				t.Errorf("charged %d of %q, want %d of %q", u.GPUs, u.Product, tc.units, tc.product)
			}
		})
	}
}
