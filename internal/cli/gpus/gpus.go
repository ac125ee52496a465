// Package gpus is the fleet's GPUs as kubectl dora shows them (kubectl dora gpus, get gpus):
// per model how many there are, how many are held and how many are free now, and each GPU
// with its node, index, memory, utilisation and the pod holding it.
//
// It is pure: the caller lists the Dora Nodes, the Kubernetes Nodes and the pods, and gets a
// Summary with a deterministic order (models and nodes by name, GPUs by index) to render.
//
// Where a GPU's state comes from:
//   - A node whose agent reports its GPUs (the Dora Node's status.gpus) is read from that
//     report: a GPU is Used when the report names the pod holding it, Unavailable when it is
//     unhealthy or its node takes no new GPU pod (cordoned, not Ready, or spec.allow without
//     GPUWorkload), and Free otherwise.
//   - A Kubernetes Node with nvidia.com/gpu allocatable and no such report is counted as the
//     scheduler counts it: allocatable minus the GPUs the pods bound to it (not finished)
//     ask for. Its GPUs have no index (-1), and its model is its nvidia.com/gpu.product
//     label, given back its NVML name when another node reports a GPU of that label.
package gpus

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Node labels and the extended resource, with NVIDIA gpu-feature-discovery's names (the
// same as internal/gpu's).
const (
	// LabelProduct is the GPU model of a Kubernetes Node, sanitised by ProductLabel.
	LabelProduct = "nvidia.com/gpu.product"
	// LabelMemory is the memory of one GPU in MiB.
	LabelMemory = "nvidia.com/gpu.memory"
	// ResourceName is the extended resource the NVIDIA device plugin advertises.
	ResourceName corev1.ResourceName = "nvidia.com/gpu"
)

// State is what a GPU is doing now.
type State string

// GPU states.
const (
	// Free: no pod holds it, it is healthy and its node takes GPU pods.
	Free State = "Free"
	// Used: a pod holds it.
	Used State = "Used"
	// Unavailable: no pod holds it, but it is unhealthy or its node takes no new GPU pod.
	Unavailable State = "Unavailable"
)

// GPU is one GPU of the fleet.
type GPU struct {
	// Node is the node's name.
	Node string `json:"node"`
	// Index is the NVML device index; -1 when the node's agent does not report its GPUs.
	Index int32 `json:"index"`
	// UUID is the GPU's UUID, when reported.
	UUID string `json:"uuid,omitempty"`
	// Product is the model, as NVML names it where known.
	Product string `json:"product"`
	// MemoryTotalMiB and MemoryUsedMiB are the GPU's memory; 0 when not reported.
	MemoryTotalMiB int64 `json:"memoryTotalMiB,omitempty"`
	MemoryUsedMiB  int64 `json:"memoryUsedMiB,omitempty"`
	// Utilization is the utilisation in percent, when Reported.
	Utilization int32 `json:"utilization,omitempty"`
	// Reported is true when the node's agent reported this GPU; false when it is counted
	// from the Kubernetes Node.
	Reported bool `json:"reported"`
	// Healthy is false after an NVML error or a critical XID event (Health says which).
	Healthy bool   `json:"healthy"`
	Health  string `json:"health,omitempty"`
	// Pod is the namespace/name of the pod holding it; empty when none does.
	Pod string `json:"pod,omitempty"`
	// State is Free, Used or Unavailable.
	State State `json:"state"`
}

// NodeSummary is one node's GPUs.
type NodeSummary struct {
	// Name is the node's name.
	Name string `json:"name"`
	// Products are the GPU models on the node, sorted.
	Products []string `json:"products"`
	// Total, Used, Free and Unavailable count its GPUs by State.
	Total       int `json:"total"`
	Used        int `json:"used"`
	Free        int `json:"free"`
	Unavailable int `json:"unavailable"`
	// Reported is true when the node's agent reports its GPUs.
	Reported bool `json:"reported"`
	// Schedulable is false when the node takes no new GPU pod; Note says why (cordoned,
	// not Ready, takes no GPU workloads).
	Schedulable bool   `json:"schedulable"`
	Note        string `json:"note,omitempty"`
	// GPUs are the node's GPUs, by index (unreported ones: held first, by pod).
	GPUs []GPU `json:"gpus"`
}

// ModelSummary is one GPU model across the fleet.
type ModelSummary struct {
	// Product is the model.
	Product string `json:"product"`
	// Total, Used, Free and Unavailable count its GPUs by State.
	Total       int `json:"total"`
	Used        int `json:"used"`
	Free        int `json:"free"`
	Unavailable int `json:"unavailable"`
	// Nodes is the number of nodes with at least one GPU of the model.
	Nodes int `json:"nodes"`
	// MaxFreeOnANode is the most GPUs of the model free on one node: the largest replica
	// of this model that could start now.
	MaxFreeOnANode int `json:"maxFreeOnANode"`
}

// Summary is the fleet's GPUs.
type Summary struct {
	// Models are the models, by name.
	Models []ModelSummary `json:"models"`
	// Nodes are the nodes with GPUs, by name.
	Nodes []NodeSummary `json:"nodes"`
}

// Summarize counts the GPUs of the Dora Nodes (status.gpus), and of the Kubernetes Nodes
// whose agent reports none, with the pods given (every pod bound to a node; only their node,
// phase and GPU requests are read) for the latter. Any argument may be nil.
func Summarize(nodes []doradev1.Node, kubeNodes []corev1.Node, pods []corev1.Pod) Summary {
	dora := map[string]*doradev1.Node{}
	for i := range nodes {
		dora[nodes[i].Name] = &nodes[i]
	}
	kube := map[string]*corev1.Node{}
	for i := range kubeNodes {
		kube[kubeNodes[i].Name] = &kubeNodes[i]
	}
	// NVML names by label value, to name the models of nodes known only by their label.
	names := map[string]string{}
	for _, n := range nodes {
		for _, g := range n.Status.GPUs {
			if label := ProductLabel(g.Product); names[label] == "" || g.Product < names[label] {
				names[label] = g.Product
			}
		}
	}
	held := map[string][]heldBy{}
	for _, p := range pods {
		if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if n := PodGPUs(&p); n > 0 {
			held[p.Spec.NodeName] = append(held[p.Spec.NodeName], heldBy{pod: p.Namespace + "/" + p.Name, gpus: n})
		}
	}

	all := map[string]bool{}
	for name := range dora {
		all[name] = true
	}
	for name := range kube {
		all[name] = true
	}
	var s Summary
	for _, name := range sortedKeys(all) {
		ns := NodeSummary{Name: name, Schedulable: true}
		ns.Schedulable, ns.Note = schedulable(dora[name], kube[name])
		if d := dora[name]; d != nil && len(d.Status.GPUs) > 0 {
			ns.Reported = true
			for _, g := range d.Status.GPUs {
				ns.GPUs = append(ns.GPUs, GPU{
					Node: name, Index: g.Index, UUID: g.UUID, Product: g.Product,
					MemoryTotalMiB: g.MemoryTotalMiB, MemoryUsedMiB: g.MemoryUsedMiB, Utilization: g.Utilization,
					Reported: true, Healthy: g.Healthy, Health: g.Health, Pod: g.Pod,
				})
			}
			sort.SliceStable(ns.GPUs, func(i, j int) bool {
				if ns.GPUs[i].Index != ns.GPUs[j].Index {
					return ns.GPUs[i].Index < ns.GPUs[j].Index
				}
				return ns.GPUs[i].UUID < ns.GPUs[j].UUID
			})
		} else if k := kube[name]; k != nil {
			ns.GPUs = countedGPUs(k, names, held[name])
		}
		if len(ns.GPUs) == 0 {
			continue
		}
		products := map[string]bool{}
		for i := range ns.GPUs {
			g := &ns.GPUs[i]
			switch {
			case g.Pod != "":
				g.State = Used
				ns.Used++
			case !g.Healthy || !ns.Schedulable:
				g.State = Unavailable
				ns.Unavailable++
			default:
				g.State = Free
				ns.Free++
			}
			products[g.Product] = true
		}
		ns.Total = len(ns.GPUs)
		ns.Products = sortedKeys(products)
		s.Nodes = append(s.Nodes, ns)
	}
	s.Models = models(s.Nodes)
	return s
}

// models sums the nodes' GPUs per model.
func models(nodes []NodeSummary) []ModelSummary {
	byModel := map[string]*ModelSummary{}
	for _, n := range nodes {
		free := map[string]int{}
		seen := map[string]bool{}
		for _, g := range n.GPUs {
			m := byModel[g.Product]
			if m == nil {
				m = &ModelSummary{Product: g.Product}
				byModel[g.Product] = m
			}
			m.Total++
			switch g.State {
			case Used:
				m.Used++
			case Free:
				m.Free++
				free[g.Product]++
			case Unavailable:
				m.Unavailable++
			}
			if !seen[g.Product] {
				seen[g.Product] = true
				m.Nodes++
			}
		}
		for p, f := range free {
			byModel[p].MaxFreeOnANode = max(byModel[p].MaxFreeOnANode, f)
		}
	}
	out := make([]ModelSummary, 0, len(byModel))
	for _, p := range sortedKeys(byModel) {
		out = append(out, *byModel[p])
	}
	return out
}

type heldBy struct {
	pod  string
	gpus int64
}

// countedGPUs are the GPUs of a Kubernetes Node whose agent reports none: allocatable
// nvidia.com/gpu, held by the pods bound to it in the order of their names.
func countedGPUs(k *corev1.Node, names map[string]string, pods []heldBy) []GPU {
	q, ok := k.Status.Allocatable[ResourceName]
	if !ok {
		q, ok = k.Status.Capacity[ResourceName]
	}
	if !ok || q.Value() <= 0 {
		return nil
	}
	total := min(q.Value(), 1024)
	product := k.Labels[LabelProduct]
	if name := names[product]; name != "" {
		product = name
	}
	if product == "" {
		product = "unknown"
	}
	memory, _ := strconv.ParseInt(k.Labels[LabelMemory], 10, 64)
	sort.Slice(pods, func(i, j int) bool { return pods[i].pod < pods[j].pod })
	gpus := make([]GPU, 0, total)
	for _, p := range pods {
		for range p.gpus {
			if int64(len(gpus)) == total {
				break
			}
			gpus = append(gpus, GPU{Node: k.Name, Index: -1, Product: product, MemoryTotalMiB: memory, Healthy: true, Pod: p.pod})
		}
	}
	for int64(len(gpus)) < total {
		gpus = append(gpus, GPU{Node: k.Name, Index: -1, Product: product, MemoryTotalMiB: memory, Healthy: true})
	}
	return gpus
}

// schedulable says whether a node takes new GPU pods, and if not why.
func schedulable(d *doradev1.Node, k *corev1.Node) (bool, string) {
	var why []string
	if (d != nil && d.Spec.SchedulingDisabled) || (k != nil && k.Spec.Unschedulable) {
		why = append(why, "cordoned")
	}
	if k != nil {
		ready := false
		for _, c := range k.Status.Conditions {
			if c.Type == corev1.NodeReady {
				ready = c.Status == corev1.ConditionTrue
			}
		}
		if !ready && len(k.Status.Conditions) > 0 {
			why = append(why, "not Ready")
		}
		if k.Labels[doradev1.LabelAllowGPUWorkload] == "false" {
			why = append(why, "takes no GPU workloads")
		}
	}
	if d != nil && len(d.Spec.Allow) > 0 && !contains(d.Spec.Allow, doradev1.GPUWorkload) && !contains(why, "takes no GPU workloads") {
		why = append(why, "takes no GPU workloads")
	}
	return len(why) == 0, strings.Join(why, ", ")
}

// PodGPUs is the number of GPUs a pod asks for, as the scheduler counts it: the larger of
// the sum over its containers and the largest init container (limits, which the API server
// copies to requests for an extended resource, else requests).
func PodGPUs(p *corev1.Pod) int64 {
	one := func(c corev1.Container) int64 {
		if q, ok := c.Resources.Limits[ResourceName]; ok {
			return q.Value()
		}
		if q, ok := c.Resources.Requests[ResourceName]; ok {
			return q.Value()
		}
		return 0
	}
	var sum, initMax int64
	for _, c := range p.Spec.Containers {
		sum += one(c)
	}
	for _, c := range p.Spec.InitContainers {
		initMax = max(initMax, one(c))
	}
	return max(sum, initMax)
}

// maxLabelValue is the longest value a Kubernetes label may have.
const maxLabelValue = 63

// ProductLabel turns a product name as NVML reports it into its node label value the way
// NVIDIA's gpu-feature-discovery and the Dora agent do (internal/gpu.ProductLabel):
// characters outside [A-Za-z0-9-_. ] are dropped and the words joined with '-'
// ("Tesla V100-SXM2-16GB" -> "Tesla-V100-SXM2-16GB"); a longer value than a label may hold is
// its first characters and a hash of the whole name.
func ProductLabel(product string) string {
	kept := strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.', r == ' ':
			return r
		default:
			return -1
		}
	}, product)
	value := strings.Trim(strings.Join(strings.Fields(kept), "-"), "-_.")
	if len(value) <= maxLabelValue {
		return value
	}
	sum := sha256.Sum256([]byte(product))
	suffix := hex.EncodeToString(sum[:4])
	head := strings.TrimRight(value[:maxLabelValue-len(suffix)-1], "-_.")
	return head + "-" + suffix
}

// SameModel reports whether two model names are the same model: equal once sanitised as
// node labels are, ignoring case ("Tesla V100-SXM2-16GB" and "Tesla-V100-SXM2-16GB").
func SameModel(a, b string) bool { return strings.EqualFold(ProductLabel(a), ProductLabel(b)) }

// MatchesModel reports whether product is what a --model filter asks for: the same model,
// or a model whose name contains the filter ignoring case and spaces versus dashes ("v100"
// matches "Tesla V100-SXM2-16GB"). An empty filter, or All, matches every model.
func MatchesModel(product, filter string) bool {
	if filter == "" || filter == doradev1.All {
		return true
	}
	return strings.Contains(strings.ToLower(ProductLabel(product)), strings.ToLower(ProductLabel(filter)))
}

// Filter keeps the GPUs whose model MatchesModel(filter), and recounts.
func (s Summary) Filter(filter string) Summary {
	if filter == "" || filter == doradev1.All {
		return s
	}
	var out Summary
	for _, n := range s.Nodes {
		kept := n
		kept.GPUs = nil
		kept.Products = nil
		kept.Total, kept.Used, kept.Free, kept.Unavailable = 0, 0, 0, 0
		for _, g := range n.GPUs {
			if !MatchesModel(g.Product, filter) {
				continue
			}
			kept.GPUs = append(kept.GPUs, g)
			kept.Total++
			switch g.State {
			case Used:
				kept.Used++
			case Free:
				kept.Free++
			case Unavailable:
				kept.Unavailable++
			}
			if !contains(kept.Products, g.Product) {
				kept.Products = append(kept.Products, g.Product)
			}
		}
		if kept.Total > 0 {
			sort.Strings(kept.Products)
			out.Nodes = append(out.Nodes, kept)
		}
	}
	out.Models = models(out.Nodes)
	return out
}

// Model is the summary of one model (SameModel), and whether the fleet has it.
func (s Summary) Model(product string) (ModelSummary, bool) {
	for _, m := range s.Models {
		if SameModel(m.Product, product) {
			return m, true
		}
	}
	return ModelSummary{}, false
}

// String is "8 x NVIDIA H100 80GB HBM3 (3 free)".
func (m ModelSummary) String() string {
	return fmt.Sprintf("%d x %s (%d free)", m.Total, m.Product, m.Free)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
