package workspace

import (
	"context"
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// Kinds a clone copies.
const (
	kindVolume   = "Volume"
	kindWorkload = "Workload"
)

// clone fills a new workspace with copies of its source's objects: each Volume (a new
// directory; with copyData, a Job copies the data once both directories exist) and each
// Workload, paused. The objects are the source's when the clone started, recorded in
// status.clone.objects. Copies have the source's names and carry dora.dev/cloned-from, so a
// manager restarted mid-clone finds what it made and makes nothing twice. It updates
// ws.Status; the caller writes it.
func (r *Reconciler) clone(ctx context.Context, ws *doradev1.Workspace, namespace string) error {
	// What the status read here records is written: the Jobs it records as done may go.
	if err := r.deleteCopyJobs(ctx, ws); err != nil {
		return err
	}
	status := ws.Status.Clone
	if status != nil && status.Phase != doradev1.CloneRunning {
		return nil
	}
	sourceNS := naming.WorkspaceNamespace(ws.Spec.CloneFrom)
	if status == nil {
		src := &doradev1.Workspace{}
		switch err := r.client.Get(ctx, types.NamespacedName{Name: ws.Spec.CloneFrom}, src); {
		case apierrors.IsNotFound(err):
			setCloned(ws, metav1.ConditionFalse, doradev1.ReasonSourceNotFound,
				fmt.Sprintf("workspace %s does not exist; the clone starts when it does", ws.Spec.CloneFrom))
			return nil
		case err != nil:
			return fmt.Errorf("reading workspace %s: %w", ws.Spec.CloneFrom, err)
		}
		objects, err := r.cloneObjects(ctx, sourceNS)
		if err != nil {
			return err
		}
		now := metav1.NewTime(r.clock.Now())
		status = &doradev1.CloneStatus{Source: ws.Spec.CloneFrom, Phase: doradev1.CloneRunning, StartTime: &now, Objects: objects}
		ws.Status.Clone = status
	}

	for i := range status.Objects {
		obj := &status.Objects[i]
		if obj.State == doradev1.CloneDone || obj.State == doradev1.CloneFailed {
			continue
		}
		var st objectState
		var err error
		switch obj.Kind {
		case kindVolume:
			st, err = r.cloneVolume(ctx, ws, sourceNS, namespace, obj.Name)
		case kindWorkload:
			st, err = r.cloneWorkload(ctx, ws, sourceNS, namespace, obj.Name)
		default:
			st = objectState{doradev1.CloneFailed, "this manager does not clone kind " + obj.Kind}
		}
		if err != nil {
			return err
		}
		obj.State, obj.Message = st.state, st.message
	}
	summarizeClone(ws, r.clock.Now())
	return nil
}

// cloneObjects lists what a clone of the workspace in namespace copies: its volumes, then
// its workloads, each by name.
func (r *Reconciler) cloneObjects(ctx context.Context, namespace string) ([]doradev1.ClonedObject, error) {
	vols := &doradev1.VolumeList{}
	if err := r.client.List(ctx, vols, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing the source's volumes: %w", err)
	}
	wls := &doradev1.WorkloadList{}
	if err := r.client.List(ctx, wls, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing the source's workloads: %w", err)
	}
	objects := []doradev1.ClonedObject{}
	for _, v := range vols.Items {
		if v.DeletionTimestamp == nil {
			objects = append(objects, doradev1.ClonedObject{Kind: kindVolume, Name: v.Name, State: doradev1.ClonePending})
		}
	}
	for _, w := range wls.Items {
		if w.DeletionTimestamp == nil {
			objects = append(objects, doradev1.ClonedObject{Kind: kindWorkload, Name: w.Name, State: doradev1.ClonePending})
		}
	}
	slices.SortStableFunc(objects, func(a, b doradev1.ClonedObject) int {
		if a.Kind != b.Kind {
			// Volumes first: the workloads mount them.
			return strings.Compare(a.Kind, b.Kind)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return objects, nil
}

// findCopy reads the source object of kind named name into src and the object of its name
// in the clone's namespace into dst, and says what it found.
func (r *Reconciler) findCopy(ctx context.Context, kind string, src, dst client.Object, sourceNS, namespace, name string) (copySituation, error) {
	switch err := r.client.Get(ctx, types.NamespacedName{Namespace: sourceNS, Name: name}, src); {
	case apierrors.IsNotFound(err):
		return sourceGone, nil
	case err != nil:
		return sourceGone, fmt.Errorf("reading the source %s %s/%s: %w", kind, sourceNS, name, err)
	}
	switch err := r.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, dst); {
	case apierrors.IsNotFound(err):
		return copyMissing, nil
	case err != nil:
		return copyMissing, fmt.Errorf("reading %s %s/%s: %w", kind, namespace, name, err)
	}
	if !madeByClone(dst, sourceNS, name) {
		return copyForeign, nil
	}
	return copyOurs, nil
}

// createCopy creates a copy and says where its object then stands (see stateAfterCreate).
func (r *Reconciler) createCopy(ctx context.Context, obj client.Object, made objectState) (objectState, error) {
	err := r.client.Create(ctx, obj)
	if st, ok := stateAfterCreate(err, made); ok {
		return st, nil
	}
	kind := "object"
	if gvk, gvkErr := r.client.GroupVersionKindFor(obj); gvkErr == nil {
		kind = gvk.Kind
	}
	return objectState{}, fmt.Errorf("creating %s %s: %w", kind, obj.GetName(), err)
}

// cloneVolume copies one volume and, with copyData, its data.
func (r *Reconciler) cloneVolume(ctx context.Context, ws *doradev1.Workspace, sourceNS, namespace, name string) (objectState, error) {
	src, dst := &doradev1.Volume{}, &doradev1.Volume{}
	found, err := r.findCopy(ctx, kindVolume, src, dst, sourceNS, namespace, name)
	if err != nil {
		return objectState{}, err
	}
	switch step := copyStep(kindVolume, name, namespace, found, ws.Spec.CopyData); {
	case step.create:
		return r.createCopy(ctx, volumeCopy(src, namespace, ws.Annotations[doradev1.AnnotationOwner]), step.state)
	case step.copyData:
		return r.copyData(ctx, ws, src, dst)
	default:
		return step.state, nil
	}
}

// copyData runs the Job that copies src's data into dst, once both directories exist. The
// Job mounts both exports' roots, so it runs in the manager's namespace, not the clone's.
func (r *Reconciler) copyData(ctx context.Context, ws *doradev1.Workspace, src, dst *doradev1.Volume) (objectState, error) {
	if wait, waiting := directoryWait(src, dst); waiting {
		return wait, nil
	}
	from, err := r.directory(ctx, src, ws.Spec.CloneFrom)
	if err != nil {
		return objectState{doradev1.CloneCopying, err.Error()}, nil
	}
	to, err := r.directory(ctx, dst, ws.Name)
	if err != nil {
		return objectState{doradev1.CloneCopying, err.Error()}, nil
	}
	want, err := nfs.CopyJob(nfs.JobInputs{
		Namespace: r.copyJobNamespace(dst.Namespace),
		Volume:    client.ObjectKeyFromObject(dst),
		VolumeUID: dst.UID,
		Image:     r.opts.HelperImage,
	}, from, to)
	if err != nil {
		return objectState{doradev1.CloneFailed, err.Error()}, nil
	}
	want.Annotations[doradev1.AnnotationClonedFrom] = src.Namespace + "/" + src.Name
	var found *batchv1.Job
	job := want.DeepCopy()
	switch err := r.client.Get(ctx, client.ObjectKeyFromObject(want), job); {
	case err == nil:
		found = job
	case !apierrors.IsNotFound(err):
		return objectState{}, fmt.Errorf("reading job %s: %w", want.Name, err)
	}
	step := jobStep(ws, dst, want.Name, found, from)
	if step.create {
		// The Workspace is cluster-scoped, so it can own a Job in the manager's namespace:
		// the garbage collector takes the Job when the workspace goes.
		if err := ctrl.SetControllerReference(ws, want, r.client.Scheme()); err != nil {
			return objectState{}, err
		}
		if err := r.client.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
			return objectState{}, fmt.Errorf("creating job %s: %w", want.Name, err)
		}
	}
	return step.state, nil
}

// copyJobNamespace is where the Job copying data into a volume of namespace runs: the
// manager's namespace, or, when the controller was given none (unit tests), the volume's.
func (r *Reconciler) copyJobNamespace(namespace string) string {
	if r.opts.HelperNamespace != "" {
		return r.opts.HelperNamespace
	}
	return namespace
}

// deleteCopyJobs deletes the finished copy Jobs of the volumes whose data ws's status
// records as copied: the outcome is kept there now, and nothing else would take the Jobs
// away before the workspace goes (it owns them). A failed copy's Job stays until then, for
// its logs. ws's status must be one that was written: as read at the start of a reconcile
// (clone calls it so, before changing it), or as the status write returned it; a Job whose
// outcome is not yet recorded must stay, or a lost write would copy the data again.
func (r *Reconciler) deleteCopyJobs(ctx context.Context, ws *doradev1.Workspace) error {
	if ws.Status.Clone == nil || !ws.Spec.CopyData {
		return nil
	}
	namespace := naming.WorkspaceNamespace(ws.Name)
	for _, obj := range ws.Status.Clone.Objects {
		if obj.Kind != kindVolume || obj.State != doradev1.CloneDone {
			continue
		}
		job := &batchv1.Job{}
		key := types.NamespacedName{Namespace: r.copyJobNamespace(namespace), Name: nfs.JobName(nfs.JobCopy, namespace, obj.Name)}
		switch err := r.client.Get(ctx, key, job); {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return fmt.Errorf("reading job %s: %w", key.Name, err)
		}
		if !copyJobOf(job, ws, types.NamespacedName{Namespace: namespace, Name: obj.Name}) || job.DeletionTimestamp != nil {
			continue
		}
		if outcome, _ := nfs.Outcome(job); outcome != nfs.JobSucceeded {
			continue
		}
		if err := r.client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting job %s: %w", key.Name, err)
		}
		ctrl.LoggerFrom(ctx).Info("Deleted a finished copy Job", "job", klog.KObj(job))
	}
	return nil
}

// directory is where vol, of workspace, keeps its data.
func (r *Reconciler) directory(ctx context.Context, vol *doradev1.Volume, workspace string) (nfs.Directory, error) {
	st := &doradev1.Storage{}
	if err := r.client.Get(ctx, types.NamespacedName{Name: vol.Spec.Storage}, st); err != nil {
		return nfs.Directory{}, fmt.Errorf("waiting for Storage %s: %w", vol.Spec.Storage, err)
	}
	return nfs.VolumeDirectory(st, workspace, vol)
}

// cloneWorkload copies one workload, paused.
func (r *Reconciler) cloneWorkload(ctx context.Context, ws *doradev1.Workspace, sourceNS, namespace, name string) (objectState, error) {
	src, dst := &doradev1.Workload{}, &doradev1.Workload{}
	found, err := r.findCopy(ctx, kindWorkload, src, dst, sourceNS, namespace, name)
	if err != nil {
		return objectState{}, err
	}
	step := copyStep(kindWorkload, name, namespace, found, false)
	if step.create {
		return r.createCopy(ctx, workloadCopy(src, namespace, ws.Annotations[doradev1.AnnotationOwner]), step.state)
	}
	return step.state, nil
}

// emitCloneEvents tells the user when a clone ends, after the status was written.
func (r *Reconciler) emitCloneEvents(ws *doradev1.Workspace, before *doradev1.WorkspaceStatus) {
	now := meta.FindStatusCondition(ws.Status.Conditions, doradev1.WorkspaceCloned)
	was := meta.FindStatusCondition(before.Conditions, doradev1.WorkspaceCloned)
	if now == nil || (was != nil && was.Reason == now.Reason) {
		return
	}
	switch now.Reason {
	case doradev1.ReasonCloneComplete:
		r.recorder.Eventf(ws, nil, corev1.EventTypeNormal, now.Reason, "Clone", "%s", now.Message)
	case doradev1.ReasonCloneFailed, doradev1.ReasonSourceNotFound:
		r.recorder.Eventf(ws, nil, corev1.EventTypeWarning, now.Reason, "Clone", "%s", now.Message)
	}
}
