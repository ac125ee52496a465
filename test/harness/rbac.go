package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/dora-hpc/dora-operator/internal/simcluster"
)

// The manager runs in the tests as it does in a cluster: as its own service account, with
// exactly the permissions config/rbac gives it, so a permission it lacks fails a test
// rather than an installation.

// Identity is who the manager is, as config/default names it.
type Identity struct {
	// Namespace is the manager's namespace (config/default's namespace).
	Namespace string
	// ServiceAccount is the manager's service account, with config/default's name prefix.
	ServiceAccount string
}

// UserName is the name the API server knows the service account by.
func (id Identity) UserName() string {
	return "system:serviceaccount:" + id.Namespace + ":" + id.ServiceAccount
}

// Groups are the groups the API server puts a service account in.
func (id Identity) Groups() []string {
	return []string{"system:serviceaccounts", "system:serviceaccounts:" + id.Namespace, "system:authenticated"}
}

// Config is admin, impersonating the identity (admin must be allowed to impersonate).
func (id Identity) Config(admin *rest.Config) *rest.Config {
	cfg := rest.CopyConfig(admin)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: id.UserName(), Groups: id.Groups()}
	return cfg
}

// kustomization is the part of a kustomization.yaml the harness reads.
type kustomization struct {
	Namespace  string   `json:"namespace"`
	NamePrefix string   `json:"namePrefix"`
	Resources  []string `json:"resources"`
}

func readKustomization(dir string) (kustomization, error) {
	var k kustomization
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return k, err
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return k, fmt.Errorf("%s: %w", dir, err)
	}
	return k, nil
}

// namespacedRBACKinds are the kinds of config/rbac that live in a namespace.
var namespacedRBACKinds = map[string]bool{"ServiceAccount": true, "Role": true, "RoleBinding": true}

// ManagerRBAC returns config/rbac's objects as config/default renders them (its namespace
// and name prefix, on the objects, their role references and their service-account
// subjects, as kustomize's transformers do) and the identity they grant.
func ManagerRBAC(root string) ([]*unstructured.Unstructured, Identity, error) {
	def, err := readKustomization(filepath.Join(root, "config", "default"))
	if err != nil {
		return nil, Identity{}, err
	}
	dir := filepath.Join(root, "config", "rbac")
	rbac, err := readKustomization(dir)
	if err != nil {
		return nil, Identity{}, err
	}
	var objects []*unstructured.Unstructured
	for _, file := range rbac.Resources {
		objs, err := simcluster.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, Identity{}, err
		}
		objects = append(objects, objs...)
	}
	// Names kustomize renames: only references to objects of this kustomization change.
	ours := map[string]bool{}
	for _, o := range objects {
		ours[o.GetKind()+"/"+o.GetName()] = true
	}
	var id Identity
	for _, o := range objects {
		kind := o.GetKind()
		o.SetName(def.NamePrefix + o.GetName())
		if namespacedRBACKinds[kind] {
			o.SetNamespace(def.Namespace)
		}
		if kind == "ServiceAccount" {
			if id.ServiceAccount != "" {
				return nil, Identity{}, fmt.Errorf("config/rbac has two service accounts, %s and %s", id.ServiceAccount, o.GetName())
			}
			id = Identity{Namespace: def.Namespace, ServiceAccount: o.GetName()}
		}
		if ref, ok, _ := unstructured.NestedMap(o.Object, "roleRef"); ok {
			if name, _ := ref["name"].(string); ours[fmt.Sprint(ref["kind"])+"/"+name] {
				ref["name"] = def.NamePrefix + name
				if err := unstructured.SetNestedMap(o.Object, ref, "roleRef"); err != nil {
					return nil, Identity{}, err
				}
			}
		}
		subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
		for i, s := range subjects {
			subject, _ := s.(map[string]any)
			if subject["kind"] != "ServiceAccount" {
				continue
			}
			if name, _ := subject["name"].(string); ours["ServiceAccount/"+name] {
				subject["name"] = def.NamePrefix + name
			}
			subject["namespace"] = def.Namespace
			subjects[i] = subject
		}
		if subjects != nil {
			if err := unstructured.SetNestedSlice(o.Object, subjects, "subjects"); err != nil {
				return nil, Identity{}, err
			}
		}
	}
	if id.ServiceAccount == "" {
		return nil, Identity{}, errors.New("config/rbac has no service account for the manager")
	}
	return objects, id, nil
}

// installManagerRBAC creates the manager's namespace and applies config/rbac into it.
func installManagerRBAC(ctx context.Context, c client.Client, root string) (Identity, error) {
	objects, id, err := ManagerRBAC(root)
	if err != nil {
		return id, err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: id.Namespace}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return id, fmt.Errorf("creating the manager's namespace %s: %w", id.Namespace, err)
	}
	for _, o := range objects {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner("dora-harness"), client.ForceOwnership); err != nil {
			return id, fmt.Errorf("applying %s %s: %w", o.GetKind(), client.ObjectKeyFromObject(o), err)
		}
	}
	return id, nil
}
