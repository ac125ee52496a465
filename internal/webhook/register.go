package webhook

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/dora-hpc/dora-operator/internal/authz"
)

// Options configure the webhooks.
type Options struct {
	// Zone is this cluster's zone: documents for another are refused.
	Zone string
	// Reader reads source workspaces of clones, and Dora Users the cache does not have yet.
	// Give it the manager's API reader (mgr.GetAPIReader()) so that a workspace created just
	// before its clone, or a User just before their first workload, is found.
	Reader client.Reader
	// Authorizer answers for Dora's own verbs (SubjectAccessReviewer in the manager).
	Authorizer authz.Authorizer
	// UsernamePrefix is the cluster's prefix before Dora user names.
	UsernamePrefix string
	// Cache reads Dora Users (before Reader) and UserCredits, for the Workload webhook's
	// credit warnings (the manager's cached client); nil: Users are read from Reader alone,
	// and no credit warning is given.
	Cache client.Reader
}

// Register serves every Dora admission webhook on server: owner stamping, the Workload
// shape and access checks, the zone check and the workspace clone and access checks. Call
// it once: a server refuses a path registered twice.
func Register(server webhook.Server, opts Options) {
	server.Register(OwnerMutatePath, &webhook.Admission{Handler: counted{"owner", OwnerMutator{UsernamePrefix: opts.UsernamePrefix, Authorizer: opts.Authorizer, Users: opts.Cache, Live: opts.Reader}}})
	server.Register(WorkloadValidatePath, &webhook.Admission{Handler: counted{"workload", WorkloadValidator{Authorizer: opts.Authorizer, Credits: opts.Cache, Zone: opts.Zone}}})
	server.Register(ZoneValidatePath, &webhook.Admission{Handler: counted{"zone", ZoneValidator{Zone: opts.Zone}}})
	server.Register(WorkspaceValidatePath, &webhook.Admission{Handler: counted{"workspace", WorkspaceValidator{Reader: opts.Reader, Authorizer: opts.Authorizer, Zone: opts.Zone}}})
}
