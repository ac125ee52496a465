package cli

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/doradoc"
)

const mixedDocuments = `apiVersion: v1
kind: Workload
metadata:
  name: blue.red
  group: amedeo.setti
spec:
  image:
    image: $IMAGE
---
apiVersion: v1
kind: User
metadata:
  name: amedeo.setti
---
apiVersion: dora.dev/v1alpha1
kind: Volume
metadata:
  name: home
  namespace: amedeo-setti
spec:
  storage: dora.storage.01
---
apiVersion: v1
kind: Resourcecredit
metadata:
  zone: dc-test-01
  name: Tesla T4
spec:
  product_name: Tesla T4
  credit: {per: {hour: 1}}
---
apiVersion: v1
kind: Workspace
metadata:
  name: amedeo.setti
`

func TestTranslateReadsDoraAndCRDDocumentsMixedWithTheVariables(t *testing.T) {
	tr, errs := Translate([]Source{{Name: "mixed.yaml", Text: mixedDocuments}}, Variables{"IMAGE": "ubuntu", "UNUSED": "x"}, doradoc.Defaults{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, d := range tr.Docs {
		got = append(got, d.Source+"#"+itoa(d.Index)+" "+d.Kind.Dora+" "+d.Name()+" zone="+d.Zone)
	}
	want := []string{
		"mixed.yaml#1 Workload blue.red zone=", "mixed.yaml#2 User amedeo.setti zone=", "mixed.yaml#3 Volume home zone=",
		"mixed.yaml#4 Resourcecredit Tesla T4 zone=dc-test-01", "mixed.yaml#5 Workspace amedeo.setti zone=",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if wl := tr.Docs[0].Object.(*doradev1.Workload); wl.Spec.Image.Image != "ubuntu" {
		t.Errorf("the image was not substituted: %q", wl.Spec.Image.Image)
	}
	if diff := cmp.Diff([]string{"UNUSED"}, tr.Unused); diff != "" {
		t.Errorf("unused (-want +got):\n%s", diff)
	}
}

func TestTranslateRefusesEverythingWhenOneDocumentOfOneFileIsBad(t *testing.T) {
	good := Source{Name: "good.yaml", Text: "apiVersion: v1\nkind: Workspace\nmetadata: {name: a}\n"}
	bad := Source{Name: "bad.yaml", Text: mixedDocuments + "---\napiVersion: v1\nkind: Workload\nmetadata: {name: broken, group: a}\nspec:\n  image: {image: x}\n  replica: {cuont: 2}\n"}
	tr, errs := Translate([]Source{good, bad}, nil, doradoc.Defaults{})
	if tr != nil || len(errs) != 1 {
		t.Fatalf("got %v, %v; want no documents and one error", tr, errs)
	}
	want := `bad.yaml: document 6 (Workload broken): unknown field "spec.replica.cuont"`
	if errs[0].Error() != want {
		t.Errorf("got  %s\nwant %s", errs[0], want)
	}
	_, errs = Translate([]Source{{Name: "w.yaml", Text: "apiVersion: v1\nkind: Workload\nmetadata: {name: w}\nspec: {image: {image: x}}\n"}}, nil, doradoc.Defaults{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "w.yaml: document 1 (Workload w): metadata.group: a Workload lives in a workspace") {
		t.Errorf("a workload without a workspace and no default: %v", errs)
	}
	_, errs = Translate([]Source{{Name: "empty.yaml", Text: "# nothing\n"}}, nil, doradoc.Defaults{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "no documents") {
		t.Errorf("no documents: %v", errs)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func planOf(t *testing.T, text string, in PlanInput) (*Plan, []error) {
	t.Helper()
	tr, errs := Translate([]Source{{Name: "f.yaml", Text: text}}, Variables{"IMAGE": "ubuntu"}, doradoc.Defaults{Workspace: "amedeo.setti"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	in.Docs = tr.Docs
	return MakePlan(in)
}

func steps(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.Zone+" "+s.Doc.Kind.Kind+" "+s.Object.GetNamespace()+"/"+s.Object.GetName())
	}
	return out
}

func TestThePlanSendsEachDocumentToItsZoneAndClusterWideKindsToEvery(t *testing.T) {
	known := func(z string) bool { return z == "dc-rov-01" || z == "dc-test-01" }
	plan, errs := planOf(t, mixedDocuments, PlanInput{Configured: []string{"dc-rov-01", "dc-test-01"}, Default: "dc-rov-01", Known: known})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []string{
		"dc-rov-01 User /amedeo.setti",
		"dc-rov-01 Workspace /amedeo.setti",
		"dc-rov-01 Volume amedeo-setti/home",
		"dc-rov-01 Workload amedeo-setti/blue.red",
		"dc-test-01 User /amedeo.setti",
		"dc-test-01 Workspace /amedeo.setti",
		"dc-test-01 ResourceCredit /tesla-t4-131365bf",
	}
	if diff := cmp.Diff(want, steps(plan)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"dc-rov-01", "dc-test-01"}, plan.Zones); diff != "" {
		t.Errorf("zones (-want +got):\n%s", diff)
	}
	for _, s := range plan.Steps {
		if _, ok := s.Object.Object["status"]; ok {
			t.Errorf("%s: status is sent", s.Key())
		}
		if _, ok := s.Object.Object["metadata"].(map[string]any)["creationTimestamp"]; ok {
			t.Errorf("%s: creationTimestamp is sent", s.Key())
		}
	}
}

func TestThePlanRefusesWhatHasNoZoneToGoTo(t *testing.T) {
	known := func(z string) bool { return z == "dc-rov-01" }
	cases := map[string]struct {
		text string
		in   PlanInput
		want []string
	}{
		"an unknown zone": {
			text: "apiVersion: v1\nkind: Storage\nmetadata: {name: s, zone: dc-mars-01}\nspec: {endpoint: e, mountpath: /m}\n",
			in:   PlanInput{Configured: []string{"dc-rov-01"}, Default: "dc-rov-01", Known: known, KnownZones: []string{"dc-rov-01"}},
			want: []string{`f.yaml: document 1 (Storage s): metadata.zone: unknown zone "dc-mars-01"; the zones are dc-rov-01 (kubectl dora zones)`},
		},
		"no default zone": {
			text: "apiVersion: v1\nkind: Storage\nmetadata: {name: s}\nspec: {endpoint: e, mountpath: /m}\n",
			in:   PlanInput{Known: known},
			want: []string{"f.yaml: document 1 (Storage s): metadata.zone: no zone given and no default zone"},
		},
		"the same object twice": {
			text: "apiVersion: v1\nkind: Role\nmetadata: {name: r}\n---\napiVersion: dora.dev/v1alpha1\nkind: Role\nmetadata: {name: r}\n",
			in:   PlanInput{Configured: []string{"dc-rov-01"}, Known: known},
			want: []string{"f.yaml: document 2 (Role r) in zone dc-rov-01: metadata.name: the same Role as document 1 of f.yaml"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			plan, errs := planOf(t, tc.text, tc.in)
			if plan != nil {
				t.Errorf("a plan was made: %v", steps(plan))
			}
			var got []string
			for _, err := range errs {
				got = append(got, err.Error())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("errors %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("got  %s\nwant %s...", got[i], tc.want[i])
				}
			}
		})
	}
}

func TestZoneAllAndNoConfiguredZonesGoWhereTheyCan(t *testing.T) {
	text := "apiVersion: v1\nkind: Storage\nmetadata: {name: s, zone: All}\nspec: {endpoint: e, mountpath: /m}\n---\napiVersion: v1\nkind: Role\nmetadata: {name: r}\n"
	plan, errs := planOf(t, text, PlanInput{Configured: []string{"a", "b"}, Default: "a"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if diff := cmp.Diff([]string{"a Role /r", "a Storage /s", "b Role /r", "b Storage /s"}, steps(plan)); diff != "" {
		t.Errorf("zone All goes to every zone (-want +got):\n%s", diff)
	}
	plan, errs = planOf(t, text, PlanInput{Default: "only"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if diff := cmp.Diff([]string{"only Role /r", "only Storage /s"}, steps(plan)); diff != "" {
		t.Errorf("without configured zones, the default zone (-want +got):\n%s", diff)
	}
}

func TestADocErrorNamesFileDocumentKindNameZoneAndField(t *testing.T) {
	cases := map[*DocError]string{
		{Source: "a.yaml", Index: 2, Kind: "Workload", Name: "x", Field: "spec.image", Message: "required"}:                     "a.yaml: document 2 (Workload x): spec.image: required",
		{Source: "a.yaml", Index: 2, Kind: "Workload", Name: "x", Zone: "z", Field: "spec.a", Message: "spec.a: Invalid value"}: "a.yaml: document 2 (Workload x) in zone z: spec.a: Invalid value",
		{Source: "stdin", Index: 1, Message: "not valid YAML"}:                                                                  "stdin: document 1: not valid YAML",
	}
	for err, want := range cases {
		if err.Error() != want {
			t.Errorf("got  %s\nwant %s", err, want)
		}
	}
}
