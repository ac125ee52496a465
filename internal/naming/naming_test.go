package naming

import (
	"strings"
	"testing"
)

func TestWorkspaceNamespace(t *testing.T) {
	cases := map[string]string{
		"amedeo.setti": "amedeo-setti",
		"datasets":     "datasets",
		"a.b.c":        "a-b-c",
	}
	for in, want := range cases {
		if got := WorkspaceNamespace(in); got != want {
			t.Errorf("WorkspaceNamespace(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestObjectName(t *testing.T) {
	cases := []struct {
		name        string
		in          string
		wantPrefix  string
		wantChanged bool
	}{
		{name: "valid name kept", in: "blue.red", wantPrefix: "blue.red", wantChanged: false},
		{name: "GPU model", in: "Tesla V100-SXM2-16GB", wantPrefix: "tesla-v100-sxm2-16gb-", wantChanged: true},
		{name: "spaces and symbols collapse", in: "NVIDIA  H100 (80GB)", wantPrefix: "nvidia-h100-80gb-", wantChanged: true},
		{name: "only symbols", in: "€€€", wantPrefix: "", wantChanged: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := ObjectName(tc.in)
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			if !strings.HasPrefix(got, tc.wantPrefix) {
				t.Errorf("ObjectName(%q) = %q, want prefix %q", tc.in, got, tc.wantPrefix)
			}
			if !IsObjectName(got) {
				t.Errorf("ObjectName(%q) = %q is not a valid object name", tc.in, got)
			}
			again, _ := ObjectName(tc.in)
			if again != got {
				t.Errorf("not deterministic: %q then %q", got, again)
			}
		})
	}
}

func TestObjectNameNeverCollides(t *testing.T) {
	a, _ := ObjectName("Tesla V100")
	b, _ := ObjectName("tesla v100")
	c, _ := ObjectName("tesla-v100")
	if a == b || a == c || b == c {
		t.Fatalf("distinct Dora names met on one Kubernetes name: %q %q %q", a, b, c)
	}
}

func TestObjectNameLong(t *testing.T) {
	got, changed := ObjectName(strings.Repeat("Ab ", 200))
	if !changed || len(got) > 253 || !IsObjectName(got) {
		t.Fatalf("ObjectName(long) = %q (%d chars), changed=%v", got, len(got), changed)
	}
}

func FuzzObjectName(f *testing.F) {
	for _, s := range []string{"blue.red", "Tesla V100-SXM2-16GB", "..", "-a-", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, _ := ObjectName(s)
		if !IsObjectName(got) {
			t.Fatalf("ObjectName(%q) = %q is not a valid object name", s, got)
		}
	})
}
