package volume

import (
	"context"
	"fmt"
	"slices"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
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
	"github.com/dora-hpc/dora-operator/internal/controller/predicates"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// StorageReconciler reports the volumes on each Storage, refuses an export that overlaps
// an older one, and holds a Storage that is being deleted until its volumes are gone.
type StorageReconciler struct {
	client client.Client
	reader client.Reader
}

// Reconcile writes the storage's status and manages its finalizer.
func (r *StorageReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	st := &doradev1.Storage{}
	if err := r.client.Get(ctx, req.NamespacedName, st); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	vols := &doradev1.VolumeList{}
	if err := r.client.List(ctx, vols, client.MatchingFields{IndexStorage: st.Name}); err != nil {
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
		ws, err := workspaceOf(ctx, r.client, r.reader, v.Namespace)
		if err != nil {
			// The list is for people; a namespace that cannot be read stands for itself.
			ws = v.Namespace
		}
		names = append(names, ws+"/"+v.Name)
	}
	slices.Sort(names)

	if st.DeletionTimestamp != nil && len(names) == 0 {
		return ctrl.Result{}, finalizers.Release(ctx, r.client, st, doradev1.FinalizerStorage)
	}

	status := *st.Status.DeepCopy()
	status.ObservedGeneration = st.Generation
	status.Volumes = names
	status.VolumeCount = int32(len(names))
	meta.SetStatusCondition(&status.Conditions, storageReady(st, nfs.Overlap(st, all.Items), len(names)))
	if apiequality.Semantic.DeepEqual(st.Status, status) {
		return ctrl.Result{}, nil
	}
	original := st.DeepCopy()
	st.Status = status
	return ctrl.Result{}, client.IgnoreNotFound(r.client.Status().Patch(ctx, st, client.MergeFrom(original)))
}

// storageReady is the Ready condition of a storage.
func storageReady(st *doradev1.Storage, overlap *doradev1.Storage, volumes int) metav1.Condition {
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

// SetupWithManager registers the storage controller: it looks again at a storage when a
// volume on it comes or goes, and at every storage when any changes (overlaps).
func (r *StorageReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("storage").
		For(&doradev1.Storage{}, builder.WithPredicates(predicates.SpecOrDeletion{})).
		Watches(&doradev1.Volume{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: o.(*doradev1.Volume).Spec.Storage}}}
		})).
		Watches(&doradev1.Storage{}, handler.EnqueueRequestsFromMapFunc(r.allStorages), builder.WithPredicates(predicates.SpecOrDeletion{})).
		Complete(r)
}

func (r *StorageReconciler) allStorages(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &doradev1.StorageList{}
	if err := r.client.List(ctx, list); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, st := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: st.Name}})
	}
	return reqs
}
