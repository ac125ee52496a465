// Command manager runs the Dora controllers and admission webhooks against a Kubernetes
// cluster: in a pod (in-cluster config) or from a workstation (--kubeconfig).
package main

import (
	"flag"
	"os"
	"strings"
	// The credits' week resets in an IANA time zone, which the image may not have.
	_ "time/tzdata"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/dora-hpc/dora-operator/internal/controller/workload"
	"github.com/dora-hpc/dora-operator/internal/credits"
	"github.com/dora-hpc/dora-operator/internal/manager"
	"github.com/dora-hpc/dora-operator/internal/memlimit"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

func main() {
	var (
		opts            manager.Options
		webhookPort     int
		webhookHost     string
		webhookCertDir  string
		disableWebhooks bool
		resetDay        string
		resetTime       string
		resetZone       string
		// The self-managed webhook certificate.
		certSecret, webhookService         string
		mutatingConfigs, validatingConfigs string
	)
	// --kubeconfig is registered by controller-runtime; without it the in-cluster config or
	// $KUBECONFIG is used.
	flag.StringVar(&opts.Zone, "zone", "default", "Name of the Dora zone this cluster is.")
	flag.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8443", "Address of the Prometheus metrics endpoint; 0 disables it.")
	flag.BoolVar(&opts.MetricsSecure, "metrics-secure", true, "Serve the metrics over HTTPS, only to callers the API server authenticates and authorizes for get on /metrics (config/rbac/metrics_reader_role.yaml); false serves plain HTTP to anyone who reaches the port.")
	flag.StringVar(&opts.MetricsCertDir, "metrics-cert-dir", "", "Directory with tls.crt and tls.key for the metrics server (default: a self-signed certificate).")
	flag.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", "Address of /healthz and /readyz; 0 disables them.")
	flag.StringVar(&opts.PprofAddr, "pprof-bind-address", "0", "Address of Go's profiles (/debug/pprof/), unauthenticated: bind it to localhost, such as 127.0.0.1:6060; 0 disables them.")
	flag.BoolVar(&opts.LeaderElection, "leader-elect", false, "Elect one active manager among replicas.")
	flag.StringVar(&opts.Namespace, "namespace", envOr("POD_NAMESPACE", manager.DefaultNamespace), "The manager's own namespace: its leader lease and the helper Jobs that mount NFS exports live there (default: $POD_NAMESPACE, else dora-system).")
	flag.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader lease (default: --namespace).")
	flag.StringVar(&opts.AgentNamespace, "agent-namespace", manager.DefaultAgentNamespace, "Namespace where the node agents keep their leases.")
	flag.IntVar(&webhookPort, "webhook-port", 9443, "Port of the admission webhook server.")
	flag.StringVar(&webhookHost, "webhook-host", "", "Address the webhook server listens on (default: all).")
	flag.StringVar(&webhookCertDir, "webhook-cert-dir", "", "Directory with tls.crt and tls.key for the webhook server (default: controller-runtime's); with --webhook-cert-secret, where that Secret is mounted.")
	flag.BoolVar(&disableWebhooks, "disable-webhooks", false, "Run without admission webhooks (their configuration must not be installed then).")
	flag.StringVar(&certSecret, "webhook-cert-secret", "", "Make and rotate the webhook certificate in this Secret of --namespace (it must exist; mount it at --webhook-cert-dir) and inject its CA into the webhook configurations; empty: the certificate is given (cert-manager, an existing Secret).")
	flag.StringVar(&webhookService, "webhook-service", "dora-webhook-service", "Name of the webhook Service: the self-managed certificate is for <name>.<namespace>.svc.")
	flag.StringVar(&mutatingConfigs, "webhook-mutating-configurations", "dora-mutating-webhook-configuration", "Comma-separated MutatingWebhookConfigurations whose caBundle the manager keeps (with --webhook-cert-secret).")
	flag.StringVar(&validatingConfigs, "webhook-validating-configurations", "dora-validating-webhook-configuration", "Comma-separated ValidatingWebhookConfigurations whose caBundle the manager keeps (with --webhook-cert-secret).")
	var qps float64
	var burst int
	flag.Float64Var(&qps, "kube-api-qps", manager.DefaultKubeAPIQPS, "Requests per second the manager may send to the API server, for each kind of object.")
	flag.IntVar(&burst, "kube-api-burst", manager.DefaultKubeAPIBurst, "Burst of requests above --kube-api-qps, for each kind of object.")
	flag.IntVar(&opts.WorkloadConcurrency, "workload-concurrency", workload.DefaultConcurrency, "Workloads reconciled at once.")
	flag.StringVar(&opts.UsernamePrefix, "username-prefix", "", "Prefix the cluster's authenticator puts before a Dora user's name (as the API server's --oidc-username-prefix): Dora user amedeo.setti is Kubernetes user <prefix>amedeo.setti.")
	flag.StringVar(&opts.HelperImage, "helper-image", nfs.DefaultHelperImage, "Image of the Jobs that create, copy and remove volume directories on NFS (needs sh, mkdir, chmod, cp, rm).")
	flag.StringVar(&resetDay, credits.FlagResetDay, "Sunday", "Weekday on which the credits' week resets.")
	flag.StringVar(&resetTime, credits.FlagResetTime, "00:00", "Time of day (HH:MM) at which the credits' week resets.")
	flag.StringVar(&resetZone, credits.FlagResetZone, "UTC", "IANA time zone of the credits' week reset, such as Europe/Rome.")
	flag.BoolVar(&opts.CreditsSafe, credits.FlagSafe, false, "Safe mode (as Slurm's): a workload does not start while its GPUs x the highest price of the models it may get x its maxRunTime (else the time to the reset) is more than its owner has left this week.")
	flag.BoolVar(&opts.CreditsRequireBudget, credits.FlagRequireBudget, false, "Hold the workloads of a user with no weekly budget for this zone in spec.credits (default: such a user is metered, not limited).")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")
	if limit, source, err := memlimit.Apply(); err != nil {
		log.Error(err, "Reading the container's memory limit; running without a soft memory limit", "file", source)
	} else if limit > 0 {
		log.Info("Soft memory limit", "bytes", limit, "from", source)
	}
	week, err := credits.ParseWeek(resetDay, resetTime, resetZone)
	if err != nil {
		log.Error(err, "Invalid credits week")
		os.Exit(1)
	}
	opts.CreditWeek = week

	if !disableWebhooks {
		opts.Webhook = &webhook.Options{Host: webhookHost, Port: webhookPort, CertDir: webhookCertDir}
		if certSecret != "" {
			opts.WebhookCerts = &manager.WebhookCerts{Secret: certSecret, Service: webhookService,
				MutatingConfigurations: names(mutatingConfigs), ValidatingConfigurations: names(validatingConfigs)}
		}
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "Cannot reach a cluster")
		os.Exit(1)
	}
	cfg.QPS, cfg.Burst = float32(qps), burst
	ctx := ctrl.SetupSignalHandler()
	mgr, err := manager.New(ctx, cfg, opts)
	if err != nil {
		log.Error(err, "Cannot set up the manager")
		os.Exit(1)
	}
	log.Info("Starting the Dora manager", "zone", opts.Zone)
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}

// envOr is the environment variable key, or def when it is unset or empty.
// names splits a comma-separated list, dropping empty items.
func names(list string) []string {
	var out []string
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
