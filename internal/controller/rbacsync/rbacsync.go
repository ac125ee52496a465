// Package rbacsync writes the RBAC objects the role and user controllers plan: each is
// created when missing, updated only when what it grants differs (so a settled cluster
// sees no writes), re-created when its immutable roleRef changes, and owned by the Dora
// object it was made from, so it goes with it.
package rbacsync

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ensure makes want exist as planned, owned by owner. same says whether an existing
// object grants what want does; immutable whether it can only be replaced.
func ensure[T client.Object](ctx context.Context, c client.Client, owner client.Object, want, have T, same, immutable func(have, want T) bool, copyInto func(have, want T)) error {
	if err := ctrl.SetControllerReference(owner, want, c.Scheme()); err != nil {
		return fmt.Errorf("owning %s: %w", want.GetName(), err)
	}
	switch err := c.Get(ctx, client.ObjectKeyFromObject(want), have); {
	case apierrors.IsNotFound(err):
		if err := c.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %s: %w", want.GetName(), err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("reading %s: %w", want.GetName(), err)
	}
	if same(have, want) && apiequality.Semantic.DeepEqual(have.GetLabels(), want.GetLabels()) &&
		apiequality.Semantic.DeepEqual(have.GetOwnerReferences(), want.GetOwnerReferences()) {
		return nil
	}
	if immutable(have, want) {
		if err := c.Delete(ctx, have, client.Preconditions{UID: ptr(have.GetUID())}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("replacing %s: %w", want.GetName(), err)
		}
		if err := c.Create(ctx, want); err != nil {
			return fmt.Errorf("creating %s: %w", want.GetName(), err)
		}
		return nil
	}
	copyInto(have, want)
	have.SetLabels(want.GetLabels())
	have.SetOwnerReferences(want.GetOwnerReferences())
	if err := c.Update(ctx, have); err != nil {
		return fmt.Errorf("updating %s: %w", want.GetName(), err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// ClusterRole makes want exist, owned by owner.
func ClusterRole(ctx context.Context, c client.Client, owner client.Object, want *rbacv1.ClusterRole) error {
	return ensure(ctx, c, owner, want, &rbacv1.ClusterRole{},
		func(have, want *rbacv1.ClusterRole) bool {
			return apiequality.Semantic.DeepEqual(have.Rules, want.Rules)
		},
		func(_, _ *rbacv1.ClusterRole) bool { return false },
		func(have, want *rbacv1.ClusterRole) { have.Rules = want.Rules })
}

// RoleBinding makes want exist, owned by owner.
func RoleBinding(ctx context.Context, c client.Client, owner client.Object, want *rbacv1.RoleBinding) error {
	return ensure(ctx, c, owner, want, &rbacv1.RoleBinding{},
		func(have, want *rbacv1.RoleBinding) bool {
			return have.RoleRef == want.RoleRef && apiequality.Semantic.DeepEqual(have.Subjects, want.Subjects)
		},
		func(have, want *rbacv1.RoleBinding) bool { return have.RoleRef != want.RoleRef },
		func(have, want *rbacv1.RoleBinding) { have.Subjects = want.Subjects })
}

// ClusterRoleBinding makes want exist, owned by owner.
func ClusterRoleBinding(ctx context.Context, c client.Client, owner client.Object, want *rbacv1.ClusterRoleBinding) error {
	return ensure(ctx, c, owner, want, &rbacv1.ClusterRoleBinding{},
		func(have, want *rbacv1.ClusterRoleBinding) bool {
			return have.RoleRef == want.RoleRef && apiequality.Semantic.DeepEqual(have.Subjects, want.Subjects)
		},
		func(have, want *rbacv1.ClusterRoleBinding) bool { return have.RoleRef != want.RoleRef },
		func(have, want *rbacv1.ClusterRoleBinding) { have.Subjects = want.Subjects })
}

// Prune deletes the objects of list (listed by selector) that keep does not name.
func Prune[L client.ObjectList](ctx context.Context, c client.Client, list L, selector labels.Set, keep map[string]bool, items func(L) []client.Object) error {
	if err := c.List(ctx, list, client.MatchingLabels(selector)); err != nil {
		return fmt.Errorf("listing RBAC objects: %w", err)
	}
	for _, o := range items(list) {
		key := o.GetNamespace() + "/" + o.GetName()
		if keep[key] || o.GetDeletionTimestamp() != nil {
			continue
		}
		if err := c.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %s: %w", key, err)
		}
	}
	return nil
}
