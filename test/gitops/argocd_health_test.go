package gitops_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/test/gitops"
)

// The Argo CD health statuses a script may return (gitops-engine's health.HealthStatusCode).
var argoStatuses = []string{"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}

// The kinds that must have a health check: the ones users keep in Git and wait on.
var requiredHealthChecks = []string{"Workload", "Volume", "Workspace", "Storage"}

// healthTests is a health_test.yaml, in Argo CD's format
// (argo-cd/resource_customizations/<group>/<Kind>/health_test.yaml).
type healthTests struct {
	Tests []healthTest `json:"tests"`
}

type healthTest struct {
	HealthStatus healthStatus `json:"healthStatus"`
	InputPath    string       `json:"inputPath"`
}

type healthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// customization is one kind's directory: its script and its tests.
type customization struct {
	kind, dir, script string
	tests             []healthTest
}

func customizations(t *testing.T) []customization {
	t.Helper()
	root := gitops.CustomizationsDir()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []customization
	for _, e := range entries {
		if !e.IsDir() {
			t.Errorf("%s: only one directory per kind belongs here", filepath.Join(root, e.Name()))
			continue
		}
		dir := filepath.Join(root, e.Name())
		script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
		if err != nil {
			t.Errorf("%s has no health.lua: %v", dir, err)
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
		if err != nil {
			t.Errorf("%s has no health_test.yaml: %v", dir, err)
			continue
		}
		var tests healthTests
		if err := yaml.UnmarshalStrict(data, &tests); err != nil {
			t.Errorf("%s/health_test.yaml: %v", dir, err)
			continue
		}
		out = append(out, customization{kind: e.Name(), dir: dir, script: string(script), tests: tests.Tests})
	}
	if len(out) == 0 {
		t.Fatalf("no health checks under %s", root)
	}
	return out
}

// runHealth runs a health script as Argo CD's util/lua does (VM.ExecuteHealthLua): a fresh
// state with only the package, base and table libraries (Argo CD adds a "safe" os, which
// no script here uses, and no string library), the object as the global obj, and the
// table the script returns read as a health status.
func runHealth(script string, obj map[string]any) (healthStatus, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return healthStatus{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return healthStatus{}, err
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return healthStatus{}, fmt.Errorf("the script returned %s, not a table", l.Get(-1).Type())
	}
	var hs healthStatus
	var err error
	ret.ForEach(func(k, v lua.LValue) {
		s, isString := v.(lua.LString)
		switch {
		case k.String() != "status" && k.String() != "message":
			err = fmt.Errorf("the script returned a field %s that Argo CD does not read", k)
		case !isString:
			err = fmt.Errorf("the script returned %s %s, not a string", k, v.Type())
		case k.String() == "status":
			hs.Status = string(s)
		default:
			hs.Message = string(s)
		}
	})
	if err == nil && !slices.Contains(argoStatuses, hs.Status) {
		err = fmt.Errorf("status %q is none of Argo CD's %v", hs.Status, argoStatuses)
	}
	return hs, err
}

// toLua converts a decoded YAML or JSON value as Argo CD's decodeValue does: maps become
// tables, lists 1-based tables, numbers, booleans and strings their Lua values.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := l.NewTable()
		for k, item := range v {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	case []any:
		t := l.NewTable()
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case nil:
		return lua.LNil
	default:
		panic(fmt.Sprintf("toLua: %T", v))
	}
}

// Every health_test.yaml case gives the status and message its script returns for its
// input, the way Argo CD's own resource_customizations tests run them.
func TestArgoCDHealthChecks(t *testing.T) {
	for _, c := range customizations(t) {
		t.Run(c.kind, func(t *testing.T) {
			if len(c.tests) == 0 {
				t.Fatal("health_test.yaml lists no tests")
			}
			for _, tc := range c.tests {
				t.Run(tc.InputPath, func(t *testing.T) {
					obj, err := gitops.ReadObject(filepath.Join(c.dir, tc.InputPath))
					if err != nil {
						t.Fatal(err)
					}
					if obj.GetKind() != c.kind || obj.GroupVersionKind().Group != doradev1.GroupVersion.Group {
						t.Errorf("%s is a %s, not a %s.%s", tc.InputPath, obj.GroupVersionKind(), c.kind, doradev1.GroupVersion.Group)
					}
					got, err := runHealth(c.script, obj.Object)
					if err != nil {
						t.Fatalf("health.lua: %v", err)
					}
					if got != tc.HealthStatus {
						t.Errorf("health.lua returned\n  %s: %q\nwant\n  %s: %q", got.Status, got.Message, tc.HealthStatus.Status, tc.HealthStatus.Message)
					}
				})
			}
		})
	}
}

// statusLiteral finds the statuses a script can return: each assignment of a literal.
var statusLiteral = regexp.MustCompile(`hs\.status\s*=\s*"([A-Za-z]+)"`)

// Each health check is for a Dora kind, is tested at least once for every status its
// script can return, and every testdata file beside it is used by a test. The kinds users
// keep in Git have one.
func TestArgoCDHealthCheckCoverage(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := doradev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range customizations(t) {
		kinds = append(kinds, c.kind)
		if !scheme.Recognizes(doradev1.GroupVersion.WithKind(c.kind)) {
			t.Errorf("%s: %s is not a Dora kind", c.dir, c.kind)
		}
		returns := map[string]bool{}
		for _, m := range statusLiteral.FindAllStringSubmatch(c.script, -1) {
			returns[m[1]] = true
		}
		if strings.Count(c.script, "hs.status") != len(statusLiteral.FindAllString(c.script, -1)) {
			t.Errorf("%s/health.lua sets hs.status to something other than a literal: the coverage check cannot see it", c.kind)
		}
		tested := map[string]bool{}
		used := map[string]bool{}
		for _, tc := range c.tests {
			tested[tc.HealthStatus.Status] = true
			used[filepath.Clean(tc.InputPath)] = true
			if !returns[tc.HealthStatus.Status] {
				t.Errorf("%s: a test expects %s, which health.lua never returns", c.kind, tc.HealthStatus.Status)
			}
		}
		for status := range returns {
			if !slices.Contains(argoStatuses, status) {
				t.Errorf("%s/health.lua returns %q, none of Argo CD's %v", c.kind, status, argoStatuses)
			}
			if !tested[status] {
				t.Errorf("%s/health.lua can return %s, and no test in health_test.yaml expects it", c.kind, status)
			}
		}
		files, err := filepath.Glob(filepath.Join(c.dir, "testdata", "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			rel, _ := filepath.Rel(c.dir, f)
			if !used[rel] {
				t.Errorf("%s: no test in health_test.yaml uses %s", c.kind, rel)
			}
		}
	}
	for _, k := range requiredHealthChecks {
		if !slices.Contains(kinds, k) {
			t.Errorf("no Argo CD health check for %s", k)
		}
	}
}

// config/argocd/argocd-cm-patch.yaml carries every health.lua, unchanged, under the key
// Argo CD reads it from. With DORA_UPDATE_TESTDATA=1 the test writes it.
func TestArgoCDConfigMapPatch(t *testing.T) {
	cs := customizations(t)
	sort.Slice(cs, func(i, j int) bool { return cs[i].kind < cs[j].kind })
	var b strings.Builder
	b.WriteString(`# The Dora health checks for Argo CD, as a patch of its argocd-cm ConfigMap: each key is
# resource.customizations.health.<group>_<kind>, each value the script of
# resource_customizations/dora.dev/<kind>/health.lua (see README.md). Written by
# test/gitops (DORA_UPDATE_TESTDATA=1 go test ./test/gitops/); edit the scripts, not this.
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
data:
`)
	for _, c := range cs {
		fmt.Fprintf(&b, "  %s: |\n", configMapKey(c.kind))
		for _, line := range strings.Split(strings.TrimRight(c.script, "\n"), "\n") {
			if line == "" {
				b.WriteString("\n")
				continue
			}
			b.WriteString("    " + line + "\n")
		}
	}
	want := b.String()
	path := filepath.Join(gitops.Root(), "config", "argocd", "argocd-cm-patch.yaml")
	if os.Getenv(gitops.UpdateEnv) == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: write it with %s=1", err, gitops.UpdateEnv)
	}
	if string(got) != want {
		t.Fatalf("%s is not in line with the health.lua files: regenerate it with %s=1 go test ./test/gitops/", path, gitops.UpdateEnv)
	}
	// The patch, read as YAML, gives every script back byte for byte.
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(got, &cm); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if cm.Data[configMapKey(c.kind)] != c.script {
			t.Errorf("%s in %s is not %s/health.lua", configMapKey(c.kind), path, c.kind)
		}
	}
	// The kustomize component names every script too.
	kust, err := os.ReadFile(filepath.Join(gitops.Root(), "config", "argocd", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		entry := configMapKey(c.kind) + "=resource_customizations/" + doradev1.GroupVersion.Group + "/" + c.kind + "/health.lua"
		if !strings.Contains(string(kust), entry) {
			t.Errorf("config/argocd/kustomization.yaml does not list %s", entry)
		}
	}
}

func configMapKey(kind string) string {
	return "resource.customizations.health." + doradev1.GroupVersion.Group + "_" + kind
}
