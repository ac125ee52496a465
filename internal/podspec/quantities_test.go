package podspec

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestParseMaxRunTime(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    int64
		wantErr string
	}{
		"seconds":        {in: "30s", want: 30},
		"minutes":        {in: "10m", want: 600},
		"hours":          {in: "2h", want: 7200},
		"days":           {in: "1d", want: 86400},
		"many days":      {in: "365d", want: 365 * 86400},
		"no unit":        {in: "30", wantErr: "must be a number and a unit"},
		"no number":      {in: "h", wantErr: "must be a number and a unit"},
		"zero":           {in: "0s", wantErr: "must be a number and a unit"},
		"a leading zero": {in: "05m", wantErr: "must be a number and a unit"},
		"weeks":          {in: "2w", wantErr: "must be a number and a unit"},
		"Go durations":   {in: "1h30m", wantErr: "must be a number and a unit"},
		"upper case":     {in: "2H", wantErr: "must be a number and a unit"},
		"empty":          {in: "", wantErr: "must be a number and a unit"},
		"overflowing":    {in: "999999999999999999d", wantErr: "is too long"},
		"beyond int64":   {in: "99999999999999999999s", wantErr: "is too long"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMaxRunTime(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "config.maxRunTime") {
					t.Fatalf("ParseMaxRunTime(%q) = %d, %v; want an error naming config.maxRunTime and containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseMaxRunTime(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestCPUQuantity(t *testing.T) {
	cases := map[string]struct {
		in      *intstr.IntOrString
		want    string
		wantErr string
	}{
		"left out asks for nothing": {in: nil, want: "0"},
		"whole cores":               {in: ptrIntOrString(intstr.FromInt32(2)), want: "2"},
		"whole cores as a string":   {in: ptrIntOrString(intstr.FromString("2")), want: "2"},
		"half a core":               {in: ptrIntOrString(intstr.FromString("0.5")), want: "500m"},
		"three decimals":            {in: ptrIntOrString(intstr.FromString("1.125")), want: "1125m"},
		"millicores":                {in: ptrIntOrString(intstr.FromString("500m")), want: "500m"},
		"zero":                      {in: ptrIntOrString(intstr.FromInt32(0)), want: "0"},
		"negative":                  {in: ptrIntOrString(intstr.FromInt32(-1)), wantErr: "-1 is negative"},
		"negative string":           {in: ptrIntOrString(intstr.FromString("-1")), wantErr: `"-1" is not a CPU count`},
		"four decimals":             {in: ptrIntOrString(intstr.FromString("0.0005")), wantErr: "is not a CPU count"},
		"a memory unit":             {in: ptrIntOrString(intstr.FromString("2Gi")), wantErr: "is not a CPU count"},
		"an exponent":               {in: ptrIntOrString(intstr.FromString("1e3")), wantErr: "is not a CPU count"},
		"words":                     {in: ptrIntOrString(intstr.FromString("two")), wantErr: "is not a CPU count"},
		"empty":                     {in: ptrIntOrString(intstr.FromString("")), wantErr: "is not a CPU count"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := CPUQuantity(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "selectors.cpu.count") {
					t.Fatalf("CPUQuantity = %s, %v; want an error naming selectors.cpu.count and containing %q", got.String(), err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Cmp(resource.MustParse(tc.want)) != 0 {
				t.Errorf("CPUQuantity = %s, %v; want %s", got.String(), err, tc.want)
			}
		})
	}
}

func TestGPUCount(t *testing.T) {
	cases := map[string]struct {
		wl   *doradev1.Workload
		want int64
	}{
		"no gpu selector": {wl: makeWorkload().Obj(), want: 0},
		"a selector without count": {wl: func() *doradev1.Workload {
			w := makeWorkload()
			w.Spec.Selectors.GPU = &doradev1.GPUSelector{ProductName: doradev1.NewString("All")}
			return w.Obj()
		}(), want: 0},
		"a number":                 {wl: makeWorkload().GPU(intstr.FromInt32(2), doradev1.StringOrList{}).Obj(), want: 2},
		"a string":                 {wl: makeWorkload().GPU(intstr.FromString("8"), doradev1.StringOrList{}).Obj(), want: 8},
		"zero":                     {wl: makeWorkload().GPU(intstr.FromInt32(0), doradev1.StringOrList{}).Obj(), want: 0},
		"not a number counts as 0": {wl: makeWorkload().GPU(intstr.FromString("two"), doradev1.StringOrList{}).Obj(), want: 0},
		"negative counts as 0":     {wl: makeWorkload().GPU(intstr.FromInt32(-3), doradev1.StringOrList{}).Obj(), want: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := GPUCount(tc.wl); got != tc.want {
				t.Errorf("GPUCount = %d, want %d", got, tc.want)
			}
		})
	}
}

func ptrIntOrString(v intstr.IntOrString) *intstr.IntOrString { return &v }
