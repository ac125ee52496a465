package doradoc

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func readSeed(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "seed", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustDecodeOne(t *testing.T, data []byte, defaults Defaults) Document {
	t.Helper()
	docs, err := Decode(data, defaults)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(docs) != 1 {
		t.Fatalf("Decode returned %d documents, want 1", len(docs))
	}
	return docs[0]
}

// The seed's full Workload example, tabs and all, becomes the Workload it describes.
func TestDecodeSeedFullWorkload(t *testing.T) {
	doc := mustDecodeOne(t, readSeed(t, "workload-full"), Defaults{})
	wl, ok := doc.Object.(*doradev1.Workload)
	if !ok {
		t.Fatalf("object is %T, want *Workload", doc.Object)
	}
	if doc.Zone != "dc-rov-01" || doc.Workspace != "amedeo.setti" {
		t.Errorf("zone/workspace = %q/%q, want dc-rov-01/amedeo.setti", doc.Zone, doc.Workspace)
	}
	if wl.Name != "blue.red" || wl.Namespace != "amedeo-setti" {
		t.Errorf("name/namespace = %q/%q, want blue.red/amedeo-setti", wl.Name, wl.Namespace)
	}
	if wl.APIVersion != "dora.dev/v1alpha1" || wl.Kind != "Workload" {
		t.Errorf("type meta = %s %s", wl.APIVersion, wl.Kind)
	}
	want := doradev1.WorkloadSpec{
		Replica: &doradev1.ReplicaSpec{Count: ptr.To[int32](2)},
		Driver:  "Docker",
		Notify:  &doradev1.NotifySpec{ByEmail: false},
		Selectors: doradev1.Selectors{GPU: &doradev1.GPUSelector{
			ProductName: doradev1.NewList("Quadro RTX 6000", "Tesla V100-SXM2-16GB"),
			Count:       ptr.To(intstr.FromInt32(2)),
		}},
		Image: doradev1.ImageSpec{Image: "ubuntu", PullPolicy: "Always"},
		Config: &doradev1.ContainerConfig{
			Cmd:           doradev1.NewString("/bin/bash"),
			Affinity:      "Distribute",
			RestartPolicy: "Always",
			ShmSize:       ptr.To[int64](1000000000),
		},
		Volumes: []doradev1.WorkloadVolume{
			{Name: "home", Target: "/home"},
			{Name: "imagenetpytorch", Workspace: "datasets", Group: "datasets", Target: "/imagenet"},
		},
		Network: &doradev1.NetworkSpec{Mode: "bridge", Ports: []doradev1.PortSpec{
			{Name: "first", Kind: "NodePort", Protocol: "tcp", NodePort: 25000, Port: 8008},
		}},
	}
	if diff := cmp.Diff(want, wl.Spec); diff != "" {
		t.Errorf("spec differs (-want +got):\n%s", diff)
	}
}

func TestDecodeSeedSimpleWorkloadNeedsAWorkspace(t *testing.T) {
	_, err := Decode(readSeed(t, "workload-simple"), Defaults{})
	if err == nil || !strings.Contains(err.Error(), "document 1 (Workload blue.red): metadata.group:") {
		t.Fatalf("error = %v, want one naming document 1 and metadata.group", err)
	}

	doc := mustDecodeOne(t, readSeed(t, "workload-simple"), Defaults{Zone: "dc-rov-01", Workspace: "amedeo.setti"})
	wl := doc.Object.(*doradev1.Workload)
	if wl.Namespace != "amedeo-setti" || doc.Zone != "dc-rov-01" {
		t.Errorf("defaults not applied: namespace %q zone %q", wl.Namespace, doc.Zone)
	}
	if got := wl.Spec.Selectors.CPU.Count; got == nil || got.IntValue() != 1 {
		t.Errorf("cpu count = %v, want 1", got)
	}
	if got := wl.Spec.Selectors.CPU.ProductName; got.IsList || len(got.Values) != 1 || got.Values[0] != "All" {
		t.Errorf("cpu product_name = %+v, want the string All", got)
	}
}

// Every seed example translates, to the kind and name it says.
func TestDecodeEverySeedExample(t *testing.T) {
	cases := []struct {
		file, kind, name string
		namespace        string
	}{
		{"workload-full", "Workload", "blue.red", "amedeo-setti"},
		{"storage", "Storage", "dora.storage.01", ""},
		{"volume", "Volume", "home", "amedeo-setti"},
		{"node", "Node", "emcprom09", ""},
		{"workspace", "Workspace", "amedeo.setti", ""},
		{"zone", "Zone", "dc-rov-01", ""},
		{"role", "Role", "user", ""},
		{"user", "User", "amedeo.setti", ""},
		{"resourcecredit", "ResourceCredit", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			doc := mustDecodeOne(t, readSeed(t, tc.file), Defaults{})
			obj := doc.Object
			if got := obj.GetObjectKind().GroupVersionKind().Kind; got != tc.kind {
				t.Errorf("kind = %q, want %q", got, tc.kind)
			}
			if tc.name != "" && obj.GetName() != tc.name {
				t.Errorf("name = %q, want %q", obj.GetName(), tc.name)
			}
			if obj.GetNamespace() != tc.namespace {
				t.Errorf("namespace = %q, want %q", obj.GetNamespace(), tc.namespace)
			}
		})
	}
}

// The seed prices "Tesla V100-SXM2-16GB", a name Kubernetes cannot take: it gets a valid,
// deterministic name and the original is kept.
func TestDecodeResourceCreditName(t *testing.T) {
	doc := mustDecodeOne(t, readSeed(t, "resourcecredit"), Defaults{})
	rc := doc.Object.(*doradev1.ResourceCredit)
	if !strings.HasPrefix(rc.Name, "tesla-v100-sxm2-16gb-") {
		t.Errorf("name = %q, want tesla-v100-sxm2-16gb-<hash>", rc.Name)
	}
	if got := rc.Annotations[doradev1.AnnotationDoraName]; got != "Tesla V100-SXM2-16GB" {
		t.Errorf("original name annotation = %q", got)
	}
	if rc.Spec.Credit.Per.Hour != "2.5" || rc.Spec.ProductName != "Tesla V100-SXM2-16GB" {
		t.Errorf("spec = %+v", rc.Spec)
	}
	if rc.Spec.Annotations["priceUnit"] != "€" {
		t.Errorf("priceUnit = %q", rc.Spec.Annotations["priceUnit"])
	}
}

func TestDecodeUserAndRole(t *testing.T) {
	user := mustDecodeOne(t, readSeed(t, "user"), Defaults{}).Object.(*doradev1.User)
	wantCredits := []doradev1.WeeklyCredits{{Zone: "dc-rov-01", Weekly: "500"}, {Zone: "dc-test-01", Weekly: "100"}}
	if diff := cmp.Diff(wantCredits, user.Spec.Credits); diff != "" {
		t.Errorf("credits (-want +got):\n%s", diff)
	}
	if len(user.Spec.Resources) != 2 || user.Spec.Resources[1].Kind != "Volume" || user.Spec.Resources[1].Workspace != "datasets" {
		t.Errorf("resources = %+v", user.Spec.Resources)
	}
	role := mustDecodeOne(t, readSeed(t, "role"), Defaults{}).Object.(*doradev1.Role)
	if got := role.Spec.Permission["Container"]; len(got) != 10 || got[6] != "Shell" {
		t.Errorf("Container verbs = %v", got)
	}
}

// Kubernetes-shaped documents pass through unchanged.
func TestDecodeKubernetesShaped(t *testing.T) {
	doc := mustDecodeOne(t, []byte(`apiVersion: dora.dev/v1alpha1
kind: Workload
metadata:
  name: train
  namespace: team-a
spec:
  image:
    image: pytorch
`), Defaults{})
	if doc.Object.GetNamespace() != "team-a" || doc.Object.GetName() != "train" {
		t.Errorf("got %s/%s", doc.Object.GetNamespace(), doc.Object.GetName())
	}
}

func TestDecodeErrors(t *testing.T) {
	const workload = "apiVersion: v1\nkind: Workload\nmetadata:\n  name: w\n  group: g\n"
	cases := []struct {
		name string
		doc  string
		want string
	}{
		{"unknown kind", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n", "document 1 (Pod p): kind: unknown kind \"Pod\"; Dora kinds are Workload, Volume"},
		{"no kind", "apiVersion: v1\nmetadata:\n  name: p\n", "document 1 ( p): kind: required"},
		{"wrong apiVersion", "apiVersion: apps/v1\nkind: Workload\nmetadata:\n  name: w\n", "apiVersion: must be v1 (a Dora document) or dora.dev/v1alpha1"},
		{"no name", "apiVersion: v1\nkind: Storage\nmetadata:\n  zone: z\nspec:\n  endpoint: e\n  mountpath: /m\n", "document 1 (Storage ): metadata.name: required"},
		{"no image", workload + "spec:\n  driver: Docker\n", "document 1 (Workload w): spec.image.image: required for a Workload"},
		{"storage without endpoint", "apiVersion: v1\nkind: Storage\nmetadata:\n  name: s\nspec:\n  mountpath: /x\n", "spec.endpoint: required for a Storage"},
		{"unknown spec field", workload + "spec:\n  image:\n    image: u\n  replicas: 3\n", `unknown field "spec.replicas"`},
		{"wrong type", workload + "spec:\n  image:\n    image: u\n  replica:\n    count: many\n", "spec.replica.count: must be a whole number, not string"},
		{"product list with a mapping", workload + "spec:\n  image:\n    image: u\n  selectors:\n    gpu:\n      product_name: [{a: b}]\n", "item 0 must be a string"},
		{"group and workspace differ", "apiVersion: v1\nkind: Volume\nmetadata:\n  name: v\n  group: a\n  workspace: b\nspec:\n  storage: s\n", "metadata.group: group \"a\" and workspace \"b\" name different workspaces"},
		{"workspace on a cluster kind", "apiVersion: v1\nkind: Storage\nmetadata:\n  name: s\n  group: a\nspec:\n  endpoint: e\n  mountpath: /m\n", "a Storage is not in a workspace"},
		{"unknown metadata", workload + "  owner: me\nspec:\n  image:\n    image: u\n", "metadata.owner: unknown field"},
		{"not a mapping", "- a\n- b\n", "document 1: a document must be a mapping"},
		{"bad yaml", "a: [\n", "document 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := Decode([]byte(tc.doc), Defaults{})
			if err == nil {
				t.Fatalf("Decode accepted it: %+v", docs)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// A stream with one bad document yields no documents at all, and says which one is bad.
func TestDecodeIsAllOrNothing(t *testing.T) {
	stream := string(readSeed(t, "storage")) + "\n---\n# only a comment\n---\n" + string(readSeed(t, "volume")) +
		"\n---\napiVersion: v1\nkind: Volume\nmetadata:\n  name: broken\n  group: g\n"
	docs, err := Decode([]byte(stream), Defaults{})
	if err == nil || !strings.Contains(err.Error(), "document 3 (Volume broken): spec.storage: required") {
		t.Fatalf("error = %v, want document 3 named", err)
	}
	if docs != nil {
		t.Fatalf("got %d documents from a stream with an error", len(docs))
	}
}

// Encode gives back Dora documents that Decode reads to the same objects.
func TestEncodeRoundTrip(t *testing.T) {
	for _, file := range []string{"workload-full", "storage", "volume", "node", "workspace", "zone", "role", "user", "resourcecredit"} {
		t.Run(file, func(t *testing.T) {
			first := mustDecodeOne(t, readSeed(t, file), Defaults{})
			out, err := Encode(first.Object)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), "apiVersion: v1\n") {
				t.Errorf("encoded document is not a Dora document:\n%s", out)
			}
			second := mustDecodeOne(t, out, Defaults{})
			if diff := cmp.Diff(first.Object, second.Object); diff != "" {
				t.Errorf("round trip changed the object (-first +second):\n%s\nencoded:\n%s", diff, out)
			}
		})
	}
}

func TestEncodeKeepsDoraNames(t *testing.T) {
	doc := mustDecodeOne(t, readSeed(t, "resourcecredit"), Defaults{})
	out, err := Encode(doc.Object)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: Resourcecredit", "name: Tesla V100-SXM2-16GB", "zone: dc-rov-01"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("encoded document lacks %q:\n%s", want, out)
		}
	}
}

func TestExpandIndentTabs(t *testing.T) {
	got := string(ExpandIndentTabs([]byte("a:\n\tb: 1\n  \t\t- c\td")))
	want := "a:\n        b: 1\n                - c\td"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts survives Encode and Decode again.
func FuzzDecode(f *testing.F) {
	entries, _ := os.ReadDir(filepath.Join("testdata", "seed"))
	for _, e := range entries {
		f.Add(readSeed(f, strings.TrimSuffix(e.Name(), ".yaml")))
	}
	f.Add([]byte("apiVersion: v1\nkind: Workload\nmetadata: {name: a, group: b}\nspec: {image: {image: x}, config: {cmd: [a, b]}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := Decode(data, Defaults{Workspace: "w"})
		if err != nil {
			return
		}
		// A Kubernetes-shaped document may carry what a Dora document has no place for (a
		// status, server-set metadata, a namespace that is no workspace's): Encode leaves
		// that out, so only its spec must come back, and its Dora form must be stable.
		kubeShaped := bytes.Contains(data, []byte(doradev1.GroupVersion.String()))
		for _, doc := range docs {
			out, err := Encode(doc.Object)
			if err != nil {
				t.Fatalf("Encode of an accepted document failed: %v", err)
			}
			again, err := Decode(out, Defaults{})
			if err != nil {
				t.Fatalf("Decode of an encoded document failed: %v\n%s", err, out)
			}
			if len(again) != 1 {
				t.Fatalf("Decode of one encoded document gave %d\n%s", len(again), out)
			}
			if kubeShaped {
				if diff := cmp.Diff(specOf(doc.Object), specOf(again[0].Object)); diff != "" {
					t.Fatalf("round trip changed the spec:\n%s\n%s", diff, out)
				}
			} else if diff := cmp.Diff(doc.Object, again[0].Object); diff != "" {
				t.Fatalf("round trip changed the object:\n%s\n%s", diff, out)
			}
			out2, err := Encode(again[0].Object)
			if err != nil || !bytes.Equal(out, out2) {
				t.Fatalf("the Dora form is not stable (%v):\n%s\n---- then ----\n%s", err, out, out2)
			}
		}
	})
}

// specOf is the spec of a typed Dora object.
func specOf(obj any) any { return reflect.ValueOf(obj).Elem().FieldByName("Spec").Interface() }
