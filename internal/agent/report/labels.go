package report

import (
	"strconv"
	"strings"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/gpu"
)

// NodeLabels computes the labels the agent keeps on its Kubernetes Node from a status: the
// gpu-feature-discovery labels (when gfd is true; leave it off where NVIDIA's own feature
// discovery runs), one gpu.dora.dev/<model> label per model present, and the CPU model.
// A value of "" means the label must be removed. NVML not answering leaves GPU labels out of
// the result entirely, so a flaky driver does not make them come and go.
func NodeLabels(st doradev1.NodeStatus, existing map[string]string, gfd bool) map[string]string {
	out := map[string]string{}
	if st.CPU != nil && st.CPU.Product != "" {
		out[gpu.LabelCPUProduct] = gpu.ProductLabel(st.CPU.Product)
	}
	if !nvmlAnswered(st) {
		return out
	}
	for key := range existing {
		if strings.HasPrefix(key, gpu.ModelLabelPrefix) {
			out[key] = ""
		}
	}
	counts := map[string]int{}
	for _, g := range st.GPUs {
		if g.Product != "" {
			counts[gpu.ModelLabelPrefix+gpu.ProductLabel(g.Product)]++
		}
	}
	for key, n := range counts {
		out[key] = strconv.Itoa(n)
	}
	if gfd {
		out[gpu.LabelProduct], out[gpu.LabelCount], out[gpu.LabelMemory] = "", "", ""
		if len(st.GPUs) > 0 && st.GPUs[0].Product != "" {
			// Like gpu-feature-discovery: the product of the first GPU.
			out[gpu.LabelProduct] = gpu.ProductLabel(st.GPUs[0].Product)
			out[gpu.LabelCount] = strconv.Itoa(len(st.GPUs))
			out[gpu.LabelMemory] = strconv.FormatInt(st.GPUs[0].MemoryTotalMiB, 10)
		}
	}
	return out
}

// LabelPatch returns the labels to change on a node (nil value: remove) so that it carries
// want, or nil when it already does.
func LabelPatch(existing, want map[string]string) map[string]*string {
	patch := map[string]*string{}
	for key, value := range want {
		current, has := existing[key]
		switch {
		case value == "" && has:
			patch[key] = nil
		case value != "" && current != value:
			v := value
			patch[key] = &v
		}
	}
	if len(patch) == 0 {
		return nil
	}
	return patch
}

func nvmlAnswered(st doradev1.NodeStatus) bool {
	for _, c := range st.Conditions {
		if c.Type == doradev1.NodeNVMLAvailable {
			return c.Status == "True"
		}
	}
	return false
}
