package simcluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// ApplyDir applies every object in the YAML files of dir (kustomization.yaml aside), as
// `kubectl apply --server-side --force-conflicts` would, in file-name order, cluster-scoped
// objects first; namespaced ones are applied once their namespace exists (a Workspace's
// namespace is made by the manager). It returns the objects it applied.
func ApplyDir(ctx context.Context, c client.Client, dir string) ([]*unstructured.Unstructured, error) {
	return ApplyDirAs(ctx, c, nil, dir)
}

// ApplyDirAs is ApplyDir with the Workloads applied by user instead (nil: by c), as a
// researcher would apply them: the owner webhook makes the workloads theirs, so they are
// charged to them. While the user's permissions are still being made (the manager binds a
// new User's roles) a refusal is tried again, for up to a minute.
func ApplyDirAs(ctx context.Context, c, user client.Client, dir string) ([]*unstructured.Unstructured, error) {
	objects, err := readDir(dir)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(objects, func(i, j int) bool {
		return objects[i].GetNamespace() == "" && objects[j].GetNamespace() != ""
	})
	var applied []*unstructured.Unstructured
	for _, obj := range objects {
		if ns := obj.GetNamespace(); ns != "" {
			if err := waitForNamespace(ctx, c, ns); err != nil {
				return applied, err
			}
		}
		by := c
		if user != nil && obj.GetKind() == "Workload" {
			by = user
		}
		if err := applyOne(ctx, by, obj, by != c); err != nil {
			return applied, fmt.Errorf("applying %s %s: %w", obj.GetKind(), client.ObjectKeyFromObject(obj), err)
		}
		applied = append(applied, obj)
	}
	return applied, nil
}

// applyOne applies obj, server-side, trying a refusal again for a minute when retry is set.
func applyOne(ctx context.Context, c client.Client, obj *unstructured.Unstructured, retry bool) error {
	// Some objects (a Dora Node) may already exist, made by the manager: apply, do not
	// create, so that the sample's fields win.
	apply := func(ctx context.Context) error {
		return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj.DeepCopy()), client.FieldOwner("dora-samples"), client.ForceOwnership)
	}
	if !retry {
		return apply(ctx)
	}
	var last error
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		last = apply(ctx)
		if apierrors.IsForbidden(last) {
			return false, nil
		}
		return true, last
	})
	if last != nil {
		return last
	}
	return err
}

func readDir(dir string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var objects []*unstructured.Unstructured
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		objs, err := ReadFile(file)
		if err != nil {
			return nil, err
		}
		objects = append(objects, objs...)
	}
	return objects, nil
}

// ReadFile reads every object of a multi-document YAML file.
func ReadFile(file string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objects []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objects, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(obj.Object) > 0 {
			objects = append(objects, obj)
		}
	}
}

func waitForNamespace(ctx context.Context, c client.Client, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("namespace %s did not appear (is there a Workspace for it, and is the manager running?): %w", name, err)
	}
	return nil
}

// Summary lists objects as kind/name lines, for printing.
func Summary(objects []*unstructured.Unstructured) string {
	lines := make([]string, 0, len(objects))
	for _, o := range objects {
		lines = append(lines, fmt.Sprintf("%s/%s", strings.ToLower(o.GetKind()), client.ObjectKeyFromObject(o)))
	}
	return strings.Join(lines, "\n")
}
