package volume

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/namespaces"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// directoryMade reports whether the volume's status records its directory as made.
func directoryMade(vol *doradev1.Volume) bool {
	return meta.IsStatusConditionTrue(vol.Status.Conditions, doradev1.VolumeDirectoryReady)
}

// directoryOf is the volume's directory on st: the one its status recorded once it was
// made, or else <mountpath>/<workspace>/<volume>[/<subpath>]. When there is none, invalid
// says why.
func (r *Reconciler) directoryOf(ctx context.Context, vol *doradev1.Volume, st *doradev1.Storage) (dir *nfs.Directory, invalid string, err error) {
	if directoryMade(vol) {
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

// directoryResult is how far the volume's directory is.
type directoryResult struct {
	state dirState
	// message says why the directory failed.
	message string
	// doneJob is a finished mkdir Job of the volume's, to delete once the status records
	// the directory.
	doneJob *batchv1.Job
	// replace: the Job of the mkdir name is the volume's but does other work (made for
	// another directory), or was left by an earlier Volume of its name; it is deleted and
	// made again.
	replace bool
}

// ensureDirectory runs the mkdir Job until it has succeeded or failed. For a directory
// already made, a finished mkdir Job made again from a cache that had not yet seen the
// status (the delete of the first one raced the status write) is cleaned up.
func (r *Reconciler) ensureDirectory(ctx context.Context, vol *doradev1.Volume, dir nfs.Directory) (directoryResult, error) {
	if directoryMade(vol) {
		job := &batchv1.Job{}
		if err := r.client.Get(ctx, r.jobKey(nfs.JobMkdir, client.ObjectKeyFromObject(vol)), job); err == nil {
			switch relationOf(job, nfs.JobMkdir, vol) {
			case jobOurs:
				if outcome, _ := nfs.Outcome(job); outcome != nfs.JobRunning {
					return directoryResult{state: dirCreated, doneJob: job}, nil
				}
			case jobStale:
				return directoryResult{state: dirCreated, doneJob: job}, nil
			}
		}
		return directoryResult{state: dirCreated}, nil
	}
	want, err := nfs.MkdirJob(r.jobInputs(vol), dir)
	if err != nil {
		return directoryResult{state: dirFailed, message: err.Error()}, nil
	}
	job, err := r.ensureJob(ctx, want)
	if err != nil {
		return directoryResult{state: dirPending}, err
	}
	res := mkdirProgress(vol, job, want)
	if res.replace {
		if err := r.client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return res, fmt.Errorf("replacing job %s: %w", job.Name, err)
		}
	}
	return res, nil
}

// mkdirProgress reads how far the directory is from the Job of the mkdir name: job is nil
// when it was only just created.
func mkdirProgress(vol *doradev1.Volume, job, want *batchv1.Job) directoryResult {
	if job == nil {
		return directoryResult{state: dirPending}
	}
	switch relationOf(job, nfs.JobMkdir, vol) {
	case jobForeign:
		return directoryResult{state: dirFailed, message: fmt.Sprintf("Job %s exists and is not this volume's; delete or rename it", job.Name)}
	case jobStale:
		return directoryResult{state: dirPending, replace: true}
	}
	if !sameWork(job, want) {
		return directoryResult{state: dirPending, replace: true}
	}
	switch outcome, msg := nfs.Outcome(job); outcome {
	case nfs.JobSucceeded:
		return directoryResult{state: dirCreated, doneJob: job}
	case nfs.JobFailed:
		return directoryResult{state: dirFailed, message: msg + "; delete the Job to try again"}
	}
	return directoryResult{state: dirPending}
}

// ensureJob returns the Job of want's name, creating it when it does not exist; nil when it
// was just created. It has no owner reference (it runs in the manager's namespace, and its
// Volume is in another): its labels and annotation say whose it is. A Job of that name the
// cache does not hold (not labelled, so not ours) is read from the API server, for the
// caller to refuse.
func (r *Reconciler) ensureJob(ctx context.Context, want *batchv1.Job) (*batchv1.Job, error) {
	job := &batchv1.Job{}
	switch err := r.client.Get(ctx, client.ObjectKeyFromObject(want), job); {
	case err == nil:
		return job, nil
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("reading job %s: %w", want.Name, err)
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
