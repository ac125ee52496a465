package chart

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// repoRoot is the operator's repository, whose config/ the chart must agree with.
const repoRoot = "../.."

// chartDir is the chart under test.
var chartDir = filepath.Join(repoRoot, "charts", "dora-operator")

// namespace is the release namespace of every render.
const namespace = "dora-system"

// object is one rendered Kubernetes object, as generic YAML.
type object map[string]any

func (o object) kind() string { return str(o, "kind") }
func (o object) name() string { return str(o, "metadata", "name") }

// labels are the object's metadata.labels.
func (o object) labels() map[string]any {
	l, _ := get(o, "metadata", "labels").(map[string]any)
	return l
}

// annotations are the object's metadata.annotations.
func (o object) annotations() map[string]any {
	a, _ := get(o, "metadata", "annotations").(map[string]any)
	return a
}

// rendering is what one `helm install --dry-run` of the chart gave.
type rendering struct {
	// manifest is the release's manifest, hooks excluded, as Helm would apply it.
	manifest string
	// objects are the manifest's objects, then the hooks', in order.
	objects []object
	notes   string
}

// renderOptions say how to render: the release name, `--set` values, and the API versions
// the pretend cluster serves beyond Kubernetes' own.
type renderOptions struct {
	release     string
	set         []string
	apiVersions []string
}

// render renders the chart through Helm's install action, client-only (as `helm template`
// does): values are checked against values.schema.json and every template runs.
func render(t *testing.T, opts renderOptions) (rendering, error) {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	vals := map[string]any{}
	for _, s := range opts.set {
		if err := strvals.ParseInto(s, vals); err != nil {
			t.Fatalf("parsing --set %s: %v", s, err)
		}
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = opts.release
	if install.ReleaseName == "" {
		install.ReleaseName = "dora"
	}
	install.Namespace = namespace
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.34.0", Major: "1", Minor: "34"}
	install.APIVersions = opts.apiVersions
	rel, err := install.RunWithContext(context.Background(), chrt, vals)
	if err != nil {
		return rendering{}, err
	}
	r := rendering{manifest: rel.Manifest, notes: rel.Info.Notes}
	docs := []string{rel.Manifest}
	for _, h := range rel.Hooks {
		docs = append(docs, h.Manifest)
	}
	for _, doc := range docs {
		objs, err := parseObjects([]byte(doc))
		if err != nil {
			t.Fatalf("the chart rendered invalid YAML: %v", err)
		}
		r.objects = append(r.objects, objs...)
	}
	return r, nil
}

// mustRender renders and fails the test on an error.
func mustRender(t *testing.T, opts renderOptions) rendering {
	t.Helper()
	r, err := render(t, opts)
	if err != nil {
		t.Fatalf("rendering the chart with %v: %v", opts.set, err)
	}
	return r
}

// parseObjects splits a multi-document YAML stream into its objects, skipping empty ones.
func parseObjects(data []byte) ([]object, error) {
	var objs []object
	for _, doc := range bytes.Split(append([]byte("\n"), data...), []byte("\n---")) {
		var o object
		if err := yaml.Unmarshal(doc, &o); err != nil {
			return nil, fmt.Errorf("%w in:\n%s", err, doc)
		}
		if len(o) > 0 {
			objs = append(objs, o)
		}
	}
	return objs, nil
}

// readObjects parses the YAML files matching pattern under the repository root.
func readObjects(t *testing.T, pattern string) []object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s (%v)", pattern, err)
	}
	sort.Strings(files)
	var objs []object
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		o, err := parseObjects(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		objs = append(objs, o...)
	}
	return objs
}

// ofKind are the objects of kind.
func ofKind(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o.kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// find is the object of kind and name, or nil.
func find(objs []object, kind, name string) object {
	for _, o := range objs {
		if o.kind() == kind && o.name() == name {
			return o
		}
	}
	return nil
}

// get follows path through nested maps; nil where it leads nowhere.
func get(o map[string]any, path ...string) any {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func str(o map[string]any, path ...string) string {
	s, _ := get(o, path...).(string)
	return s
}

// containerArgs are the arguments of the first container of a workload object.
func containerArgs(o object) []string {
	containers, _ := get(o, "spec", "template", "spec", "containers").([]any)
	if len(containers) == 0 {
		return nil
	}
	raw, _ := containers[0].(map[string]any)["args"].([]any)
	args := make([]string, 0, len(raw))
	for _, a := range raw {
		args = append(args, fmt.Sprint(a))
	}
	return args
}

// hasArg says whether args hold arg exactly, or with prefix arg when it ends in "=".
func hasArg(args []string, arg string) bool {
	for _, a := range args {
		if a == arg || strings.HasSuffix(arg, "=") && strings.HasPrefix(a, arg) {
			return true
		}
	}
	return false
}
