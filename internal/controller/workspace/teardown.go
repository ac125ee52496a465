package workspace

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
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

// teardown takes a deleted workspace down in order: its workloads (and their pods) first,
// so nothing writes to a volume while it goes; then its volumes and claims (the volumes'
// data stays on the storage: a workspace's deletion never touches it); then its namespace.
// Each step waits for the one before; the Deleting condition says which one it is at.
func (r *Reconciler) teardown(ctx context.Context, ws *doradev1.Workspace) error {
	if !controllerutil.ContainsFinalizer(ws, doradev1.FinalizerWorkspace) {
		return nil
	}
	nsName := naming.WorkspaceNamespace(ws.Name)
	ns := &corev1.Namespace{}
	switch err := r.client.Get(ctx, types.NamespacedName{Name: nsName}, ns); {
	case apierrors.IsNotFound(err):
		return r.release(ctx, ws)
	case err != nil:
		return fmt.Errorf("reading namespace %s: %w", nsName, err)
	case !metav1.IsControlledBy(ns, ws):
		// Not ours: nothing of it is touched.
		return r.release(ctx, ws)
	}

	step, message, err := r.stopWorkloads(ctx, nsName)
	if err == nil && step == "" {
		step, message, err = r.removeVolumes(ctx, nsName)
	}
	if err != nil {
		return err
	}
	if step != "" {
		return r.setDeleting(ctx, ws, step, message)
	}
	if ns.DeletionTimestamp == nil {
		if err := r.client.Delete(ctx, ns); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting namespace %s: %w", nsName, err)
		}
		ctrl.LoggerFrom(ctx).Info("Deleting the workspace's namespace", "namespace", nsName)
	}
	if err := r.setDeleting(ctx, ws, doradev1.ReasonDeletingNamespace,
		fmt.Sprintf("workloads stopped and claims removed; namespace %s is being deleted (the volumes' data stays on the storage)", nsName)); err != nil {
		return err
	}
	return r.release(ctx, ws)
}

// stopWorkloads deletes the namespace's workloads and reports, while any of them or of
// their pods remain, the step and what it waits for.
func (r *Reconciler) stopWorkloads(ctx context.Context, namespace string) (string, string, error) {
	workloads, err := r.deleteAll(ctx, &doradev1.WorkloadList{}, namespace)
	if err != nil {
		return "", "", err
	}
	pods := &corev1.PodList{}
	if err := r.client.List(ctx, pods, client.InNamespace(namespace), client.HasLabels{doradev1.LabelWorkload}); err != nil {
		return "", "", fmt.Errorf("listing pods: %w", err)
	}
	if workloads+len(pods.Items) == 0 {
		return "", "", nil
	}
	return doradev1.ReasonStoppingWorkloads,
		fmt.Sprintf("stopping workloads: %d workloads and %d pods remain in namespace %s (kubectl get workloads,pods -n %s)",
			workloads, len(pods.Items), namespace, namespace), nil
}

// removeVolumes deletes the namespace's Volumes and the claims it holds for other
// workspaces' volumes, and reports, while any remain, the step and what it waits for.
func (r *Reconciler) removeVolumes(ctx context.Context, namespace string) (string, string, error) {
	volumes, err := r.deleteAll(ctx, &doradev1.VolumeList{}, namespace)
	if err != nil {
		return "", "", err
	}
	// Only the claims the manager made (the cache holds no others); the namespace's
	// deletion takes the rest.
	claims, err := r.deleteAll(ctx, &corev1.PersistentVolumeClaimList{}, namespace)
	if err != nil {
		return "", "", err
	}
	if volumes+claims == 0 {
		return "", "", nil
	}
	return doradev1.ReasonRemovingClaims,
		fmt.Sprintf("removing volume claims: %d volumes and %d claims remain in namespace %s (kubectl get volumes,pvc -n %s says why); the data stays on the storage",
			volumes, claims, namespace, namespace), nil
}

// deleteAll deletes the objects of list's kind in namespace that are not already going,
// and says how many remain (going or not). Dependents go in the background.
func (r *Reconciler) deleteAll(ctx context.Context, list client.ObjectList, namespace string) (int, error) {
	if err := r.client.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return 0, fmt.Errorf("listing %T: %w", list, err)
	}
	remaining := 0
	err := meta.EachListItem(list, func(o runtime.Object) error {
		obj := o.(client.Object)
		remaining++
		if obj.GetDeletionTimestamp() != nil {
			return nil
		}
		if err := r.client.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %T %s: %w", obj, obj.GetName(), err)
		}
		return nil
	})
	return remaining, err
}

// setDeleting writes the Deleting condition when it changed.
func (r *Reconciler) setDeleting(ctx context.Context, ws *doradev1.Workspace, reason, message string) error {
	original := ws.DeepCopy()
	before := &original.Status
	meta.SetStatusCondition(&ws.Status.Conditions, metav1.Condition{
		Type: doradev1.WorkspaceDeleting, Status: metav1.ConditionTrue, Reason: reason, Message: message, ObservedGeneration: ws.Generation,
	})
	meta.SetStatusCondition(&ws.Status.Conditions, metav1.Condition{
		Type: doradev1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: message, ObservedGeneration: ws.Generation,
	})
	if apiequality.Semantic.DeepEqual(before, &ws.Status) {
		return nil
	}
	if err := r.client.Status().Patch(ctx, ws, client.MergeFrom(original)); err != nil {
		return client.IgnoreNotFound(err)
	}
	if was := meta.FindStatusCondition(before.Conditions, doradev1.WorkspaceDeleting); was == nil || was.Reason != reason {
		r.recorder.Eventf(ws, nil, corev1.EventTypeNormal, reason, "DeleteWorkspace", "%s", message)
	}
	return nil
}

// release removes the finalizer: the workspace may go.
func (r *Reconciler) release(ctx context.Context, ws *doradev1.Workspace) error {
	return finalizers.Release(ctx, r.client, ws, doradev1.FinalizerWorkspace)
}
