package rbacsync_test

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/rbacsync"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
)

// A planned binding is created once, left alone while it matches (a settled cluster sees no
// writes), updated when its subjects change, and re-created when its immutable roleRef does.
func TestRoleBindingIsWrittenOnlyWhenItDiffers(t *testing.T) {
	ctx := context.Background()
	owner := &doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti", UID: "u1"}}
	writes := map[string]int{}
	count := func(verb string) { writes[verb]++ }
	c := testclient.NewBuilder().WithObjects(owner).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
			count("create")
			return c.Create(ctx, o, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.UpdateOption) error {
			count("update")
			return c.Update(ctx, o, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteOption) error {
			count("delete")
			return c.Delete(ctx, o, opts...)
		},
	}).Build()
	want := func(role, user string) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "amedeo-setti", Name: "dora:user:amedeo.setti:user:all", Labels: map[string]string{"rbac.dora.dev/user": "amedeo.setti"}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		}
	}
	steps := []struct {
		name string
		rb   *rbacv1.RoleBinding
		want map[string]int
	}{
		{"first: created", want("dora:role:user:namespaced", "amedeo.setti"), map[string]int{"create": 1}},
		{"again: nothing written", want("dora:role:user:namespaced", "amedeo.setti"), map[string]int{"create": 1}},
		{"another subject: updated", want("dora:role:user:namespaced", "oidc:amedeo.setti"), map[string]int{"create": 1, "update": 1}},
		{"another role: re-created", want("dora:role:admin:namespaced", "oidc:amedeo.setti"), map[string]int{"create": 2, "update": 1, "delete": 1}},
	}
	for _, s := range steps {
		if err := rbacsync.RoleBinding(ctx, c, owner, s.rb); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if len(writes) != len(s.want) || writes["create"] != s.want["create"] || writes["update"] != s.want["update"] || writes["delete"] != s.want["delete"] {
			t.Errorf("%s: writes %v, want %v", s.name, writes, s.want)
		}
	}
	got := &rbacv1.RoleBinding{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "amedeo-setti", Name: "dora:user:amedeo.setti:user:all"}, got); err != nil {
		t.Fatal(err)
	}
	if got.RoleRef.Name != "dora:role:admin:namespaced" || !metav1.IsControlledBy(got, owner) {
		t.Errorf("stored binding %s owned by %v, want the admin role, owned by the user", got.RoleRef.Name, got.OwnerReferences)
	}
}
