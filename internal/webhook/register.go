package webhook

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// Register serves every Dora admission webhook on server: the Workload shape check, the zone
// check for this cluster's zone, and the workspace clone check, which reads source
// workspaces with reader. Give it the manager's API reader (mgr.GetAPIReader()) so that a
// workspace created just before its clone is found. Call it once: a server refuses a path
// registered twice.
func Register(server webhook.Server, zone string, reader client.Reader) {
	server.Register(WorkloadValidatePath, &webhook.Admission{Handler: WorkloadValidator{}})
	server.Register(ZoneValidatePath, &webhook.Admission{Handler: ZoneValidator{Zone: zone}})
	server.Register(WorkspaceValidatePath, &webhook.Admission{Handler: WorkspaceValidator{Reader: reader}})
}
