// Package gitops checks that Dora objects report their health the way GitOps tools read it:
// kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status, used by Flux, kpt and the cli-utils
// applier) and the Argo CD health checks in config/argocd.
//
// The helpers here are for tests: the controllers' packages use them to compute kstatus's
// verdict on the statuses their own pure status functions write, and to keep the Argo CD
// health checks' testdata (config/argocd/resource_customizations/dora.dev/<Kind>/testdata)
// exactly as the controllers write those objects. Set DORA_UPDATE_TESTDATA=1 to rewrite
// the testdata files from the controllers' statuses instead of comparing them.
package gitops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// UpdateEnv names the environment variable that, set to 1, makes Golden write the
// testdata files rather than compare them.
const UpdateEnv = "DORA_UPDATE_TESTDATA"

// TransitionTime is the lastTransitionTime every condition of a testdata object carries,
// so that the files do not change with the clock.
const TransitionTime = "2026-01-05T10:00:00Z"

var scheme = func() *k8sruntime.Scheme {
	s := k8sruntime.NewScheme()
	if err := doradev1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// CustomizationsDir is the directory of the Argo CD resource customizations of the dora.dev
// group, one directory per kind.
func CustomizationsDir() string {
	return filepath.Join(Root(), "config", "argocd", "resource_customizations", doradev1.GroupVersion.Group)
}

// Object turns a typed Dora object into what kstatus and Argo CD see: apiVersion and kind,
// its metadata without the fields the API server fills in and nothing here reads
// (creationTimestamp, resourceVersion, uid, managedFields), its spec and its status, with
// every condition's lastTransitionTime set to TransitionTime.
func Object(obj k8sruntime.Object) (*unstructured.Unstructured, error) {
	gvks, _, err := scheme.ObjectKinds(obj)
	if err != nil {
		return nil, fmt.Errorf("kind of %T: %w", obj, err)
	}
	// Through JSON, as the API server serves it: Amounts are numbers, StringOrLists strings
	// or lists, whole numbers int64.
	js, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", obj, err)
	}
	m := map[string]any{}
	if err := utiljson.Unmarshal(js, &m); err != nil {
		return nil, fmt.Errorf("converting %T: %w", obj, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvks[0])
	for _, f := range []string{"creationTimestamp", "resourceVersion", "uid", "managedFields"} {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	if conds, ok, _ := unstructured.NestedSlice(u.Object, "status", "conditions"); ok {
		for _, c := range conds {
			if cm, ok := c.(map[string]any); ok {
				cm["lastTransitionTime"] = TransitionTime
			}
		}
		if err := unstructured.SetNestedSlice(u.Object, conds, "status", "conditions"); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// KStatus is kstatus's verdict on a typed Dora object.
func KStatus(obj k8sruntime.Object) (*status.Result, error) {
	u, err := Object(obj)
	if err != nil {
		return nil, err
	}
	return status.Compute(u)
}

// ReadObject reads a YAML manifest as the API server would serve it: whole numbers are
// int64, as kstatus expects of metadata.generation and status.observedGeneration.
func ReadObject(path string) (*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := map[string]any{}
	if err := utiljson.Unmarshal(js, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// Golden keeps the Argo CD testdata file testdata/<name>.yaml of obj's kind equal to obj as
// Object renders it: it fails the test when they differ, or, with DORA_UPDATE_TESTDATA=1,
// writes the file. source names the test that made the object, for the file's header.
func Golden(t testing.TB, obj k8sruntime.Object, name, source string) {
	t.Helper()
	u, err := Object(obj)
	if err != nil {
		t.Fatal(err)
	}
	body, err := yaml.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte(fmt.Sprintf("# Written by %s from the controller's own status code;\n# regenerate with %s=1 go test ./internal/controller/... ./test/gitops/\n", source, UpdateEnv)), body...)
	path := filepath.Join(CustomizationsDir(), u.GetKind(), "testdata", name+".yaml")
	if os.Getenv(UpdateEnv) == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: write it with %s=1", err, UpdateEnv)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not the object the controller writes; regenerate it with %s=1 (and check the health_test.yaml beside it).\nwant:\n%s\ngot:\n%s",
			path, UpdateEnv, want, got)
	}
}
