package naming

import (
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
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

func TestWorkloadLabelValue(t *testing.T) {
	long := strings.Repeat("a", 60) + ".train.job"
	cases := map[string]struct {
		in   string
		want string
	}{
		"a name that is a label value is kept":      {in: "blue.red", want: "blue.red"},
		"63 characters are kept":                    {in: strings.Repeat("x", 63), want: strings.Repeat("x", 63)},
		"a longer name is cut and hashed":           {in: long, want: strings.Repeat("a", 54) + "-" + ShortHash(long)},
		"the cut never ends on a dot or a dash":     {in: strings.Repeat("a", 53) + ".-" + strings.Repeat("b", 20), want: strings.Repeat("a", 53) + "-" + ShortHash(strings.Repeat("a", 53)+".-"+strings.Repeat("b", 20))},
		"characters no label takes become dashes":   {in: "blue red", want: "blue-red-" + ShortHash("blue red")},
		"nothing usable leaves the hash alone":      {in: "€€€", want: ShortHash("€€€")},
		"an empty name is not a label value either": {in: "", want: ShortHash("")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := WorkloadLabelValue(tc.in)
			if got != tc.want {
				t.Errorf("WorkloadLabelValue(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
				t.Errorf("%q is not a label value: %v", got, errs)
			}
		})
	}
}

func TestWorkloadLabelValueLongNamesNeverMeet(t *testing.T) {
	a := WorkloadLabelValue(strings.Repeat("train.", 20) + "a")
	b := WorkloadLabelValue(strings.Repeat("train.", 20) + "b")
	if a == b {
		t.Fatalf("two long names met on one label value: %q", a)
	}
}

func TestDNSLabel(t *testing.T) {
	long := strings.Repeat("very.long.workload.", 5)
	cases := map[string]struct {
		in     string
		maxLen int
		want   string
	}{
		"a valid label is kept":                      {in: "blue-red-0", maxLen: 63, want: "blue-red-0"},
		"dots become dashes":                         {in: "blue.red", maxLen: 63, want: "blue-red"},
		"upper case is lowered":                      {in: "Blue.Red", maxLen: 63, want: "blue-red"},
		"runs of other characters become one dash":   {in: "a_.b  c", maxLen: 63, want: "a-b-c"},
		"dashes at both ends go":                     {in: "-a.b-", maxLen: 63, want: "a-b"},
		"a leading digit is fine for a hostname":     {in: "1st", maxLen: 63, want: "1st"},
		"a longer one is cut and ends in a hash":     {in: long, maxLen: 40, want: "very-long-workload-very-long-wo-" + ShortHash(long)},
		"the limit is at most 63":                    {in: long, maxLen: 100, want: "very-long-workload-very-long-workload-very-long-worklo-" + ShortHash(long)},
		"the limit is at least 12":                   {in: "abcdefghijklmnop", maxLen: 3, want: "abc-" + ShortHash("abcdefghijklmnop")},
		"nothing usable gives the hash of the input": {in: "€€€", maxLen: 63, want: ShortHash("€€€")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := DNSLabel(tc.in, tc.maxLen)
			if got != tc.want {
				t.Errorf("DNSLabel(%q, %d) = %q, want %q", tc.in, tc.maxLen, got, tc.want)
			}
			if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
				t.Errorf("%q is not a DNS label: %v", got, errs)
			}
		})
	}
}

func TestDNS1035Label(t *testing.T) {
	cases := map[string]struct {
		in   string
		want string
	}{
		"a name starting with a letter is kept": {in: "blue-red-0-first", want: "blue-red-0-first"},
		"dots become dashes":                    {in: "blue.red-1-8008", want: "blue-red-1-8008"},
		"a leading digit gets w-":               {in: "3d.render-0-http", want: "w-3d-render-0-http"},
		"a hash starting with a letter is kept": {in: "€", want: ShortHash("€")},          // c4cc90ed
		"a hash starting with a digit gets w-":  {in: "€€", want: "w-" + ShortHash("€€")}, // 3ea027bc
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := DNS1035Label(tc.in, 63)
			if got != tc.want {
				t.Errorf("DNS1035Label(%q, 63) = %q, want %q", tc.in, got, tc.want)
			}
			if errs := validation.IsDNS1035Label(got); len(errs) > 0 {
				t.Errorf("%q is not a DNS-1035 label: %v", got, errs)
			}
		})
	}
}

func TestDNSLabelLongInputsNeverMeet(t *testing.T) {
	prefix := strings.Repeat("x", 70)
	if a, b := DNS1035Label(prefix+"-0-http", 63), DNS1035Label(prefix+"-1-http", 63); a == b {
		t.Fatalf("two long inputs met on one label: %q", a)
	}
}

func TestWithSuffix(t *testing.T) {
	long := strings.Repeat("a", 250) + ".b"
	cases := map[string]struct {
		name, suffix string
		want         string
	}{
		"short names just take the suffix": {name: "blue.red", suffix: "-1", want: "blue.red-1"},
		"253 characters in all still fit":  {name: strings.Repeat("a", 251), suffix: "-1", want: strings.Repeat("a", 251) + "-1"},
		"a longer name is cut and hashed":  {name: long, suffix: "-12", want: strings.Repeat("a", 241) + "-" + ShortHash(long) + "-12"},
		"the cut never ends on a dot or -": {name: strings.Repeat("a", 240) + ".-" + strings.Repeat("b", 20), suffix: "-0", want: strings.Repeat("a", 240) + "-" + ShortHash(strings.Repeat("a", 240)+".-"+strings.Repeat("b", 20)) + "-0"},
		"an absurd suffix leaves the hash": {name: long, suffix: "-" + strings.Repeat("9", 250), want: ShortHash(long) + "-" + strings.Repeat("9", 250)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := WithSuffix(tc.name, tc.suffix)
			if got != tc.want {
				t.Errorf("WithSuffix(%q, %q) = %q, want %q", tc.name, tc.suffix, got, tc.want)
			}
		})
	}
}

func FuzzWorkloadLabelValue(f *testing.F) {
	for _, s := range []string{"blue.red", strings.Repeat("a.", 40), "€", "", "-a-", "a\xffb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := WorkloadLabelValue(s)
		if errs := validation.IsValidLabelValue(got); len(errs) > 0 || got == "" {
			t.Fatalf("WorkloadLabelValue(%q) = %q is not a label value: %v", s, got, errs)
		}
		if len(validation.IsValidLabelValue(s)) == 0 && s != "" && got != s {
			t.Fatalf("WorkloadLabelValue(%q) = %q changed a valid label value", s, got)
		}
	})
}

func FuzzDNSLabel(f *testing.F) {
	for _, s := range []string{"blue.red", "3d", strings.Repeat("Ab.", 40), "€", "", "a\xffb"} {
		f.Add(s, 63)
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, maxLen int) {
		limit := min(max(maxLen, 12), 63)
		got := DNSLabel(s, maxLen)
		if errs := validation.IsDNS1123Label(got); len(errs) > 0 || len(got) > limit {
			t.Fatalf("DNSLabel(%q, %d) = %q is not a DNS label of at most %d: %v", s, maxLen, got, limit, errs)
		}
		got = DNS1035Label(s, maxLen)
		if errs := validation.IsDNS1035Label(got); len(errs) > 0 || len(got) > limit {
			t.Fatalf("DNS1035Label(%q, %d) = %q is not a DNS-1035 label of at most %d: %v", s, maxLen, got, limit, errs)
		}
	})
}

func FuzzWithSuffix(f *testing.F) {
	f.Add("blue.red", 0)
	f.Add(strings.Repeat("a.", 130), 999)
	f.Fuzz(func(t *testing.T, name string, index int) {
		if !IsObjectName(name) || index < 0 {
			return
		}
		got := WithSuffix(name, "-"+strconv.Itoa(index))
		if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
			t.Fatalf("WithSuffix(%q, -%d) = %q is not an object name: %v", name, index, got, errs)
		}
	})
}
