package v1alpha1

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStringOrListKeepsItsForm(t *testing.T) {
	cases := []struct {
		in   string
		want StringOrList
	}{
		{`"Tesla V100-SXM2-16GB"`, NewString("Tesla V100-SXM2-16GB")},
		{`["Quadro RTX 6000","Tesla V100-SXM2-16GB"]`, NewList("Quadro RTX 6000", "Tesla V100-SXM2-16GB")},
		{`["python"]`, NewList("python")},
		{`[]`, NewList()},
		{`[6000, true]`, NewList("6000", "true")},
	}
	for _, tc := range cases {
		var got StringOrList
		if err := json.Unmarshal([]byte(tc.in), &got); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.in, diff)
		}
		out, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var again StringOrList
		if err := json.Unmarshal(out, &again); err != nil || !cmp.Equal(got, again) {
			t.Errorf("%s: round trip gave %s -> %+v (%v)", tc.in, out, again, err)
		}
	}
	for _, bad := range []string{`{"a":1}`, `[{"a":1}]`, `3`} {
		var got StringOrList
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("%s was accepted as %+v", bad, got)
		}
	}
}

func TestAmountKeepsItsDecimalText(t *testing.T) {
	for _, in := range []string{`2.5`, `500`, `0.1`, `1e3`, `"2.5"`} {
		var a Amount
		if err := json.Unmarshal([]byte(in), &a); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		want := in
		if in[0] == '"' {
			want = in[1 : len(in)-1]
		}
		if string(out) != want {
			t.Errorf("%s -> %s, want %s", in, out, want)
		}
	}
	for _, bad := range []string{`"abc"`, `"+1"`, `"NaN"`, `true`} {
		var a Amount
		if err := json.Unmarshal([]byte(bad), &a); err == nil {
			t.Errorf("%s was accepted as %q", bad, a)
		}
	}
}

func TestReplicaCountDefaultsToOne(t *testing.T) {
	zero := int32(0)
	cases := map[string]struct {
		spec WorkloadSpec
		want int32
	}{
		"no replica":  {WorkloadSpec{}, 1},
		"no count":    {WorkloadSpec{Replica: &ReplicaSpec{}}, 1},
		"scaled to 0": {WorkloadSpec{Replica: &ReplicaSpec{Count: &zero}}, 0},
	}
	for name, tc := range cases {
		w := Workload{Spec: tc.spec}
		if got := w.ReplicaCount(); got != tc.want {
			t.Errorf("%s: ReplicaCount = %d, want %d", name, got, tc.want)
		}
	}
}
