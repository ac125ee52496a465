// Package workload reconciles Workloads into their pods (one per replica), NodePort
// services and revision history, and reports on them: Dora's scheduler on top of
// kube-scheduler.
package workload

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/access"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/controller/namespaces"
	"github.com/dora-hpc/dora-operator/internal/controller/statuspatch"
	"github.com/dora-hpc/dora-operator/internal/gpu"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// DefaultHistoryLimit is how many past specs are kept as ControllerRevisions.
const DefaultHistoryLimit = 10

// portRetry is when a workload whose NodePort was refused looks again (the port may have
// been freed); nothing else tells us.
const portRetry = time.Minute

// Options configure the workload controller.
type Options struct {
	// Policy decides which other workspaces' volumes a workload may mount (access.Default
	// when nil).
	Policy access.VolumePolicy
	// Concurrency is how many workloads are reconciled at once (DefaultConcurrency when 0).
	Concurrency int
	// Zone is this cluster's zone: an owned workload is held while its owner's UserCredit
	// says the budget in this zone is spent. Empty: no workload is held.
	Zone string
	// Safe is safe mode: an owned workload does not start while its GPUs x price x run time
	// is more than its owner has left this week.
	Safe bool
	// APIReader reads what the cache does not keep, straight from the API server: a pod's
	// annotations, read only to record a revision the watch did not see replaced (see
	// history.go), and a service not Dora's that holds a name a workload's wants. The
	// client when nil.
	APIReader client.Reader
}

// DefaultConcurrency is how many workloads are reconciled at once unless told otherwise
// (--workload-concurrency). A worker waits on the API server for a new workload's pods and
// again for its status, so the workers needed grow with the API server's latency under
// load. Measured with make bench (1,000 workloads of 4 pods on 250 fake nodes, one run
// each): 16 workers made the pods at 0.69x and 0.71x a raw client's pace; 32 at 0.84x to
// 1.05x for 11-15 CPU-seconds per 1,000 workloads; 48 at 0.87x and 0.95x for 15-16. The
// sooner pods are made, the likelier a first status is written before the (simulated)
// kubelets run them: 5.0 writes a workload at 16, 5.0-6.6 at 32 and 48. See the README's
// Performance section.
const DefaultConcurrency = 32

// Reconciler turns Workloads into pods and services.
type Reconciler struct {
	client       client.Client
	apiReader    client.Reader
	recorder     events.EventRecorder
	clock        clock.PassiveClock
	policy       access.VolumePolicy
	concurrency  int
	historyLimit int
	zone         string
	safe         bool
	// writes holds each workload's last status write (namespace/name -> statusWrite),
	// forgotten when the workload is.
	writes sync.Map
	// held holds the workloads held for credits (namespace/name -> true), for the metric.
	held sync.Map
	// replaced holds the revision a spec change replaced (namespace/name ->
	// replacedRevision), from the watch until the reconcile records it.
	replaced sync.Map
	// recorded holds what this manager knows of each workload's history (namespace/name ->
	// history).
	recorded sync.Map
	// creating holds the pods this manager created that its cache has not shown yet
	// (namespace/name of the pod -> time.Time of the create): a reconcile that runs before
	// the cache has them all does not create them again (each would be a refused write).
	creating sync.Map
}

// createExpectation is how long a pod this manager created is taken to be on its way to the
// cache; past it, a pod the cache still lacks is created again (it was deleted meanwhile).
const createExpectation = 30 * time.Second

// NewReconciler returns a Reconciler using the manager's (cached) client, an event
// recorder and a clock (clock.RealClock{} outside tests).
func NewReconciler(c client.Client, recorder events.EventRecorder, clk clock.PassiveClock, opts Options) *Reconciler {
	if opts.Policy == nil {
		opts.Policy = access.Default
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.APIReader == nil {
		opts.APIReader = c
	}
	return &Reconciler{client: c, apiReader: opts.APIReader, recorder: recorder, clock: clk, policy: opts.Policy, concurrency: opts.Concurrency, historyLimit: DefaultHistoryLimit, zone: opts.Zone, safe: opts.Safe}
}

// +kubebuilder:rbac:groups=dora.dev,resources=workloads,verbs=get;list;watch
// +kubebuilder:rbac:groups=dora.dev,resources=workloads/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=dora.dev,resources=volumes,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=apps,resources=controllerrevisions,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=dora.dev,resources=workloads/finalizers,verbs=update

// Reconcile makes the workload's replicas exist at its current revision and reports on them.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	wl := &doradev1.Workload{}
	if err := r.client.Get(ctx, req.NamespacedName, wl); err != nil {
		if apierrors.IsNotFound(err) {
			r.writes.Delete(req.NamespacedName)
			r.held.Delete(req.NamespacedName)
			r.replaced.Delete(req.NamespacedName)
			r.recorded.Delete(req.NamespacedName)
			r.forgetStaleCreates()
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if wl.DeletionTimestamp != nil {
		// Pods and services go with it through their owner references.
		return ctrl.Result{}, nil
	}
	if w, ok := r.writes.Load(req.NamespacedName); ok && w.(statusWrite).from != "" && w.(statusWrite).from == wl.ResourceVersion {
		// The cache has not seen this manager's last status write yet, and its own watch
		// will not say when it does: a status computed now would be written again, or undo
		// what that write changed. Look again in a moment.
		return ctrl.Result{RequeueAfter: cacheCatchUp}, nil
	}
	revision := podspec.TemplateHash(wl)
	pods, err := r.ownedPods(ctx, wl)
	if err != nil {
		return ctrl.Result{}, err
	}
	// Before any pod is replaced: the replaced revision may have to be read from one. A new
	// workload writes nothing here.
	if err := r.recordRevision(ctx, wl, revision, pods); err != nil {
		return ctrl.Result{}, err
	}
	return r.sync(ctx, wl, revision, pods)
}

// sync makes the pods and services match the workload and writes its status.
func (r *Reconciler) sync(ctx context.Context, wl *doradev1.Workload, revision string, pods []*corev1.Pod) (ctrl.Result, error) {
	// Safe mode judges a workload as it starts: none of its pods exist yet.
	held, err := r.creditHoldOf(ctx, wl, len(pods) == 0 && !wl.Spec.Paused)
	if err != nil {
		return ctrl.Result{}, err
	}
	desired := wl.ReplicaCount()
	if wl.Spec.Paused || held != nil {
		// A hold removes the pods as pause does, without touching spec.paused.
		desired = 0
	}
	var in statusInput
	in.held = held
	var claims []podspec.VolumeClaim
	if len(wl.Spec.Volumes) > 0 {
		if claims, in.volumes, err = r.resolveVolumes(ctx, wl); err != nil {
			return ctrl.Result{}, err
		}
	}
	ws, err := namespaces.OwningWorkspace(ctx, r.client, r.client, wl.Namespace)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	in.hostNetwork = checkHostNetwork(wl, ws)
	inputs := podspec.PodInputs{Claims: claims}
	if ws != nil {
		inputs.PodSecurity = ws.Spec.PodSecurity
	}

	p := planReplicas(pods, desired, revision, in.volumes == nil && in.hostNetwork == nil)
	created, refused, err := r.act(ctx, wl, p, inputs)
	if err != nil {
		return ctrl.Result{}, err
	}
	in.podsRefused = refusedBlocker(refused)
	if in.ports, err = r.syncServices(ctx, wl); err != nil {
		return ctrl.Result{}, err
	}

	in.wl, in.pods, in.desired, in.revision, in.plan = wl, append(pods, created...), desired, revision, p
	if in.noProduct, err = r.missingProducts(ctx, wl, in.pods); err != nil {
		return ctrl.Result{}, err
	}
	original := wl.DeepCopy()
	before := &original.Status
	wl.Status = computeStatus(in)
	result := ctrl.Result{}
	if in.ports != nil {
		result.RequeueAfter = portRetry
	}
	now := r.clock.Now()
	if len(p.create) > len(created)+len(refused) {
		// Pods created a moment ago and not in the cache yet: their watch events come, or,
		// if they were deleted before the cache saw them, this.
		if result.RequeueAfter == 0 || createExpectation < result.RequeueAfter {
			result.RequeueAfter = createExpectation
		}
	}
	if in.podsRefused != nil {
		// Nothing the manager watches says when the refusal ends: look again, later each time.
		delay := podRetryDelay(refusedFor(*before, now))
		ctrl.LoggerFrom(ctx).V(1).Info("The API server refused the workload's pods; trying again later",
			"refused", len(refused), "retryIn", delay, "message", refused[0].message)
		if result.RequeueAfter == 0 || delay < result.RequeueAfter {
			result.RequeueAfter = delay
		}
	}
	key := client.ObjectKeyFromObject(wl)
	write, wait := statusWriteDecision(*before, wl.Status, r.lastWrite(key, before, now).at, inTransit(in), now)
	switch {
	case write:
		wrote, err := statuspatch.Write(ctx, r.client, original, wl)
		if err != nil {
			return ctrl.Result{}, err
		}
		w := statusWrite{at: now}
		if wrote && wl.ResourceVersion != original.ResourceVersion {
			w.from = original.ResourceVersion
		}
		r.writes.Store(key, w)
		observeStart(wl, before, now)
		r.emitEvents(wl, before, p, len(created))
	case wait > 0:
		// Pods on their way: their next event, or this, brings the status up to date.
		r.emitEvents(wl, before, p, len(created))
		if result.RequeueAfter == 0 || wait < result.RequeueAfter {
			result.RequeueAfter = wait
		}
	default:
		r.emitEvents(wl, before, p, len(created))
	}
	return result, nil
}

// cacheCatchUp is how long a reconcile that finds the cache behind this manager's own last
// status write waits for it: the watch brings a write within milliseconds, a busy one
// within a few hundred.
const cacheCatchUp = 250 * time.Millisecond

// statusWrite is this manager's last status write of a workload. For a status never
// written, at is when this manager first held it back.
type statusWrite struct {
	at time.Time
	// from is the resourceVersion of the workload the write was computed from, the one a
	// cache that has not seen the write still holds; "" when the write changed nothing.
	from string
}

// lastWrite is this manager's last status write of the workload; stored is its status as
// the cache has it, not as just computed. For a status never written, it is when this
// manager first held it back (now, the first time): when it made the pods the status waits
// for. A creation long before (a queue of new workloads, a manager that restarted) does
// not cut that wait short.
func (r *Reconciler) lastWrite(key types.NamespacedName, stored *doradev1.WorkloadStatus, now time.Time) statusWrite {
	if w, ok := r.writes.Load(key); ok {
		return w.(statusWrite)
	}
	if stored.ObservedGeneration == 0 {
		w, _ := r.writes.LoadOrStore(key, statusWrite{at: now})
		return w.(statusWrite)
	}
	return statusWrite{}
}

// forgetStaleCreates forgets the pods created longer than createExpectation ago that the
// cache never showed: a workload deleted before its pods reached the cache leaves them
// here, and nothing else would.
func (r *Reconciler) forgetStaleCreates() {
	now := r.clock.Now()
	r.creating.Range(func(key, at any) bool {
		if now.Sub(at.(time.Time)) >= createExpectation {
			r.creating.Delete(key)
		}
		return true
	})
}

// act creates and deletes pods as planned. Pods have fixed names, so a create that finds its
// pod already there (a cache that lags, a restarted manager) is not an error, and neither
// is a delete that finds it gone: nothing is ever duplicated. A create the API server
// refuses (quota, Pod Security, an admission webhook) is returned as a refusal, for the
// status to report, not as an error to retry at once.
func (r *Reconciler) act(ctx context.Context, wl *doradev1.Workload, p plan, inputs podspec.PodInputs) ([]*corev1.Pod, []refusal, error) {
	toCreate := make([]*corev1.Pod, 0, len(p.create))
	var refused []refusal
	var revision []byte
	if slices.Contains(p.create, 0) {
		var err error
		if revision, err = revisionData(&wl.Spec); err != nil {
			return nil, nil, err
		}
	}
	now := r.clock.Now()
	for _, index := range p.create {
		key := types.NamespacedName{Namespace: wl.Namespace, Name: podspec.PodName(wl, index)}
		if at, ok := r.creating.Load(key); ok {
			if now.Sub(at.(time.Time)) < createExpectation {
				continue // created a moment ago; the cache has not shown it yet
			}
			r.creating.Delete(key)
		}
		pod, err := podspec.BuildPod(wl, index, inputs)
		if err != nil {
			// A spec the schema let through that no pod can be made of: told, not retried hot.
			refused = append(refused, refusal{pod: podspec.PodName(wl, index), message: "the manager cannot build it from the spec: " + err.Error()})
			continue
		}
		annotateRevision(pod, index, revision)
		if err := ctrl.SetControllerReference(wl, pod, r.client.Scheme()); err != nil {
			return nil, nil, err
		}
		toCreate = append(toCreate, pod)
	}
	// The replicas are created side by side: a workload's latency is one round trip, not
	// one per replica.
	createErrs := make([]error, len(toCreate))
	var wg sync.WaitGroup
	for i, pod := range toCreate {
		wg.Add(1)
		go func() {
			defer wg.Done()
			createErrs[i] = r.client.Create(ctx, pod)
		}()
	}
	wg.Wait()
	var created []*corev1.Pod
	var errs []error
	for i, pod := range toCreate {
		switch err := createErrs[i]; {
		case err == nil:
			created = append(created, pod)
			r.creating.Store(client.ObjectKeyFromObject(pod), now)
		case apierrors.IsAlreadyExists(err):
		case refusedByServer(err):
			refused = append(refused, refusal{pod: pod.Name, message: "the API server refused it: " + err.Error()})
		default:
			errs = append(errs, fmt.Errorf("creating pod %s: %w", pod.Name, err))
		}
	}
	for _, group := range [][]*corev1.Pod{p.replace, p.scaleDown, p.recreate} {
		for _, pod := range group {
			err := r.client.Delete(ctx, pod, client.Preconditions{UID: &pod.UID})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				errs = append(errs, fmt.Errorf("deleting pod %s: %w", pod.Name, err))
			}
		}
	}
	if len(p.create)+len(p.replace)+len(p.scaleDown)+len(p.recreate) > 0 {
		ctrl.LoggerFrom(ctx).V(1).Info("Changed the workload's pods", "created", len(created), "refused", len(refused),
			"replaced", len(p.replace), "scaledDown", len(p.scaleDown), "recreated", len(p.recreate))
	}
	return created, refused, errors.Join(errs...)
}

// ownedPods lists the pods this workload controls.
func (r *Reconciler) ownedPods(ctx context.Context, wl *doradev1.Workload) ([]*corev1.Pod, error) {
	list := &corev1.PodList{}
	if err := r.client.List(ctx, list, client.InNamespace(wl.Namespace), client.MatchingFields{indexes.ControllerWorkload: wl.Name}); err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	var pods []*corev1.Pod
	for i := range list.Items {
		if metav1.IsControlledBy(&list.Items[i], wl) {
			pods = append(pods, &list.Items[i])
			r.creating.Delete(client.ObjectKeyFromObject(&list.Items[i]))
		}
	}
	return pods, nil
}

// syncServices makes the workload's services match planServices, removals first so that
// the NodePorts they free are free for the rest. A NodePort the API server refuses
// (outside its range, already taken) is reported, not retried in a loop.
func (r *Reconciler) syncServices(ctx context.Context, wl *doradev1.Workload) (*blocker, error) {
	list := &corev1.ServiceList{}
	if err := r.client.List(ctx, list, client.InNamespace(wl.Namespace), client.MatchingFields{indexes.ControllerWorkload: wl.Name}); err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	p := planServices(wl, list.Items)
	for _, svc := range p.delete {
		if err := r.client.Delete(ctx, svc); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("deleting service %s: %w", svc.Name, err)
		}
	}
	var refused []string
	// One name order for updates and creates together: which service claims a contested
	// NodePort first does not depend on which of them exist already.
	changes := slices.Concat(p.update, p.create)
	slices.SortStableFunc(changes, func(a, b *corev1.Service) int { return strings.Compare(a.Name, b.Name) })
	for _, svc := range changes {
		if slices.Contains(p.update, svc) {
			if err := r.client.Update(ctx, svc); err != nil {
				if !portRefused(err) {
					return nil, fmt.Errorf("updating service %s: %w", svc.Name, err)
				}
				refused = append(refused, err.Error())
			}
			continue
		}
		msg, err := r.createService(ctx, wl, svc)
		if err != nil {
			return nil, err
		}
		if msg != "" {
			refused = append(refused, msg)
		}
	}
	return portsBlocker(refused), nil
}

// createService creates one of the workload's services and returns, when the API server
// refused it or another's service holds its name, what to tell the user.
func (r *Reconciler) createService(ctx context.Context, wl *doradev1.Workload, svc *corev1.Service) (string, error) {
	if err := ctrl.SetControllerReference(wl, svc, r.client.Scheme()); err != nil {
		return "", err
	}
	switch err := r.client.Create(ctx, svc); {
	case err == nil:
		return "", nil
	case apierrors.IsAlreadyExists(err):
		// Ours, and the cache has not seen it yet; another workload's of a name that became
		// the same once made DNS-safe (blue.red and blue-red); or a service that is no
		// workload's, which the cache (Dora's services only) does not hold: read from the
		// API server.
		other := &corev1.Service{}
		if err := r.apiReader.Get(ctx, client.ObjectKeyFromObject(svc), other); err == nil && !metav1.IsControlledBy(other, wl) {
			return fmt.Sprintf("service %s already exists and is not this workload's; rename one of the two workloads", svc.Name), nil
		}
		return "", nil
	case portRefused(err):
		return err.Error(), nil
	default:
		return "", fmt.Errorf("creating service %s: %w", svc.Name, err)
	}
}

// checkHostNetwork refuses network.mode host unless the workload's workspace (ws, decided
// by the namespace's owner reference; nil for none) allows it.
func checkHostNetwork(wl *doradev1.Workload, ws *doradev1.Workspace) *blocker {
	if wl.Spec.Network == nil || wl.Spec.Network.Mode != doradev1.NetworkModeHost {
		return nil
	}
	if ws != nil && ws.Spec.AllowHostNetwork {
		return nil
	}
	return &blocker{reason: doradev1.ReasonHostNetworkNotAllowed,
		message: "network.mode host needs a workspace with spec.allowHostNetwork: ask an administrator, or use bridge"}
}

// missingProducts names the requested GPU products when no node has any of them, so a
// queued workload says so plainly; "" when some node has one, or nothing waits.
func (r *Reconciler) missingProducts(ctx context.Context, wl *doradev1.Workload, pods []*corev1.Pod) (string, error) {
	sel := wl.Spec.Selectors.GPU
	if sel == nil || len(sel.ProductName.Values) == 0 || slices.Contains(sel.ProductName.Values, doradev1.All) {
		return "", nil
	}
	waiting := slices.ContainsFunc(pods, func(p *corev1.Pod) bool { _, ok := unschedulableMessage(p); return ok })
	if !waiting {
		return "", nil
	}
	values := make([]string, 0, len(sel.ProductName.Values))
	for _, p := range sel.ProductName.Values {
		values = append(values, gpu.ProductLabel(p))
	}
	req, err := labels.NewRequirement(gpu.LabelProduct, selection.In, values)
	if err != nil {
		return "", nil
	}
	nodes := &metav1.PartialObjectMetadataList{}
	nodes.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NodeList"))
	if err := r.client.List(ctx, nodes, client.MatchingLabelsSelector{Selector: labels.NewSelector().Add(*req)}, client.Limit(1)); err != nil {
		return "", fmt.Errorf("looking for nodes with the requested products: %w", err)
	}
	if len(nodes.Items) > 0 {
		return "", nil
	}
	return strings.Join(sel.ProductName.Values, " or "), nil
}

// emitEvents tells the user what this reconcile did, after the status was written.
func (r *Reconciler) emitEvents(wl *doradev1.Workload, before *doradev1.WorkloadStatus, p plan, created int) {
	wasHeld := meta.IsStatusConditionTrue(before.Conditions, doradev1.CreditsExhausted)
	isHeld := meta.IsStatusConditionTrue(wl.Status.Conditions, doradev1.CreditsExhausted)
	if key := client.ObjectKeyFromObject(wl); isHeld {
		r.held.Store(key, true)
	} else {
		r.held.Delete(key)
	}
	switch {
	case isHeld && !wasHeld:
		r.recorder.Eventf(wl, nil, corev1.EventTypeWarning, EventCreditsExhausted, "Hold", "Held: %s", meta.FindStatusCondition(wl.Status.Conditions, doradev1.CreditsExhausted).Message)
	case !isHeld && wasHeld:
		r.recorder.Eventf(wl, nil, corev1.EventTypeNormal, EventCreditsRestored, "Release", "Released: the owner has credits again")
	}
	wasPaused := meta.IsStatusConditionTrue(before.Conditions, doradev1.WorkloadPaused)
	isPaused := meta.IsStatusConditionTrue(wl.Status.Conditions, doradev1.WorkloadPaused)
	switch {
	case isPaused && !wasPaused:
		r.recorder.Eventf(wl, nil, corev1.EventTypeNormal, doradev1.EventPaused, "Pause", "Paused: removing %d pods", len(p.scaleDown))
	case !isPaused && wasPaused:
		r.recorder.Eventf(wl, nil, corev1.EventTypeNormal, doradev1.EventResumed, "Resume", "Resumed: %d replicas", wl.ReplicaCount())
	}
	// A new workload's first pods are its status's to tell, not an event's; the pods made
	// after that (a scale-up, a resume, a replacement's) are events.
	if created > 0 && before.ObservedGeneration != 0 {
		r.recorder.Eventf(wl, nil, corev1.EventTypeNormal, doradev1.EventScaleUp, "CreatePods", "Created %d pods (revision %s)", created, podspec.TemplateHash(wl))
	}
	if admitted := meta.FindStatusCondition(wl.Status.Conditions, doradev1.WorkloadPodsAdmitted); admitted != nil &&
		admitted.Status == metav1.ConditionFalse && !meta.IsStatusConditionFalse(before.Conditions, doradev1.WorkloadPodsAdmitted) {
		r.recorder.Eventf(wl, nil, corev1.EventTypeWarning, doradev1.EventPodsRefused, "CreatePods", "%s", admitted.Message)
	}
	if len(p.scaleDown) > 0 && !isPaused && !isHeld {
		r.recorder.Eventf(wl, nil, corev1.EventTypeNormal, doradev1.EventScaleDown, "DeletePods", "Removing %d pods: %s", len(p.scaleDown), podNames(p.scaleDown))
	}
	if len(p.replace) > 0 {
		r.recorder.Eventf(wl, nil, corev1.EventTypeNormal, doradev1.EventReplaced, "ReplacePods", "Replacing %d pods of an older revision with revision %s: %s",
			len(p.replace), podspec.TemplateHash(wl), podNames(p.replace))
	}
	if len(p.recreate) > 0 {
		r.recorder.Eventf(wl, nil, corev1.EventTypeWarning, doradev1.EventRecreated, "RecreatePods", "Recreating %d pods the cluster took away: %s", len(p.recreate), podNames(p.recreate))
	}
}

func podNames(pods []*corev1.Pod) string {
	names := make([]string, 0, len(pods))
	for _, p := range pods {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// SetupWithManager registers the controller. It owns pods and services, and looks again
// at a namespace's workloads when a volume claim there changes, and at the workloads that
// mount a Volume when it changes (indexes.WorkloadVolumes).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("workload").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.concurrency}).
		For(&doradev1.Workload{}, builder.WithPredicates(predicate.GenerationChangedPredicate{}, r.keepReplacedRevision())).
		Owns(&corev1.Pod{}).
		Owns(&corev1.Service{}).
		Watches(&corev1.PersistentVolumeClaim{}, handler.EnqueueRequestsFromMapFunc(r.workloadsWithVolumes)).
		Watches(&doradev1.Volume{}, handler.EnqueueRequestsFromMapFunc(r.workloadsMounting)).
		Watches(&doradev1.UserCredit{}, handler.EnqueueRequestsFromMapFunc(r.workloadsOfCreditOwner), builder.WithPredicates(exhaustedChanged(r.zone, r.safe))).
		Complete(r)
}

// workloadsMounting maps a Volume to the workloads, of any namespace, that mount it.
func (r *Reconciler) workloadsMounting(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &doradev1.WorkloadList{}
	key := client.ObjectKeyFromObject(obj).String()
	if err := r.client.List(ctx, list, client.MatchingFields{indexes.WorkloadVolumes: key}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing workloads for a volume", "volume", key)
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, wl := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: wl.Namespace, Name: wl.Name}})
	}
	return reqs
}

// workloadsWithVolumes maps a claim to the workloads of its namespace that mount volumes.
func (r *Reconciler) workloadsWithVolumes(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &doradev1.WorkloadList{}
	if err := r.client.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing workloads for a volume", "object", klog.KObj(obj))
		return nil
	}
	var reqs []reconcile.Request
	for _, wl := range list.Items {
		if len(wl.Spec.Volumes) > 0 {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: wl.Namespace, Name: wl.Name}})
		}
	}
	return reqs
}
