package gpu

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestProductLabel(t *testing.T) {
	cases := map[string]string{
		"Tesla V100-SXM2-16GB":   "Tesla-V100-SXM2-16GB",
		"Quadro RTX 6000":        "Quadro-RTX-6000",
		"NVIDIA H100 80GB HBM3":  "NVIDIA-H100-80GB-HBM3",
		"NVIDIA A100-SXM4-40GB":  "NVIDIA-A100-SXM4-40GB",
		"  GeForce  RTX (3090) ": "GeForce-RTX-3090",
		"NVIDIA RTX A6000 ®":     "NVIDIA-RTX-A6000",
	}
	for in, want := range cases {
		if got := ProductLabel(in); got != want {
			t.Errorf("ProductLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProductLabelLongNames(t *testing.T) {
	a := ProductLabel(strings.Repeat("Very Long GPU Name ", 5) + "A")
	b := ProductLabel(strings.Repeat("Very Long GPU Name ", 5) + "B")
	if a == b {
		t.Fatalf("two long names met on one label: %q", a)
	}
	for _, v := range []string{a, b} {
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			t.Errorf("%q is not a label value: %v", v, errs)
		}
	}
}

func FuzzProductLabel(f *testing.F) {
	f.Add("Tesla V100-SXM2-16GB")
	f.Fuzz(func(t *testing.T, s string) {
		if errs := validation.IsValidLabelValue(ProductLabel(s)); len(errs) > 0 {
			t.Fatalf("ProductLabel(%q) = %q: %v", s, ProductLabel(s), errs)
		}
	})
}
