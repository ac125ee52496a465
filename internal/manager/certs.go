package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// WebhookCerts has the manager make and rotate its own webhook serving certificate (as
// Kueue and Gatekeeper do with cert-controller): a CA and a serving certificate for the
// webhook Service, kept in a Secret of the manager's namespace, and the CA injected into the
// webhook configurations' caBundle. Every replica serves the webhooks with it (they read the
// Secret, mounted at the webhook server's CertDir) and every replica keeps it fresh, so no
// leader is needed for admission.
type WebhookCerts struct {
	// Secret is the Secret in the manager's namespace that holds the CA and the serving
	// certificate. It must exist (the chart makes it, empty); the manager fills it.
	Secret string
	// Service is the webhook Service's name: the certificate is for
	// <Service>.<namespace>.svc (and .svc.cluster.local).
	Service string
	// MutatingConfigurations and ValidatingConfigurations are the webhook configurations
	// whose caBundle the manager keeps.
	MutatingConfigurations   []string
	ValidatingConfigurations []string
}

// The manager's permissions for its own certificate: the Secret in its namespace, and the
// caBundle of its webhook configurations.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;update,namespace=system
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,verbs=get;list;watch
// (Writing the caBundle is granted on its own configurations only, by name:
// config/rbac/webhook_cert_role.yaml.)

// addCertRotator adds the certificate rotator to mgr and returns a channel closed once the
// certificate is in certDir and its CA in every configuration, when the webhooks may be
// served.
func addCertRotator(mgr manager.Manager, namespace, certDir string, certs WebhookCerts) (<-chan struct{}, error) {
	if certs.Secret == "" || certs.Service == "" {
		return nil, errors.New("self-managed webhook certificates need the Secret and the Service's name (--webhook-cert-secret, --webhook-service)")
	}
	if certDir == "" {
		return nil, errors.New("self-managed webhook certificates need the directory the Secret is mounted at (--webhook-cert-dir)")
	}
	ready := make(chan struct{})
	var hooks []rotator.WebhookInfo
	for _, name := range certs.MutatingConfigurations {
		hooks = append(hooks, rotator.WebhookInfo{Name: name, Type: rotator.Mutating})
	}
	for _, name := range certs.ValidatingConfigurations {
		hooks = append(hooks, rotator.WebhookInfo{Name: name, Type: rotator.Validating})
	}
	host := fmt.Sprintf("%s.%s.svc", certs.Service, namespace)
	err := rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:      types.NamespacedName{Namespace: namespace, Name: certs.Secret},
		CertDir:        certDir,
		CAName:         "dora-webhook-ca",
		CAOrganization: "dora",
		DNSName:        host,
		ExtraDNSNames:  []string{host + ".cluster.local"},
		IsReady:        ready,
		Webhooks:       hooks,
		FieldOwner:     "dora-manager",
		// Every replica serves webhooks, so every replica needs the certificate.
		RequireLeaderElection: false,
	})
	if err != nil {
		return nil, fmt.Errorf("adding the webhook certificate rotator: %w", err)
	}
	return ready, nil
}

// deferredWebhooks starts the webhook server once ready is closed (the certificate is there)
// and register has registered the handlers; until then the readiness check fails, so a
// replica gets no admission traffic before it can answer it.
type deferredWebhooks struct {
	mgr      manager.Manager
	ready    <-chan struct{}
	register func()
	started  atomic.Bool
}

// Start waits for the certificate, then registers the webhooks, which starts their server.
func (d *deferredWebhooks) Start(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-d.ready:
	}
	ctrl.LoggerFrom(ctx).Info("Webhook certificate ready: serving the webhooks")
	d.register()
	d.started.Store(true)
	return nil
}

// NeedLeaderElection is false: every replica serves the webhooks.
func (d *deferredWebhooks) NeedLeaderElection() bool { return false }

// checker is the readiness check: not ready until the webhooks are served.
func (d *deferredWebhooks) checker() healthz.Checker {
	return func(req *http.Request) error {
		if !d.started.Load() {
			return errors.New("waiting for the webhook certificate")
		}
		return d.mgr.GetWebhookServer().StartedChecker()(req)
	}
}
