package gpus

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/gpu"
)

const (
	v100 = "Tesla V100-SXM2-16GB"
	rtx  = "Quadro RTX 6000"
	h100 = "NVIDIA H100 80GB HBM3"
)

func doraNode(name string, gpus ...doradev1.GPUInfo) doradev1.Node {
	return doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: doradev1.NodeStatus{GPUs: gpus, GPUCount: int32(len(gpus))}}
}

func reported(index int32, product string, memTotal, memUsed int64, util int32, pod string) doradev1.GPUInfo {
	return doradev1.GPUInfo{Index: index, UUID: "GPU-" + ProductLabel(product) + "-" + string(rune('a'+index)), Product: product,
		MemoryTotalMiB: memTotal, MemoryUsedMiB: memUsed, Utilization: util, Healthy: true, Pod: pod}
}

func kubeNode(name, productLabel string, gpus int64, ready bool) corev1.Node {
	n := corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
	if !ready {
		n.Status.Conditions[0].Status = corev1.ConditionUnknown
	}
	if gpus > 0 {
		n.Labels[LabelProduct] = productLabel
		n.Labels[LabelMemory] = "24576"
		n.Status.Allocatable[ResourceName] = *resource.NewQuantity(gpus, resource.DecimalSI)
	}
	return n
}

func gpuPod(namespace, name, node string, gpus int64, phase corev1.PodPhase) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "main", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{ResourceName: *resource.NewQuantity(gpus, resource.DecimalSI)},
		}}}},
		Status: corev1.PodStatus{Phase: phase},
	}
}

// fleet is a small mixed fleet: a V100 node whose agent reports (two GPUs held, one
// unhealthy), a second V100 node fully free, an RTX 6000 node known only to Kubernetes (two
// of its four GPUs asked for by a running pod; a finished pod no longer counts), an RTX 6000
// node whose agent reports (so the model gets its NVML name back), a cordoned H100 node, a
// node not Ready, and a CPU node.
func fleet() ([]doradev1.Node, []corev1.Node, []corev1.Pod) {
	unhealthy := reported(3, v100, 16384, 0, 0, "")
	unhealthy.Healthy, unhealthy.Health = false, "XID 79: GPU has fallen off the bus"
	cordoned := doraNode("h100-0", reported(0, h100, 81559, 0, 0, ""), reported(1, h100, 81559, 70000, 99, "team-b/llm-0"))
	cordoned.Spec.SchedulingDisabled = true
	nodes := []doradev1.Node{
		doraNode("v100-0",
			reported(0, v100, 16384, 15000, 97, "amedeo-setti/train.v100-0"),
			reported(1, v100, 16384, 15000, 95, "amedeo-setti/train.v100-0"),
			reported(2, v100, 16384, 0, 0, ""),
			unhealthy),
		doraNode("v100-1", reported(0, v100, 16384, 0, 0, ""), reported(1, v100, 16384, 0, 0, "")),
		doraNode("rtx-1", reported(0, rtx, 24576, 0, 0, "")),
		cordoned,
		doraNode("cpu-0"),
	}
	kube := []corev1.Node{
		kubeNode("v100-0", "Tesla-V100-SXM2-16GB", 4, true),
		kubeNode("v100-1", "Tesla-V100-SXM2-16GB", 2, true),
		kubeNode("rtx-0", "Quadro-RTX-6000", 4, true),
		kubeNode("rtx-1", "Quadro-RTX-6000", 1, true),
		kubeNode("h100-0", "NVIDIA-H100-80GB-HBM3", 2, true),
		kubeNode("a100-0", "NVIDIA-A100-SXM4-40GB", 2, false),
		kubeNode("cpu-0", "", 0, true),
	}
	pods := []corev1.Pod{
		gpuPod("team-a", "render-1", "rtx-0", 2, corev1.PodRunning),
		gpuPod("team-a", "done-0", "rtx-0", 1, corev1.PodSucceeded),
		gpuPod("team-a", "waiting-0", "", 4, corev1.PodPending),
		gpuPod("amedeo-setti", "train.v100-0", "v100-0", 2, corev1.PodRunning),
	}
	return nodes, kube, pods
}

func TestSummarizeCounts(t *testing.T) {
	s := Summarize(fleet())
	want := []ModelSummary{
		{Product: "NVIDIA H100 80GB HBM3", Total: 2, Used: 1, Unavailable: 1, Nodes: 1},
		{Product: "NVIDIA-A100-SXM4-40GB", Total: 2, Unavailable: 2, Nodes: 1},
		{Product: rtx, Total: 5, Used: 2, Free: 3, Nodes: 2, MaxFreeOnANode: 2},
		{Product: v100, Total: 6, Used: 2, Free: 3, Unavailable: 1, Nodes: 2, MaxFreeOnANode: 2},
	}
	if diff := cmp.Diff(want, s.Models); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	type nodeCounts struct {
		Name                           string
		Total, Used, Free, Unavailable int
		Reported, Schedulable          bool
		Note                           string
	}
	var got []nodeCounts
	for _, n := range s.Nodes {
		got = append(got, nodeCounts{n.Name, n.Total, n.Used, n.Free, n.Unavailable, n.Reported, n.Schedulable, n.Note})
	}
	wantNodes := []nodeCounts{
		{"a100-0", 2, 0, 0, 2, false, false, "not Ready"},
		{"h100-0", 2, 1, 0, 1, true, false, "cordoned"},
		{"rtx-0", 4, 2, 2, 0, false, true, ""},
		{"rtx-1", 1, 0, 1, 0, true, true, ""},
		{"v100-0", 4, 2, 1, 1, true, true, ""},
		{"v100-1", 2, 0, 2, 0, true, true, ""},
	}
	if diff := cmp.Diff(wantNodes, got); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	// The node known only to Kubernetes: its model by NVML name, held GPUs first.
	rtx0 := s.Nodes[2]
	if rtx0.GPUs[0].Pod != "team-a/render-1" || rtx0.GPUs[1].Pod != "team-a/render-1" || rtx0.GPUs[2].Pod != "" || rtx0.GPUs[0].Product != rtx || rtx0.GPUs[0].Index != -1 {
		t.Errorf("rtx-0 GPUs = %+v", rtx0.GPUs)
	}
}

// The same fleet in any order gives the same summary.
func TestSummarizeIsDeterministic(t *testing.T) {
	nodes, kube, pods := fleet()
	want := Summarize(nodes, kube, pods)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
		r.Shuffle(len(kube), func(i, j int) { kube[i], kube[j] = kube[j], kube[i] })
		r.Shuffle(len(pods), func(i, j int) { pods[i], pods[j] = pods[j], pods[i] })
		for i := range nodes {
			g := nodes[i].Status.GPUs
			r.Shuffle(len(g), func(a, b int) { g[a], g[b] = g[b], g[a] })
		}
		if diff := cmp.Diff(want, Summarize(nodes, kube, pods)); diff != "" {
			t.Fatalf("order changed the summary:\n%s", diff)
		}
	}
}

func TestSummarizeEdges(t *testing.T) {
	cases := []struct {
		name  string
		nodes []doradev1.Node
		kube  []corev1.Node
		pods  []corev1.Pod
		want  []ModelSummary
	}{
		{name: "nothing", want: []ModelSummary{}},
		{name: "a CPU fleet", nodes: []doradev1.Node{doraNode("cpu-0")}, kube: []corev1.Node{kubeNode("cpu-0", "", 0, true)}, want: []ModelSummary{}},
		{name: "a label without a model", kube: []corev1.Node{kubeNode("x", "", 1, true)},
			want: []ModelSummary{{Product: "unknown", Total: 1, Free: 1, Nodes: 1, MaxFreeOnANode: 1}}},
		{name: "pods asking for more than there is", kube: []corev1.Node{kubeNode("x", "T4", 2, true)},
			pods: []corev1.Pod{gpuPod("a", "p", "x", 2, corev1.PodRunning), gpuPod("a", "q", "x", 1, corev1.PodPending)},
			want: []ModelSummary{{Product: "T4", Total: 2, Used: 2, Nodes: 1}}},
		{name: "a node taking no GPU workloads", nodes: func() []doradev1.Node {
			n := doraNode("x", reported(0, v100, 1, 0, 0, ""))
			n.Spec.Allow = []string{doradev1.CPUWorkload}
			return []doradev1.Node{n}
		}(), want: []ModelSummary{{Product: v100, Total: 1, Unavailable: 1, Nodes: 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Summarize(tc.nodes, tc.kube, tc.pods).Models
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRender(t *testing.T) {
	s := Summarize(fleet())
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"per GPU", Options{}, `NODE    GPU  MODEL                  MEMORY           UTIL  STATE                    POD
a100-0  -    NVIDIA-A100-SXM4-40GB  24576 MiB        -     Unavailable (not Ready)  -
a100-0  -    NVIDIA-A100-SXM4-40GB  24576 MiB        -     Unavailable (not Ready)  -
h100-0  0    NVIDIA H100 80GB HBM3  0/81559 MiB      0%    Unavailable (cordoned)   -
h100-0  1    NVIDIA H100 80GB HBM3  70000/81559 MiB  99%   Used                     team-b/llm-0
rtx-0   -    Quadro RTX 6000        24576 MiB        -     Used                     team-a/render-1
rtx-0   -    Quadro RTX 6000        24576 MiB        -     Used                     team-a/render-1
rtx-0   -    Quadro RTX 6000        24576 MiB        -     Free                     -
rtx-0   -    Quadro RTX 6000        24576 MiB        -     Free                     -
rtx-1   0    Quadro RTX 6000        0/24576 MiB      0%    Free                     -
v100-0  0    Tesla V100-SXM2-16GB   15000/16384 MiB  97%   Used                     amedeo-setti/train.v100-0
v100-0  1    Tesla V100-SXM2-16GB   15000/16384 MiB  95%   Used                     amedeo-setti/train.v100-0
v100-0  2    Tesla V100-SXM2-16GB   0/16384 MiB      0%    Free                     -
v100-0  3    Tesla V100-SXM2-16GB   0/16384 MiB      0%    Unavailable (unhealthy)  -
v100-1  0    Tesla V100-SXM2-16GB   0/16384 MiB      0%    Free                     -
v100-1  1    Tesla V100-SXM2-16GB   0/16384 MiB      0%    Free                     -
`},
		{"free V100s, wide", Options{Free: true, Model: "v100", Wide: true}, `NODE    GPU  MODEL                 MEMORY       UTIL  STATE  POD  UUID                        HEALTH
v100-0  2    Tesla V100-SXM2-16GB  0/16384 MiB  0%    Free   -    GPU-Tesla-V100-SXM2-16GB-c  Healthy
v100-1  0    Tesla V100-SXM2-16GB  0/16384 MiB  0%    Free   -    GPU-Tesla-V100-SXM2-16GB-a  Healthy
v100-1  1    Tesla V100-SXM2-16GB  0/16384 MiB  0%    Free   -    GPU-Tesla-V100-SXM2-16GB-b  Healthy
`},
		{"summary", Options{Summary: true}, `MODEL                  TOTAL  USED  FREE  UNAVAILABLE  NODES  MAX FREE ON A NODE
NVIDIA H100 80GB HBM3  2      1     0     1            1      0
NVIDIA-A100-SXM4-40GB  2      0     0     2            1      0
Quadro RTX 6000        5      2     3     0            2      2
Tesla V100-SXM2-16GB   6      2     3     1            2      2
`},
		{"summary of free models without headers", Options{Summary: true, Free: true, NoHeaders: true}, `Quadro RTX 6000       5  2  3  0  2  2
Tesla V100-SXM2-16GB  6  2  3  1  2  2
`},
		{"summary of one model by its label", Options{Summary: true, Model: "Quadro-RTX-6000"}, `MODEL            TOTAL  USED  FREE  UNAVAILABLE  NODES  MAX FREE ON A NODE
Quadro RTX 6000  5      2     3     0            2      2
`},
		{"per node", Options{Nodes: true}, `NODE    MODELS                 TOTAL  USED  FREE  UNAVAILABLE  NOTE
a100-0  NVIDIA-A100-SXM4-40GB  2      0     0     2            not Ready; no agent report: counted from allocatable
h100-0  NVIDIA H100 80GB HBM3  2      1     0     1            cordoned
rtx-0   Quadro RTX 6000        4      2     2     0            no agent report: counted from allocatable
rtx-1   Quadro RTX 6000        1      0     1     0            -
v100-0  Tesla V100-SXM2-16GB   4      2     1     1            -
v100-1  Tesla V100-SXM2-16GB   2      0     2     0            -
`},
		{"free H100s", Options{Free: true, Model: "H100"}, "No free GPUs of a model matching \"H100\".\n"},
		{"a model nobody has", Options{Model: "T4"}, "No GPUs of a model matching \"T4\".\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, s, tc.opts); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchesModel(t *testing.T) {
	cases := []struct {
		product, filter string
		want            bool
	}{
		{v100, "", true},
		{v100, "All", true},
		{v100, v100, true},
		{v100, "Tesla-V100-SXM2-16GB", true},
		{v100, "v100", true},
		{v100, "tesla v100", true},
		{v100, "A100", false},
		{rtx, "RTX 6000", true},
		{rtx, "rtx-6000", true},
		{h100, "H100 80GB", true},
	}
	for _, tc := range cases {
		if got := MatchesModel(tc.product, tc.filter); got != tc.want {
			t.Errorf("MatchesModel(%q, %q) = %v, want %v", tc.product, tc.filter, got, tc.want)
		}
	}
	if !SameModel(v100, "tesla-v100-sxm2-16gb") || SameModel(v100, "V100") {
		t.Error("SameModel")
	}
}

// ProductLabel is the node side's own rule (internal/gpu), which this package may not import.
func TestProductLabelIsInternalGPUs(t *testing.T) {
	for _, p := range []string{v100, rtx, h100, "  A100 (PCIe) ", "a/b\\c", "", "NVIDIA " + string(bytes.Repeat([]byte("very long name "), 8))} {
		if got, want := ProductLabel(p), gpu.ProductLabel(p); got != want {
			t.Errorf("ProductLabel(%q) = %q, internal/gpu says %q", p, got, want)
		}
	}
	if ResourceName != gpu.ResourceName || LabelProduct != gpu.LabelProduct || LabelMemory != gpu.LabelMemory {
		t.Error("label or resource names differ from internal/gpu's")
	}
}

func TestPodGPUs(t *testing.T) {
	p := gpuPod("a", "b", "n", 2, corev1.PodRunning)
	p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "side", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{ResourceName: resource.MustParse("1")},
	}})
	if got := PodGPUs(&p); got != 3 {
		t.Errorf("two containers: %d, want 3", got)
	}
	p.Spec.InitContainers = []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{
		Limits: corev1.ResourceList{ResourceName: resource.MustParse("4")},
	}}}
	if got := PodGPUs(&p); got != 4 {
		t.Errorf("a larger init container: %d, want 4", got)
	}
}
