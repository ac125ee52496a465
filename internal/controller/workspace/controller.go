// Package workspace reconciles Workspaces into the namespaces that hold their objects.
package workspace

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
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
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// Reconciler makes each Workspace's namespace exist, owned by it; fills a clone; and takes
// a deleted workspace down in order.
type Reconciler struct {
	client      client.Client
	recorder    events.EventRecorder
	clock       clock.PassiveClock
	helperImage string
}

// NewReconciler returns a Reconciler using the manager's client and an event recorder;
// helperImage runs the Jobs that copy a clone's data.
func NewReconciler(c client.Client, recorder events.EventRecorder, clk clock.PassiveClock, helperImage string) *Reconciler {
	return &Reconciler{client: c, recorder: recorder, clock: clk, helperImage: helperImage}
}

// +kubebuilder:rbac:groups=dora.dev,resources=workspaces,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=dora.dev,resources=workspaces/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=dora.dev,resources=workspaces/finalizers,verbs=update
// +kubebuilder:rbac:groups=dora.dev,resources=workloads;volumes,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile creates the workspace's namespace when it is missing and reports whose it is.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	ws := &doradev1.Workspace{}
	if err := r.client.Get(ctx, req.NamespacedName, ws); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if ws.DeletionTimestamp != nil {
		return ctrl.Result{}, r.teardown(ctx, ws)
	}
	if err := finalizers.Ensure(ctx, r.client, ws, doradev1.FinalizerWorkspace); err != nil {
		return ctrl.Result{}, err
	}

	nsName := naming.WorkspaceNamespace(ws.Name)
	var ns *corev1.Namespace
	found := &corev1.Namespace{}
	switch err := r.client.Get(ctx, types.NamespacedName{Name: nsName}, found); {
	case err == nil:
		ns = found
	case !apierrors.IsNotFound(err):
		return ctrl.Result{}, fmt.Errorf("reading namespace %s: %w", nsName, err)
	}

	state := classify(ws, ns)
	created := false
	if state == namespaceMissing {
		ns = newNamespace(ws, nsName)
		if err := ctrl.SetControllerReference(ws, ns, r.client.Scheme()); err != nil {
			return ctrl.Result{}, err
		}
		switch err := r.client.Create(ctx, ns); {
		case err == nil:
			log.Info("Created the workspace's namespace", "namespace", klog.KObj(ns))
			state, created = namespaceOwned, true
		case apierrors.IsAlreadyExists(err):
			// Someone else took the name between our read and our create; the namespace
			// watch brings us back to look at it.
			return ctrl.Result{}, nil
		default:
			return ctrl.Result{}, fmt.Errorf("creating namespace %s: %w", nsName, err)
		}
	}

	original := ws.DeepCopy()
	before := &original.Status
	ws.Status.ObservedGeneration = ws.Generation
	ws.Status.Namespace = ""
	if state == namespaceOwned {
		ws.Status.Namespace = nsName
	}
	for _, c := range conditionsFor(nsName, state) {
		c.ObservedGeneration = ws.Generation
		meta.SetStatusCondition(&ws.Status.Conditions, c)
	}
	if state == namespaceOwned && ws.Spec.CloneFrom != "" {
		if err := r.clone(ctx, ws, nsName); err != nil {
			return ctrl.Result{}, err
		}
	}
	if apiequality.Semantic.DeepEqual(before, &ws.Status) {
		return ctrl.Result{}, nil
	}
	// A merge patch: the status is computed whole, so a cache a moment behind our last
	// write costs no conflict.
	if err := r.client.Status().Patch(ctx, ws, client.MergeFrom(original)); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing workspace status: %w", err)
	}
	r.emitEvents(ws, before, state, nsName, created)
	r.emitCloneEvents(ws, before)
	return ctrl.Result{}, nil
}

// emitEvents tells the user what changed, after the status write succeeded.
func (r *Reconciler) emitEvents(ws *doradev1.Workspace, before *doradev1.WorkspaceStatus, state namespaceState, nsName string, created bool) {
	switch {
	case created:
		r.recorder.Eventf(ws, nil, corev1.EventTypeNormal, doradev1.ReasonNamespaceCreated, "CreateNamespace", "Created namespace %s", nsName)
	case state == namespaceForeign && !meta.IsStatusConditionPresentAndEqual(before.Conditions, doradev1.WorkspaceNamespaceReady, metav1.ConditionFalse):
		r.recorder.Eventf(ws, nil, corev1.EventTypeWarning, doradev1.ReasonNamespaceClash, "ClaimNamespace",
			"Namespace %s exists and does not belong to this workspace; it is left untouched", nsName)
	}
}

func newNamespace(ws *doradev1.Workspace, name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{doradev1.LabelWorkspace: ws.Name},
	}}
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
