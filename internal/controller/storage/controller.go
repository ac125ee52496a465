// Package storage reconciles Storages: it reports the volumes on each, refuses an export
// that overlaps an older one, and holds a Storage that is being deleted until its volumes
// are gone (the data stays on the server).
package storage

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/finalizers"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/controller/namespaces"
	"github.com/dora-hpc/dora-operator/internal/controller/predicates"
	"github.com/dora-hpc/dora-operator/internal/controller/statuspatch"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// Reconciler keeps each Storage's status and finalizer.
type Reconciler struct {
	client client.Client
	reader client.Reader
}

// NewReconciler returns a Reconciler using the manager's cached client, and reader (the
// uncached API reader) for namespaces the cache has not seen yet.
func NewReconciler(c client.Client, reader client.Reader) *Reconciler {
	return &Reconciler{client: c, reader: reader}
}

// +kubebuilder:rbac:groups=dora.dev,resources=storages,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=dora.dev,resources=storages/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=dora.dev,resources=storages/finalizers,verbs=update

// Reconcile writes the storage's status and manages its finalizer.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	st := &doradev1.Storage{}
	if err := r.client.Get(ctx, req.NamespacedName, st); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	vols := &doradev1.VolumeList{}
	if err := r.client.List(ctx, vols, client.MatchingFields{indexes.VolumeStorage: st.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing volumes: %w", err)
	}
	all := &doradev1.StorageList{}
	if err := r.client.List(ctx, all); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing storages: %w", err)
	}

	if st.DeletionTimestamp == nil {
		if err := finalizers.Ensure(ctx, r.client, st, doradev1.FinalizerStorage); err != nil {
			return ctrl.Result{}, err
		}
	}
	names := make([]string, 0, len(vols.Items))
	for _, v := range vols.Items {
		ws, err := namespaces.WorkspaceOf(ctx, r.client, r.reader, v.Namespace)
		if err != nil {
			// The list is for people; a namespace that cannot be read stands for itself.
			ws = v.Namespace
		}
		names = append(names, ws+"/"+v.Name)
	}
	if st.DeletionTimestamp != nil && len(names) == 0 {
		return ctrl.Result{}, finalizers.Release(ctx, r.client, st, doradev1.FinalizerStorage)
	}
	_, err := statuspatch.Update(ctx, r.client, st, func() {
		st.Status = computeStatus(st, nfs.Overlap(st, all.Items), names)
	})
	return ctrl.Result{}, err
}

// computeStatus is the storage's status given the older Storage its export overlaps (nil
// for none) and the volumes on it as <workspace>/<volume>.
func computeStatus(st *doradev1.Storage, overlap *doradev1.Storage, volumes []string) doradev1.StorageStatus {
	status := *st.Status.DeepCopy()
	status.ObservedGeneration = st.Generation
	status.Volumes = slices.Sorted(slices.Values(volumes))
	status.VolumeCount = int32(len(volumes))
	ready := readyCondition(st, overlap, len(volumes))
	meta.SetStatusCondition(&status.Conditions, ready)
	// An overlapping export stays until an administrator changes one of the two Storages:
	// kstatus's Stalled says so. A Storage being deleted is Terminating to kstatus anyway.
	if ready.Reason == doradev1.ReasonStorageOverlaps {
		doradev1.SetStalled(&status.Conditions, st.Generation, ready.Reason, ready.Message)
	} else {
		doradev1.ClearKStatus(&status.Conditions)
	}
	return status
}

// readyCondition is the Ready condition of a storage.
func readyCondition(st *doradev1.Storage, overlap *doradev1.Storage, volumes int) metav1.Condition {
	c := metav1.Condition{Type: doradev1.ConditionReady, ObservedGeneration: st.Generation}
	switch {
	case st.DeletionTimestamp != nil:
		c.Status, c.Reason = metav1.ConditionFalse, doradev1.ReasonStorageInUse
		c.Message = fmt.Sprintf("being deleted; waiting for its %d volumes to be deleted first (their data stays on the server)", volumes)
	case overlap != nil:
		c.Status, c.Reason = metav1.ConditionFalse, doradev1.ReasonStorageOverlaps
		c.Message = fmt.Sprintf("%s:%s overlaps Storage %s (%s:%s), so volumes of the two could share a directory; no volume is made here until one of the two is changed",
			st.Spec.Endpoint, st.Spec.Mountpath, overlap.Name, overlap.Spec.Endpoint, overlap.Spec.Mountpath)
	default:
		c.Status, c.Reason = metav1.ConditionTrue, doradev1.ReasonStorageReady
		c.Message = fmt.Sprintf("volumes are made below %s:%s", st.Spec.Endpoint, st.Spec.Mountpath)
	}
	return c
}

// SetupWithManager registers the controller: it looks again at a storage when a volume on
// it comes or goes, and at every storage when any changes (overlaps).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("storage").
		For(&doradev1.Storage{}, builder.WithPredicates(predicates.SpecOrDeletion{})).
		Watches(&doradev1.Volume{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: o.(*doradev1.Volume).Spec.Storage}}}
		})).
		Watches(&doradev1.Storage{}, handler.EnqueueRequestsFromMapFunc(r.allStorages), builder.WithPredicates(predicates.SpecOrDeletion{})).
		Complete(r)
}

func (r *Reconciler) allStorages(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &doradev1.StorageList{}
	if err := r.client.List(ctx, list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing storages")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, st := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: st.Name}})
	}
	return reqs
}
