// Package namespaces answers what the controllers ask of a namespace: which workspace it
// belongs to, and whether it (or its workspace) is going.
package namespaces

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// WorkspaceOf is the workspace a namespace belongs to (its dora.dev/workspace label); a
// namespace of no workspace stands for itself. A namespace the cache has not seen yet (a
// workspace's, just made) is read from the API server through reader: guessing would put
// data in another directory.
func WorkspaceOf(ctx context.Context, cached client.Client, reader client.Reader, namespace string) (string, error) {
	ns := &corev1.Namespace{}
	err := cached.Get(ctx, client.ObjectKey{Name: namespace}, ns)
	if apierrors.IsNotFound(err) {
		err = reader.Get(ctx, client.ObjectKey{Name: namespace}, ns)
	}
	if err != nil {
		return "", fmt.Errorf("reading namespace %s: %w", namespace, err)
	}
	if ws := ns.Labels[doradev1.LabelWorkspace]; ws != "" {
		return ws, nil
	}
	return namespace, nil
}

// Going says whether a namespace, or the workspace that owns it, is being deleted (or is
// gone), and why.
type Going struct {
	// Going is true when the namespace or its workspace is gone or being deleted.
	Going bool
	// Why says which, for events and conditions.
	Why string
}

// IsGoing reports whether the namespace, or the workspace that owns it, is gone or being
// deleted.
func IsGoing(ctx context.Context, c client.Client, namespace string) (Going, error) {
	ns := &corev1.Namespace{}
	switch err := c.Get(ctx, client.ObjectKey{Name: namespace}, ns); {
	case apierrors.IsNotFound(err):
		return Going{true, "namespace " + namespace + " is gone"}, nil
	case err != nil:
		return Going{}, fmt.Errorf("reading namespace %s: %w", namespace, err)
	case ns.DeletionTimestamp != nil:
		return Going{true, "namespace " + namespace + " is being deleted"}, nil
	}
	owner := metav1.GetControllerOf(ns)
	if owner == nil || owner.Kind != "Workspace" || owner.APIVersion != doradev1.GroupVersion.String() {
		return Going{}, nil
	}
	ws := &doradev1.Workspace{}
	switch err := c.Get(ctx, client.ObjectKey{Name: owner.Name}, ws); {
	case apierrors.IsNotFound(err):
		return Going{true, "workspace " + owner.Name + " is gone"}, nil
	case err != nil:
		return Going{}, fmt.Errorf("reading workspace %s: %w", owner.Name, err)
	case ws.DeletionTimestamp != nil || ws.UID != owner.UID:
		return Going{true, "workspace " + owner.Name + " is being deleted"}, nil
	}
	return Going{}, nil
}
