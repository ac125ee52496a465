// Package gpu holds the GPU naming rules shared by the workload pod builder, the node agent
// and the simulated cluster, so that a label written on one side is matched on the other.
package gpu

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Node labels with NVIDIA gpu-feature-discovery's names and meanings, so that clusters
// already labelled by the NVIDIA GPU operator work without the Dora agent.
const (
	// LabelProduct is the GPU model, sanitised by ProductLabel.
	LabelProduct = "nvidia.com/gpu.product"
	// LabelCount is the number of GPUs on the node.
	LabelCount = "nvidia.com/gpu.count"
	// LabelMemory is the memory of one GPU in MiB.
	LabelMemory = "nvidia.com/gpu.memory"
	// ResourceName is the extended resource the NVIDIA device plugin advertises.
	ResourceName = "nvidia.com/gpu"

	// LabelCPUProduct is the node's CPU model, sanitised by ProductLabel.
	LabelCPUProduct = "dora.dev/cpu.product"
	// ModelLabelPrefix prefixes one label per GPU model present on a node, valued with the
	// number of GPUs of that model: gpu.dora.dev/Tesla-V100-SXM2-16GB=8. Unlike
	// nvidia.com/gpu.product it shows every model of a mixed node.
	ModelLabelPrefix = "gpu.dora.dev/"
)

// maxLabelValue is the longest value a Kubernetes label may have.
const maxLabelValue = 63

// ProductLabel turns a product name as NVML reports it into a label value the way NVIDIA's
// gpu-feature-discovery does: characters outside [A-Za-z0-9-_. ] are dropped and the words
// are joined with '-' ("Tesla V100-SXM2-16GB" -> "Tesla-V100-SXM2-16GB"). A value longer than
// a label may be is shortened to its first characters and a hash of the whole name, so two
// long names never meet.
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
