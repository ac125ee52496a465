package report

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent/inventory"
)

func TestNodeLabels(t *testing.T) {
	mixed := Status(twoGPUs())
	cases := []struct {
		name     string
		st       doradev1.NodeStatus
		existing map[string]string
		gfd      bool
		want     map[string]string
	}{
		{
			name: "mixed node with gfd labels",
			st:   mixed, gfd: true,
			want: map[string]string{
				"dora.dev/cpu.product":              "AMD-EPYC",
				"gpu.dora.dev/Tesla-V100-SXM2-16GB": "1",
				"gpu.dora.dev/Quadro-RTX-6000":      "1",
				"nvidia.com/gpu.product":            "Tesla-V100-SXM2-16GB",
				"nvidia.com/gpu.count":              "2",
				"nvidia.com/gpu.memory":             "16384",
			},
		},
		{
			name: "without gfd labels, a model that left is removed",
			st:   mixed, existing: map[string]string{"gpu.dora.dev/NVIDIA-A100": "8"},
			want: map[string]string{
				"dora.dev/cpu.product":              "AMD-EPYC",
				"gpu.dora.dev/Tesla-V100-SXM2-16GB": "1",
				"gpu.dora.dev/Quadro-RTX-6000":      "1",
				"gpu.dora.dev/NVIDIA-A100":          "",
			},
		},
		{
			name: "no GPUs: gfd labels removed",
			st:   Status(Input{GPUs: inventory.GPUs{}}), gfd: true,
			want: map[string]string{"nvidia.com/gpu.product": "", "nvidia.com/gpu.count": "", "nvidia.com/gpu.memory": ""},
		},
		{
			name: "NVML not answering: GPU labels left alone",
			st:   Status(Input{NVMLError: "ERROR_DRIVER_NOT_LOADED"}), gfd: true,
			existing: map[string]string{"nvidia.com/gpu.product": "Tesla-V100-SXM2-16GB", "gpu.dora.dev/Tesla-V100-SXM2-16GB": "8"},
			want:     map[string]string{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, NodeLabels(tc.st, tc.existing, tc.gfd)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLabelPatch(t *testing.T) {
	existing := map[string]string{"a": "1", "b": "2", "keep": "x"}
	got := LabelPatch(existing, map[string]string{"a": "1", "b": "3", "c": "4", "gone": "", "keep": ""})
	want := map[string]*string{"b": ptr.To("3"), "c": ptr.To("4"), "keep": nil}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if LabelPatch(existing, map[string]string{"a": "1"}) != nil {
		t.Error("a node already labelled needs no patch")
	}
}
