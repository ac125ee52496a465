package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/doradoc"
)

func storedWorkload() *doradev1.Workload {
	return &doradev1.Workload{
		TypeMeta: metav1.TypeMeta{APIVersion: "dora.dev/v1alpha1", Kind: "Workload"},
		ObjectMeta: metav1.ObjectMeta{Name: "blue.red", Namespace: "amedeo-setti", ResourceVersion: "7", UID: "u",
			Annotations: map[string]string{doradoc.AnnotationWorkspace: "amedeo.setti", doradev1.AnnotationZone: "dc-rov-01", doradev1.AnnotationOwner: "amedeo.setti"}},
		Spec:   doradev1.WorkloadSpec{Image: doradev1.ImageSpec{Image: "ubuntu"}},
		Status: doradev1.WorkloadStatus{Phase: doradev1.WorkloadPhaseRunning},
	}
}

func TestDoraOutputIsDorasOwnDocumentThatTranslatesBack(t *testing.T) {
	u, err := ToUnstructured(storedWorkload())
	if err != nil {
		t.Fatal(err)
	}
	out := NewOutputFlags(true)
	*out.Print.OutputFormat = FormatDora
	var buf bytes.Buffer
	if err := out.PrintObjects(&buf, []runtime.Object{u}); err != nil {
		t.Fatal(err)
	}
	want := "---\napiVersion: v1\nkind: Workload\nmetadata:\n  group: amedeo.setti\n  name: blue.red\n  zone: dc-rov-01\nspec:\n  image:\n    image: ubuntu\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	docs, err := doradoc.Decode(buf.Bytes(), doradoc.Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	back := docs[0].Object.(*doradev1.Workload)
	if back.Name != "blue.red" || back.Namespace != "amedeo-setti" || back.Spec.Image.Image != "ubuntu" || docs[0].Zone != "dc-rov-01" {
		t.Errorf("read back %+v in zone %q", back, docs[0].Zone)
	}
}

func TestStructuredOutputIsOneObjectOrAList(t *testing.T) {
	a, _ := ToUnstructured(storedWorkload())
	b := a.DeepCopy()
	b.SetName("green.blue")
	cases := map[string]struct {
		format string
		objs   []runtime.Object
		want   []string
	}{
		"name":      {format: "name", objs: []runtime.Object{a, b}, want: []string{"workload.dora.dev/blue.red\nworkload.dora.dev/green.blue\n"}},
		"json list": {format: "json", objs: []runtime.Object{a, b}, want: []string{`"kind": "List"`, `"name": "green.blue"`}},
		"yaml one":  {format: "yaml", objs: []runtime.Object{a}, want: []string{"kind: Workload\n", "name: blue.red\n"}},
		"yaml two":  {format: "yaml", objs: []runtime.Object{a, b}, want: []string{"name: blue.red\n", "---\n", "name: green.blue\n"}},
		"jsonpath":  {format: "jsonpath={.metadata.name}", objs: []runtime.Object{a}, want: []string{"blue.red"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := NewOutputFlags(true)
			*out.Print.OutputFormat = tc.format
			if err := out.Validate(true); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := out.PrintObjects(&buf, tc.objs); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("%q does not contain %q", buf.String(), w)
				}
			}
		})
	}
	out := NewOutputFlags(false)
	*out.Print.OutputFormat = "wide"
	if err := out.Validate(false); err == nil || !strings.Contains(err.Error(), "unknown output format") {
		t.Errorf("wide where there is no table: %v", err)
	}
}

func TestCreditsSayBudgetUseAndWhenTheWeekResets(t *testing.T) {
	reset := metav1.NewTime(now.Add(36 * time.Hour))
	asOf := metav1.NewTime(now.Add(-time.Minute))
	zc := &doradev1.ZoneCredits{Zone: "dc-rov-01", Weekly: "500", Used: "512.5", Remaining: "0", BurnRatePerHour: "20", Exhausted: true, NextReset: &reset, AsOf: &asOf}
	got := CreditFields("", zc, now)
	want := [][2]string{
		{"Weekly", "500"}, {"Used", "512.5 (as of " + asOf.Local().Format("2006-01-02 15:04:05 MST") + ")"}, {"Remaining", "0"},
		{"Burn rate", "20 per hour"}, {"Exhausted", "yes: the workloads in this zone are held until the reset"},
		{"Next reset", reset.Local().Format("Mon 2006-01-02 15:04 MST") + " (in 36h)"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][2]string{{"Weekly", "no budget in this zone (metered, not limited)"}}, CreditFields("", nil, now)); diff != "" {
		t.Errorf("no budget (-want +got):\n%s", diff)
	}
}

func TestWhoamiSaysUserDefaultsGrantsAndCredits(t *testing.T) {
	reset := metav1.NewTime(now.Add(48 * time.Hour))
	w := &WhoAmI{
		Zone: "dc-rov-01", Context: "rov", KubernetesUser: "oidc:amedeo.setti", Groups: []string{"system:authenticated"},
		DoraUser: "amedeo.setti", DefaultZone: "dc-rov-01", DefaultWorkspace: "amedeo.setti",
		Grants:  []doradev1.RoleBinding{{Role: "user", Kind: "All", Workspace: "amedeo.setti", Zone: "All"}, {Role: "user", Kind: "Volume", Workspace: "datasets"}},
		Weekly:  "500",
		Credits: &doradev1.ZoneCredits{Zone: "dc-rov-01", Weekly: "500", Used: "12.5", Remaining: "487.5", NextReset: &reset},
	}
	var buf bytes.Buffer
	if err := PrintWhoami(&buf, w, now); err != nil {
		t.Fatal(err)
	}
	want := `Zone:               dc-rov-01 (kubeconfig context rov)
Kubernetes user:    oidc:amedeo.setti (groups: system:authenticated)
Dora user:          amedeo.setti
Default zone:       dc-rov-01
Default workspace:  amedeo.setti
Grants:
  ROLE   KIND     WORKSPACE      ZONE
  user   All      amedeo.setti   All
  user   Volume   datasets       All
Credits in dc-rov-01:
  Weekly:      500
  Used:        12.5
  Remaining:   487.5
  Exhausted:   no
  Next reset:  ` + reset.Local().Format("Mon 2006-01-02 15:04 MST") + ` (in 2d)
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDoraUserNamesAreKubernetesNamesWithoutThePrefix(t *testing.T) {
	cases := []struct{ prefix, username, want string }{
		{"", "amedeo.setti", "amedeo.setti"},
		{"oidc:", "oidc:amedeo.setti", "amedeo.setti"},
		{"oidc:", "amedeo.setti", ""},
		{"", "system:serviceaccount:argocd:argocd", ""},
		{"", "Not A Name", ""},
	}
	for _, tc := range cases {
		if got := DoraUserName(tc.prefix, tc.username); got != tc.want {
			t.Errorf("DoraUserName(%q, %q) = %q, want %q", tc.prefix, tc.username, got, tc.want)
		}
	}
}
