package simcluster

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dora-hpc/dora-operator/internal/gpu"
)

// NodePool describes identical fake nodes, named <Name>-0, <Name>-1, ...
type NodePool struct {
	// Name prefixes the node names.
	Name string
	// Count is the number of nodes.
	Count int
	// GPUProduct is the GPU model as NVML names it; empty for CPU-only nodes.
	GPUProduct string
	// GPUs is the number of GPUs per node.
	GPUs int
	// GPUMemoryMiB is the memory of one GPU.
	GPUMemoryMiB int
	// CPUs is the number of cores per node.
	CPUs int
	// MemoryGiB is the node memory.
	MemoryGiB int
	// CPUProduct is the CPU model.
	CPUProduct string
}

// Fleet is the set of fake nodes a simulated cluster starts with.
type Fleet []NodePool

// DefaultFleet is the mixed fleet of the playground: the seed document's GPU models, a
// newer one, and a CPU-only node.
func DefaultFleet() Fleet {
	return Fleet{
		{Name: "v100", Count: 2, GPUProduct: "Tesla V100-SXM2-16GB", GPUs: 8, GPUMemoryMiB: 16384, CPUs: 40, MemoryGiB: 512, CPUProduct: "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz"},
		{Name: "rtx6000", Count: 2, GPUProduct: "Quadro RTX 6000", GPUs: 4, GPUMemoryMiB: 24576, CPUs: 32, MemoryGiB: 256, CPUProduct: "AMD EPYC 7302 16-Core Processor"},
		{Name: "h100", Count: 1, GPUProduct: "NVIDIA H100 80GB HBM3", GPUs: 8, GPUMemoryMiB: 81559, CPUs: 112, MemoryGiB: 2048, CPUProduct: "Intel(R) Xeon(R) Platinum 8480+"},
		{Name: "cpu", Count: 1, CPUs: 64, MemoryGiB: 256, CPUProduct: "AMD EPYC 7543 32-Core Processor"},
	}
}

// Nodes returns the Node objects of the fleet, with labels and capacity set.
func (f Fleet) Nodes() []*corev1.Node {
	var nodes []*corev1.Node
	for _, pool := range f {
		for _, name := range pool.NodeNames() {
			nodes = append(nodes, pool.node(name))
		}
	}
	return nodes
}

// NodeNames are the names of the pool's nodes.
func (p NodePool) NodeNames() []string {
	names := make([]string, p.Count)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", p.Name, i)
	}
	return names
}

func (p NodePool) node(name string) *corev1.Node {
	cpus, mem := p.CPUs, p.MemoryGiB
	if cpus == 0 {
		cpus = 16
	}
	if mem == 0 {
		mem = 64
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(cpus), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(int64(mem)<<30, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
	}
	labels := map[string]string{
		corev1.LabelHostname:   name,
		corev1.LabelOSStable:   "linux",
		corev1.LabelArchStable: "amd64",
		"type":                 "kwok",
	}
	if p.CPUProduct != "" {
		labels[gpu.LabelCPUProduct] = gpu.ProductLabel(p.CPUProduct)
	}
	if p.GPUProduct != "" && p.GPUs > 0 {
		capacity[gpu.ResourceName] = *resource.NewQuantity(int64(p.GPUs), resource.DecimalSI)
		labels[gpu.LabelProduct] = gpu.ProductLabel(p.GPUProduct)
		labels[gpu.LabelCount] = strconv.Itoa(p.GPUs)
		if p.GPUMemoryMiB > 0 {
			labels[gpu.LabelMemory] = strconv.Itoa(p.GPUMemoryMiB)
		}
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      labels,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity.DeepCopy()},
	}
}
