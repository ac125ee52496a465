// Package workspace reconciles Workspaces into the namespaces that hold their objects.
package workspace

import (
	"context"
	"fmt"
	"maps"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/finalizers"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/controller/predicates"
	"github.com/dora-hpc/dora-operator/internal/controller/statuspatch"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// Reconciler makes each Workspace's namespace exist, owned by it and labelled with its
// workspace and Pod Security level; fills a clone; and takes a deleted workspace down in
// order.
type Reconciler struct {
	client   client.Client
	recorder events.EventRecorder
	clock    clock.PassiveClock
	opts     Options
}

// NewReconciler returns a Reconciler using the manager's client and an event recorder;
// opts say where and with which image the Jobs that copy a clone's data run.
func NewReconciler(c client.Client, recorder events.EventRecorder, clk clock.PassiveClock, opts Options) *Reconciler {
	return &Reconciler{client: c, recorder: recorder, clock: clk, opts: opts}
}

// Options configure the workspace controller.
type Options struct {
	// HelperImage runs the Jobs that copy a clone's data (nfs.DefaultHelperImage when empty).
	HelperImage string
	// HelperNamespace is where those Jobs run: the manager's own namespace, so no tenant can
	// reach a pod that mounts an export's root.
	HelperNamespace string
}

// +kubebuilder:rbac:groups=dora.dev,resources=workspaces,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=dora.dev,resources=workspaces/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=dora.dev,resources=workspaces/finalizers,verbs=update
// +kubebuilder:rbac:groups=dora.dev,resources=workloads;volumes,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile keeps a workspace's namespace, owned by it, and fills a clone; or takes a
// deleted workspace down. Either way it writes the status once, then tells the user what
// changed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ws := &doradev1.Workspace{}
	if err := r.client.Get(ctx, req.NamespacedName, ws); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	deleting := ws.DeletionTimestamp != nil
	if !deleting {
		if err := finalizers.Ensure(ctx, r.client, ws, doradev1.FinalizerWorkspace); err != nil {
			return ctrl.Result{}, err
		}
	}

	original := ws.DeepCopy()
	var ns namespaceOutcome
	var release bool
	var err error
	if deleting {
		release, err = r.teardown(ctx, ws)
	} else {
		ns, err = r.keepNamespace(ctx, ws)
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	wrote, err := statuspatch.Write(ctx, r.client, original, ws)
	if err != nil {
		return ctrl.Result{}, err
	}
	if wrote {
		r.emitEvents(ws, &original.Status, ns)
	}
	if !deleting {
		// A copy Job whose work the status now records is no longer needed.
		if err := r.deleteCopyJobs(ctx, ws); err != nil {
			return ctrl.Result{}, err
		}
	}
	if release {
		return ctrl.Result{}, r.release(ctx, ws)
	}
	return ctrl.Result{}, nil
}

// namespaceOutcome is what keepNamespace found of the workspace's namespace and did to it,
// for the events. The zero value (a workspace being taken down) tells of nothing.
type namespaceOutcome struct {
	name    string
	state   namespaceState
	created bool
}

// keepNamespace creates the workspace's namespace when it is missing, keeps its labels in
// line with the spec when it is the workspace's, sets the status to whose it is and fills
// a clone. It changes ws.Status only; the caller writes it.
func (r *Reconciler) keepNamespace(ctx context.Context, ws *doradev1.Workspace) (namespaceOutcome, error) {
	out := namespaceOutcome{name: naming.WorkspaceNamespace(ws.Name)}
	var ns *corev1.Namespace
	found := &corev1.Namespace{}
	switch err := r.client.Get(ctx, types.NamespacedName{Name: out.name}, found); {
	case err == nil:
		ns = found
	case !apierrors.IsNotFound(err):
		return out, fmt.Errorf("reading namespace %s: %w", out.name, err)
	}

	out.state = classify(ws, ns)
	if out.state == namespaceMissing {
		ns = newNamespace(ws, out.name)
		if err := ctrl.SetControllerReference(ws, ns, r.client.Scheme()); err != nil {
			return out, err
		}
		switch err := r.client.Create(ctx, ns); {
		case err == nil:
			ctrl.LoggerFrom(ctx).Info("Created the workspace's namespace", "namespace", klog.KObj(ns))
			out.state, out.created = namespaceOwned, true
		case apierrors.IsAlreadyExists(err):
			// Someone else took the name between our read and our create; the namespace
			// watch brings us back to look at it. The status is left as it is.
			return namespaceOutcome{}, nil
		default:
			return out, fmt.Errorf("creating namespace %s: %w", out.name, err)
		}
	}

	if out.state == namespaceOwned && !out.created {
		if err := r.keepNamespaceLabels(ctx, ws, ns); err != nil {
			return out, err
		}
	}

	ws.Status.ObservedGeneration = ws.Generation
	ws.Status.Namespace = ""
	if out.state == namespaceOwned {
		ws.Status.Namespace = out.name
	}
	for _, c := range conditionsFor(out.name, out.state) {
		c.ObservedGeneration = ws.Generation
		meta.SetStatusCondition(&ws.Status.Conditions, c)
	}
	if out.state == namespaceOwned && ws.Spec.CloneFrom != "" {
		if err := r.clone(ctx, ws, out.name); err != nil {
			return out, err
		}
	}
	setKStatus(ws)
	return out, nil
}

// emitEvents tells the user what changed, after the status write succeeded: the namespace
// made or clashing, the clone ended, the teardown at a new step.
func (r *Reconciler) emitEvents(ws *doradev1.Workspace, before *doradev1.WorkspaceStatus, ns namespaceOutcome) {
	switch {
	case ns.created:
		r.recorder.Eventf(ws, nil, corev1.EventTypeNormal, doradev1.ReasonNamespaceCreated, "CreateNamespace", "Created namespace %s", ns.name)
	case ns.state == namespaceForeign && !meta.IsStatusConditionPresentAndEqual(before.Conditions, doradev1.WorkspaceNamespaceReady, metav1.ConditionFalse):
		r.recorder.Eventf(ws, nil, corev1.EventTypeWarning, doradev1.ReasonNamespaceClash, "ClaimNamespace",
			"Namespace %s exists and does not belong to this workspace; it is left untouched", ns.name)
	}
	r.emitCloneEvents(ws, before)
	if step := teardownNews(before.Conditions, ws.Status.Conditions); step != nil {
		r.recorder.Eventf(ws, nil, corev1.EventTypeNormal, step.Reason, "DeleteWorkspace", "%s", step.Message)
	}
}

// newNamespace is the workspace's namespace as it is created, with the labels
// namespaceLabels keeps on it.
func newNamespace(ws *doradev1.Workspace, name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: namespaceLabels(ws),
	}}
}

// keepNamespaceLabels patches the labels namespaceLabels wants onto the workspace's own
// namespace where they are missing or differ (spec.podSecurity changed, or someone edited
// them), and touches no other label. A namespace in line costs no write.
func (r *Reconciler) keepNamespaceLabels(ctx context.Context, ws *doradev1.Workspace, ns *corev1.Namespace) error {
	set := labelsToSet(ns.Labels, namespaceLabels(ws))
	if len(set) == 0 {
		return nil
	}
	patch := client.MergeFrom(ns.DeepCopy())
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	maps.Copy(ns.Labels, set)
	if err := r.client.Patch(ctx, ns, patch); err != nil {
		return fmt.Errorf("labelling namespace %s: %w", ns.Name, err)
	}
	ctrl.LoggerFrom(ctx).Info("Labelled the workspace's namespace", "namespace", klog.KObj(ns), "labels", set)
	return nil
}

// SetupWithManager registers the controller: it watches Workspaces, the namespaces they own,
// and any namespace whose name a workspace wants (so a clash clears when it goes away).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	busy := handler.EnqueueRequestsFromMapFunc(r.busyWorkspaces)
	return ctrl.NewControllerManagedBy(mgr).
		Named("workspace").
		For(&doradev1.Workspace{}, builder.WithPredicates(predicates.SpecOrDeletion{})).
		Owns(&batchv1.Job{}).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.workspacesWanting)).
		Watches(&doradev1.Workspace{}, handler.EnqueueRequestsFromMapFunc(r.clonesOf), builder.WithPredicates(predicates.SpecOrDeletion{})).
		Watches(&doradev1.Workload{}, busy).
		Watches(&doradev1.Volume{}, busy).
		Watches(&corev1.Pod{}, busy, builder.WithPredicates(predicate.Funcs{
			// Only a pod's going matters, to a workspace being taken down.
			CreateFunc: func(event.CreateEvent) bool { return false },
			UpdateFunc: func(e event.UpdateEvent) bool { return e.ObjectNew.GetDeletionTimestamp() != nil },
		})).
		Watches(&corev1.PersistentVolumeClaim{}, busy).
		Complete(r)
}

// busyWorkspaces maps an object in a workspace's namespace to that workspace when it is
// being taken down or cloned, and to the clones of that workspace that are still running:
// those wait on the objects of their namespace or of their source.
func (r *Reconciler) busyWorkspaces(ctx context.Context, obj client.Object) []reconcile.Request {
	cloning := func(ws *doradev1.Workspace) bool {
		return ws.Spec.CloneFrom != "" && (ws.Status.Clone == nil || ws.Status.Clone.Phase == doradev1.CloneRunning)
	}
	return append(
		r.workspacesIndexed(ctx, indexes.WorkspaceNamespace, obj.GetNamespace(), func(ws *doradev1.Workspace) bool {
			return ws.DeletionTimestamp != nil || cloning(ws)
		}),
		r.workspacesIndexed(ctx, indexes.WorkspaceCloneSource, obj.GetNamespace(), cloning)...)
}

// clonesOf maps a workspace to the workspaces that clone it (they wait for it to exist).
func (r *Reconciler) clonesOf(ctx context.Context, obj client.Object) []reconcile.Request {
	return r.workspacesIndexed(ctx, indexes.WorkspaceCloneSource, naming.WorkspaceNamespace(obj.GetName()), nil)
}

// workspacesWanting maps a namespace to the workspaces whose namespace has its name.
func (r *Reconciler) workspacesWanting(ctx context.Context, ns client.Object) []reconcile.Request {
	return r.workspacesIndexed(ctx, indexes.WorkspaceNamespace, ns.GetName(), nil)
}

// workspacesIndexed lists the workspaces whose index holds value and that keep (all when
// keep is nil) accepts, as requests.
func (r *Reconciler) workspacesIndexed(ctx context.Context, index, value string, keep func(*doradev1.Workspace) bool) []reconcile.Request {
	list := &doradev1.WorkspaceList{}
	if err := r.client.List(ctx, list, client.MatchingFields{index: value}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing workspaces", "index", index, "value", value)
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		if keep == nil || keep(&list.Items[i]) {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: list.Items[i].Name}})
		}
	}
	return reqs
}
