package workspace

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/finalizers"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// teardown takes a deleted workspace down in order (see teardownStepOf); the volumes' data
// stays on the storage: a workspace's deletion never touches it. Each step waits for the
// one before; it sets the Deleting condition to the step it is at, and the caller writes
// it. It reports whether the finalizer may go once the status is written: at the last
// step, or when the namespace is gone or not the workspace's (nothing of it is touched).
func (r *Reconciler) teardown(ctx context.Context, ws *doradev1.Workspace) (bool, error) {
	if !controllerutil.ContainsFinalizer(ws, doradev1.FinalizerWorkspace) {
		return false, nil
	}
	nsName := naming.WorkspaceNamespace(ws.Name)
	ns := &corev1.Namespace{}
	switch err := r.client.Get(ctx, types.NamespacedName{Name: nsName}, ns); {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("reading namespace %s: %w", nsName, err)
	case !metav1.IsControlledBy(ns, ws):
		return true, nil
	}

	left, err := r.clearNamespace(ctx, nsName)
	if err != nil {
		return false, err
	}
	step := teardownStepOf(nsName, left)
	if step.deleteNamespace && ns.DeletionTimestamp == nil {
		if err := r.client.Delete(ctx, ns); err != nil && !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("deleting namespace %s: %w", nsName, err)
		}
		ctrl.LoggerFrom(ctx).Info("Deleting the workspace's namespace", "namespace", nsName)
	}
	setDeleting(ws, step)
	return step.deleteNamespace, nil
}

// clearNamespace deletes the namespace's workloads and, once they and their pods are gone,
// its Volumes and the claims it holds for other workspaces' volumes, and says what is left.
func (r *Reconciler) clearNamespace(ctx context.Context, namespace string) (remaining, error) {
	var left remaining
	var err error
	if left.workloads, err = r.deleteAll(ctx, &doradev1.WorkloadList{}, namespace); err != nil {
		return remaining{}, err
	}
	pods := &corev1.PodList{}
	if err := r.client.List(ctx, pods, client.InNamespace(namespace), client.HasLabels{doradev1.LabelWorkload}); err != nil {
		return remaining{}, fmt.Errorf("listing pods: %w", err)
	}
	if left.pods = len(pods.Items); left.workloads+left.pods > 0 {
		return left, nil
	}
	if left.volumes, err = r.deleteAll(ctx, &doradev1.VolumeList{}, namespace); err != nil {
		return remaining{}, err
	}
	// Only the claims the manager made (the cache holds no others); the namespace's
	// deletion takes the rest.
	if left.claims, err = r.deleteAll(ctx, &corev1.PersistentVolumeClaimList{}, namespace); err != nil {
		return remaining{}, err
	}
	return left, nil
}

// deleteAll deletes the objects of list's kind in namespace that are not already going,
// and says how many remain (going or not). Dependents go in the background.
func (r *Reconciler) deleteAll(ctx context.Context, list client.ObjectList, namespace string) (int, error) {
	if err := r.client.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return 0, fmt.Errorf("listing %T: %w", list, err)
	}
	count := 0
	err := meta.EachListItem(list, func(o runtime.Object) error {
		obj := o.(client.Object)
		count++
		if obj.GetDeletionTimestamp() != nil {
			return nil
		}
		if err := r.client.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %T %s: %w", obj, obj.GetName(), err)
		}
		return nil
	})
	return count, err
}

// release removes the finalizer: the workspace may go.
func (r *Reconciler) release(ctx context.Context, ws *doradev1.Workspace) error {
	return finalizers.Release(ctx, r.client, ws, doradev1.FinalizerWorkspace)
}
