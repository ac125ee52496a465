// Package manager assembles the Dora manager: the scheme, the controllers and the admission
// webhooks, on a controller-runtime manager. cmd/manager, the playground and the tests all
// build it here, so they run the same thing.
package manager

import (
	"context"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/access"
	"github.com/dora-hpc/dora-operator/internal/authz"
	creditscontroller "github.com/dora-hpc/dora-operator/internal/controller/credits"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/controller/node"
	"github.com/dora-hpc/dora-operator/internal/controller/role"
	"github.com/dora-hpc/dora-operator/internal/controller/storage"
	"github.com/dora-hpc/dora-operator/internal/controller/user"
	"github.com/dora-hpc/dora-operator/internal/controller/volume"
	"github.com/dora-hpc/dora-operator/internal/controller/workload"
	"github.com/dora-hpc/dora-operator/internal/controller/workspace"
	"github.com/dora-hpc/dora-operator/internal/controller/zone"
	"github.com/dora-hpc/dora-operator/internal/credits"
	"github.com/dora-hpc/dora-operator/internal/rbac"
	dorawebhook "github.com/dora-hpc/dora-operator/internal/webhook"
)

// DefaultNamespace is the manager's own namespace unless told otherwise.
const DefaultNamespace = "dora-system"

// DefaultAgentNamespace is where the node agents run unless told otherwise.
const DefaultAgentNamespace = "dora-system"

// Options configure the manager.
type Options struct {
	// Zone is the name of the Dora zone this cluster is.
	Zone string
	// MetricsAddr serves Prometheus metrics; "0" disables it.
	MetricsAddr string
	// MetricsSecure serves the metrics over HTTPS to callers the API server authenticates
	// (TokenReview) and authorizes for get on the non-resource URL /metrics
	// (SubjectAccessReview), such as the ClusterRole config/rbac/metrics_reader_role.yaml
	// grants. Off, they are plain HTTP to anyone who reaches the port.
	MetricsSecure bool
	// MetricsCertDir holds tls.crt and tls.key for the metrics server; without them it
	// makes itself a self-signed certificate.
	MetricsCertDir string
	// ProbeAddr serves /healthz and /readyz; "0" disables it.
	ProbeAddr string
	// PprofAddr serves Go's profiles (/debug/pprof/) for measuring the manager; empty or "0"
	// disables it. Bind it to localhost: the profiles are not authenticated.
	PprofAddr string
	// LeaderElection makes replicas of the manager elect one active leader.
	LeaderElection bool
	// Namespace is the manager's own namespace (default dora-system): its leader lease and
	// the helper Jobs that mount NFS exports run there, out of every tenant's reach.
	Namespace string
	// LeaderElectionNamespace is where the leader lease lives (default: Namespace).
	LeaderElectionNamespace string
	// AgentNamespace is where the node agents keep their leases (default dora-system).
	AgentNamespace string
	// Webhook configures the admission webhook server; nil disables the webhooks.
	Webhook *webhook.Options
	// WebhookCerts, when set, has the manager make and rotate the webhook server's
	// certificate itself, in Webhook.CertDir; nil: the certificate is given (cert-manager, a
	// Secret, a test's).
	WebhookCerts *WebhookCerts
	// WorkloadConcurrency is how many workloads are reconciled at once
	// (workload.DefaultConcurrency when 0).
	WorkloadConcurrency int
	// HelperImage runs the Jobs that create, copy and remove volume directories (default
	// busybox).
	HelperImage string
	// UsernamePrefix turns a Dora user's name into the Kubernetes user name the cluster's
	// authenticator gives them (as the API server's --oidc-username-prefix).
	UsernamePrefix string
	// CreditWeek is when the credits' week resets (default Sunday 00:00 UTC).
	CreditWeek credits.Week
	// CreditsSafe is safe mode: a workload does not start while its GPUs x price x run time
	// is more than its owner has left this week.
	CreditsSafe bool
	// CreditsRequireBudget holds the workloads of a user with no budget in this zone, instead
	// of metering them without a limit.
	CreditsRequireBudget bool
	// Restartable lets a process build more than one manager (tests that kill and restart
	// it): controller-runtime otherwise refuses a controller name seen before.
	Restartable bool
}

// The manager's client limits unless told otherwise (--kube-api-qps, --kube-api-burst; the
// chart's manager.kubeAPI has the same). controller-runtime makes one client per kind of
// object, each with these limits: pod creates and workload status writes do not wait for
// each other. Measured with make bench (README, Performance): at 100 a burst of workloads
// waited on the limiter (0.54x the raw client); at 300 it matched the raw client (1.01x),
// and 1,000 gained nothing more on the same API server (0.86x, within the noise).
const (
	DefaultKubeAPIQPS   = 300
	DefaultKubeAPIBurst = 600
)

// Scheme returns a scheme with the Kubernetes and Dora kinds.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(doradev1.AddToScheme(s))
	return s
}

// New builds a manager with every controller and webhook registered. Start it with
// mgr.Start(ctx).
func New(ctx context.Context, cfg *rest.Config, opts Options) (ctrl.Manager, error) {
	if opts.MetricsAddr == "" {
		opts.MetricsAddr = "0"
	}
	if opts.ProbeAddr == "" {
		opts.ProbeAddr = "0"
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.LeaderElectionNamespace == "" {
		opts.LeaderElectionNamespace = opts.Namespace
	}
	if opts.AgentNamespace == "" {
		opts.AgentNamespace = DefaultAgentNamespace
	}
	metrics := metricsserver.Options{BindAddress: opts.MetricsAddr}
	if opts.MetricsSecure {
		metrics.SecureServing = true
		metrics.CertDir = opts.MetricsCertDir
		metrics.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgrOpts := ctrl.Options{
		Scheme:                  Scheme(),
		Metrics:                 metrics,
		HealthProbeBindAddress:  opts.ProbeAddr,
		PprofBindAddress:        opts.PprofAddr,
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        "manager.dora.dev",
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		// Every process that runs a manager exits (or starts a new one) once it stops: the
		// next leader need not wait for the lease to run out.
		LeaderElectionReleaseOnCancel: true,
		Controller:                    config.Controller{SkipNameValidation: ptr.To(opts.Restartable)},
		Cache: cache.Options{
			// Managed fields are half of a pod's size and never read here.
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				// Namespaces are cached whole (there are few); only those the manager owns
				// are ever written.
				&corev1.Namespace{}: {},
				// Leases only in the agents' namespace: the node controller reads the
				// agents' heartbeats and no other lease.
				&coordinationv1.Lease{}: {Namespaces: map[string]cache.Config{opts.AgentNamespace: {}}},
				// Pods, services and revisions only of workloads; claims, PersistentVolumes
				// and Jobs only of volumes:
				// the manager never holds the rest of a big cluster in memory.
				&corev1.Pod{}:                   {Label: hasLabel(doradev1.LabelWorkload), Transform: trimPod},
				&corev1.Service{}:               {Label: hasLabel(doradev1.LabelWorkload)},
				&appsv1.ControllerRevision{}:    {Label: hasLabel(doradev1.LabelWorkload)},
				&corev1.PersistentVolumeClaim{}: {Label: hasLabel(doradev1.LabelVolume)},
				&corev1.PersistentVolume{}:      {Label: hasLabel(doradev1.LabelVolume)},
				// Helper Jobs run in the manager's own namespace only.
				&batchv1.Job{}: {Label: hasLabel(doradev1.LabelVolume), Namespaces: map[string]cache.Config{opts.Namespace: {}}},
				// RBAC objects only of Dora Roles and Users.
				&rbacv1.ClusterRole{}:        {Label: hasLabel(rbac.LabelManaged)},
				&rbacv1.ClusterRoleBinding{}: {Label: hasLabel(rbac.LabelManaged)},
				&rbacv1.RoleBinding{}:        {Label: hasLabel(rbac.LabelManaged)},
			},
		},
	}
	if opts.Webhook != nil {
		mgrOpts.WebhookServer = webhook.NewServer(*opts.Webhook)
	}
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}

	if err := indexes.Register(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	// Who may mount another workspace's volume: the owners Dora's roles give Use.
	policy := access.ByRoles{Client: mgr.GetClient(), Authorizer: authz.SubjectAccessReviewer{Client: mgr.GetClient()}, UsernamePrefix: opts.UsernamePrefix}
	type controller struct {
		name string
		r    interface{ SetupWithManager(ctrl.Manager) error }
	}
	wl := workload.NewReconciler(mgr.GetClient(), mgr.GetEventRecorder("dora-workload"), clock.RealClock{},
		workload.Options{Policy: policy, Concurrency: opts.WorkloadConcurrency, Zone: opts.Zone, Safe: opts.CreditsSafe, APIReader: mgr.GetAPIReader()})
	doraMetrics := []prometheus.Collector{wl.HeldMetric()}
	controllers := []controller{
		{"workspace", workspace.NewReconciler(mgr.GetClient(), mgr.GetEventRecorder("dora-workspace"), clock.RealClock{},
			workspace.Options{HelperImage: opts.HelperImage, HelperNamespace: opts.Namespace})},
		{"node", node.NewReconciler(mgr.GetClient(), mgr.GetEventRecorder("dora-node"), clock.RealClock{},
			node.Options{AgentNamespace: opts.AgentNamespace})},
		{"volume", volume.NewReconciler(mgr.GetClient(), mgr.GetAPIReader(), mgr.GetEventRecorder("dora-volume"),
			volume.Options{HelperImage: opts.HelperImage, HelperNamespace: opts.Namespace, Policy: policy})},
		{"storage", storage.NewReconciler(mgr.GetClient(), mgr.GetAPIReader())},
		{"role", role.NewReconciler(mgr.GetClient())},
		{"user", user.NewReconciler(mgr.GetClient(), user.Options{Zone: opts.Zone, UsernamePrefix: opts.UsernamePrefix})},
		{"workload", wl},
	}
	if opts.Zone != "" {
		week := opts.CreditWeek
		if week.Location == nil {
			week = credits.DefaultWeek()
		}
		creditMetrics := creditscontroller.NewCollector(opts.Zone, week, clock.RealClock{})
		doraMetrics = append(doraMetrics, creditMetrics, zone.NewCollector(opts.Zone, mgr.GetClient()))
		controllers = append(controllers,
			controller{"zone", zone.NewReconciler(mgr.GetClient(), opts.Zone, clock.RealClock{})},
			controller{"credits", creditscontroller.NewReconciler(mgr.GetClient(), mgr.GetEventRecorder("dora-credits"), clock.RealClock{},
				creditscontroller.Options{Zone: opts.Zone, Week: week, RequireBudget: opts.CreditsRequireBudget, Metrics: creditMetrics})})
	}
	registerMetrics(doraMetrics...)
	for _, c := range controllers {
		if err := c.r.SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the %s controller: %w", c.name, err)
		}
	}

	if opts.Webhook != nil {
		// The workspace check reads the source of a clone uncached: a workspace applied just
		// before its clone must be found.
		register := func() {
			dorawebhook.Register(mgr.GetWebhookServer(), dorawebhook.Options{
				Zone: opts.Zone, Reader: mgr.GetAPIReader(), Cache: mgr.GetClient(), UsernamePrefix: opts.UsernamePrefix,
				Authorizer: authz.SubjectAccessReviewer{Client: mgr.GetClient()},
			})
		}
		if opts.WebhookCerts == nil {
			register()
			if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
				return nil, err
			}
		} else {
			// The server starts only once the certificate is there: asking for it earlier
			// would start it without one.
			ready, err := addCertRotator(mgr, opts.Namespace, opts.Webhook.CertDir, *opts.WebhookCerts)
			if err != nil {
				return nil, err
			}
			deferred := &deferredWebhooks{mgr: mgr, ready: ready, register: register}
			if err := mgr.Add(deferred); err != nil {
				return nil, err
			}
			if err := mgr.AddReadyzCheck("webhook", deferred.checker()); err != nil {
				return nil, err
			}
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}

// hasLabel selects objects that carry a label, whatever its value.
func hasLabel(key string) labels.Selector {
	req, err := labels.NewRequirement(key, selection.Exists, nil)
	utilruntime.Must(err)
	return labels.NewSelector().Add(*req)
}

// registered are the Dora collectors in controller-runtime's registry, replaced when a
// process builds another manager (tests that restart it).
var (
	registeredMu sync.Mutex
	registered   []prometheus.Collector
)

// registerMetrics puts Dora's own collectors in the registry the metrics endpoint serves.
func registerMetrics(cs ...prometheus.Collector) {
	registeredMu.Lock()
	defer registeredMu.Unlock()
	for _, c := range registered {
		ctrlmetrics.Registry.Unregister(c)
	}
	registered = cs
	for _, c := range cs {
		ctrlmetrics.Registry.MustRegister(c)
	}
}
