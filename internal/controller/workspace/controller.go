// Package workspace reconciles Workspaces into the namespaces that hold their objects.
package workspace

import (
	"context"
	"fmt"

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
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// IndexNamespaceName indexes Workspaces by the namespace they want, so that a change to any
// namespace wakes the workspace waiting for that name.
const IndexNamespaceName = "workspace.dora.dev/namespace"

// Reconciler makes each Workspace's namespace exist, owned by it.
type Reconciler struct {
	client   client.Client
	recorder events.EventRecorder
}

// NewReconciler returns a Reconciler using the manager's client and an event recorder.
func NewReconciler(c client.Client, recorder events.EventRecorder) *Reconciler {
	return &Reconciler{client: c, recorder: recorder}
}

// +kubebuilder:rbac:groups=dora.dev,resources=workspaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=dora.dev,resources=workspaces/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile creates the workspace's namespace when it is missing and reports whose it is.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	ws := &doradev1.Workspace{}
	if err := r.client.Get(ctx, req.NamespacedName, ws); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if ws.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
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

	before := ws.Status.DeepCopy()
	ws.Status.ObservedGeneration = ws.Generation
	ws.Status.Namespace = ""
	if state == namespaceOwned {
		ws.Status.Namespace = nsName
	}
	for _, c := range conditionsFor(nsName, state) {
		c.ObservedGeneration = ws.Generation
		meta.SetStatusCondition(&ws.Status.Conditions, c)
	}
	if apiequality.Semantic.DeepEqual(before, &ws.Status) {
		return ctrl.Result{}, nil
	}
	if err := r.client.Status().Update(ctx, ws); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing workspace status: %w", err)
	}
	r.emitEvents(ws, before, state, nsName, created)
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
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &doradev1.Workspace{}, IndexNamespaceName, func(o client.Object) []string {
		return []string{naming.WorkspaceNamespace(o.GetName())}
	}); err != nil {
		return fmt.Errorf("indexing workspaces by namespace: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("workspace").
		For(&doradev1.Workspace{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.workspacesWanting)).
		Complete(r)
}

// workspacesWanting maps a namespace to the workspaces whose namespace has its name.
func (r *Reconciler) workspacesWanting(ctx context.Context, ns client.Object) []reconcile.Request {
	list := &doradev1.WorkspaceList{}
	if err := r.client.List(ctx, list, client.MatchingFields{IndexNamespaceName: ns.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing workspaces for a namespace", "namespace", ns.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, ws := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: ws.Name}})
	}
	return reqs
}
