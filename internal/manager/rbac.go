package manager

// The manager's permissions that belong to the manager as a whole rather than to one
// controller. `make manifests` gathers them, with every controller's, into
// config/rbac/role.yaml: the ClusterRole manager-role and, for the markers with a namespace,
// the Role manager-role in the manager's namespace (system, which config/default turns into
// dora-system, as it does for leader_election_role.yaml).

// Metrics served to authorized readers only (Options.MetricsSecure): the API server
// authenticates each caller's token and checks that it may get /metrics.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
