package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Scheme knows the Kubernetes kinds and Dora's.
func Scheme() *runtime.Scheme {
	schemeOnce.Do(func() {
		doraScheme = runtime.NewScheme()
		utilruntime.Must(clientgoscheme.AddToScheme(doraScheme))
		utilruntime.Must(doradev1.AddToScheme(doraScheme))
	})
	return doraScheme
}

var (
	schemeOnce sync.Once
	doraScheme *runtime.Scheme
)

// Session is the plugin's connection to one zone: its clients, and who the caller is there.
type Session struct {
	// Zone is the zone and its kubeconfig context.
	Zone Zone
	// Env is the command's environment.
	Env *Env
	// Rest is the REST configuration.
	Rest *rest.Config
	// Kube is the client of Kubernetes' own kinds (pods, logs, exec, events...).
	Kube kubernetes.Interface
	// Dynamic applies and reads objects of any kind.
	Dynamic dynamic.Interface
	// Client reads and writes typed Dora objects.
	Client client.WithWatch

	flags    *genericclioptions.ConfigFlags
	whoOnce  sync.Once
	identity *Identity
	whoErr   error
}

// Identity is who the caller is in a zone.
type Identity struct {
	// Username and Groups are what the API server authenticated (SelfSubjectReview).
	Username string
	Groups   []string
	// DoraName is the Dora user name (Username without the configured usernamePrefix); ""
	// for identities that are no Dora user (service accounts, system:, other prefixes).
	DoraName string
	// User is the Dora User of that name; nil when there is none, or it cannot be read
	// (UserErr says why).
	User    *doradev1.User
	UserErr error
}

// Identity asks the zone who the caller is (SelfSubjectReview), then reads their Dora
// User. Done once per session.
func (s *Session) Identity(ctx context.Context) (*Identity, error) {
	s.whoOnce.Do(func() {
		review, err := s.Kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			s.whoErr = s.Explain(err, "asking who you are (SelfSubjectReview)")
			return
		}
		who := &Identity{Username: review.Status.UserInfo.Username, Groups: review.Status.UserInfo.Groups}
		prefix := ""
		if cfg, err := s.Env.Config(); err == nil {
			prefix = cfg.UsernamePrefix
		}
		who.DoraName = DoraUserName(prefix, who.Username)
		if who.DoraName != "" {
			user := &doradev1.User{}
			if err := s.Client.Get(ctx, client.ObjectKey{Name: who.DoraName}, user); err != nil {
				who.UserErr = err
			} else {
				who.User = user
			}
		}
		s.identity = who
	})
	return s.identity, s.whoErr
}

// DoraUserName is the Dora user a Kubernetes user name is: the name without prefix, for
// names that carry the prefix and are valid object names; "" for system identities and
// anything else.
func DoraUserName(prefix, username string) string {
	if strings.HasPrefix(username, "system:") || !strings.HasPrefix(username, prefix) {
		return ""
	}
	name := strings.TrimPrefix(username, prefix)
	if len(validation.IsDNS1123Subdomain(name)) > 0 {
		return ""
	}
	return name
}

// Who names the caller in messages: the authenticated user when the zone said, else who
// the kubeconfig or --as says they are.
func (s *Session) Who() string {
	if s.identity != nil {
		return s.identity.Username
	}
	if s.flags.Impersonate != nil && *s.flags.Impersonate != "" {
		return *s.flags.Impersonate
	}
	if raw, err := s.flags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		if c, ok := raw.Contexts[s.Zone.Context]; ok && c.AuthInfo != "" {
			return "kubeconfig user " + c.AuthInfo
		}
	}
	return "an unknown user"
}

// Workspace is where a command on workspaced kinds acts, and the namespace of it: -g or
// --workspace; -n (a namespace as it is); the caller's Dora User's default workspace; the
// kubeconfig context's namespace.
func (s *Session) Workspace(ctx context.Context) (workspace, namespace string, err error) {
	if ws := s.Env.WorkspaceFlag; ws != "" {
		return ws, WorkspaceNamespace(ws), nil
	}
	if ns := s.Env.NamespaceFlag(); ns != "" {
		return ns, ns, nil
	}
	who, whoErr := s.Identity(ctx)
	if whoErr == nil && who.User != nil && who.User.Spec.Default != nil && who.User.Spec.Default.Workspace != "" {
		ws := who.User.Spec.Default.Workspace
		return ws, WorkspaceNamespace(ws), nil
	}
	if raw, err := s.flags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		if c, ok := raw.Contexts[s.Zone.Context]; ok && c.Namespace != "" {
			return c.Namespace, c.Namespace, nil
		}
	}
	switch {
	case whoErr != nil:
		return "", "", fmt.Errorf("no workspace given (-g WORKSPACE), and your default could not be read: %w", whoErr)
	case who.DoraName == "":
		return "", "", fmt.Errorf("no workspace given: use -g WORKSPACE (%s is no Dora user, so there is no default workspace)", who.Username)
	case who.User == nil:
		return "", "", fmt.Errorf("no workspace given: use -g WORKSPACE (your Dora user %s could not be read in zone %s: %w)", who.DoraName, s.Zone.Name, who.UserErr)
	default:
		return "", "", fmt.Errorf("no workspace given: use -g WORKSPACE, or set spec.default.workspace in your Dora User %s", who.DoraName)
	}
}

// Explain wraps an error from the API server with what was tried, where and as whom: a
// refusal names the user, an unreachable server the address tried.
func (s *Session) Explain(err error, action string) error {
	if err == nil {
		return nil
	}
	where := ""
	if !strings.Contains(action, "zone "+s.Zone.Name) {
		where = " in zone " + s.Zone.Name
	}
	if isUnreachable(err) {
		return fmt.Errorf("%s: cannot reach zone %s's API server %s (kubeconfig context %s) as %s: %w", action, s.Zone.Name, s.Rest.Host, s.Zone.Context, s.Who(), err)
	}
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || strings.Contains(err.Error(), "admission webhook") {
		return fmt.Errorf("%s%s as %s: %w", action, where, s.Who(), err)
	}
	return fmt.Errorf("%s%s: %w", action, where, err)
}

// isUnreachable reports errors of the network rather than the API server.
func isUnreachable(err error) bool {
	var urlErr *url.Error
	var netErr net.Error
	var opErr *net.OpError
	return utilnet.IsConnectionRefused(err) || errors.As(err, &opErr) || errors.As(err, &netErr) ||
		(errors.As(err, &urlErr) && !apierrors.IsForbidden(err) && apierrors.ReasonForError(err) == metav1.StatusReasonUnknown)
}
