package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/doradoc"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// seedDocument reads one of the seed document's examples and gives it Kubernetes-shaped
// apiVersion, kind and metadata, keeping its spec block exactly as written.
func seedDocument(t *testing.T, file string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "doradoc", "testdata", "seed", file+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(doradoc.ExpandIndentTabs(data), &doc); err != nil {
		t.Fatalf("seed %s: %v", file, err)
	}
	meta := doc["metadata"].(map[string]any)
	name, _ := naming.ObjectName(meta["name"].(string))
	kind := doc["kind"].(string)
	if kind == "Resourcecredit" {
		kind = "ResourceCredit"
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "dora.dev/v1alpha1",
		"kind":       kind,
		"metadata":   map[string]any{"name": name},
	}}
	if spec, ok := doc["spec"]; ok {
		obj.Object["spec"] = spec
	}
	if kind == "Workload" || kind == "Volume" {
		obj.SetNamespace("default")
	}
	return obj
}

// The spec block of every example in Dora's own concepts document is accepted verbatim.
func TestSeedExamplesAreAcceptedVerbatim(t *testing.T) {
	ctx := context.Background()
	for _, file := range []string{"workload-simple", "workload-full", "storage", "volume", "node", "workspace", "zone", "role", "user", "resourcecredit"} {
		t.Run(file, func(t *testing.T) {
			g := NewWithT(t)
			obj := seedDocument(t, file)
			obj.SetName("seed-" + obj.GetName())
			g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			t.Cleanup(func() { _ = k8sClient.Delete(ctx, obj) })
		})
	}
}

// What the API server stores for the seed's full Workload: the given fields as written
// (string-or-list fields keep their form) and the documented defaults filled in.
func TestSeedWorkloadIsStoredWithDefaults(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	obj := seedDocument(t, "workload-full")
	obj.SetName("stored-blue.red")
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, obj) })

	products, _, _ := unstructured.NestedSlice(obj.Object, "spec", "selectors", "gpu", "product_name")
	g.Expect(products).To(Equal([]any{"Quadro RTX 6000", "Tesla V100-SXM2-16GB"}))
	cmd, _, _ := unstructured.NestedString(obj.Object, "spec", "config", "cmd")
	g.Expect(cmd).To(Equal("/bin/bash"))
	port, _, _ := unstructured.NestedSlice(obj.Object, "spec", "network", "ports")
	g.Expect(port).To(HaveLen(1))

	simple := seedDocument(t, "workload-simple")
	simple.SetName("stored-simple")
	g.Expect(k8sClient.Create(ctx, simple)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, simple) })
	for path, want := range map[string]any{
		"spec.replica.count":              int64(1),
		"spec.image.pullPolicy":           "IfNotPresent",
		"spec.config.restartPolicy":       "Never",
		"spec.config.affinity":            "Random",
		"spec.driver":                     "Docker",
		"spec.selectors.cpu.count":        int64(1),
		"spec.selectors.cpu.product_name": "All",
	} {
		got, found, err := unstructured.NestedFieldNoCopy(simple.Object, strings.Split(path, ".")...)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(found).To(BeTrue(), "%s was not set", path)
		g.Expect(got).To(Equal(want), "%s", path)
	}
}

// Bad input is refused at admission with a message that names the field and says what to
// do. Each case changes one field of a valid object.
func TestBadInputIsRejectedNamingTheField(t *testing.T) {
	workload := func(spec string) string {
		return "apiVersion: dora.dev/v1alpha1\nkind: Workload\nmetadata:\n  name: bad\n  namespace: default\nspec:\n" + spec
	}
	const image = "  image:\n    image: ubuntu\n"
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		{"negative replica count", workload(image + "  replica:\n    count: -1\n"),
			[]string{"spec.replica.count", "greater than or equal to 0"}},
		{"negative GPU count", workload(image + "  selectors:\n    gpu:\n      count: -2\n"),
			[]string{"spec.selectors.gpu.count", "whole number of GPUs, 0 or more"}},
		{"fractional GPU count", workload(image + "  selectors:\n    gpu:\n      count: \"1.5\"\n"),
			[]string{"spec.selectors.gpu.count", "whole number of GPUs"}},
		{"unknown driver", workload(image + "  driver: Singularity\n"),
			[]string{"spec.driver", `supported values: "Docker"`}},
		{"pullPolicy outside the enum", workload("  image:\n    image: ubuntu\n    pullPolicy: Sometimes\n"),
			[]string{"spec.image.pullPolicy", `"Always", "IfNotPresent", "Never"`}},
		{"restartPolicy outside the enum", workload(image + "  config:\n    restartPolicy: Maybe\n"),
			[]string{"spec.config.restartPolicy", `"Never", "Always", "OnFailure"`}},
		{"affinity outside the enum", workload(image + "  config:\n    affinity: Closest\n"),
			[]string{"spec.config.affinity", `"Random", "First", "Distribute", "Fill"`}},
		{"relative volume target", workload(image + "  volumes:\n  - name: home\n    target: home\n"),
			[]string{"spec.volumes[0].target", "must be an absolute path"}},
		{"port above 65535", workload(image + "  network:\n    ports:\n    - port: 70000\n"),
			[]string{"spec.network.ports[0].port", "less than or equal to 65535"}},
		{"port 0", workload(image + "  network:\n    ports:\n    - port: 0\n"),
			[]string{"spec.network.ports[0].port", "greater than or equal to 1"}},
		{"malformed millicores", workload(image + "  selectors:\n    cpu:\n      count: 500x\n"),
			[]string{"spec.selectors.cpu.count", `millicores ("500m")`}},
		{"empty image", workload("  image:\n    image: \"\"\n"),
			[]string{"spec.image.image", "must name a container image"}},
		{"missing image", workload("  driver: Docker\n"),
			[]string{"spec.image", "Required value"}},
		{"product_name list with a non-string", workload(image + "  selectors:\n    gpu:\n      product_name:\n      - Tesla V100-SXM2-16GB\n      - 6000\n"),
			[]string{"spec.selectors.gpu.product_name[1]", "must be a string"}},
		{"product_name All mixed with models", workload(image + "  selectors:\n    gpu:\n      product_name: [All, Quadro RTX 6000]\n"),
			[]string{"spec.selectors.gpu.product_name", "All already means any model"}},
		{"malformed maxRunTime", workload(image + "  config:\n    maxRunTime: 2 hours\n"),
			[]string{"spec.config.maxRunTime", "such as 30s, 10m, 2h or 1d"}},
		{"env without =", workload(image + "  config:\n    env: [DEBUG]\n"),
			[]string{"spec.config.env", "NAME=value"}},
		{"hostname with dots", workload(image + "  hostname: blue.red\n"),
			[]string{"spec.hostname", "DNS label"}},
		{"group and workspace differ", workload(image + "  volumes:\n  - name: data\n    target: /data\n    group: a\n    workspace: b\n"),
			[]string{"spec.volumes[0]", "two names for the same thing"}},
		{"network mode outside the enum", workload(image + "  network:\n    mode: overlay\n"),
			[]string{"spec.network.mode", `"bridge", "host"`}},
		{"Storage without endpoint", "apiVersion: dora.dev/v1alpha1\nkind: Storage\nmetadata:\n  name: bad\nspec:\n  mountpath: /export\n",
			[]string{"spec.endpoint", "Required value"}},
		{"Storage with an empty endpoint", "apiVersion: dora.dev/v1alpha1\nkind: Storage\nmetadata:\n  name: bad\nspec:\n  endpoint: \"\"\n  mountpath: /export\n",
			[]string{"spec.endpoint", "must name the NFS server"}},
		{"Storage with a relative mountpath", "apiVersion: dora.dev/v1alpha1\nkind: Storage\nmetadata:\n  name: bad\nspec:\n  endpoint: 10.0.0.1\n  mountpath: export/../x\n",
			[]string{"spec.mountpath", "absolute exported path"}},
		{"Storage of another kind", "apiVersion: dora.dev/v1alpha1\nkind: Storage\nmetadata:\n  name: bad\nspec:\n  endpoint: 10.0.0.1\n  mountpath: /x\n  kind: CIFS\n",
			[]string{"spec.kind", `supported values: "NFS"`}},
		{"Volume with an escaping subpath", "apiVersion: dora.dev/v1alpha1\nkind: Volume\nmetadata:\n  name: bad\n  namespace: default\nspec:\n  storage: s\n  subpath: ../../etc\n",
			[]string{"spec.subpath", "relative path without '..'"}},
		{"Workspace name with upper case", "apiVersion: dora.dev/v1alpha1\nkind: Workspace\nmetadata:\n  name: amedeo.Setti\n",
			[]string{"metadata.name", "lower-case"}},
		{"Workspace name too long for a namespace", "apiVersion: dora.dev/v1alpha1\nkind: Workspace\nmetadata:\n  name: " + strings.Repeat("a", 64) + "\n",
			[]string{"at most 63"}},
		{"negative price", "apiVersion: dora.dev/v1alpha1\nkind: ResourceCredit\nmetadata:\n  name: bad\nspec:\n  product_name: A100\n  credit:\n    per:\n      hour: -1\n",
			[]string{"spec.credit.per.hour", "greater than or equal to 0"}},
		{"non-numeric price", "apiVersion: dora.dev/v1alpha1\nkind: ResourceCredit\nmetadata:\n  name: bad\nspec:\n  product_name: A100\n  credit:\n    per:\n      hour: \"two euros\"\n",
			[]string{"spec.credit.per.hour", "must be of type number"}},
		{"absurd price", "apiVersion: dora.dev/v1alpha1\nkind: ResourceCredit\nmetadata:\n  name: bad\nspec:\n  product_name: A100\n  credit:\n    per:\n      hour: 1e12\n",
			[]string{"spec.credit.per.hour", "less than or equal to 1000000000"}},
		{"price without an hour", "apiVersion: dora.dev/v1alpha1\nkind: ResourceCredit\nmetadata:\n  name: bad\nspec:\n  product_name: A100\n  credit:\n    per: {}\n",
			[]string{"spec.credit.per.hour", "Required value"}},
		{"negative weekly budget", "apiVersion: dora.dev/v1alpha1\nkind: User\nmetadata:\n  name: bad\nspec:\n  credits:\n  - zone: dc-rov-01\n    weekly: -5\n",
			[]string{"spec.credits[0].weekly", "greater than or equal to 0"}},
		{"non-numeric weekly budget", "apiVersion: dora.dev/v1alpha1\nkind: User\nmetadata:\n  name: bad\nspec:\n  credits:\n  - zone: dc-rov-01\n    weekly: lots\n",
			[]string{"spec.credits[0].weekly", "must be of type number"}},
		{"absurd weekly budget", "apiVersion: dora.dev/v1alpha1\nkind: User\nmetadata:\n  name: bad\nspec:\n  credits:\n  - zone: dc-rov-01\n    weekly: 1e15\n",
			[]string{"spec.credits[0].weekly", "less than or equal to 1000000000"}},
		{"Node allowing an unknown class", "apiVersion: dora.dev/v1alpha1\nkind: Node\nmetadata:\n  name: bad\nspec:\n  allow: [TPUWorkload]\n",
			[]string{"spec.allow[0]", `"CPUWorkload", "GPUWorkload"`}},
		{"Role on an unknown kind", "apiVersion: dora.dev/v1alpha1\nkind: Role\nmetadata:\n  name: bad\nspec:\n  permission:\n    Pod: [Get]\n",
			[]string{"spec.permission", "permission keys must be Dora kinds"}},
		{"Zone with an endpoint that is not a URL", "apiVersion: dora.dev/v1alpha1\nkind: Zone\nmetadata:\n  name: bad\nspec:\n  endpoint: not a url\n",
			[]string{"spec.endpoint", "must be a URL"}},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := &unstructured.Unstructured{}
			g.Expect(yaml.Unmarshal([]byte(tc.yaml), &obj.Object)).To(Succeed())
			err := k8sClient.Create(ctx, obj)
			if err == nil {
				_ = k8sClient.Delete(ctx, obj)
				t.Fatalf("the API server accepted it")
			}
			t.Log(err)
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want an Invalid error, got %v", err)
			for _, want := range tc.want {
				g.Expect(err.Error()).To(ContainSubstring(want))
			}
		})
	}
}

// What decides where data lives cannot change once the data is there: a Volume's storage and
// subpath, a Storage's server and export. Everything else of theirs can.
func TestWhereDataLivesCannotChange(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	st := &doradev1.Storage{ObjectMeta: metav1.ObjectMeta{Name: "immutable.storage"},
		Spec: doradev1.StorageSpec{Endpoint: "10.0.0.1", Mountpath: "/export"}}
	g.Expect(k8sClient.Create(ctx, st)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, st) })
	vol := &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Name: "immutable", Namespace: "default"},
		Spec: doradev1.VolumeSpec{Storage: st.Name}}
	g.Expect(k8sClient.Create(ctx, vol)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, vol) })

	cases := []struct {
		name   string
		obj    client.Object
		patch  string
		reject []string
	}{
		{"a volume's storage", vol, `{"spec":{"storage":"other"}}`, []string{"spec.storage", "storage cannot be changed"}},
		{"a volume's subpath, added", vol, `{"spec":{"subpath":"run-2"}}`, []string{"subpath cannot be changed"}},
		{"a storage's endpoint", st, `{"spec":{"endpoint":"10.0.0.2"}}`, []string{"spec.endpoint", "endpoint cannot be changed"}},
		{"a storage's mountpath", st, `{"spec":{"mountpath":"/other"}}`, []string{"spec.mountpath", "mountpath cannot be changed"}},
		{"a volume's policy", vol, `{"spec":{"policy":"readonly"}}`, nil},
		{"a storage's mount options", st, `{"spec":{"mountOptions":["nfsvers=4.1"]}}`, nil},
	}
	for _, tc := range cases {
		err := k8sClient.Patch(ctx, tc.obj, client.RawPatch(types.MergePatchType, []byte(tc.patch)))
		if tc.reject == nil {
			g.Expect(err).NotTo(HaveOccurred(), "changing %s should be allowed", tc.name)
			continue
		}
		g.Expect(err).To(HaveOccurred(), "changing %s should be refused", tc.name)
		for _, want := range tc.reject {
			g.Expect(err.Error()).To(ContainSubstring(want), "changing %s", tc.name)
		}
	}
}
