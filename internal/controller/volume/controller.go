// Package volume reconciles Volumes into directories on their NFS Storage, reached through
// a PersistentVolume and a claim in the workspace's namespace, and grants the claims other
// workspaces ask for. Each step has its own file (directory, persistentvolume, shares,
// finalize) with its decisions as pure functions; the status follows from what a reconcile
// found (status.go) and is written once, at the end of Reconcile.
package volume

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/access"
	"github.com/dora-hpc/dora-operator/internal/controller/finalizers"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/controller/predicates"
	"github.com/dora-hpc/dora-operator/internal/controller/statuspatch"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// clashRetry is how often a volume whose names are taken by someone else looks again.
const clashRetry = time.Minute

// Options configure the volume controller.
type Options struct {
	// HelperImage runs the directory Jobs (nfs.DefaultHelperImage when empty).
	HelperImage string
	// HelperNamespace is where the directory Jobs run: the manager's own namespace, so no
	// tenant can reach a pod that mounts an export's root. Empty (unit tests only) runs
	// them in each volume's own namespace.
	HelperNamespace string
	// Policy decides which other workspaces may mount a volume (access.Default when nil).
	Policy access.VolumePolicy
}

// Reconciler makes each Volume's directory, PersistentVolume and claim exist.
type Reconciler struct {
	client   client.Client
	reader   client.Reader
	recorder events.EventRecorder
	opts     Options
	// creating serialises PersistentVolume creation, so that two volumes never race for one
	// name between a read and a create.
	creating sync.Mutex
}

// NewReconciler returns a Reconciler using the manager's cached client, and reader (the
// uncached API reader) to look at objects the cache does not hold.
func NewReconciler(c client.Client, reader client.Reader, recorder events.EventRecorder, opts Options) *Reconciler {
	if opts.Policy == nil {
		opts.Policy = access.Default
	}
	return &Reconciler{client: c, reader: reader, recorder: recorder, opts: opts}
}

// +kubebuilder:rbac:groups=dora.dev,resources=volumes,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=dora.dev,resources=volumes/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=dora.dev,resources=volumes/finalizers,verbs=update
// +kubebuilder:rbac:groups=dora.dev,resources=storages,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=persistentvolumes,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete

// Reconcile makes the volume's directory, then its PersistentVolume and claim, then the
// PersistentVolumes other workspaces' claims ask for; or, for a volume being deleted, takes
// them away in the reverse order. It writes the status once, at the end.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	vol := &doradev1.Volume{}
	switch err := r.client.Get(ctx, req.NamespacedName, vol); {
	case apierrors.IsNotFound(err):
		// A volume that is gone leaves no helper Job behind, whoever took its finalizer.
		return ctrl.Result{}, r.deleteJobs(ctx, req.NamespacedName, "")
	case err != nil:
		return ctrl.Result{}, err
	}
	var (
		status  doradev1.VolumeStatus
		result  ctrl.Result
		doneJob *batchv1.Job
	)
	if vol.DeletionTimestamp != nil {
		if !controllerutil.ContainsFinalizer(vol, doradev1.FinalizerVolume) {
			return ctrl.Result{}, r.deleteJobs(ctx, req.NamespacedName, vol.UID)
		}
		d, err := r.finalize(ctx, vol)
		if err != nil {
			return ctrl.Result{}, err
		}
		if d.done {
			r.emitDataEvent(vol, d)
			if err := finalizers.Release(ctx, r.client, vol, doradev1.FinalizerVolume); err != nil {
				return ctrl.Result{}, err
			}
			// Its Jobs (a removal done, a mkdir never finished) go with it.
			return ctrl.Result{}, r.deleteJobs(ctx, req.NamespacedName, vol.UID)
		}
		status = deletingStatus(vol, d.reason, d.message)
		if d.reason == doradev1.ReasonDeleteFailed {
			// A Job of the rmdir name may not be ours: its going may never reach us.
			result.RequeueAfter = clashRetry
		}
	} else {
		if err := finalizers.Ensure(ctx, r.client, vol, doradev1.FinalizerVolume); err != nil {
			return ctrl.Result{}, err
		}
		obs, err := r.observe(ctx, vol)
		if err != nil {
			return ctrl.Result{}, err
		}
		status, doneJob = computeStatus(vol, obs), obs.doneJob
		if obs.clashed() {
			// What clashes is not ours (nor a Job of our name that is not), so its going may
			// never reach us: look again.
			result.RequeueAfter = clashRetry
		}
	}

	original := vol.DeepCopy()
	vol.Status = status
	if _, err := statuspatch.Write(ctx, r.client, original, vol); err != nil {
		return ctrl.Result{}, err
	}
	r.emitEvents(vol, &original.Status, &vol.Status)
	// The directory's creation is in the status now; its Job is no longer needed.
	if doneJob != nil {
		if err := r.client.Delete(ctx, doneJob, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("deleting job %s: %w", doneJob.Name, err)
		}
	}
	return result, nil
}

// observe does the work for a live volume, step by step, and reports what it found; a
// step that cannot go on yet ends it.
func (r *Reconciler) observe(ctx context.Context, vol *doradev1.Volume) (observation, error) {
	var obs observation
	st := &doradev1.Storage{}
	switch err := r.client.Get(ctx, client.ObjectKey{Name: vol.Spec.Storage}, st); {
	case apierrors.IsNotFound(err):
		obs.storageMissing = true
		return obs, nil
	case err != nil:
		return obs, fmt.Errorf("reading storage %s: %w", vol.Spec.Storage, err)
	}
	if !directoryMade(vol) {
		if st.DeletionTimestamp != nil {
			obs.storageDeleting = true
			return obs, nil
		}
		all := &doradev1.StorageList{}
		if err := r.client.List(ctx, all); err != nil {
			return obs, fmt.Errorf("listing storages: %w", err)
		}
		if obs.overlap = nfs.Overlap(st, all.Items); obs.overlap != nil {
			return obs, nil
		}
	}
	dir, invalid, err := r.directoryOf(ctx, vol, st)
	if err != nil || dir == nil {
		obs.invalid = invalid
		return obs, err
	}
	obs.dir = dir

	made, err := r.ensureDirectory(ctx, vol, *dir)
	obs.dirState, obs.dirMessage, obs.doneJob = made.state, made.message, made.doneJob
	if err != nil || made.state != dirCreated {
		return obs, err
	}

	self := client.ObjectKeyFromObject(vol)
	b := nfs.Binding{Source: self, Claim: self, Dir: *dir}
	if obs.clash, err = r.ensurePersistentVolume(ctx, b); err != nil || obs.clash != "" {
		return obs, err
	}
	if obs.claim, obs.clash, err = r.ensureClaim(ctx, vol); err != nil || obs.clash != "" {
		return obs, err
	}
	obs.shareClash, err = r.syncShares(ctx, vol, *dir)
	return obs, err
}

// emitEvents tells the user what changed, after the status was written.
func (r *Reconciler) emitEvents(vol *doradev1.Volume, before, after *doradev1.VolumeStatus) {
	now := meta.FindStatusCondition(after.Conditions, doradev1.ConditionReady)
	was := meta.FindStatusCondition(before.Conditions, doradev1.ConditionReady)
	if now == nil || (was != nil && was.Status == now.Status && was.Reason == now.Reason) {
		return
	}
	switch now.Reason {
	case doradev1.ReasonClaimBound:
		r.recorder.Eventf(vol, nil, corev1.EventTypeNormal, doradev1.ReasonClaimBound, "BindVolume", "%s", now.Message)
	case doradev1.ReasonStorageNotFound, doradev1.ReasonStorageDeleting, doradev1.ReasonDirectoryClash,
		doradev1.ReasonDirectoryFailed, doradev1.ReasonNameClash:
		r.recorder.Eventf(vol, nil, corev1.EventTypeWarning, now.Reason, "MakeVolume", "%s", now.Message)
	}
}

// SetupWithManager registers the controller. It looks again at a volume when its Jobs (in
// the manager's namespace, mapped by their labels: see jobVolume), claims (its own and
// other workspaces') or PersistentVolumes change, and when a Storage of its server changes
// (indexes.VolumeStorage).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("volume").
		For(&doradev1.Volume{}, builder.WithPredicates(predicates.SpecOrDeletion{})).
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(r.jobVolume)).
		Watches(&corev1.PersistentVolumeClaim{}, handler.EnqueueRequestsFromMapFunc(sourceVolume)).
		Watches(&corev1.PersistentVolume{}, handler.EnqueueRequestsFromMapFunc(sourceVolume)).
		Watches(&doradev1.Storage{}, handler.EnqueueRequestsFromMapFunc(r.volumesOn), builder.WithPredicates(predicates.SpecOrDeletion{})).
		Complete(r)
}

// sourceVolume maps a claim or PersistentVolume to the Volume whose directory it reaches.
func sourceVolume(_ context.Context, o client.Object) []reconcile.Request {
	key, ok := nfs.ParseSourceKey(o.GetAnnotations()[doradev1.AnnotationSourceVolume])
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: key}}
}

// volumesOn maps a Storage to the volumes on it and on every other Storage of its server:
// a Storage that comes or goes may start or end an overlap with those.
func (r *Reconciler) volumesOn(ctx context.Context, st client.Object) []reconcile.Request {
	names := []string{st.GetName()}
	storages := &doradev1.StorageList{}
	if err := r.client.List(ctx, storages); err == nil {
		for _, other := range storages.Items {
			if other.Name != st.GetName() && strings.EqualFold(other.Spec.Endpoint, st.(*doradev1.Storage).Spec.Endpoint) {
				names = append(names, other.Name)
			}
		}
	}
	var reqs []reconcile.Request
	for _, name := range names {
		list := &doradev1.VolumeList{}
		if err := r.client.List(ctx, list, client.MatchingFields{indexes.VolumeStorage: name}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Listing volumes of a storage", "storage", name)
			return nil
		}
		for _, v := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: v.Namespace, Name: v.Name}})
		}
	}
	return reqs
}
