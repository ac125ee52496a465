package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// A workload's revision history (kubectl dora history and rollback) is kept as
// ControllerRevisions, each holding the spec of one revision, but not from the start: while
// a workload has had one revision, its spec is that revision and nothing is written for it.
// The first spec change records both the revision it replaces (number 1) and the new one
// (number 2); every later revision is recorded as it becomes current.
//
// By the time the first change is reconciled the replaced spec is gone from the Workload.
// The manager keeps it from the watch's update (the old object's spec, in memory until the
// reconcile takes it); a manager that did not see the update (down, or not the leader then)
// reads it from replica 0, which carries it in AnnotationRevisionSpec, before the replica
// is replaced. When neither has it (a paused workload, without pods, changed while no
// manager watched), history starts at the new revision and a Warning event says so.

// AnnotationRevisionSpec holds, on replica 0 of a workload, the revision its pod was made
// from as a ControllerRevision of it would (revisionData). One replica is enough: the spec is
// read only from the pod being replaced, and replica 0 is the last one a scale-down
// removes; on every replica it would cost each pod's create and every watch of pods its
// size again, for no more than a workload whose replica 0 was just then missing.
const AnnotationRevisionSpec = "dora.dev/revision-spec"

// maxRevisionAnnotation is the largest revision a pod carries: a spec past it (nearly all
// config.env) would crowd the 256 KiB the API server allows a pod's annotations, and its
// history relies on the watch alone.
const maxRevisionAnnotation = 64 << 10

// EventRevisionNotRecorded says a revision the workload ran could not be kept in its history.
const EventRevisionNotRecorded = "RevisionNotRecorded"

// replacedRevision is a revision a spec change replaced, kept from the watch's update until
// the reconcile records it.
type replacedRevision struct {
	hash string
	data []byte
}

// revisionData is what a ControllerRevision of spec holds: the spec but replica.count and
// paused, which are no part of a revision.
func revisionData(spec *doradev1.WorkloadSpec) ([]byte, error) {
	s := spec.DeepCopy()
	s.Replica, s.Paused = nil, false
	return json.Marshal(s)
}

// keepReplacedRevision lets every event through and, on an update that changes the
// pod-template hash, keeps the old object's revision for the reconcile that follows
// (recordRevision takes it, or drops it when the history already has it). The oldest one
// kept wins: it is the revision the pods run, whatever the updates between.
func (r *Reconciler) keepReplacedRevision() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		before, okOld := e.ObjectOld.(*doradev1.Workload)
		after, okNew := e.ObjectNew.(*doradev1.Workload)
		if !okOld || !okNew || before.Generation == after.Generation {
			return true
		}
		hash := podspec.TemplateHash(before)
		if hash == podspec.TemplateHash(after) {
			return true
		}
		key := client.ObjectKeyFromObject(after)
		if _, kept := r.replaced.Load(key); kept {
			return true
		}
		if data, err := revisionData(&before.Spec); err == nil {
			r.replaced.LoadOrStore(key, replacedRevision{hash: hash, data: data})
		}
		return true
	}}
}

// history is what this manager knows of a workload's history: the revision it is up to
// date with, and the highest revision number it holds (0: none, the workload has had one
// revision). It spares the reconciles that follow a write (before the cache has the
// ControllerRevisions just made) from writing again, or numbering from a history that lags.
type history struct {
	revision string
	latest   int64
}

// recordRevision keeps the workload's history up to date with revision, before any pod is
// replaced (replica 0 of the revision replaced may be needed to record it). It writes
// nothing for a workload's first revision, two ControllerRevisions at its first change,
// one at each later change, and prunes to the newest historyLimit.
func (r *Reconciler) recordRevision(ctx context.Context, wl *doradev1.Workload, revision string, pods []*corev1.Pod) error {
	key := client.ObjectKeyFromObject(wl)
	var known history
	if h, ok := r.recorded.Load(key); ok {
		known = h.(history)
	}
	if known.revision == revision {
		if known.latest > 0 {
			r.replaced.Delete(key)
		}
		return nil
	}
	owned, err := r.ownedRevisions(ctx, wl)
	if err != nil {
		return err
	}
	latest, recorded := known.latest, false
	for _, cr := range owned {
		latest = max(latest, cr.Revision)
		recorded = recorded || cr.Labels[podspec.LabelRevision] == revision
	}
	if recorded {
		r.settleHistory(key, history{revision: revision, latest: latest})
		return nil
	}
	data, err := revisionData(&wl.Spec)
	if err != nil {
		return err
	}
	if latest > 0 {
		if _, err := r.createRevision(ctx, wl, revision, data, latest+1); err != nil {
			return err
		}
		if err := r.pruneRevisions(ctx, owned); err != nil {
			return err
		}
		r.settleHistory(key, history{revision: revision, latest: latest + 1})
		return nil
	}

	// No history yet: this is the workload's first revision, or its first change.
	var previous string
	var previousData []byte
	if kept, ok := r.replaced.Load(key); ok && kept.(replacedRevision).hash != revision {
		previous, previousData = kept.(replacedRevision).hash, kept.(replacedRevision).data
	} else {
		previous = previousRevision(wl, revision, pods)
	}
	if previous == "" {
		// A replaced spec kept for this revision stays: an update away from it may be on its
		// way to the next reconcile.
		r.recorded.Store(key, history{revision: revision})
		return nil
	}
	if previousData == nil {
		if previousData, err = r.revisionOnPod(ctx, wl, previous); err != nil {
			return err
		}
	}
	if previousData != nil {
		if _, err := r.createRevision(ctx, wl, previous, previousData, 1); err != nil {
			return err
		}
	}
	created, err := r.createRevision(ctx, wl, revision, data, 2)
	if err != nil {
		return err
	}
	if previousData == nil && created {
		ctrl.LoggerFrom(ctx).Info("The revision a spec change replaced is nowhere to be read; the history starts at the new one",
			"replaced", previous, "revision", revision)
		r.recorder.Eventf(wl, nil, corev1.EventTypeWarning, EventRevisionNotRecorded, "RecordRevision",
			"Revision 1 (%s) could not be recorded: the spec changed while no manager watched, and no pod of it was left to read it from; the history starts at revision 2 (%s)",
			previous, revision)
	}
	r.settleHistory(key, history{revision: revision, latest: 2})
	return nil
}

// settleHistory notes what the workload's history holds now, and drops the replaced spec
// kept for it: with a ControllerRevision in the history, every later revision is recorded
// from the workload itself.
func (r *Reconciler) settleHistory(key types.NamespacedName, h history) {
	r.recorded.Store(key, h)
	r.replaced.Delete(key)
}

// previousRevision is the revision the workload ran before revision, as its status and its
// pods say (the lowest replica's first); "" when it has run no other.
func previousRevision(wl *doradev1.Workload, revision string, pods []*corev1.Pod) string {
	if current := wl.Status.CurrentRevision; current != "" && current != revision {
		return current
	}
	for _, pod := range sortedByIndex(pods) {
		if hash := pod.Labels[podspec.LabelRevision]; hash != "" && hash != revision {
			return hash
		}
	}
	return ""
}

// revisionOnPod reads revision from the annotation of the workload's replica 0, straight
// from the API server (the cache keeps no pod annotations); nil when that pod is gone, of
// another revision, or carries none.
func (r *Reconciler) revisionOnPod(ctx context.Context, wl *doradev1.Workload, revision string) ([]byte, error) {
	pod := &metav1.PartialObjectMetadata{}
	pod.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	err := r.apiReader.Get(ctx, types.NamespacedName{Namespace: wl.Namespace, Name: podspec.PodName(wl, 0)}, pod)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the revision replica 0 was made from: %w", err)
	}
	data := pod.Annotations[AnnotationRevisionSpec]
	if !metav1.IsControlledBy(pod, wl) || pod.Labels[podspec.LabelRevision] != revision || data == "" {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(data), &doradev1.WorkloadSpec{}); err != nil {
		return nil, nil
	}
	return []byte(data), nil
}

// ownedRevisions lists the ControllerRevisions this workload controls.
func (r *Reconciler) ownedRevisions(ctx context.Context, wl *doradev1.Workload) ([]*appsv1.ControllerRevision, error) {
	list := &appsv1.ControllerRevisionList{}
	if err := r.client.List(ctx, list, client.InNamespace(wl.Namespace), client.MatchingFields{indexes.ControllerWorkload: wl.Name}); err != nil {
		return nil, fmt.Errorf("listing revisions: %w", err)
	}
	var owned []*appsv1.ControllerRevision
	for i := range list.Items {
		if metav1.IsControlledBy(&list.Items[i], wl) {
			owned = append(owned, &list.Items[i])
		}
	}
	return owned, nil
}

// createRevision records one revision as number, and reports whether it made it (false:
// it was there already).
func (r *Reconciler) createRevision(ctx context.Context, wl *doradev1.Workload, revision string, data []byte, number int64) (bool, error) {
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: wl.Namespace,
			Name:      revisionName(wl.Name, revision),
			Labels: map[string]string{
				podspec.LabelWorkload: naming.WorkloadLabelValue(wl.Name),
				podspec.LabelRevision: revision,
			},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: number,
	}
	if err := ctrl.SetControllerReference(wl, cr, r.client.Scheme()); err != nil {
		return false, err
	}
	switch err := r.client.Create(ctx, cr); {
	case err == nil:
		return true, nil
	case apierrors.IsAlreadyExists(err):
		return false, nil
	default:
		return false, fmt.Errorf("recording revision %s: %w", revision, err)
	}
}

// pruneRevisions deletes the oldest of owned (the history before the newest revision was
// added) beyond historyLimit, counting the one just added.
func (r *Reconciler) pruneRevisions(ctx context.Context, owned []*appsv1.ControllerRevision) error {
	slices.SortFunc(owned, func(a, b *appsv1.ControllerRevision) int { return int(b.Revision - a.Revision) })
	for i := r.historyLimit - 1; i < len(owned); i++ {
		if err := r.client.Delete(ctx, owned[i]); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("pruning revision %s: %w", owned[i].Name, err)
		}
	}
	return nil
}

func revisionName(workloadName, revision string) string {
	const max = 253
	if n := len(workloadName) + 1 + len(revision); n > max {
		workloadName = strings.TrimRight(workloadName[:max-1-len(revision)], ".-")
	}
	return workloadName + "-" + revision
}

// annotateRevision puts the workload's revision on the pod of replica 0 (see
// AnnotationRevisionSpec); data is revisionData of its spec.
func annotateRevision(pod *corev1.Pod, index int32, data []byte) {
	if index != 0 || len(data) == 0 || len(data) > maxRevisionAnnotation {
		return
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[AnnotationRevisionSpec] = string(data)
}
