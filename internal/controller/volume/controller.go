// Package volume reconciles Volumes into directories on their NFS Storage, reached through
// a PersistentVolume and a claim in the workspace's namespace, and grants the claims other
// workspaces ask for; it also reports on each Storage.
package volume

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
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
	"github.com/dora-hpc/dora-operator/internal/controller/namespaces"
	"github.com/dora-hpc/dora-operator/internal/controller/predicates"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// clashRetry is how often a volume whose names are taken by someone else looks again.
const clashRetry = time.Minute

// Options configure the volume controller.
type Options struct {
	// HelperImage runs the directory Jobs (nfs.DefaultHelperImage when empty).
	HelperImage string
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
// them away in the reverse order.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	vol := &doradev1.Volume{}
	if err := r.client.Get(ctx, req.NamespacedName, vol); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if vol.DeletionTimestamp != nil {
		if err := r.finalize(ctx, vol); err != nil {
			return ctrl.Result{}, err
		}
		if c := meta.FindStatusCondition(vol.Status.Conditions, doradev1.ConditionReady); c != nil && c.Reason == doradev1.ReasonDeleteFailed {
			// A Job of the rmdir name may not be ours: its going may never reach us.
			return ctrl.Result{RequeueAfter: clashRetry}, nil
		}
		return ctrl.Result{}, nil
	}
	if err := finalizers.Ensure(ctx, r.client, vol, doradev1.FinalizerVolume); err != nil {
		return ctrl.Result{}, err
	}

	obs, doneJob, err := r.sync(ctx, vol)
	if err != nil {
		return ctrl.Result{}, err
	}
	result := ctrl.Result{}
	if obs.clash != "" || obs.shareClash || obs.dirState == dirFailed {
		// What clashes is not ours (nor a Job of our name that is not), so its going may
		// never reach us: look again.
		result.RequeueAfter = clashRetry
	}
	before := vol.Status.DeepCopy()
	after := computeStatus(vol, obs)
	if err := r.writeStatus(ctx, vol, after); err != nil {
		return ctrl.Result{}, err
	}
	r.emitEvents(vol, before, &after)
	// The directory's creation is in the status now; its Job is no longer needed.
	if doneJob != nil {
		if err := r.client.Delete(ctx, doneJob, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("deleting job %s: %w", doneJob.Name, err)
		}
	}
	return result, nil
}

// sync does the work for a live volume and reports what it found. doneJob is a finished
// mkdir Job to delete once the status says the directory exists.
func (r *Reconciler) sync(ctx context.Context, vol *doradev1.Volume) (obs observation, doneJob *batchv1.Job, err error) {
	st := &doradev1.Storage{}
	switch err := r.client.Get(ctx, client.ObjectKey{Name: vol.Spec.Storage}, st); {
	case apierrors.IsNotFound(err):
		obs.storageMissing = true
		return obs, nil, nil
	case err != nil:
		return obs, nil, fmt.Errorf("reading storage %s: %w", vol.Spec.Storage, err)
	}
	dirDone := meta.IsStatusConditionTrue(vol.Status.Conditions, doradev1.VolumeDirectoryReady)
	if !dirDone {
		if st.DeletionTimestamp != nil {
			obs.storageDeleting = true
			return obs, nil, nil
		}
		all := &doradev1.StorageList{}
		if err := r.client.List(ctx, all); err != nil {
			return obs, nil, fmt.Errorf("listing storages: %w", err)
		}
		if obs.overlap = nfs.Overlap(st, all.Items); obs.overlap != nil {
			return obs, nil, nil
		}
	}
	dir, invalid, err := r.directoryOf(ctx, vol, st)
	if err != nil {
		return obs, nil, err
	}
	if dir == nil {
		obs.invalid = invalid
		return obs, nil, nil
	}
	obs.dir = dir

	if dirDone {
		obs.dirState = dirCreated
		// A mkdir Job made again from a cache that had not yet seen the status (the delete
		// of the first one raced the status write) is cleaned up once it has finished.
		job := &batchv1.Job{}
		if err := r.client.Get(ctx, client.ObjectKey{Namespace: vol.Namespace, Name: nfs.JobName(nfs.JobMkdir, vol.Name)}, job); err == nil &&
			metav1.IsControlledBy(job, vol) {
			if outcome, _ := nfs.Outcome(job); outcome != nfs.JobRunning {
				doneJob = job
			}
		}
	} else {
		if obs.dirState, obs.dirMessage, doneJob, err = r.ensureDirectory(ctx, vol, *dir); err != nil || obs.dirState != dirCreated {
			return obs, nil, err
		}
	}

	self := client.ObjectKeyFromObject(vol)
	b := nfs.Binding{Source: self, Claim: self, Dir: *dir}
	if obs.clash, err = r.ensurePersistentVolume(ctx, b); err != nil || obs.clash != "" {
		return obs, doneJob, err
	}
	if obs.claim, obs.clash, err = r.ensureClaim(ctx, vol); err != nil || obs.clash != "" {
		return obs, doneJob, err
	}
	obs.shareClash, err = r.syncShares(ctx, vol, *dir)
	return obs, doneJob, err
}

// directoryOf is the volume's directory on st: the one its status recorded once it was
// made, or else <mountpath>/<workspace>/<volume>[/<subpath>]. When there is none, invalid
// says why.
func (r *Reconciler) directoryOf(ctx context.Context, vol *doradev1.Volume, st *doradev1.Storage) (dir *nfs.Directory, invalid string, err error) {
	if meta.IsStatusConditionTrue(vol.Status.Conditions, doradev1.VolumeDirectoryReady) {
		recorded, ok := recordedDirectory(st, vol)
		if !ok {
			return nil, fmt.Sprintf("the volume's directory %s:%s is not on Storage %s as it is now (was the Storage replaced?); the volume cannot follow it: copy the data and recreate the volume",
				vol.Status.Server, vol.Status.Path, st.Name), nil
		}
		return &recorded, "", nil
	}
	workspace, err := namespaces.WorkspaceOf(ctx, r.client, r.reader, vol.Namespace)
	if err != nil {
		return nil, "", err
	}
	computed, err := nfs.VolumeDirectory(st, workspace, vol)
	if err != nil {
		return nil, err.Error(), nil
	}
	return &computed, "", nil
}

// recordedDirectory is the directory the volume's status recorded, when st holds it and it
// is the volume's: it ends in <volume>[/<subpath>].
func recordedDirectory(st *doradev1.Storage, vol *doradev1.Volume) (nfs.Directory, bool) {
	dir, ok := nfs.DirectoryAt(st, vol.Status.Server, vol.Status.Path)
	if !ok || !strings.HasSuffix("/"+dir.Rel, "/"+path.Join(vol.Name, vol.Spec.Subpath)) {
		return nfs.Directory{}, false
	}
	return dir, true
}

// ensureDirectory runs the mkdir Job until it has succeeded or failed. A Job of its name
// that does other work (made for another directory) is replaced.
func (r *Reconciler) ensureDirectory(ctx context.Context, vol *doradev1.Volume, dir nfs.Directory) (dirState, string, *batchv1.Job, error) {
	want, err := nfs.MkdirJob(nfs.JobInputs{Namespace: vol.Namespace, Volume: vol.Name, Image: r.opts.HelperImage}, dir)
	if err != nil {
		return dirFailed, err.Error(), nil, nil
	}
	job, err := r.ensureJob(ctx, vol, want)
	if err != nil || job == nil {
		return dirPending, "", nil, err
	}
	if !metav1.IsControlledBy(job, vol) {
		return dirFailed, fmt.Sprintf("Job %s exists and is not this volume's; delete or rename it", job.Name), nil, nil
	}
	if !sameWork(job, want) {
		if err := r.client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return dirPending, "", nil, fmt.Errorf("replacing job %s: %w", job.Name, err)
		}
		return dirPending, "", nil, nil
	}
	switch outcome, msg := nfs.Outcome(job); outcome {
	case nfs.JobSucceeded:
		return dirCreated, "", job, nil
	case nfs.JobFailed:
		return dirFailed, msg + "; delete the Job to try again", nil, nil
	}
	return dirPending, "", nil, nil
}

// ensureJob returns the Job of want's name, creating it (owned by owner) when it does not
// exist; nil when it was just created. A Job of that name the cache does not hold (not
// labelled, so not ours) is read from the API server, for the caller to refuse.
func (r *Reconciler) ensureJob(ctx context.Context, owner client.Object, want *batchv1.Job) (*batchv1.Job, error) {
	job := &batchv1.Job{}
	switch err := r.client.Get(ctx, client.ObjectKeyFromObject(want), job); {
	case err == nil:
		return job, nil
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("reading job %s: %w", want.Name, err)
	}
	if err := ctrl.SetControllerReference(owner, want, r.client.Scheme()); err != nil {
		return nil, err
	}
	switch err := r.client.Create(ctx, want); {
	case err == nil:
		ctrl.LoggerFrom(ctx).Info("Started a storage Job", "job", klog.KObj(want))
		return nil, nil
	case !apierrors.IsAlreadyExists(err):
		return nil, fmt.Errorf("creating job %s: %w", want.Name, err)
	}
	if err := r.reader.Get(ctx, client.ObjectKeyFromObject(want), job); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return job, nil
}

// ensurePersistentVolume makes b's PersistentVolume exist. A PersistentVolume of that name
// made for something else is a clash, reported and left alone. One whose claim was deleted
// (Released) is freed for the claim of the same name that replaces it.
func (r *Reconciler) ensurePersistentVolume(ctx context.Context, b nfs.Binding) (string, error) {
	name := b.PersistentVolumeName()
	pv := &corev1.PersistentVolume{}
	err := r.client.Get(ctx, client.ObjectKey{Name: name}, pv)
	if apierrors.IsNotFound(err) {
		r.creating.Lock()
		defer r.creating.Unlock()
		// The cache holds only our labelled PersistentVolumes: ask the API server.
		err = r.reader.Get(ctx, client.ObjectKey{Name: name}, pv)
		if apierrors.IsNotFound(err) {
			pv = b.PersistentVolume()
			if err := r.client.Create(ctx, pv); err != nil && !apierrors.IsAlreadyExists(err) {
				return "", fmt.Errorf("creating PersistentVolume %s: %w", name, err)
			} else if err == nil {
				ctrl.LoggerFrom(ctx).Info("Created a PersistentVolume", "persistentVolume", name, "server", b.Dir.Server, "path", b.Dir.Path())
				return "", nil
			}
			err = r.reader.Get(ctx, client.ObjectKey{Name: name}, pv)
		}
	}
	if err != nil {
		return "", client.IgnoreNotFound(err)
	}
	if pv.DeletionTimestamp != nil {
		// Going: its deletion brings this volume back to make it again.
		return "", nil
	}
	if !nfs.ReachesDirectory(pv, b.Source) || pv.Spec.NFS.Path != b.Dir.Path() || pv.Spec.NFS.Server != b.Dir.Server {
		return fmt.Sprintf("PersistentVolume %s exists and is not this volume's (it is not for %s:%s); it is left untouched: an administrator must delete or rename it",
			name, b.Dir.Server, b.Dir.Path()), nil
	}
	if pv.Spec.NFS.ReadOnly != b.ReadOnly && pv.Status.Phase != corev1.VolumeBound {
		// Made when the volume's sharing said otherwise, and no claim holds it: replace it.
		// (One a claim holds keeps its mode until that claim goes with its workloads.)
		if err := r.client.Delete(ctx, pv); err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("replacing PersistentVolume %s: %w", name, err)
		}
		return "", nil
	}
	if pv.Status.Phase == corev1.VolumeReleased && pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.UID != "" {
		// The claim it was bound to is gone; bind it ahead to the claim of the same name.
		patch := client.MergeFrom(pv.DeepCopy())
		pv.Spec.ClaimRef = b.PersistentVolume().Spec.ClaimRef
		if err := r.client.Patch(ctx, pv, patch); err != nil {
			return "", fmt.Errorf("freeing released PersistentVolume %s: %w", name, err)
		}
	}
	return "", nil
}

// ensureClaim makes the volume's own claim exist, controlled by the volume.
func (r *Reconciler) ensureClaim(ctx context.Context, vol *doradev1.Volume) (*corev1.PersistentVolumeClaim, string, error) {
	self := client.ObjectKeyFromObject(vol)
	claim := &corev1.PersistentVolumeClaim{}
	err := r.client.Get(ctx, self, claim)
	if apierrors.IsNotFound(err) {
		claim = nfs.Claim(self, self)
		if err := ctrl.SetControllerReference(vol, claim, r.client.Scheme()); err != nil {
			return nil, "", err
		}
		if err = r.client.Create(ctx, claim); err == nil {
			return claim, "", nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, "", fmt.Errorf("creating claim %s: %w", vol.Name, err)
		}
		// A claim of that name the cache does not hold: not labelled, so not ours.
		err = r.reader.Get(ctx, self, claim)
	}
	if err != nil {
		return nil, "", client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(claim, vol) {
		return nil, fmt.Sprintf("claim %s exists in namespace %s and is not this volume's; it is left untouched: delete or rename it", vol.Name, vol.Namespace), nil
	}
	return claim, "", nil
}

// syncShares grants the claims other workspaces made for this volume: each gets its own
// PersistentVolume on the same directory. PersistentVolumes whose claim is gone go too.
func (r *Reconciler) syncShares(ctx context.Context, vol *doradev1.Volume, dir nfs.Directory) (clashed bool, err error) {
	self := client.ObjectKeyFromObject(vol)
	claims := &corev1.PersistentVolumeClaimList{}
	if err := r.client.List(ctx, claims, client.MatchingFields{indexes.ClaimSourceVolume: nfs.SourceKey(self)}); err != nil {
		return false, fmt.Errorf("listing claims for volume %s: %w", self, err)
	}
	wanted := map[string]bool{}
	var errs []error
	for i := range claims.Items {
		claim := &claims.Items[i]
		if claim.Namespace == vol.Namespace || claim.DeletionTimestamp != nil {
			continue
		}
		b := nfs.Binding{Source: self, Claim: client.ObjectKeyFromObject(claim), Dir: dir}
		decision, err := r.opts.Policy.MountVolume(ctx, claim.Namespace, vol)
		if err != nil {
			// Undecided is not denied: the share stays until the policy answers.
			wanted[b.PersistentVolumeName()] = true
			errs = append(errs, err)
			continue
		}
		if !decision.Allowed {
			continue
		}
		b.ReadOnly = !decision.Write
		wanted[b.PersistentVolumeName()] = true
		clash, err := r.ensurePersistentVolume(ctx, b)
		switch {
		case err != nil:
			errs = append(errs, err)
		case clash != "":
			clashed = true
			r.recorder.Eventf(vol, claim, corev1.EventTypeWarning, doradev1.ReasonNameClash, "ShareVolume", "%s", clash)
		}
	}
	pvs, err := r.persistentVolumesOf(ctx, vol)
	if err != nil {
		return clashed, err
	}
	for _, pv := range pvs {
		ref := pv.Spec.ClaimRef
		if wanted[pv.Name] || ref == nil || ref.Namespace == vol.Namespace {
			continue
		}
		// A share whose claim is gone, or no longer allowed.
		if err := r.client.Delete(ctx, pv); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting PersistentVolume %s: %w", pv.Name, err))
		}
	}
	return clashed, errors.Join(errs...)
}

// persistentVolumesOf lists the PersistentVolumes made for vol's directory.
func (r *Reconciler) persistentVolumesOf(ctx context.Context, vol *doradev1.Volume) ([]*corev1.PersistentVolume, error) {
	list := &corev1.PersistentVolumeList{}
	if err := r.client.List(ctx, list, client.MatchingLabels{doradev1.LabelVolume: naming.WorkloadLabelValue(vol.Name)}); err != nil {
		return nil, fmt.Errorf("listing PersistentVolumes: %w", err)
	}
	var out []*corev1.PersistentVolume
	for i := range list.Items {
		if nfs.ReachesDirectory(&list.Items[i], client.ObjectKeyFromObject(vol)) {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

// finalize takes a deleted volume apart: its claims (own, and those of other workspaces),
// its PersistentVolumes, and, when it asked for it, its directory. The data is removed only
// after every claim is gone, so no pod still writes there; when the data stays, nothing
// waits (the PersistentVolumes are Retain, and go once their claims have).
func (r *Reconciler) finalize(ctx context.Context, vol *doradev1.Volume) error {
	if !controllerutil.ContainsFinalizer(vol, doradev1.FinalizerVolume) {
		return nil
	}
	dir, keep, err := r.dataToRemove(ctx, vol)
	if err != nil {
		return err
	}
	remaining, err := r.deleteClaims(ctx, vol)
	if err != nil {
		return err
	}
	if dir != nil && len(remaining) > 0 {
		return r.writeStatus(ctx, vol, deletingStatus(vol, doradev1.ReasonDeleting,
			fmt.Sprintf("waiting for claims %s to go before removing the data: they go once no pod mounts them", strings.Join(remaining, ", "))))
	}
	pvs, err := r.persistentVolumesOf(ctx, vol)
	if err != nil {
		return err
	}
	for _, pv := range pvs {
		if err := r.client.Delete(ctx, pv); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting PersistentVolume %s: %w", pv.Name, err)
		}
	}

	where := fmt.Sprintf("%s:%s", vol.Status.Server, vol.Status.Path)
	if dir != nil {
		if done, err := r.removeData(ctx, vol, *dir); err != nil || !done {
			return err
		}
		r.recorder.Eventf(vol, nil, corev1.EventTypeNormal, doradev1.EventDataRemoved, "DeleteVolume", "Removed %s", where)
	} else if keep != "" {
		r.recorder.Eventf(vol, nil, corev1.EventTypeNormal, doradev1.EventDataKept, "DeleteVolume", "The data stays at %s: %s", where, keep)
	}
	return finalizers.Release(ctx, r.client, vol, doradev1.FinalizerVolume)
}

// deleteClaims deletes the claims made for the volume's directory, its own and those other
// workspaces asked for, and names those still there.
func (r *Reconciler) deleteClaims(ctx context.Context, vol *doradev1.Volume) ([]string, error) {
	claims := &corev1.PersistentVolumeClaimList{}
	if err := r.client.List(ctx, claims, client.MatchingFields{indexes.ClaimSourceVolume: nfs.SourceKey(client.ObjectKeyFromObject(vol))}); err != nil {
		return nil, fmt.Errorf("listing claims: %w", err)
	}
	var remaining []string
	for i := range claims.Items {
		claim := &claims.Items[i]
		if claim.Namespace == vol.Namespace && !metav1.IsControlledBy(claim, vol) {
			continue
		}
		remaining = append(remaining, claim.Namespace+"/"+claim.Name)
		if claim.DeletionTimestamp == nil {
			if err := r.client.Delete(ctx, claim); err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("deleting claim %s: %w", claim.Name, err)
			}
		}
	}
	slices.Sort(remaining)
	return remaining, nil
}

// dataToRemove decides whether a deleted volume's directory goes: only for reclaimPolicy
// Delete, for a directory that was made, on a Storage that holds it, and not when the
// volume goes because its workspace or namespace does (taking a workspace down never
// touches data), unless a removal had already started. When the data stays, keep says why
// (empty when there was never any data).
func (r *Reconciler) dataToRemove(ctx context.Context, vol *doradev1.Volume) (dir *nfs.Directory, keep string, err error) {
	if !meta.IsStatusConditionTrue(vol.Status.Conditions, doradev1.VolumeDirectoryReady) {
		return nil, "", nil
	}
	if vol.Spec.ReclaimPolicy != doradev1.VolumeReclaimDelete {
		return nil, "reclaimPolicy is " + vol.Spec.ReclaimPolicy, nil
	}
	st := &doradev1.Storage{}
	switch err := r.client.Get(ctx, client.ObjectKey{Name: vol.Spec.Storage}, st); {
	case apierrors.IsNotFound(err):
		return nil, "Storage " + vol.Spec.Storage + " is gone", nil
	case err != nil:
		return nil, "", err
	}
	found, ok := recordedDirectory(st, vol)
	if !ok {
		return nil, "Storage " + vol.Spec.Storage + " does not hold that directory", nil
	}
	going, why, err := r.workspaceGoing(ctx, vol.Namespace)
	if err != nil || !going {
		return &found, "", err
	}
	// The workspace is going: a removal already under way is finished, whatever happened
	// since it started (the cache may not have seen its Job yet); none is started, and one
	// that failed is not tried again.
	job := &batchv1.Job{}
	key := client.ObjectKey{Namespace: vol.Namespace, Name: nfs.JobName(nfs.JobRmdir, vol.Name)}
	err = r.client.Get(ctx, key, job)
	if apierrors.IsNotFound(err) {
		err = r.reader.Get(ctx, key, job)
	}
	if err == nil && metav1.IsControlledBy(job, vol) {
		if outcome, _ := nfs.Outcome(job); outcome != nfs.JobFailed {
			return &found, "", nil
		}
	}
	return nil, why, client.IgnoreNotFound(err)
}

// removeData runs the rmdir Job and reports when it has succeeded.
func (r *Reconciler) removeData(ctx context.Context, vol *doradev1.Volume, dir nfs.Directory) (bool, error) {
	where := fmt.Sprintf("%s:%s", dir.Server, dir.Path())
	want, err := nfs.RmdirJob(nfs.JobInputs{Namespace: vol.Namespace, Volume: vol.Name, Image: r.opts.HelperImage}, dir)
	if err != nil {
		return false, r.writeStatus(ctx, vol, deletingStatus(vol, doradev1.ReasonDeleteFailed, err.Error()))
	}
	job, err := r.ensureJob(ctx, vol, want)
	if err != nil {
		return false, err
	}
	if job == nil {
		return false, r.writeStatus(ctx, vol, deletingStatus(vol, doradev1.ReasonDeleting, "a Job is removing "+where))
	}
	if !metav1.IsControlledBy(job, vol) || !sameWork(job, want) {
		return false, r.writeStatus(ctx, vol, deletingStatus(vol, doradev1.ReasonDeleteFailed,
			fmt.Sprintf("Job %s exists and is not this volume's removal of %s; delete it, or remove the finalizer %s to keep the data", job.Name, where, doradev1.FinalizerVolume)))
	}
	switch outcome, msg := nfs.Outcome(job); outcome {
	case nfs.JobSucceeded:
		return true, nil
	case nfs.JobFailed:
		return false, r.writeStatus(ctx, vol, deletingStatus(vol, doradev1.ReasonDeleteFailed,
			msg+"; delete the Job to try again, or remove the finalizer "+doradev1.FinalizerVolume+" to keep the data"))
	}
	return false, r.writeStatus(ctx, vol, deletingStatus(vol, doradev1.ReasonDeleting, "a Job is removing "+where))
}

// sameWork reports whether a helper Job does what want would: the same command, the same
// values of the variables want sets, and the same NFS exports under the same names. What
// others add (a sidecar, an injected variable or volume) does not count.
func sameWork(job, want *batchv1.Job) bool {
	a, b := job.Spec.Template.Spec, want.Spec.Template.Spec
	ca := containerNamed(a.Containers, b.Containers[0].Name)
	if ca == nil || !slices.Equal(ca.Command, b.Containers[0].Command) {
		return false
	}
	for _, env := range b.Containers[0].Env {
		i := slices.IndexFunc(ca.Env, func(e corev1.EnvVar) bool { return e.Name == env.Name })
		if i < 0 || ca.Env[i].Value != env.Value {
			return false
		}
	}
	for _, vol := range b.Volumes {
		i := slices.IndexFunc(a.Volumes, func(v corev1.Volume) bool { return v.Name == vol.Name })
		if i < 0 || !apiequality.Semantic.DeepEqual(a.Volumes[i].NFS, vol.NFS) {
			return false
		}
	}
	return true
}

func containerNamed(containers []corev1.Container, name string) *corev1.Container {
	for i := range containers {
		if containers[i].Name == name {
			return &containers[i]
		}
	}
	return nil
}

// workspaceGoing reports whether the namespace, or the workspace that owns it, is being
// deleted.
func (r *Reconciler) workspaceGoing(ctx context.Context, namespace string) (bool, string, error) {
	ns := &corev1.Namespace{}
	switch err := r.client.Get(ctx, client.ObjectKey{Name: namespace}, ns); {
	case apierrors.IsNotFound(err):
		return true, "namespace " + namespace + " is gone", nil
	case err != nil:
		return false, "", err
	case ns.DeletionTimestamp != nil:
		return true, "namespace " + namespace + " is being deleted", nil
	}
	owner := metav1.GetControllerOf(ns)
	if owner == nil || owner.Kind != "Workspace" || owner.APIVersion != doradev1.GroupVersion.String() {
		return false, "", nil
	}
	ws := &doradev1.Workspace{}
	switch err := r.client.Get(ctx, client.ObjectKey{Name: owner.Name}, ws); {
	case apierrors.IsNotFound(err):
		return true, "workspace " + owner.Name + " is gone", nil
	case err != nil:
		return false, "", err
	case ws.DeletionTimestamp != nil || ws.UID != owner.UID:
		return true, "workspace " + owner.Name + " is being deleted", nil
	}
	return false, "", nil
}

// writeStatus writes the volume's status when it changed.
func (r *Reconciler) writeStatus(ctx context.Context, vol *doradev1.Volume, status doradev1.VolumeStatus) error {
	if apiequality.Semantic.DeepEqual(vol.Status, status) {
		return nil
	}
	original := vol.DeepCopy()
	vol.Status = status
	if err := r.client.Status().Patch(ctx, vol, client.MergeFrom(original)); err != nil {
		return client.IgnoreNotFound(err)
	}
	return nil
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

// SetupWithManager registers the volume controller and the storage controller, and the
// indexes they list by.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("volume").
		For(&doradev1.Volume{}, builder.WithPredicates(predicates.SpecOrDeletion{})).
		Owns(&batchv1.Job{}).
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
